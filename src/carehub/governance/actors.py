"""Who is acting: a signed-in user, or carehub itself running a scheduled job."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    STEWARD = "steward"
    ANALYST = "analyst"
    VIEWER = "viewer"
    SUBMITTER = "submitter"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    username: str
    org_code: str
    role: Role
    display_name: str = ""

    def __str__(self) -> str:
        return self.username


SYSTEM_ORG = "HUB"  # the hub itself, as an organisation of its own deployment
SYSTEM_ACTOR = Actor("carehub", SYSTEM_ORG, Role.SYSTEM, "carehub (scheduled jobs)")
