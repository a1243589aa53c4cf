"""An access record as the hash chain sees it: one dict per row, canonicalised with RFC 8785.

``record_dict`` is the one representation used by the sealer, ``audit verify``, exported bundles
and the offline verifier, so that all of them hash exactly the same bytes:

- every column of ``access_records`` except ``chain_hash`` (``id`` and ``seq`` included, so a row
  moved to another place in the chain is detected); a column added later
  (``audit.verify_bundle.OPTIONAL_FIELDS``: ``caller_request_id``) only when it is not null, so records
  sealed before it existed hash as they did;
- ``at`` as ISO-8601 UTC with microseconds and a ``Z`` (``2026-11-23T08:15:00.123456Z``);
- integers as integers, absent values as ``null``; no floats anywhere (RFC 8785 would need
  ECMAScript number formatting for them; latencies are integer microseconds);
- except the columns added after records were first chained (:data:`LATER`): each is hashed only
  when it holds a value, and left out of the dict when null, so a record chained before the column
  existed hashes exactly as it did (and a value written into it later breaks its hash).

The chain: ``h_0 = GENESIS`` and ``h_seq = SHA-256(bytes(h_{seq-1}) || canonical(record_seq))``, hex.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone
from typing import Any, Mapping

import rfc8785
from sqlalchemy import RowMapping

from audit.verify_bundle import OPTIONAL_FIELDS
from hub.store.tables import access_records

GENESIS = "0" * 64
CHAINED = tuple(str(c.name) for c in access_records.columns if c.name != "chain_hash")
#: A look-up's officer as the one-stop system reports them (migration 0009).
OFFICER_COLUMNS = ("officer_ip", "officer_device", "officer_os", "officer_browser", "officer_mac")
#: Chained columns added after records were first chained (the officer's, the caller's request id):
#: hashed only when not null. One list with the standalone verifier's.
LATER = frozenset(OPTIONAL_FIELDS)


def iso(at: datetime) -> str:
    """``at`` as the chain writes it: UTC, microseconds, ``Z``."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_dict(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """The chained fields of an ``access_records`` row (a mapping, e.g. ``row._mapping``)."""
    out: dict[str, Any] = {}
    for name in CHAINED:
        if name in LATER:
            value = row.get(name)
            if value is None:
                continue
        else:
            value = row[name]
        out[name] = iso(value) if isinstance(value, datetime) else value
    return out


def canonical(record: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of ``record``."""
    return rfc8785.dumps(dict(record))


def link(previous: str, record: Mapping[str, Any]) -> str:
    """The chain hash of ``record`` placed after the record whose chain hash is ``previous``."""
    return hashlib.sha256(bytes.fromhex(previous) + canonical(record)).hexdigest()


def cli_record(actor: str, action: str, target: str) -> dict[str, Any]:
    """An ``access_records`` row for an admin action made with the ``lienthong`` CLI."""
    return {
        "at": datetime.now(timezone.utc), "request_id": os.urandom(16).hex(), "caller_request_id": None,
        "kind": "cli", "outcome": "ok",
        "partner_code": None, "key_id": None, "account": actor[:60], "client_ip": "", "forwarded_for": "",
        "user_agent": "lienthong-cli", "device": "", "os": "", "browser": "", "method": "CLI", "route": action[:200],
        "path": "", "status": 0, "latency_us": 0, "request_bytes": 0, "response_bytes": 0, "message_ids": "",
        "summary": f"{action} {target}"[:300], "citizen_index": None, "content": None,
        **dict.fromkeys(OFFICER_COLUMNS),
    }
