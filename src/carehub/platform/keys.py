"""The pseudonymisation key: its status, and rotating it by re-pseudonymising every current
version from its raw file."""

from __future__ import annotations

from datetime import date
from functools import cached_property

from carehub.acquire.files import open_submission
from carehub.errors import (
    CarehubError,
    UserError,
)
from carehub.governance.actors import SYSTEM_ACTOR, Actor, Role
from carehub.model.datasets import get_dataset
from carehub.model.periods import Period
from carehub.platform.base import STEWARDING_ROLES, PlatformBase, require_role
from carehub.standardise.rotation import (
    ROTATION_RESUMED,
    ROTATION_STARTED,
    KeyStatus,
    RetiredKey,
    RotationReport,
    Rotations,
    key_target,
    mode_text,
)
from carehub.standardise.runner import (
    ProgressReport,
    Receipt,
    Standardiser,
)
from carehub.store.jobs import JobInfo, Progress
from carehub.store.keys import (
    file_mode,
    owner_only,
    retired_keys,
    rotate_key,
)


class KeysMixin(PlatformBase):
    # --- keys ----------------------------------------------------------------------------------

    @cached_property
    def rotations(self) -> Rotations:
        return Rotations(self.database, self.audit, self.jobs)

    def key_status(self, actor: Actor) -> KeyStatus:
        """The pseudonymisation key's id (never the key), its file's permissions, and how many
        current versions each key made: the rotation is complete when all carry this key."""
        require_role(actor, STEWARDING_ROLES | {Role.SYSTEM}, "see the pseudonymisation key")
        path = self.settings.resolved_key_file
        key_id = self._pads.key_id  # refuses a key file others can read
        rotation = self.rotations.state(key_id)
        if rotation.complete:  # e.g. the last old version was superseded by a new submission
            self.rotations.note_if_complete(actor, key_id)
        mode = file_mode(path)
        return KeyStatus(
            key_id=key_id,
            key_file=path,
            mode=mode_text(mode),
            owner_only=owner_only(mode),
            rotation=rotation,
            retired=tuple(
                RetiredKey(name, mode_text(bits), owner_only(bits))
                for name, bits in retired_keys(path)
            ),
        )

    def rotate_key(
        self, actor: Actor, *, resume: bool = False, today: date | None = None
    ) -> RotationReport:
        """Write a new pseudonymisation key (the old one is kept, owner-only, in the retired
        folder beside it) and queue a job per current version to re-pseudonymise it from its raw
        file under the new key. ``resume`` writes no key: it queues jobs for the current versions
        still under another key that have none waiting (after a failure, or a straggler)."""
        require_role(actor, {Role.ADMIN}, "rotate the pseudonymisation key")
        self.check_ready()  # before the key changes: the jobs must be queued straight after
        if resume:
            queued = self._queue_repseudonymisation(actor, self._pads.key_id, None, None)
            return RotationReport(self._pads.key_id, None, None, queued, self._completed(actor))
        rotated = rotate_key(self.settings.resolved_key_file, today or date.today())
        try:
            queued = self._queue_repseudonymisation(
                actor, rotated.key_id, rotated.previous_key_id, rotated.retired.name
            )
        except Exception as exc:
            raise CarehubError(
                f"the pseudonymisation key is now {rotated.key_id}, but its re-pseudonymisation "
                f"jobs could not be queued ({type(exc).__name__})",
                hint="check the metadata database, then run `carehub keys rotate --resume`",
            ) from exc
        return RotationReport(
            rotated.key_id,
            rotated.previous_key_id,
            rotated.retired,
            queued,
            self._completed(actor),
        )

    def _queue_repseudonymisation(
        self, actor: Actor, key_id: str, previous: str | None, retired: str | None
    ) -> int:
        with self.database.session() as session:
            queued = self.rotations.queue(session, actor.username, key_id)
            self.audit.record(
                session,
                actor,
                ROTATION_RESUMED if previous is None else ROTATION_STARTED,
                key_target(key_id),
                detail={"previous_key_id": previous, "retired_file": retired, "jobs": queued},
            )
        return queued

    def _completed(self, actor: Actor) -> bool:
        """Whether every current version carries the current key (recording it, once)."""
        key_id = self._pads.key_id
        self.rotations.note_if_complete(actor, key_id)
        return self.rotations.state(key_id).complete

    def _run_repseudonymise(self, job: JobInfo, worker: str, report: ProgressReport) -> Receipt:
        assert job.submission_id is not None
        tracker = Progress(self.jobs, job.id, worker)

        def both(fraction: float, stage: str) -> None:
            tracker(fraction, stage)
            report(fraction, stage)

        error: str | None = None
        try:
            with tracker.beating():
                key_id = self._repseudonymise(job.submission_id, both)
        except UserError as exc:  # the file no longer goes through: a person must look
            error = exc.message
            with self.database.session() as session:
                self.audit.record(
                    session,
                    SYSTEM_ACTOR,
                    "submission.repseudonymise_failed",
                    f"submission/{job.submission_id}",
                    detail={"job": job.id, "error": type(exc).__name__},
                )
        except BaseException as exc:
            self.jobs.finish(job.id, worker, error=f"stopped by {type(exc).__name__}")
            raise
        self.jobs.finish(job.id, worker, error=error)
        if error is None:  # the last job to finish records that the rotation is complete
            self.rotations.note_if_complete(SYSTEM_ACTOR, key_id)
        report(1.0, "finished")
        return self._receipt(job.submission_id, job.id)

    def _repseudonymise(self, submission_id: int, progress: ProgressReport) -> str:
        """Publish a new version of a current submission made under the current key, from its
        raw file; nothing to do if it was superseded or already carries the key."""
        submission = self.intake.get(submission_id)
        pads = self._pads  # one read: the key that pseudonymises is the key that is recorded
        if submission.state == "published" and submission.key_id != pads.key_id:
            assert submission.period is not None  # every published submission has its period
            mapping = self.mapping_for(submission.org_code, submission.dataset)
            standardiser = Standardiser(self.database, self.lake, self.engine, self.audit)
            progress(0.05, "checking the file")
            with (
                self._named_copy(submission) as original,
                open_submission(original, mapping, self.workspace.scratch) as profile,
            ):
                standardiser.republish(
                    SYSTEM_ACTOR,
                    submission.id,
                    get_dataset(submission.dataset),
                    mapping.without(profile.missing_optional),
                    profile,
                    Period.parse(submission.period),
                    pads,
                    progress,
                )
        return pads.key_id
