"""The NHS Diabetes Prevention Programme: referrals from practices of people with non-diabetic
hyperglycaemia, and each provider's monthly event extract (referral, initial assessment, the
group sessions, completion or drop-out, with weight and HbA1c). Three providers serve three
areas each; one of them (DPP03) is consistently poor: slower to assess, lower attendance and
completion, more missing measurements and smaller weight loss. The parameters are recorded in
the manifest, so that the DPP metrics can be checked against them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.files import write_csv
from carehub.synth.population import Resident
from carehub.synth.world import World


@dataclass(frozen=True)
class DppProvider:
    code: str  # illustrative ODS code
    name: str
    areas: tuple[str, ...]
    assessed: float  # share of referrals with an initial assessment
    weeks_to_assessment: float  # mean
    mean_sessions: float  # of 13, among people who start
    missing_measurement: float  # share of weights and HbA1c left blank
    weight_loss_kg: float  # mean at completion
    hba1c_drop: float  # mmol/mol, mean at completion


PROVIDERS = (
    DppProvider(
        "DPP01",
        "Healthier You provider A",
        ("Southend-on-Sea", "Rochford", "Castle Point"),
        0.78,
        4,
        9.0,
        0.05,
        3.6,
        2.6,
    ),
    DppProvider(
        "DPP02",
        "Healthier You provider B",
        ("Chelmsford", "Braintree", "Maldon"),
        0.75,
        5,
        8.5,
        0.06,
        3.3,
        2.4,
    ),
    DppProvider(
        "DPP03",
        "Healthier You provider C",
        ("Basildon", "Thurrock", "Brentwood"),
        0.52,
        10,
        5.0,
        0.30,
        1.4,
        1.0,
    ),
)
SESSIONS = 13
COMPLETION_SESSIONS = 8  # 60% of sessions: the programme's definition of completion
NDH_PREVALENCE = 0.08  # non-diabetic hyperglycaemia among adults 40+ without diabetes
MONTHLY_REFERRAL = 0.015  # share of the known NDH pool referred each month
COLUMNS = (
    "EventDate",
    "ReferralRef",
    "NHSNumber",
    "PracticeCode",
    "EventType",
    "SessionNumber",
    "WeightKg",
    "HbA1c",
)


@dataclass
class Referral:
    ref: str
    resident: Resident
    provider: DppProvider
    referred_on: date
    events: list[list[str]]


def feed_mappings() -> list[dict[str, object]]:
    return [
        {
            "organisation": p.code,
            "dataset": "dpp_event",
            "version": 1,
            "description": f"{p.name}: monthly event extract",
            "fields": {
                "event_on": "EventDate",
                "referral_id": "ReferralRef",
                "nhs_number": "NHSNumber",
                "practice_code": "PracticeCode",
                "event_type": "EventType",
                "session_number": "SessionNumber",
                "weight_kg": "WeightKg",
                "hba1c_mmol_mol": "HbA1c",
            },
        }
        for p in PROVIDERS
    ]


class DppModel:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.stream("dpp")
        start = world.periods[0].start
        self.by_area = {a: p for p in PROVIDERS for a in p.areas}
        self.pool = [
            r
            for r in world.residents
            if r.age_on(start) >= 40
            and "diabetes" not in r.conditions
            and self.rng.random() < NDH_PREVALENCE
        ]
        self.events: dict[tuple[str, str], list[list[str]]] = {}
        serial = 0
        for period in world.periods:
            for resident in self.pool:
                if self.rng.random() < MONTHLY_REFERRAL:
                    day = period.start + timedelta(
                        days=self.rng.randrange((period.end - period.start).days)
                    )
                    if resident.present_on(day):
                        serial += 1
                        self._journey(
                            Referral(
                                f"DPP-{serial:07d}",
                                resident,
                                self.by_area[world.area_of(resident)],
                                day,
                                [],
                            )
                        )

    def _measure(self, provider: DppProvider, value: float) -> str:
        return "" if self.rng.random() < provider.missing_measurement else f"{value:.1f}"

    def _event(
        self,
        ref: Referral,
        day: date,
        kind: str,
        session: int = 0,
        weight: float = 0,
        hba1c: float = 0,
    ) -> None:
        if day >= self.world.periods[-1].end or not ref.resident.present_on(day):
            return
        row = [
            day.isoformat(),
            ref.ref,
            ref.resident.nhs_number,
            ref.resident.practice,
            kind,
            str(session) if session else "",
            self._measure(ref.provider, weight) if weight else "",
            self._measure(ref.provider, hba1c) if hba1c else "",
        ]
        self.events.setdefault((ref.provider.code, str(Period.of(day))), []).append(row)

    def _journey(self, ref: Referral) -> None:
        rng, p = self.rng, ref.provider
        weight, hba1c = rng.gauss(88, 14), rng.uniform(42, 47.9)
        self._event(ref, ref.referred_on, "REFERRAL", hba1c=hba1c)
        if rng.random() >= p.assessed:
            return
        day = ref.referred_on + timedelta(
            days=int(rng.expovariate(1 / (7 * p.weeks_to_assessment))) + 3
        )
        self._event(ref, day, "INITIAL_ASSESSMENT", weight=weight, hba1c=hba1c)
        attended = min(SESSIONS, max(0, round(rng.gauss(p.mean_sessions, 3))))
        for session in range(1, attended + 1):
            self._event(ref, day + timedelta(weeks=2 * session), "SESSION", session=session)
        end = day + timedelta(weeks=2 * SESSIONS + 2)
        if attended >= COMPLETION_SESSIONS:
            loss = rng.gauss(p.weight_loss_kg, 2.5)
            self._event(
                ref,
                end,
                "COMPLETION",
                weight=weight - loss,
                hba1c=hba1c - rng.gauss(p.hba1c_drop, 2),
            )
        else:
            self._event(ref, day + timedelta(weeks=2 * attended + 3), "DROP_OUT")

    def write(self, path: Path, provider: DppProvider, period: Period) -> int:
        rows = sorted(
            self.events.get((provider.code, str(period)), []),
            key=lambda r: (r[0], r[1], r[4], r[5]),
        )
        return write_csv(path, COLUMNS, rows)


def provider_parameters() -> list[dict[str, object]]:
    return [asdict(p) for p in PROVIDERS]
