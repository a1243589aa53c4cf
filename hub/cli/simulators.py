"""``lienthong simulator <name>``: each partner's simulator (its manifest's ``simulator``), for the sandbox and the tests."""

from __future__ import annotations

import typer

from hub.plugins import manifests

app = typer.Typer(help="Partner simulators for the sandbox and the tests.", no_args_is_help=True)
for _m in manifests():
    if _m.simulator is not None:
        app.command(_m.simulator.name)(_m.simulator.command)
