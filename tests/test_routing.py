"""Routing rules: by type, source and payload conditions; unknown routes are reported, never dropped."""

from __future__ import annotations

from hub.config import Settings
from hub.messages import MESSAGE_TYPES
from hub.routing import load, parse

TABLE = parse({"routes": [
    {"type": "status.changed", "source": "motcua", "to": ["national_dvc"]},
    {"type": ["dossier.submitted"], "source": "*", "when": {"payload.channel": 3}, "to": ["postal_vnpost", "national_dvc"]},
    {"type": "dossier.submitted", "source": "motcua", "when": {"payload.procedure_code": ["2.000477"]}, "to": ["ministry_apps"]},
]})


def test_route_by_type_and_source() -> None:
    assert TABLE.destinations("status.changed", "motcua", {}) == ("national_dvc",)
    assert TABLE.destinations("status.changed", "postal_vnpost", {}) == ()


def test_route_condition_on_payload_delivery_channel() -> None:
    postal = {"payload": {"channel": 3, "procedure_code": "1.000001"}}
    online = {"payload": {"channel": 2, "procedure_code": "1.000001"}}
    assert TABLE.destinations("dossier.submitted", "motcua", postal) == ("postal_vnpost", "national_dvc")
    assert TABLE.destinations("dossier.submitted", "motcua", online) == ()


def test_matching_rules_add_up_without_repeats() -> None:
    both = {"payload": {"channel": 3, "procedure_code": "2.000477"}}
    assert TABLE.destinations("dossier.submitted", "motcua", both) == ("postal_vnpost", "national_dvc", "ministry_apps")


def test_check_reports_unknown_destination_type_and_partner() -> None:
    table = parse({"routes": [{"type": "status.changed", "source": "nobody", "to": ["national_dvc", "fax_machine"]},
                              {"type": "status.teleported", "to": ["national_dvc"]}]})
    problems = table.check({"national_dvc": frozenset({"status.changed"})}, MESSAGE_TYPES, ["motcua"])
    assert any("fax_machine" in p for p in problems)
    assert any("nobody" in p for p in problems)
    assert any("status.teleported" in p for p in problems)


def test_check_reports_a_type_the_destination_cannot_take() -> None:
    table = parse({"routes": [{"type": "payment.confirmed", "to": ["national_dvc"]}]})
    problems = table.check({"national_dvc": frozenset({"status.changed"})}, MESSAGE_TYPES)
    assert problems == ["rule 1: destination 'national_dvc' cannot take 'payment.confirmed'"]


def test_shipped_routing_table_is_consistent() -> None:
    from hub.plugins import destinations

    assert load(Settings().routes_file).check(destinations(), MESSAGE_TYPES) == []


def test_hub_refuses_to_start_with_a_route_to_an_unknown_partner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from hub.edge.app import create_app

    routes = tmp_path / "routes.yaml"
    routes.write_text("routes:\n  - type: status.changed\n    to: [fax_machine]\n")
    with pytest.raises(RuntimeError, match="fax_machine"):
        create_app(Settings(routes_file=routes, database_url=f"sqlite:///{tmp_path / 'h.db'}"))
