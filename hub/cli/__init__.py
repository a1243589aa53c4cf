"""``lienthong``: run the hub's parts separately and operate it from a shell.

One module per command group in this package; each builds its own ``app`` with the helpers of
:mod:`hub.cli.helpers` and never imports this root, which only mounts them. Each partner adds its
simulator (``lienthong simulator <name>``) and its own commands (``lienthong <partner> ...``) through
its manifest.
"""

from __future__ import annotations

from importlib import import_module

import typer

from hub.plugins import manifests

GROUPS = (  # (command, module of hub/cli/ holding its typer ``app``); no command: its commands are top-level
    (None, "serve"),  # api, worker, relay, sandbox
    (None, "review"),
    ("db", "db"),
    ("messages", "messages"),
    ("routes", "routes"),
    ("partners", "partners"),
    ("keys", "keys"),
    ("schemas", "schemas"),
    ("simulator", "simulators"),
    ("limits", "limits"),
    ("accounts", "accounts"),
    ("audit", "audit"),
    ("keyset", "keyset"),
    ("officers", "officers"),
    ("credentials", "credentials"),
    ("signing", "signing"),
)

app = typer.Typer(help="lienthong – the provincial integration hub (LGSP).", no_args_is_help=True)
for command, module in GROUPS:
    app.add_typer(import_module(f"hub.cli.{module}").app, name=command)
for _m in manifests():  # ``lienthong <partner> ...``
    if _m.commands is not None and _m.command_name is None:  # its groups are top-level ones
        app.add_typer(_m.commands())
    elif _m.commands is not None:
        app.add_typer(_m.commands(), name=_m.command_name or _m.code.replace("_", "-"))


@app.callback()
def _every_command() -> None:
    """Every command's log records are masked (no citizen ID, key or token), whoever configures logging."""
    import hub.context  # noqa: F401 - installs the partners' contexts for their commands (hub.seam.partner_context)
    from hub.log_mask import install

    install()
