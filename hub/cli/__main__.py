"""``python -m hub.cli ...`` (how the sandbox, the tests and the bench start hub processes)."""

from hub.cli import app

app()
