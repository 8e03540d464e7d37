"""`carehub dq issues …`: the data quality issues register."""

from __future__ import annotations

from typing import Annotated

import typer

from carehub.cli.common import JsonOption, UserOption, acting, platform
from carehub.cli.output import emit_json, handles_errors, message
from carehub.platform import Issue

issues_app = typer.Typer(
    help="The data quality issues register: issues raised by checks or logged by hand.",
    no_args_is_help=True,
)


def _line(issue: Issue) -> str:
    return (
        f"{issue.id}\t{issue.stage}\t{issue.severity}\t{issue.priority or '-'}"
        f"\t{issue.org_code}\t{issue.dataset}\t{issue.check_id or '-'}\t{issue.title}"
    )


@issues_app.command("list")
@handles_errors
def issues_list(
    org: Annotated[str | None, typer.Option("--org", help="One organisation (ODS code).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="One dataset.")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="open or closed (default: both).")
    ] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the issues you may see: id, stage, severity, priority, organisation, dataset,
    check and title."""
    hub = platform()
    hub.check_ready()
    found = hub.dq_issues(acting(hub, user), org, dataset, state)
    if as_json:
        emit_json(found)
        return
    for issue in found:
        typer.echo(_line(issue))
    message(f"{len(found)} issues ({sum(1 for i in found if i.is_open)} open)")


@issues_app.command("show")
@handles_errors
def issues_show(
    issue_id: Annotated[int, typer.Argument(help="The issue.")],
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """An issue with its submissions and history."""
    hub = platform()
    hub.check_ready()
    detail = hub.dq_issue(acting(hub, user), issue_id)
    if as_json:
        emit_json(detail)
        return
    issue = detail.issue
    typer.echo(_line(issue))
    typer.echo(f"owner\t{issue.owner or '-'}\traised by {issue.raised_by} at {issue.raised_at}")
    typer.echo("submissions\t" + (",".join(str(s) for s in issue.submissions) or "-"))
    if issue.closing_evidence:
        typer.echo(f"evidence\t{issue.closing_evidence}")
    for e in detail.history:
        what = e.kind
        if e.to_stage:
            what += f" {e.from_stage or ''}->{e.to_stage}"
        if e.submission_id is not None:
            what += f" submission {e.submission_id}"
        if e.result:
            what += f" {e.result} {e.failing}/{e.denominator}"
        typer.echo(f"event\t{e.at:%Y-%m-%d %H:%M}\t{e.actor}\t{what}\t{e.note or ''}")


@issues_app.command("log")
@handles_errors
def issues_log(
    org: Annotated[str, typer.Option("--org", help="The organisation (ODS code).")],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset.")],
    title: Annotated[str, typer.Option("--title", help="What looks wrong.")],
    check: Annotated[str | None, typer.Option("--check", help="The check it is about.")] = None,
    user: UserOption = None,
) -> None:
    """Log an issue by hand, e.g. from a figure that looks wrong; prints its id."""
    hub = platform()
    hub.check_ready()
    issue_id = hub.log_dq_issue(acting(hub, user), org, dataset, title, check)
    typer.echo(issue_id)
    message(f"logged issue {issue_id}")


@issues_app.command("move")
@handles_errors
def issues_move(
    issue_id: Annotated[int, typer.Argument(help="The issue.")],
    stage: Annotated[str, typer.Argument(help="The next stage of its lifecycle.")],
    note: Annotated[str | None, typer.Option("--note", help="Why.")] = None,
    priority: Annotated[
        str | None, typer.Option("--priority", help="low, medium, high or critical.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who owns it now.")] = None,
    user: UserOption = None,
) -> None:
    """Move an issue on to its next stage (stewards and admins)."""
    hub = platform()
    hub.check_ready()
    issue = hub.move_dq_issue(
        acting(hub, user), issue_id, stage, note, priority=priority, owner=owner
    )
    message(f"issue {issue.id} is at {issue.stage}")


@issues_app.command("comment")
@handles_errors
def issues_comment(
    issue_id: Annotated[int, typer.Argument(help="The issue.")],
    text: Annotated[str, typer.Argument(help="The comment (no patient data).")],
    user: UserOption = None,
) -> None:
    """Add a comment to an issue's history."""
    hub = platform()
    hub.check_ready()
    hub.comment_dq_issue(acting(hub, user), issue_id, text)
    message(f"commented on issue {issue_id}")


@issues_app.command("close")
@handles_errors
def issues_close(
    issue_id: Annotated[int, typer.Argument(help="The issue.")],
    evidence: Annotated[str, typer.Option("--evidence", help="Why it is resolved.")],
    user: UserOption = None,
) -> None:
    """Close an issue with the evidence that the problem is gone (stewards and admins)."""
    hub = platform()
    hub.check_ready()
    hub.close_dq_issue(acting(hub, user), issue_id, evidence)
    message(f"closed issue {issue_id}")


@issues_app.command("split")
@handles_errors
def issues_split(
    issue_id: Annotated[int, typer.Argument(help="The issue to split.")],
    title: Annotated[str, typer.Option("--title", help="What the new issue is about.")],
    user: UserOption = None,
) -> None:
    """A new issue from part of an open one, with its submissions (stewards and admins); prints
    the new issue's id."""
    hub = platform()
    hub.check_ready()
    new_id = hub.split_dq_issue(acting(hub, user), issue_id, title)
    typer.echo(new_id)
    message(f"issue {new_id} split from issue {issue_id}")


@issues_app.command("merge")
@handles_errors
def issues_merge(
    issue_id: Annotated[int, typer.Argument(help="The issue to close into the other.")],
    into: Annotated[int, typer.Option("--into", help="The issue that carries on.")],
    user: UserOption = None,
) -> None:
    """Close an issue into another of the same organisation and dataset (stewards and admins)."""
    hub = platform()
    hub.check_ready()
    hub.merge_dq_issue(acting(hub, user), issue_id, into)
    message(f"issue {issue_id} merged into issue {into}")
