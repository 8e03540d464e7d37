"""`carehub synth` and `carehub demo`: the synthetic ICS, submitted as its partners would."""

from __future__ import annotations

import os
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from carehub.cli.output import handles_errors, message, one_of
from carehub.errors import DataContractError
from carehub.model.datasets import dataset_names
from carehub.model.periods import Period
from carehub.platform import SYSTEM_ACTOR, Actor, Platform, Role
from carehub.settings import Settings
from carehub.synth.ics import ICB_POPULATION, SCALES, Manifest, generate

DEMO_SEED = 2026
DEMO_MONTHS = 24
# Demo sign-ins, printed by `carehub demo`: for a local demonstration only.
DEMO_USERS = (
    ("admin", "HUB", Role.ADMIN, "Ada Admin", "demo-admin-password"),
    ("analyst", "HUB", Role.ANALYST, "Ana Analyst", "demo-analyst-password"),
    ("steward", "HUB", Role.STEWARD, "Sam Steward", "demo-steward-password"),
    ("raj.analyst", "RAJ", Role.ANALYST, "Rita Analyst (RAJ)", "demo-analyst-password"),
    ("icb.analyst", "QH8", Role.ANALYST, "Ian Analyst (ICB)", "demo-analyst-password"),
)
SUBMITTER_PASSWORD = "demo-submitter-password"  # noqa: S105 (a printed demo sign-in)
DEMO_OPERATOR = Actor("demo", "HUB", Role.ADMIN, "carehub demo set-up")


def last_complete_month(today: date) -> Period:
    return Period(today.year - (today.month == 1), (today.month - 2) % 12 + 1)


def register(app: typer.Typer) -> None:
    app.command()(synth)
    app.command()(demo)


SCALE_HELP = (
    "small (60,000 residents), medium (300,000) or full (900,000: as many as the 999 test range "
    "of NHS numbers allows) of the ICB's 1.2 million."
)


@handles_errors
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the synthetic ICS into.")],
    scale: Annotated[str, typer.Option(callback=one_of(tuple(SCALES)), help=SCALE_HELP)] = "small",
    years: Annotated[int, typer.Option(min=1, max=10, help="How many years of data.")] = 2,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same files.")
    ] = DEMO_SEED,
    last: Annotated[
        str | None, typer.Option(help="Last month yyyy-mm (default: last complete month).")
    ] = None,
    shared_data: Annotated[
        Path | None, typer.Option(help="The shared/data folder (default ../shared/data).")
    ] = None,
) -> None:
    """Generate the synthetic ICS: partner feeds, feed mappings and a ground-truth manifest."""
    end = Period.parse(last) if last else last_complete_month(date.today())
    reference = shared_data or Settings().resolved_shared_data
    residents = int(ICB_POPULATION * SCALES[scale])
    manifest = generate(
        out, seed=seed, last=end, months=12 * years, shared_data=reference, residents=residents
    )
    message(
        f"wrote {len(manifest.feeds)} files for {residents:,} residents "
        f"({manifest.first_period} to {manifest.last_period}) to {out}"
    )


def _set_up(hub: Platform, manifest: Manifest, folder: Path) -> None:
    for org in manifest.organisations:
        hub.add_organisation(DEMO_OPERATOR, org["ods_code"], org["name"], org["kind"])
    for username, org_code, role, name, password in DEMO_USERS:
        if not hub.user_exists(username):
            hub.add_user(DEMO_OPERATOR, username, password, org_code, role, name)
    for user in manifest.users:
        if not hub.user_exists(user["username"]):
            name = f"Submitter ({user['org_code']})"
            hub.add_user(
                DEMO_OPERATOR,
                user["username"],
                SUBMITTER_PASSWORD,
                user["org_code"],
                Role(user["role"]),
                name,
            )
    for mapping in manifest.mappings:
        hub.install_mapping(DEMO_OPERATOR, folder / mapping)
    for agreement in manifest.agreements:
        hub.adopt_agreement(DEMO_OPERATOR, folder / agreement, "signed on paper (demo)")


def _submit_all(hub: Platform, manifest: Manifest, folder: Path) -> None:
    # The other datasets are read once the data model covers them (issue 4).
    known = [f for f in manifest.feeds if f.dataset in dataset_names()]
    refused: list[str] = []
    with typer.progressbar(known, label="loading partners' past files", file=None) as feeds:
        for feed in feeds:
            # The history is loaded by the hub itself, dated when each partner sent the file,
            # so that coverage shows which months came late (only an administrator may backdate).
            sent = datetime.combine(date.fromisoformat(feed.sent_on), time(9))
            try:
                hub.submit(
                    SYSTEM_ACTOR,
                    feed.org_code,
                    feed.dataset,
                    folder / feed.path,
                    feed.period,
                    received_at=sent,
                )
            except DataContractError as error:  # the synthetic ICS plants broken files
                refused.append(error.message)
    for text in refused:
        message(f"refused, as the partner would be told: {text}")


@handles_errors
def demo(
    home: Annotated[Path, typer.Option(help="Workspace folder for the demo.")] = Path("demo-home"),
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the web app when ready.")
    ] = True,
) -> None:
    """Set up a demo workspace from the synthetic ICS, compute the KPIs and serve the web app."""
    hub = Platform(Settings(home=home.resolve()))
    hub.init()
    folder = hub.settings.home / "synth"
    last = last_complete_month(date.today())
    reference = hub.settings.resolved_shared_data
    manifest = generate(
        folder, seed=DEMO_SEED, last=last, months=DEMO_MONTHS, shared_data=reference
    )
    _set_up(hub, manifest, folder)
    _submit_all(hub, manifest, folder)
    for summary in hub.run_metrics():
        message(f"{summary.metric_id}: {summary.points} points in {summary.facets} series")
    message(f"\ncarehub demo ready at http://{host}:{port}/  (workspace: {hub.settings.home})")
    message("sign in as:")
    for username, _, role, _, password in DEMO_USERS:
        message(f"  {username:<18} password {password:<25} ({role})")
    for user in manifest.users:
        message(f"  {user['username']:<18} password {SUBMITTER_PASSWORD:<25} (submitter)")
    if serve:
        from carehub.cli.main import run_web_app

        os.environ["CAREHUB_HOME"] = str(hub.settings.home)
        run_web_app(host, port)
