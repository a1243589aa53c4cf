"""RQ job functions. They run inside ``lienthong worker``, which installs the process's Deliverer."""

from __future__ import annotations

from hub.queue.deliverer import Deliverer

DELIVERER: Deliverer | None = None


def drain(destination: str) -> int:
    """RQ entry point: deliver what is due for ``destination``."""
    if DELIVERER is None:
        raise RuntimeError("drain job run outside 'lienthong worker' (no Deliverer installed)")
    return DELIVERER.drain(destination)
