"""`carehub <area> <verb>`: thin commands over `Platform`."""

from __future__ import annotations

import dataclasses
import signal
import threading
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from carehub.cli.common import JsonOption, UserOption, acting, platform
from carehub.cli.output import emit_json, handles_errors, message, one_of, progress_bar
from carehub.errors import Conflict, DataContractError, UserError
from carehub.platform import (
    ORGANISATION_KINDS,
    MonthState,
    Receipt,
    Role,
    TrialReceipt,
)

WEB_APP_FACTORY = "carehub.web.app:app_factory"  # built by name: the CLI never imports web
ASSIGNABLE_ROLES = tuple(r.value for r in Role if r is not Role.SYSTEM)  # system is carehub's own

app = typer.Typer(
    name="carehub",
    help="carehub: a virtual BI hub for an Integrated Care System.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
orgs_app = typer.Typer(help="Partner organisations.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
mappings_app = typer.Typer(
    help="Feed mappings from partners' files to the data model.", no_args_is_help=True
)
submissions_app = typer.Typer(help="Submitted files and their states.", no_args_is_help=True)
metrics_app = typer.Typer(help="KPIs: definitions, runs and series.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for scripts.", no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs: progress, failures, retries.", no_args_is_help=True)
for sub, name in (
    (orgs_app, "orgs"),
    (users_app, "users"),
    (mappings_app, "mappings"),
    (submissions_app, "submissions"),
    (metrics_app, "metrics"),
    (audit_app, "audit"),
    (jobs_app, "jobs"),
    (tokens_app, "tokens"),
):
    app.add_typer(sub, name=name)


@app.command()
@handles_errors
def init() -> None:
    """Create the workspace (folders, keys, metadata database) or bring it up to date."""
    report = platform().init()
    message(f"workspace ready at {report.home}")
    for label in report.created_keys:
        message(f"created the {label} key (owner-only permissions; back it up, never share it)")


@app.command()
@handles_errors
def submit(
    file: Annotated[Path, typer.Argument(help="The file to submit (CSV).")],
    org: Annotated[str, typer.Option("--org", help="ODS code of the sending organisation.")],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset of the common data model.")],
    period: Annotated[
        str | None,
        typer.Option("--period", help="Reporting month yyyy-mm (default: from the rows)."),
    ] = None,
    user: UserOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Process the file now, with a progress bar (default), or only queue it for a "
            "`carehub worker` or the web app's workers.",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Land, check, pseudonymise and publish one file."""
    hub = platform()
    hub.check_ready()
    actor = acting(hub, user)
    if wait and not as_json:
        with progress_bar("processing " + file.name) as report:
            receipt = hub.submit(actor, org, dataset, file, period, progress=report)
    elif wait:
        receipt = hub.submit(actor, org, dataset, file, period)
    else:
        receipt = hub.receive(actor, org, dataset, file, period)
    if as_json:
        emit_json(receipt)
        return
    show_receipt(receipt)


def show_receipt(receipt: Receipt) -> None:
    if receipt.duplicate:
        message(
            f"{receipt.filename}: these exact bytes were already received as submission "
            f"{receipt.submission_id} ({receipt.state}); not processed again"
        )
        return
    if receipt.state in ("received", "validating"):
        message(
            f"submission {receipt.submission_id} {receipt.state}: job {receipt.job_id} is "
            f"queued; follow it with `carehub jobs show {receipt.job_id}`"
        )
        return
    if receipt.state == "rejected":
        message(f"submission {receipt.submission_id} rejected: {receipt.error}")
        message(f"  hint: {receipt.hint}")
        return
    message(
        f"submission {receipt.submission_id}: {receipt.dataset} from {receipt.org_code} "
        f"for {receipt.period}: {receipt.rows_published} of {receipt.rows_read} rows published, "
        f"{receipt.rows_quarantined} quarantined"
    )
    for reason, count in receipt.reasons.items():
        message(f"  {count:>7}  {reason}")
    for warning in receipt.warnings:
        message(f"  warning: {warning}")
    if receipt.superseded:
        message(f"  supersedes submission {receipt.superseded}")


@app.command()
@handles_errors
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Stop when no job is waiting instead of polling.")
    ] = False,
    poll: Annotated[float, typer.Option(help="Seconds between looks at an empty queue.")] = 1.0,
) -> None:
    """Run queued jobs (several workers can share a PostgreSQL queue)."""
    hub = platform()
    hub.check_ready()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    message("worker started" + (" (until the queue is empty)" if once else " (Ctrl-C to stop)"))
    try:
        done = hub.work(stop, once=once, poll_seconds=poll)
    except KeyboardInterrupt:
        stop.set()
        done = -1
    if done >= 0:
        message(f"worker stopped after {done} job(s)")


@app.command()
@handles_errors
def coverage(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge as of this date, yyyy-mm-dd (default today)."),
    ] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Each scheduled feed's months: expected, on time, late, missing and not yet due."""
    hub = platform()
    hub.check_ready()
    day = parse_date(as_of) if as_of else None
    feeds = hub.coverage(acting(hub, user), day)
    if as_json:
        emit_json(feeds)
        return
    typer.echo("org\tdataset\texpected\ton time\tlate\tmissing\tawaited\tproblem months")
    for f in feeds:
        problems = ", ".join(
            f"{m.period} {m.state}" + (f" ({m.days_late} days)" if m.days_late else "")
            for m in f.months
            if m.state in (MonthState.LATE, MonthState.MISSING)
        )
        typer.echo(
            f"{f.org_code}\t{f.dataset}\t{f.expected}\t{f.count(MonthState.ON_TIME)}\t"
            f"{f.count(MonthState.LATE)}\t{f.count(MonthState.MISSING)}\t"
            f"{f.count(MonthState.AWAITED)}\t{problems}"
        )


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not a date", hint="write it as yyyy-mm-dd") from None


@jobs_app.command("list")
@handles_errors
def jobs_list(
    limit: Annotated[int, typer.Option(help="How many of the latest jobs.")] = 50,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the latest jobs with their states and progress."""
    hub = platform()
    hub.check_ready()
    jobs = hub.recent_jobs(acting(hub, user), limit)
    if as_json:
        emit_json(jobs)
        return
    for j in jobs:
        typer.echo(
            f"{j.id}\t{j.kind}\t{j.state}\t{j.progress:.0%}\t{j.stage}\t"
            f"submission {j.submission_id}\t{j.error or ''}"
        )


@jobs_app.command("show")
@handles_errors
def jobs_show(
    job_id: Annotated[int, typer.Argument(help="The job's number.")],
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one job: state, progress, attempts and any error."""
    hub = platform()
    hub.check_ready()
    job = hub.job(acting(hub, user), job_id)
    if as_json:
        emit_json(job)
        return
    typer.echo(
        f"job {job.id} ({job.kind}, submission {job.submission_id}): {job.state}, "
        f"{job.progress:.0%} ({job.stage}), attempt {job.attempts}"
    )
    if job.error:
        typer.echo(f"  error: {job.error}")


@jobs_app.command("retry")
@handles_errors
def jobs_retry(
    job_id: Annotated[int, typer.Argument(help="The failed job's number.")],
    user: UserOption = None,
) -> None:
    """Queue a failed job again, once its cause is fixed."""
    hub = platform()
    hub.check_ready()
    job = hub.retry_job(acting(hub, user), job_id)
    message(f"job {job.id} queued again; a worker will take it (or run `carehub worker --once`)")


@tokens_app.command("create")
@handles_errors
def tokens_create(
    for_user: Annotated[str, typer.Option("--for", help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'nightly ECDS upload'.")],
    scope: Annotated[
        list[str], typer.Option(help="submit and/or read (repeat the option for both).")
    ],
    days: Annotated[int, typer.Option(help="Days until it expires (at most 366).")] = 90,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make an API token; its secret is printed once, to stdout, and never stored."""
    hub = platform()
    hub.check_ready()
    secret, token = hub.create_token(acting(hub, user), for_user, name, scope, days)
    if as_json:
        emit_json({"token": secret, **dataclasses.asdict(token)})
        return
    typer.echo(secret)
    message(
        f"token {token.id} for {token.username} ({' '.join(token.scopes)}), expires "
        f"{token.expires_at:%Y-%m-%d}; keep it secret: carehub cannot show it again"
    )


@tokens_app.command("list")
@handles_errors
def tokens_list(user: UserOption = None, as_json: JsonOption = False) -> None:
    """List API tokens (yours; an admin sees everyone's), never their secrets."""
    hub = platform()
    hub.check_ready()
    rows = hub.tokens(acting(hub, user))
    if as_json:
        emit_json(rows)
        return
    for t in rows:
        state = "active" if t.active else ("revoked" if t.revoked_at else "expired")
        typer.echo(f"{t.id}\t{t.username}\t{t.name}\t{' '.join(t.scopes)}\t{state}")


@tokens_app.command("revoke")
@handles_errors
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's number.")],
    user: UserOption = None,
) -> None:
    """Revoke an API token: it stops working at once."""
    hub = platform()
    hub.check_ready()
    token = hub.revoke_token(acting(hub, user), token_id)
    message(f"token {token.id} ({token.name}) revoked")


@orgs_app.command("add")
@handles_errors
def orgs_add(
    ods_code: Annotated[str, typer.Argument(help="The organisation's ODS code, e.g. RAJ.")],
    name: Annotated[str, typer.Argument(help="The organisation's name.")],
    kind: Annotated[
        str,
        typer.Option(
            callback=one_of(ORGANISATION_KINDS),
            help=f"Kind of organisation: {', '.join(ORGANISATION_KINDS)}.",
        ),
    ] = "trust",
    user: UserOption = None,
) -> None:
    """Add or rename a partner organisation."""
    hub = platform()
    hub.check_ready()
    hub.add_organisation(acting(hub, user), ods_code, name, kind)
    message(f"organisation {ods_code} saved")


@orgs_app.command("list")
@handles_errors
def orgs_list(as_json: JsonOption = False) -> None:
    """List the organisations."""
    hub = platform()
    hub.check_ready()
    rows = hub.organisations()
    if as_json:
        emit_json([{"ods_code": c, "name": n, "kind": k} for c, n, k in rows])
    for code, name, kind in [] if as_json else rows:
        typer.echo(f"{code}\t{kind}\t{name}")


@users_app.command("add")
@handles_errors
def users_add(
    username: Annotated[str, typer.Argument(help="The name the user signs in with.")],
    org: Annotated[str, typer.Option("--org", help="ODS code of the user's organisation.")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            callback=one_of(ASSIGNABLE_ROLES),
            help=f"One of: {', '.join(ASSIGNABLE_ROLES)}.",
        ),
    ],
    display_name: Annotated[str, typer.Option("--name", help="Name shown in the web app.")] = "",
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="CAREHUB_NEW_PASSWORD"
        ),
    ] = "",
    user: UserOption = None,
) -> None:
    """Add a user who can sign in to the web app."""
    hub = platform()
    hub.check_ready()
    hub.add_user(acting(hub, user), username, password, org, Role(role), display_name)
    message(f"user {username} added")


@users_app.command("set-role")
@handles_errors
def users_set_role(
    username: Annotated[str, typer.Argument(help="Whose role.")],
    role: Annotated[
        str,
        typer.Argument(
            callback=one_of(ASSIGNABLE_ROLES), help=f"One of: {', '.join(ASSIGNABLE_ROLES)}."
        ),
    ],
    user: UserOption = None,
) -> None:
    """Change a user's role (an admin only; audited with the old and new role)."""
    hub = platform()
    hub.check_ready()
    hub.set_role(acting(hub, user), username, Role(role))
    message(f"{username} is now {role}")


@mappings_app.command("add")
@handles_errors
def mappings_add(
    file: Annotated[Path, typer.Argument(help="A feed mapping YAML file.")],
    user: UserOption = None,
) -> None:
    """Check a feed mapping YAML file and install it for its organisation and dataset."""
    hub = platform()
    hub.check_ready()
    mapping = hub.install_mapping(acting(hub, user), file)
    message(f"mapping v{mapping.version} for {mapping.organisation} {mapping.dataset} installed")


@mappings_app.command("draft")
@handles_errors
def mappings_draft(
    file: Annotated[
        Path,
        typer.Argument(help="A sample file from the partner (CSV, xlsx, Parquet, JSON lines)."),
    ],
    org: Annotated[str, typer.Option("--org", help="ODS code of the sending organisation.")],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset of the common data model.")],
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet", help="Excel: the worksheet (default: the one with the widest header)."
        ),
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(
            "--header-row", min=1, help="Excel: the row of column names (default: found)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the YAML to this new file, not stdout.")
    ] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose a feed mapping from a sample of a partner's file.

    The YAML goes to stdout (or --out), and a report to stderr: the column matched to each field
    with its confidence and evidence, date formats, the code values that need a translation and
    the problems to put right. Only the first 10,000 rows are read."""
    hub = platform()
    hub.check_ready()
    if out is not None and out.exists():
        raise Conflict(f"{out} already exists", hint="choose another --out file, or delete it")
    draft = hub.draft_mapping(acting(hub, user), org, dataset, file, sheet, header_row)
    text = draft.to_yaml()
    if out is not None:
        out.write_text(text, encoding="utf-8")
    if as_json:
        emit_json({"draft": draft, "yaml": text})
        return
    for line in draft.report():
        message(line)
    if out is None:
        typer.echo(text, nl=False)
    else:
        message(f"draft written to {out}: check it, then `carehub mappings test {out} FILE`")


@mappings_app.command("test")
@handles_errors
def mappings_test(
    mapping: Annotated[Path, typer.Argument(help="A feed mapping YAML file (e.g. a draft).")],
    file: Annotated[Path, typer.Argument(help="A file from the partner to try it on.")],
    period: Annotated[
        str | None,
        typer.Option("--period", help="Reporting month yyyy-mm (default: from the rows)."),
    ] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Try a feed mapping on a file without submitting it: what the receipt would say.

    The same whole-file checks and one-pass standardisation as `carehub submit`, run in memory:
    nothing is landed, recorded or published. A file that submit would refuse is refused the same
    way (exit 5)."""
    hub = platform()
    hub.check_ready()
    trial = hub.test_mapping(acting(hub, user), mapping, file, period)
    if as_json:
        emit_json(trial)
    else:
        _show_trial(trial)
    if trial.refusal is not None:
        raise DataContractError(
            f"submit would refuse the file: {trial.refusal}",
            hint="check the feed mapping (column names, date formats, code translations)",
        )


def _show_trial(trial: TrialReceipt) -> None:
    message(
        f"trial of {trial.file}: {trial.dataset} from {trial.org_code} for {trial.period} "
        f"(mapping v{trial.mapping_version}); nothing was stored"
    )
    message(
        f"  {trial.rows_would_publish} of {trial.rows_read} rows would be published, "
        f"{trial.rows_would_quarantine} quarantined"
    )
    for reason, count in trial.reasons.items():
        message(f"  {count:>7}  {reason}: {trial.reason_help[reason]}")
    for warning in trial.warnings:
        message(f"  warning: {warning}")
    if trial.already_received is not None:
        message(
            f"  note: these exact bytes are already submission {trial.already_received}; "
            "submitting them again would not process them"
        )


@submissions_app.command("list")
@handles_errors
def submissions_list(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    org: Annotated[str | None, typer.Option(help="Only this organisation (ODS code).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List submissions with their states and row counts."""
    hub = platform()
    hub.check_ready()
    rows = [
        {
            "id": s.id,
            "dataset": s.dataset,
            "org": s.org_code,
            "period": s.period,
            "state": s.state,
            "rows_published": s.rows_published,
            "rows_quarantined": s.rows_quarantined,
            "file": s.filename,
        }
        for s in hub.submissions(dataset, org)
    ]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['id']}\t{r['dataset']}\t{r['org']}\t{r['period']}\t{r['state']}\t{r['rows_published']}\t{r['rows_quarantined']}\t{r['file']}"
        )


@submissions_app.command("show")
@handles_errors
def submissions_show(
    submission_id: Annotated[int, typer.Argument(help="The submission's number.")],
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a submission's receipt: its state, rows, quarantine reasons, or why it was rejected."""
    hub = platform()
    hub.check_ready()
    receipt = hub.submission(acting(hub, user), submission_id)
    if as_json:
        emit_json(receipt)
        return
    show_receipt(receipt)


@metrics_app.command("list")
@handles_errors
def metrics_list(as_json: JsonOption = False) -> None:
    """List the KPI definitions."""
    definitions = platform().metric_definitions()
    if as_json:
        emit_json([d.model_dump() for d in definitions])
        return
    for d in definitions:
        typer.echo(f"{d.id}\t{d.title}")


@metrics_app.command("run")
@handles_errors
def metrics_run(
    kpis: Annotated[list[str] | None, typer.Argument(help="KPI ids (default: all).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Compute KPI series and their SPC limits from the current published data."""
    hub = platform()
    hub.check_ready()
    summaries = hub.run_metrics(ids=kpis or None)
    if as_json:
        emit_json(summaries)
        return
    for s in summaries:
        message(
            f"{s.metric_id}: run {s.run_id}, {s.points} points in {s.facets} series "
            f"from {s.submissions} submissions"
        )


@audit_app.command("verify")
@handles_errors
def audit_verify(as_json: JsonOption = False) -> None:
    """Check the audit log's hash chain; exit 9 if any event was edited, deleted or reordered."""
    hub = platform()
    hub.check_ready()
    report = hub.verify_audit()
    if as_json:
        emit_json(report)
        return
    message(f"audit log intact: {report.events} events, last hash {report.last_hash}")


# --- keys ------------------------------------------------------------------------------------

keys_app = typer.Typer(
    help="The pseudonymisation key: its id (never the key) and its rotation.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
OPERATIONS_DOC = "docs/operations.md"


@keys_app.command("status")
@handles_errors
def keys_status(user: UserOption = None, as_json: JsonOption = False) -> None:
    """Show the pseudonymisation key's id and permissions, and which key made each version.

    Counts the current published versions by the id of the key that pseudonymised them: a
    rotation is complete when every one carries the current key's id. The key itself is never
    shown."""
    hub = platform()
    hub.check_ready()
    status = hub.key_status(acting(hub, user))
    if as_json:
        emit_json(status)
        return
    rotation = status.rotation
    access = "owner only" if status.owner_only else "NOT owner only: run chmod 600"
    typer.echo(f"key {status.key_id} in {status.key_file} (mode {status.mode}, {access})")
    typer.echo(f"current published versions by key: {rotation.versions}")
    for key, count in rotation.versions_by_key.items():
        typer.echo(f"  {count:>7}  {key}{'  (current key)' if key == status.key_id else ''}")
    if rotation.complete:
        typer.echo("rotation complete: every current version was made under the current key")
    else:
        typer.echo(
            f"rotation incomplete: {rotation.stale} current version(s) were made under an older "
            "key (or record none); until they are re-pseudonymised, their person_ids do not "
            "link with the others"
        )
        for count, what in (
            (rotation.waiting, "waiting: run `carehub worker --once` or let the workers run"),
            (rotation.failed, "failed: see `carehub jobs list`, then `carehub jobs retry JOB`"),
            (rotation.unqueued, "have no job: run `carehub keys rotate --resume`"),
        ):
            if count:
                typer.echo(f"  {count:>7}  {what}")
    for retired in status.retired:
        typer.echo(
            f"retired key {retired.file} (mode {retired.mode}): destroy it once the rotation "
            f"is complete ({OPERATIONS_DOC})"
        )


@keys_app.command("rotate")
@handles_errors
def keys_rotate(
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Write no new key: queue jobs for the current versions still under an older "
            "key that have none waiting (after a failure or a late submission).",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rotate the pseudonymisation key (admins only).

    Writes a new key, moves the old one to the retired folder beside it (owner-only) for you to
    destroy once the rotation is complete, and queues a job per current published version that
    re-pseudonymises it from its raw file under the new key, as a new version (as-of reads still
    show the old). Stop the workers first; see docs/operations.md."""
    hub = platform()
    hub.check_ready()
    actor = acting(hub, user)
    if not (yes or resume):
        typer.confirm(
            "Write a new pseudonymisation key and re-pseudonymise every current version?",
            abort=True,
        )
    report = hub.rotate_key(actor, resume=resume)
    if as_json:
        emit_json(report)
        return
    if report.retired is not None:
        message(
            f"new pseudonymisation key {report.key_id}; the old key {report.previous_key_id} "
            f"is kept, owner-only, in {report.retired}"
        )
    message(f"{report.jobs_queued} re-pseudonymisation job(s) queued, one per current version")
    if report.complete:
        message("rotation complete: every current version is under the new key")
    else:
        message(
            "until they have run (`carehub worker --once`, or the running workers), person_ids "
            "under the old key do not link with the new: follow with `carehub keys status`"
        )
    message(
        "when `carehub keys status` says complete: re-run the KPIs (`carehub metrics run`) and "
        f"destroy the retired key file ({OPERATIONS_DOC})"
    )


@app.command()
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app."""
    hub = platform()
    hub.check_ready()
    message(f"carehub is serving at http://{host}:{port}/ (Ctrl-C to stop)")
    run_web_app(host, port)


def run_web_app(host: str, port: int) -> None:
    """Serve the web app; uvicorn builds it by name from the CAREHUB_* settings in the environment,
    so the CLI does not import the web layer."""
    import uvicorn

    uvicorn.run(WEB_APP_FACTORY, factory=True, host=host, port=port, log_level="warning")


from carehub.cli import demo as _demo  # noqa: E402  (registers `synth` and `demo`)
from carehub.cli import governance as _governance  # noqa: E402  (agreements, access, data)
from carehub.cli import quality as _quality  # noqa: E402  (dq)

_demo.register(app)
_governance.register(app)
_quality.register(app)
