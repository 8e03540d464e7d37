"""Version pointers: which submission is current for (dataset, organisation, period).

Publishing flips the pointer in the caller's transaction, after the files are in place; the old
publication is marked superseded at the same instant, so an as-of read can rebuild what was
current at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from carehub.store.tables import CurrentVersion, Publication, Submission


@dataclass(frozen=True)
class PublishedVersion:
    dataset: str
    org_code: str
    period: str
    submission_id: int
    standard_path: str
    published_at: datetime


def publish(session: Session, submission: Submission, at: datetime) -> Submission | None:
    """Make ``submission`` current; return the submission it superseded, if any."""
    key = (submission.dataset, submission.org_code, submission.period)
    pointer = session.get(CurrentVersion, key)
    superseded: Submission | None = None
    if pointer is not None:
        old = session.get_one(Publication, pointer.publication_id)
        old.superseded_at = at
        superseded = session.get_one(Submission, old.submission_id)
    publication = Publication(
        dataset=submission.dataset,
        org_code=submission.org_code,
        period=submission.period,
        submission_id=submission.id,
        published_at=at,
    )
    session.add(publication)
    session.flush()
    if pointer is None:
        session.add(
            CurrentVersion(
                dataset=key[0], org_code=key[1], period=key[2], publication_id=publication.id
            )
        )
    else:
        pointer.publication_id = publication.id
    return superseded


def current_versions(
    session: Session, dataset: str, as_of: datetime | None = None
) -> list[PublishedVersion]:
    """The versions current now (from the pointers) or at ``as_of`` (from the history)."""
    query = select(Publication, Submission).join(
        Submission, Publication.submission_id == Submission.id
    )
    if as_of is None:
        query = query.join(CurrentVersion, CurrentVersion.publication_id == Publication.id)
    else:
        query = query.where(
            Publication.published_at <= as_of,
            or_(Publication.superseded_at.is_(None), Publication.superseded_at > as_of),
        )
    query = query.where(and_(Publication.dataset == dataset)).order_by(
        Publication.org_code, Publication.period
    )
    return [
        PublishedVersion(
            dataset=pub.dataset,
            org_code=pub.org_code,
            period=pub.period,
            submission_id=sub.id,
            standard_path=sub.standard_path or "",
            published_at=pub.published_at,
        )
        for pub, sub in session.execute(query).all()
    ]
