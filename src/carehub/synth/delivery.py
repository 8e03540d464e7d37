"""How files reach the hub: when each is sent, and the whole-file defects of delivery.

Each file is sent 5 to 15 days after its period ends, inside the agreed 20 days. A few are
planted late (45 days after),
missing (never sent), truncated (cut off mid-line) or in the wrong encoding (saved as UTF-16,
as Excel's "Unicode text" does), each recorded as a defect with the stage that should find it.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.world import Defect, Feed

LATE_DAYS = 45
DUE_DAYS = 20  # the partners' agreed deadline: a month's file within 20 days of its end
PLANTED = (  # (organisation, dataset, kind, how many)
    ("NUC01", "ed_attendance", "late_period", 2),
    ("DPP03", "dpp_event", "late_period", 1),
    ("DPP03", "dpp_event", "missing_period", 1),
    ("NI111", "nhs111_call", "truncated_file", 1),
    ("SOSCC", "social_care", "wrong_encoding", 1),
)
STAGES = {
    "late_period": "timeliness",
    "missing_period": "coverage",
    "truncated_file": "file",
    "wrong_encoding": "file",
}


def _truncate(path: Path) -> int:
    """Cut the file part-way through a line; return that line's data row number."""
    data = path.read_bytes()
    cut = int(len(data) * 0.7)
    while data[cut - 1 : cut] in (b"\n", b","):
        cut += 1
    path.write_bytes(data[:cut])
    return data[:cut].count(b"\n")


def _to_utf16(path: Path) -> None:
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def _middle(feeds: list[Feed], count: int, rng: random.Random) -> list[Feed]:
    """Feeds away from the first and last months (so both neighbours exist)."""
    inner = feeds[1:-1] or feeds
    return rng.sample(inner, min(count, len(inner)))


def deliver(rng: random.Random, out: Path, feeds: list[Feed]) -> tuple[list[Feed], list[Defect]]:
    sent = []
    for feed in feeds:
        end = Period.parse(feed.period).end
        sent.append(replace(feed, sent_on=(end + timedelta(days=rng.randint(5, 15))).isoformat()))
    defects: list[Defect] = []
    chosen: set[str] = set()
    for org, dataset, kind, count in PLANTED:
        candidates = [
            f for f in sent if f.org_code == org and f.dataset == dataset and f.path not in chosen
        ]
        for feed in _middle(candidates, count, rng):
            chosen.add(feed.path)
            defects.append(_plant(out, feed, kind, sent))
    return [f for f in sent if not _is_missing(f, defects)], defects


def _plant(out: Path, feed: Feed, kind: str, sent: list[Feed]) -> Defect:
    name = Path(feed.path).name
    row = 0
    if kind == "late_period":
        index = sent.index(feed)
        sent[index] = replace(
            feed, sent_on=(Period.parse(feed.period).end + timedelta(days=LATE_DAYS)).isoformat()
        )
    elif kind == "missing_period":
        (out / feed.path).unlink()
    elif kind == "truncated_file":
        row = _truncate(out / feed.path)
    elif kind == "wrong_encoding":
        _to_utf16(out / feed.path)
    return Defect(name, row, "", kind, STAGES[kind])


def _is_missing(feed: Feed, defects: list[Defect]) -> bool:
    return any(d.kind == "missing_period" and d.file == Path(feed.path).name for d in defects)
