"""The README documents every setting, and the commands it promises exist."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_setting() -> None:
    missing = [n for n in Settings.model_fields if f"LIENTHONG_{n.upper()}" not in README]
    assert missing == [], f"README configuration table lacks: {missing}"


def test_readme_gives_the_two_commands() -> None:
    assert "make run" in README and "make test" in README


def test_every_cli_command_has_help() -> None:
    runner = CliRunner()
    for argv in (["--help"], ["api", "--help"], ["worker", "--help"], ["db", "upgrade", "--help"],
                 ["messages", "replay", "--help"], ["routes", "check", "--help"], ["sandbox", "--help"]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 0 and "Usage" in result.output, (argv, result.output)


def test_every_partner_setting_is_in_its_folders_readme() -> None:
    """A partner's settings are documented where the partner lives: connectors/<folder>/README.md."""
    import importlib
    from pathlib import Path

    from hub.plugins import manifests

    missing = []
    for m in manifests():
        folder = Path(importlib.import_module(m.settings.__module__).__file__ or "").parent
        text = (folder / "README.md").read_text(encoding="utf-8")
        missing += [f"{folder.name}: LIENTHONG_{m.code.upper()}_{name.upper()}" for name in m.settings.model_fields
                    if f"LIENTHONG_{m.code.upper()}_{name.upper()}" not in text]
    assert missing == [], f"partner settings missing from their README: {missing}"
