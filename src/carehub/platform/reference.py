"""Reference reads: the data dictionary, the choices a form offers, and coverage of the feeds."""

from __future__ import annotations

from datetime import date

from carehub.governance.actors import Actor, Role
from carehub.model.datasets import DatasetSpec, dataset_names, get_dataset
from carehub.platform.base import PlatformBase
from carehub.quality.coverage import Arrival, FeedCoverage, feed_coverage
from carehub.standardise.reasons import REASON_HELP, Reason
from carehub.standardise.row_rules import RowRule, row_rules


class ReferenceMixin(PlatformBase):
    def dataset_choices(self) -> list[tuple[str, str]]:
        return [(name, get_dataset(name).title) for name in dataset_names()]

    @staticmethod
    def explain_reasons(reasons: dict[str, int]) -> list[dict[str, str | int]]:
        """Quarantine reason codes (``RULE:field``) with what each means, for senders."""
        explained: list[dict[str, str | int]] = []
        for code, rows in reasons.items():
            rule, _, field = code.partition(":")
            help_text = REASON_HELP.get(rule, "see the data dictionary for this rule")
            explained.append(
                {"code": code, "rule": rule, "field": field, "rows": rows, "help": help_text}
            )
        return explained

    # --- coverage ------------------------------------------------------------------------------

    def coverage(self, actor: Actor, as_of: date | None = None) -> list[FeedCoverage]:
        """For every scheduled feed the actor may see (a submitter: their organisation's), the
        months expected by ``as_of`` (default today) and whether each came on time, late, not at
        all, or is not yet due."""
        day = as_of or date.today()
        every = actor.role is not Role.SUBMITTER
        feeds = []
        for org, dataset in self.workspace.installed_mappings():
            schedule = self.mapping_for(org, dataset).schedule
            if schedule is None or not (every or org == actor.org_code):
                continue
            arrivals = [
                Arrival(s.period, s.received_at, s.state) for s in self.submissions(dataset, org)
            ]
            feeds.append(feed_coverage(org, dataset, schedule, arrivals, day))
        return feeds

    # --- data dictionary ------------------------------------------------------------------------
    # Reference information from the packaged dataset specifications: no patient data and no
    # workspace state, so these reads need no actor, no agreement and no audit event.

    def dataset_specs(self) -> tuple[DatasetSpec, ...]:
        """Every dataset of the common data model, by name."""
        return tuple(get_dataset(name) for name in dataset_names())

    def dataset_spec(self, name: str) -> DatasetSpec:
        """One dataset's specification; NotFound names the known datasets."""
        return get_dataset(name)

    def row_rules(self, name: str) -> tuple[RowRule, ...]:
        """The dataset's rules across fields, each with its quarantine reason code."""
        return row_rules(get_dataset(name))

    @staticmethod
    def quarantine_reasons() -> dict[str, str]:
        """Every quarantine reason code with what it means."""
        return dict(REASON_HELP)

    @staticmethod
    def field_check_reasons() -> tuple[str, ...]:
        """The reason codes of the checks on each field (type, required, code set, range, NHS
        number, period), which apply to every dataset; the others are datasets' own rules."""
        return tuple(Reason)
