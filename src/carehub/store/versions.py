"""Version pointers: which submission is current for (dataset, organisation, period).

Publishing flips the pointer in the caller's transaction, after the files are in place; the old
publication is marked superseded at the same instant, so an as-of read can rebuild what was
current at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
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
    # Held until the transaction ends: two publications of one period never both supersede it.
    pointer = session.get(CurrentVersion, key, with_for_update=True)
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
        standard_path=submission.standard_path,
        key_id=submission.key_id,
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
            # Versions published before migration 0004 had their path copied from submissions.
            standard_path=pub.standard_path or sub.standard_path or "",
            published_at=pub.published_at,
        )
        for pub, sub in session.execute(query).all()
    ]


def current_publication(
    session: Session, dataset: str, org: str, period: str, *, lock: bool = False
) -> Publication | None:
    """The current version of (dataset, organisation, period); ``lock`` holds its pointer until
    the transaction ends, so that no other publication flips it meanwhile (PostgreSQL)."""
    query = select(CurrentVersion).where(
        CurrentVersion.dataset == dataset,
        CurrentVersion.org_code == org,
        CurrentVersion.period == period,
    )
    pointer = session.scalars(query.with_for_update() if lock else query).first()
    return session.get(Publication, pointer.publication_id) if pointer else None


def current_versions_by_key(session: Session) -> dict[str | None, int]:
    """How many current versions (of every dataset) each pseudonymisation key made; None counts
    versions published before key ids were recorded."""
    query = (
        select(Publication.key_id, func.count())
        .join(CurrentVersion, CurrentVersion.publication_id == Publication.id)
        .group_by(Publication.key_id)
    )
    return {key: count for key, count in session.execute(query).all()}


def current_not_under(session: Session, key_id: str) -> list[int]:
    """The submissions whose current versions were not made under ``key_id`` (or say no key)."""
    query = (
        select(Publication.submission_id)
        .join(CurrentVersion, CurrentVersion.publication_id == Publication.id)
        .where(or_(Publication.key_id.is_(None), Publication.key_id != key_id))
        .order_by(Publication.submission_id)
    )
    return list(session.scalars(query))
