"""The postal states of a dossier, derived from its canonical messages (seed 004 Đ19-20).

One-stop systems keep two states per dossier (``../shared/DOMAIN.md``, "Postal operator"):

* pickup of the dossier: 0 none, 1 registered, 2 collecting, 3 handed over to the agency, 4 cancelled;
* result by post: 0 none, 1 offered, 2 chosen by the citizen, 3 handed to the post, 4 delivered.

Both are functions of the dossier's messages, whatever order they arrived in: a step never moves a
state back (a late ``postal.collected`` after ``postal.handed_over`` leaves it at 3), and a
cancellation ends a pickup that was not yet handed over.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Iterable, Mapping


class PickupState(IntEnum):
    """Pickup of a dossier by the post (``TrangThaiThuGom`` in one-stop systems)."""

    NONE = 0
    REGISTERED = 1
    COLLECTING = 2
    HANDED_OVER = 3
    CANCELLED = 4


class ResultPostState(IntEnum):
    """A result returned by post."""

    NONE = 0
    OFFERED = 1
    CHOSEN = 2
    HANDED_TO_POST = 3
    DELIVERED = 4


PICKUP_NAMES_VI = {0: "Không", 1: "Đã đăng ký thu gom", 2: "Đang thu gom", 3: "Đã giao cho cơ quan", 4: "Đã hủy"}
RESULT_NAMES_VI = {0: "Không", 1: "Được đề nghị", 2: "Công dân đã chọn", 3: "Đã giao bưu điện", 4: "Đã phát"}

_PICKUP_STEP = {"postal.booked": PickupState.REGISTERED, "postal.collected": PickupState.COLLECTING,
                "postal.in_transit": PickupState.COLLECTING, "postal.failed": PickupState.COLLECTING,
                "postal.returned": PickupState.COLLECTING, "postal.handed_over": PickupState.HANDED_OVER,
                "postal.delivered": PickupState.HANDED_OVER}
_RESULT_STEP = {"postal.booked": ResultPostState.CHOSEN, "postal.collected": ResultPostState.HANDED_TO_POST,
                "postal.in_transit": ResultPostState.HANDED_TO_POST, "postal.failed": ResultPostState.HANDED_TO_POST,
                "postal.returned": ResultPostState.HANDED_TO_POST, "postal.handed_over": ResultPostState.HANDED_TO_POST,
                "postal.delivered": ResultPostState.DELIVERED}


def postal_states(messages: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``{pickup, result_by_post}`` (state codes and Vietnamese names) of one dossier's messages, each
    ``{type, payload}``; messages of other types than the dossier, result and postal ones are ignored."""
    pickup, result = PickupState.NONE, ResultPostState.NONE
    pickup_cancelled = False
    for message in messages:
        kind, payload = message.get("type", ""), message.get("payload") or {}
        if kind in ("dossier.submitted", "dossier.updated"):
            if payload.get("pickup") is not None:
                pickup = max(pickup, PickupState.REGISTERED)
            if payload.get("result_by_post") is not None:
                result = max(result, ResultPostState.CHOSEN)
        elif kind == "result.issued" and payload.get("by_post") is not None:
            result = max(result, ResultPostState.CHOSEN)
        elif kind.startswith("postal."):
            leg = payload.get("leg")
            if leg == "pickup":
                if kind == "postal.cancelled":
                    pickup_cancelled = True
                else:
                    pickup = max(pickup, _PICKUP_STEP.get(kind, PickupState.NONE))
            elif leg == "result" and kind != "postal.cancelled":
                result = max(result, _RESULT_STEP.get(kind, ResultPostState.NONE))
    if pickup_cancelled and pickup < PickupState.HANDED_OVER:
        pickup = PickupState.CANCELLED
    return {"pickup": {"state": int(pickup), "name": PICKUP_NAMES_VI[int(pickup)]},
            "result_by_post": {"state": int(result), "name": RESULT_NAMES_VI[int(result)]}}
