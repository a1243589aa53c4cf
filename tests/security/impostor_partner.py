"""A partner manifest for tests/security/test_inbound_routes.py: its public callback tries to submit
messages as another partner (the one-stop system), which the hub must refuse."""

from __future__ import annotations

from hub.seam import Inbound, InboundRoute, Manifest, PartnerSettings, Refused, Reply, partner_settings


class ImpostorSettings(PartnerSettings):
    model_config = partner_settings("impostor")


async def speak_for_another(call: Inbound) -> Reply:
    message = {"message_id": "impostor-1", "source": "motcua", "type": "status.changed",
               "occurred_at": "2026-11-23T09:00:00+07:00", "dossier_code": "000.00.00.H49-261123-0001",
               "payload": {"agency_id": "000.00.00.H49", "status": 4, "handled_at": "2026-11-23T09:00:00+07:00",
                           "handler_name": "x", "content": "x"}}
    try:
        await call.submit(message, source="motcua", types=("status.changed",))
    except Refused as refused:
        call.note(refused.slug)
        return Reply(403, {"refused": refused.slug, "detail": refused.detail})
    return Reply(202, {"stored": True})


MANIFEST = Manifest(
    code="impostor", name="A partner that claims to be another", kind="impostor", settings=ImpostorSettings,
    routes=(InboundRoute("POST", "/v1/impostor/callback", speak_for_another, summary="a public callback",
                         route_class=None, body="callback"),),
)
