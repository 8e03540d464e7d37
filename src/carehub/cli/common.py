"""What every command shares: the platform from settings, the acting user, common options."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from carehub.platform import Actor, Platform, Role
from carehub.settings import Settings

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")]
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        envvar="CAREHUB_USER",
        help="Act as this carehub user (default: the local operator).",
    ),
]


def platform() -> Platform:
    return Platform(Settings())


def acting(hub: Platform, username: str | None) -> Actor:
    """The named user, or the local operator: whoever can run this command can read the
    workspace's files and keys anyway, so the operator acts as an administrator."""
    if username:
        return hub.actor(username)
    return Actor(f"cli:{getpass.getuser()}", "HUB", Role.ADMIN, "local operator")
