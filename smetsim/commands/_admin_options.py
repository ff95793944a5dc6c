"""The admin-access options ``smetsim gateway`` and ``smetsim sandbox`` share (one definition,
so their help and limits cannot drift apart)."""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.admin_auth import TOKEN_ENV

AdminToken = Annotated[
    str | None,
    typer.Option(
        "--admin-token",
        envvar=TOKEN_ENV,
        show_envvar=True,
        help="Bearer token clients off this machine need for the admin paths (default: "
        "generated and printed when listening beyond loopback). Prefer the variable: "
        "options show in ps.",
    ),
]
AdminHost = Annotated[
    str | None,
    typer.Option(
        "--admin-host",
        help="Serve the admin paths on their own listener on this address (e.g. "
        "127.0.0.1), not on the DUIS one.",
    ),
]
AdminPort = Annotated[
    int | None,
    typer.Option(
        "--admin-port",
        min=0,
        max=65535,
        help="Port of the --admin-host listener (the DUIS port + 1; 0: any free one).",
    ),
]
