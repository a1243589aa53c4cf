"""Demo traffic of the sandbox's payment platform: citizens pay the payments the hub opened.

The one-stop demo sends a fee notice with ``online: true`` for each of its postal demo dossiers
(``connectors/motcua/demo.py``); the hub opens its payment (INIT, ``loop.py``) and gives the page to
the one-stop system (``payment.opened``). This demo plays the citizens: every ``interval`` seconds
it pays the payments pending at the platform simulator for a few seconds (``/_sim/pay``). One
payment in three loses its callback (paid at the platform, nothing posted): the hub's
reconciliation asks QUERY and catches it up (``LIENTHONG_NATIONAL_PAYMENT_QUERY_AFTER_SECONDS``,
20 in the sandbox); one in five has its callback posted late. Either way the one-stop system
receives ``payment.confirmed`` once, then ``payment.receipt`` (GET_BILL).
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import httpx

from hub.seam import SandboxInfo

PENDING = "3"  #: TrangThaiGD of a payment not paid yet


def callback_of(count: int) -> str:
    """How the platform answers the ``count``-th demo payment: a lost callback, a late one, or on time."""
    return "lose" if count % 3 == 2 else "late" if count % 5 == 4 else "send"


def pay_pending(platform: str, seen: dict[str, float], count: int, wait: float, now: float) -> int:
    """Pay the payments pending at ``platform`` for at least ``wait`` seconds; the new count."""
    state: Any = httpx.get(f"{platform}/_sim/state", timeout=10).json()
    for reference, transaction in state["transactions"].items():
        if transaction["state"] != PENDING:
            continue
        first = seen.setdefault(reference, now)
        if now - first < wait:
            continue
        httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": reference, "callback": callback_of(count),
                                                 "delay_ms": 8000}, timeout=20)
        count += 1
    return count


def demo(info: SandboxInfo, keys: Mapping[str, str], interval: float = 3.0, wait: float = 4.0,
         rounds: int = 5000) -> None:
    """Every ``interval`` seconds, pay what has been pending at the platform for ``wait`` seconds."""
    platform = info.ctx.settings.url.rstrip("/")
    seen: dict[str, float] = {}
    count = 0
    for _ in range(rounds):
        time.sleep(interval)
        try:
            count = pay_pending(platform, seen, count, wait, time.monotonic())
        except (httpx.HTTPError, ValueError, KeyError):  # demo traffic: a failed round must not stop the feed
            pass
