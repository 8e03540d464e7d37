"""`carehub agreements|access|data …`: the agreements register, access decisions and requests,
and governed reads of the lake."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from carehub.cli.common import JsonOption, UserOption, acting, platform
from carehub.cli.output import emit_json, handles_errors, message, one_of
from carehub.model.agreements import AgreementSpec, Level, Purpose
from carehub.model.yaml_loading import load_model_file

agreements_app = typer.Typer(
    help="The data sharing agreements register: draft, sign, review, terminate.",
    no_args_is_help=True,
)
access_app = typer.Typer(
    help="Who may read what, and why; requests for access.", no_args_is_help=True
)
data_app = typer.Typer(
    help="Read the lake under your agreements: rows, exports and counts.", no_args_is_help=True
)

PURPOSES = tuple(p.value for p in Purpose)
LEVELS = tuple(level.value for level in Level)
PurposeOption = Annotated[
    str,
    typer.Option(help=f"Why you read it: {', '.join(PURPOSES)}.", callback=one_of(PURPOSES)),
]
LevelOption = Annotated[
    str,
    typer.Option(help="pseudonymised or identifiable (direct care only).", callback=one_of(LEVELS)),
]
FieldsOption = Annotated[
    str | None, typer.Option(help="Comma-separated fields (default: all you may read).")
]
AsOfOption = Annotated[
    datetime | None, typer.Option("--as-of", help="Read what was current at this time.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(agreements_app, name="agreements")
    app.add_typer(access_app, name="access")
    app.add_typer(data_app, name="data")


def _fields(text: str | None) -> tuple[str, ...] | None:
    return tuple(f.strip() for f in text.split(",") if f.strip()) if text else None


# --- agreements -------------------------------------------------------------------------------


@agreements_app.command("add")
@handles_errors
def agreements_add(
    path: Annotated[Path, typer.Argument(help="The agreement, in YAML.")],
    user: UserOption = None,
) -> None:
    """Add an agreement to the register as a draft (or amend the draft of the same id)."""
    hub = platform()
    hub.check_ready()
    spec = hub.load_agreement(acting(hub, user), path)
    message(f"agreement {spec.id} is a draft; send it for signature with `carehub agreements send`")


@agreements_app.command("list")
@handles_errors
def agreements_list(
    dataset: Annotated[str | None, typer.Option(help="Who has this dataset.")] = None,
    org: Annotated[str | None, typer.Option(help="What this organisation shares.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the agreements, their state and warnings (review due, expiring)."""
    hub = platform()
    hub.check_ready()
    if dataset:
        rows = hub.agreements_for_dataset(dataset)
    elif org:
        rows = hub.agreements_for_org(org)
    else:
        rows = hub.agreements()
    if as_json:
        emit_json([_agreement_json(a) for a in rows])
        return
    for a in rows:
        warnings = "; ".join(a.warnings)
        typer.echo(
            f"{a.spec.id}\t{a.state}\t{a.spec.purpose}\t{a.spec.level}\t{a.spec.title}"
            + (f"\t({warnings})" if warnings else "")
        )


def _agreement_json(a: Any) -> dict[str, Any]:
    return {
        **a.spec.model_dump(mode="json"),
        "state": a.state,
        "version": a.version,
        "in_force": a.in_force,
        "signed_by": sorted(a.signed),
        "awaiting": list(a.awaiting),
        "warnings": list(a.warnings),
    }


@agreements_app.command("show")
@handles_errors
def agreements_show(agreement_id: str, as_json: JsonOption = False) -> None:
    """Everything an agreement says, who signed it, and what it allows."""
    hub = platform()
    hub.check_ready()
    a = hub.agreement(agreement_id)
    if as_json:
        emit_json(_agreement_json(a))
        return
    spec = a.spec
    typer.echo(f"{spec.id} (version {a.version}): {spec.title}\nstate: {a.state}")
    typer.echo(f"purpose: {spec.purpose} - {spec.purpose_description}")
    typer.echo(f"legal basis: {spec.legal_basis}\naccess level: {spec.level}")
    typer.echo(f"providers: {', '.join(spec.providers)}\nrecipients: {', '.join(spec.recipients)}")
    for grant in spec.datasets:
        fields = ", ".join(grant.fields) if grant.fields else "all fields"
        typer.echo(f"dataset: {grant.dataset} ({fields}; rows: {grant.rows})")
    typer.echo(f"dates: {spec.starts_on} to {spec.ends_on}, review {spec.review_on}")
    typer.echo(
        f"disclosure control: redact 1-{spec.disclosure.threshold}, "
        f"round to {spec.disclosure.rounding_base}"
    )
    for s in a.signatures:
        typer.echo(f"signed for {s.org_code} by {s.signatory} on {s.signed_at:%Y-%m-%d}")
    if a.awaiting:
        typer.echo(f"awaiting signature: {', '.join(a.awaiting)}")
    for warning in a.warnings:
        typer.echo(f"warning: {warning}")


@agreements_app.command("send")
@handles_errors
def agreements_send(agreement_id: str, user: UserOption = None) -> None:
    """Send a draft to its parties for signature."""
    hub = platform()
    hub.check_ready()
    hub.send_agreement(acting(hub, user), agreement_id)
    message(f"agreement {agreement_id} awaits the signature of every party")


@agreements_app.command("sign")
@handles_errors
def agreements_sign(
    agreement_id: str,
    org: Annotated[str, typer.Option(help="The party signing (ODS code).")],
    signatory: Annotated[str, typer.Option(help="Who signed, e.g. the Caldicott Guardian.")],
    user: UserOption = None,
) -> None:
    """Record a party's signature; the last one puts the agreement in force."""
    hub = platform()
    hub.check_ready()
    state = hub.sign_agreement(acting(hub, user), agreement_id, org, signatory)
    message(f"{org} signed agreement {agreement_id}; it is now {state}")


@agreements_app.command("review")
@handles_errors
def agreements_review(
    agreement_id: str,
    done: Annotated[
        datetime | None,
        typer.Option("--next-review", help="Finish the review: the next review date."),
    ] = None,
    user: UserOption = None,
) -> None:
    """Start a review (access continues), or finish it with --next-review."""
    hub = platform()
    hub.check_ready()
    actor = acting(hub, user)
    if done is None:
        hub.review_agreement(actor, agreement_id)
        message(f"agreement {agreement_id} is under review")
    else:
        hub.complete_review(actor, agreement_id, done.date())
        message(f"agreement {agreement_id} reviewed; next review {done.date()}")


@agreements_app.command("terminate")
@handles_errors
def agreements_terminate(
    agreement_id: str,
    reason: Annotated[str, typer.Option(help="Why it ends.")],
    user: UserOption = None,
) -> None:
    """End an agreement now: reads under it stop at once."""
    hub = platform()
    hub.check_ready()
    hub.terminate_agreement(acting(hub, user), agreement_id, reason)
    message(f"agreement {agreement_id} terminated")


# --- access -----------------------------------------------------------------------------------


@access_app.command("explain")
@handles_errors
def access_explain(
    username: Annotated[str, typer.Argument(help="Whose access.")],
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    denied: Annotated[bool, typer.Option("--denied", help="Show refusals too.")] = False,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """What a user may read, under which agreement, and why not where they may not."""
    hub = platform()
    hub.check_ready()
    lines = hub.explain_access(acting(hub, user), username, dataset)
    shown = [line for line in lines if denied or line.decision.allowed]
    if as_json:
        emit_json(
            [
                {
                    "dataset": line.dataset,
                    "purpose": line.purpose,
                    "level": line.level,
                    "allowed": line.decision.allowed,
                    "reason": line.decision.reason,
                    "agreements": list(line.decision.agreements),
                    "orgs": sorted(line.decision.orgs),
                    "fields": list(line.decision.fields),
                    "needed": line.decision.needed,
                }
                for line in shown
            ]
        )
        return
    for line in shown:
        d = line.decision
        what = f"rows of {', '.join(sorted(d.orgs))}" if d.allowed else d.reason
        typer.echo(f"{line.dataset}\t{line.purpose}\t{line.level}\t{'yes' if d else 'no'}\t{what}")


@access_app.command("request")
@handles_errors
def access_request(
    dataset: str,
    provider: Annotated[str, typer.Option(help="Whose data (ODS code).")],
    purpose: PurposeOption,
    level: LevelOption,
    why: Annotated[str, typer.Option(help="The justification the steward decides on.")],
    fields: FieldsOption = None,
    user: UserOption = None,
) -> None:
    """Ask the data owner's steward for access to a dataset for a purpose."""
    hub = platform()
    hub.check_ready()
    info = hub.request_access(
        acting(hub, user), dataset, provider, Purpose(purpose), Level(level), why, _fields(fields)
    )
    message(f"access request {info.id} sent to the stewards of {provider}")


@access_app.command("requests")
@handles_errors
def access_requests(user: UserOption = None, as_json: JsonOption = False) -> None:
    """Your requests, and those you may decide on."""
    hub = platform()
    hub.check_ready()
    rows = hub.access_requests(acting(hub, user))
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r.id}\t{r.state}\t{r.requested_by}\t{r.dataset} from {r.provider}\t"
            f"{r.purpose}\t{r.level}"
        )


@access_app.command("approve")
@handles_errors
def access_approve(
    request_id: int,
    note: Annotated[str, typer.Option(help="The reason, shown to the requester.")],
    agreement: Annotated[
        str | None, typer.Option(help="Let the requester's organisation accede to this one.")
    ] = None,
    new_agreement: Annotated[
        Path | None, typer.Option(help="Or draft this new agreement (YAML) for signature.")
    ] = None,
    user: UserOption = None,
) -> None:
    """Approve a request by amending an agreement or drafting a new one."""
    hub = platform()
    hub.check_ready()
    spec = load_model_file(AgreementSpec, new_agreement) if new_agreement else None
    info = hub.decide_access_request(
        acting(hub, user),
        request_id,
        approve=True,
        note=note,
        agreement_id=agreement,
        new_agreement=spec,
    )
    message(f"access request {info.id} approved under agreement {info.agreement_id}")


@access_app.command("refuse")
@handles_errors
def access_refuse(
    request_id: int,
    note: Annotated[str, typer.Option(help="The reason, shown to the requester.")],
    user: UserOption = None,
) -> None:
    """Refuse a request, with the reason."""
    hub = platform()
    hub.check_ready()
    hub.decide_access_request(acting(hub, user), request_id, approve=False, note=note)
    message(f"access request {request_id} refused")


# --- data -------------------------------------------------------------------------------------


def _write_csv(columns: tuple[str, ...], batches: Any, out: Path | None) -> int:
    handle = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
    written = 0
    try:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for batch in batches:
            writer.writerows(batch)
            written += len(batch)
    finally:
        if out:
            handle.close()
    return written


@data_app.command("rows")
@handles_errors
def data_rows(
    dataset: str,
    purpose: PurposeOption,
    level: LevelOption = "pseudonymised",
    fields: FieldsOption = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    offset: Annotated[int, typer.Option(help="Rows to skip.")] = 0,
    as_of: AsOfOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show rows you may read (CSV to stdout)."""
    hub = platform()
    hub.check_ready()
    result = hub.read_rows(
        acting(hub, user),
        Purpose(purpose),
        dataset,
        level=Level(level),
        fields=_fields(fields),
        limit=limit,
        offset=offset,
        as_of=as_of,
    )
    if as_json:
        emit_json({"columns": result.columns, "rows": result.rows, "more": result.more})
    else:
        _write_csv(result.columns, [result.rows], None)
    message(f"{len(result.rows)} rows under {result.decision.agreement}")


@data_app.command("export")
@handles_errors
def data_export(
    dataset: str,
    purpose: PurposeOption,
    out: Annotated[Path, typer.Option(help="The CSV file to write.")],
    level: LevelOption = "pseudonymised",
    fields: FieldsOption = None,
    as_of: AsOfOption = None,
    user: UserOption = None,
) -> None:
    """Export every row you may read to a CSV file (audited with the rows that left)."""
    hub = platform()
    hub.check_ready()
    columns, batches = hub.export_rows(
        acting(hub, user),
        Purpose(purpose),
        dataset,
        level=Level(level),
        fields=_fields(fields),
        as_of=as_of,
    )
    written = _write_csv(columns, batches, out)
    message(f"wrote {written:,} rows to {out}")


@data_app.command("counts")
@handles_errors
def data_counts(
    dataset: str,
    purpose: PurposeOption,
    by: Annotated[str, typer.Option(help="One or two fields, e.g. org_code,period.")],
    as_of: AsOfOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Counts by one or two fields, after disclosure control (* = suppressed)."""
    hub = platform()
    hub.check_ready()
    result = hub.read_counts(
        acting(hub, user), Purpose(purpose), dataset, _fields(by) or (), as_of=as_of
    )
    grid = result.table.grid()
    if as_json:
        emit_json({"by": result.dimensions, "grid": grid, "agreements": result.decision.agreements})
        return
    csv.writer(sys.stdout).writerows(grid)
    message(f"under {result.decision.agreement}; * = suppressed (disclosure control)")
