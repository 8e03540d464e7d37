"""`carehub dq …`: the data quality check packs, running them on a submission, and scorecards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from carehub.cli.common import JsonOption, UserOption, acting, platform
from carehub.cli.output import emit_json, handles_errors, message
from carehub.platform import CheckRunReport, Scorecard, ScorePoint

dq_app = typer.Typer(
    help="Data quality: check packs per dataset, check runs, their results and scorecards.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(dq_app, name="dq")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def show_report(report: CheckRunReport) -> None:
    """One line per check to stdout; the summary to stderr."""
    for r in report.results:
        counts = "-" if r.failing is None else f"{r.failing}/{r.denominator}"
        line = (
            f"{r.status}\t{r.check_id}\t{counts}\t{_percent(r.failing_pct)}"
            f"\t(tolerated {_percent(r.tolerated_pct)})\t{r.severity}"
        )
        typer.echo(line + (f"\t{r.error}" if r.error else ""))
    tally = {s: sum(1 for r in report.results if r.status == s) for s in _STATUSES}
    message(
        f"submission {report.submission_id} ({report.dataset}, {report.org_code}, "
        f"{report.period}): {tally['passed']} passed, {tally['failed']} failed, "
        f"{tally['not_applicable']} not applicable, {tally['error']} errors (run {report.run_id})"
    )


_STATUSES = ("passed", "failed", "not_applicable", "error")


@dq_app.command("run")
@handles_errors
def dq_run(
    submission_id: Annotated[int, typer.Argument(help="The submission to check.")],
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the dataset's checks on a published submission, store and print the results."""
    hub = platform()
    hub.check_ready()
    report = hub.run_checks(acting(hub, user), submission_id)
    if as_json:
        emit_json(report)
        return
    show_report(report)


@dq_app.command("results")
@handles_errors
def dq_results(
    submission_id: Annotated[int, typer.Argument(help="The submission.")],
    failures: Annotated[
        int,
        typer.Option(
            "--failures", min=0, help="Also list up to this many failing rows (row, field, reason)."
        ),
    ] = 0,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """The latest check results of a submission (and its first failing rows)."""
    hub = platform()
    hub.check_ready()
    actor = acting(hub, user)
    report = hub.check_results(actor, submission_id)
    rows = hub.check_failures(actor, submission_id, limit=failures) if failures else []
    if as_json:
        listed = [{"check_id": c, **vars(f)} for c, f in rows]
        emit_json({"report": report, "failures": listed})
        return
    show_report(report)
    for check_id, failure in rows:
        typer.echo(f"row {failure.source_row}\t{check_id}\t{failure.field}\t{failure.reason}")


def _pack_json(pack: Any) -> dict[str, Any]:
    data: dict[str, Any] = pack.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


@dq_app.command("checks")
@handles_errors
def dq_checks(
    dataset: Annotated[str | None, typer.Argument(help="One dataset (default: all).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the checks of a dataset's pack (or of every pack)."""
    hub = platform()
    packs = (hub.check_pack(dataset),) if dataset else hub.check_packs()
    if as_json:
        emit_json([_pack_json(p) for p in packs])
        return
    for pack in packs:
        for check in pack.checks:
            fields = ",".join(check.rule.fields())
            typer.echo(
                f"{pack.dataset}\t{check.id}\t{check.category}/{check.context}\t{check.severity}"
                f"\t{check.rule.kind}({fields})\ttolerated {check.tolerated_failure_pct:g}%"
            )


@dq_app.command("schema")
@handles_errors
def dq_schema() -> None:
    """Print the JSON Schema of a check pack file (carehub/model/checks/<dataset>.yaml)."""
    emit_json(platform().check_schema())


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def show_scorecard(card: Scorecard) -> None:
    """The score, the data items and the problems to stdout; the summary to stderr."""
    typer.echo(f"score\t{_score(card.score)}\tcoverage {card.coverage:.2f}")
    for item in card.items:
        score = "-" if item.score is None else f"{item.score:.3f}"
        defaults = "" if item.defaults is None else f"\tdefaults {item.defaults}"
        typer.echo(
            f"item\t{item.field}\t{score}\t{item.valid_and_complete}/{item.records}{defaults}"
        )
    problems = card.problems
    for label, checks in (
        ("new", problems.new),
        ("persisting", problems.persisting),
        ("resolved", problems.resolved),
    ):
        for check_id in checks:
            typer.echo(f"{label}\t{check_id}")
    before = card.previous_submission_id
    message(
        f"submission {card.submission_id} ({card.dataset}, {card.org_code}, {card.period}): "
        f"DQMI-compatible score {_score(card.published_score)}; "
        f"{len(problems.new)} new, {len(problems.persisting)} persisting, "
        f"{len(problems.resolved)} resolved problems "
        + (f"since submission {before}" if before else "(no earlier submission)")
    )


@dq_app.command("report")
@handles_errors
def dq_report(
    submission_id: Annotated[int, typer.Argument(help="The submission.")],
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """A submission's scorecard: its DQMI-compatible score, data items, each check's result,
    and the problems new, persisting and resolved since the provider's previous submission."""
    hub = platform()
    hub.check_ready()
    card = hub.scorecard(acting(hub, user), submission_id)
    if as_json:
        emit_json(card)
        return
    show_scorecard(card)
    for r in card.results:
        typer.echo(f"check\t{r.status}\t{r.check_id}\t{_percent(r.failing_pct)}")


@dq_app.command("feedback")
@handles_errors
def dq_feedback(
    submission_id: Annotated[int, typer.Argument(help="The submission.")],
    out: Annotated[Path, typer.Option("--out", help="The Excel workbook to write (.xlsx).")],
    user: UserOption = None,
) -> None:
    """Write the feedback report a provider can act on, as an Excel workbook: each failed check,
    what is wrong and how to fix it, the failing rows (numbers and fields, never values) and the
    change since the last submission (audited)."""
    hub = platform()
    hub.check_ready()
    out.write_bytes(hub.feedback_workbook(acting(hub, user), submission_id))
    message(f"wrote the feedback report of submission {submission_id} to {out}")


def _point_line(kind: str, p: ScorePoint) -> str:
    return (
        f"{kind}\t{p.org_code}\t{p.period}\t{_score(p.score)}\tcoverage {p.coverage:.2f}"
        f"\t{p.problems} failed checks\tsubmission {p.submission_id}"
    )


@dq_app.command("scores")
@handles_errors
def dq_scores(
    dataset: Annotated[str, typer.Argument(help="The dataset.")],
    org: Annotated[
        str | None, typer.Option("--org", help="The trend of this provider only (ODS code).")
    ] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """DQMI-compatible scores of a dataset: per provider and period (the trend), and each
    provider's latest (the peer comparison)."""
    hub = platform()
    hub.check_ready()
    result = hub.scores(acting(hub, user), dataset, org)
    if as_json:
        emit_json(result)
        return
    for p in result.trend:
        typer.echo(_point_line("trend", p))
    for p in result.peers:
        typer.echo(_point_line("peer", p))
    message(f"{dataset}: {len(result.trend)} scored periods, {len(result.peers)} providers")


from carehub.cli.issues import issues_app  # noqa: E402  (`carehub dq issues …`)

dq_app.add_typer(issues_app, name="issues")
