"""A procedure as the hub keeps it: the portal's ``LayThuTuc`` record normalised, compared with the
version held before, and told to the one-stop system as a canonical ``catalogue.changed`` notice.

The normalised ``content`` is JSON: ``code, name, publisher, published, fields, channels[channel,
time_limit, description, fees[code, name, amount, kind]], components[code, name, form_name, url],
agencies, legal[number, title, date]``, every list in a fixed order, text NFC, so two readings of the
same procedure have the same digest whatever order the portal lists things in.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime
from typing import Any

import orjson

from connectors.national_dvc.catalogue.wire import ThuTuc

SOURCE = "national_dvc"
TYPE = "catalogue.changed"
CHANGE_KINDS = ("published", "withdrawn", "components", "fees", "details")
_NATIONAL = re.compile(r"^\d\.\d{6}")


def national_code(code: str) -> str:
    """The national code of a procedure code: ``2.000477.000.00.00.H56`` -> ``2.000477``."""
    found = _NATIONAL.match(code.strip())
    return found.group(0) if found else code.strip()


def _nfc(value: str | None) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", value).strip()
    return text or None


def _wire_date(value: str | None) -> str | None:
    """``dd/MM/yyyy`` (or ISO ``yyyy-MM-dd``) -> ISO date; None when unreadable."""
    if not value:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S"):
        try:
            return datetime.strptime(value.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _url(value: str | None) -> str | None:
    """A form's address, kept only when it is an http(s) URL (the canonical model requires one)."""
    text = _nfc(value)
    return text if text and re.match(r"^https?://[^\s]+$", text) else None


def normalise(item: ThuTuc) -> dict[str, Any]:
    """The procedure's content as the hub keeps and compares it."""
    channels: list[dict[str, Any]] = []
    for way in sorted(item.CACHTHUCTHUCHIEN, key=lambda c: c.KENH):
        if any(c["channel"] == int(way.KENH) for c in channels):
            continue  # a channel listed twice: the first entry holds
        first = way.THOIGIAN[0] if way.THOIGIAN else None
        limit = " ".join(p for p in (first.THOIGIANGIAIQUYET, first.DONVITINH) if p) if first else ""
        fees: dict[str, dict[str, Any]] = {}
        for entry in way.THOIGIAN:
            for fee in entry.PHILEPHI:
                code = _nfc(fee.MAPHILEPHI) or "?"
                fees.setdefault(code, {"code": code, "name": _nfc(fee.MOTA) or code, "amount": fee.SOTIEN, "kind": 1})
        channels.append({"channel": int(way.KENH), "time_limit": _nfc(limit), "description": _nfc(first.MOTA if first else None),
                         "fees": sorted(fees.values(), key=lambda f: f["code"])})
    components: dict[str, dict[str, Any]] = {}
    for group in item.THANHPHANHOSO:
        for paper in group.GIAYTO:
            code = _nfc(paper.MAGIAYTO) or "?"
            components.setdefault(code, {"code": code, "name": _nfc(paper.TENGIAYTO) or code,
                                         "form_name": _nfc(paper.TENMAUDON), "url": _url(paper.URL)})
    legal = [{"number": _nfc(d.SOVANBAN) or "", "title": _nfc(d.TENVANBAN), "date": _wire_date(d.NGAYBANHANH)}
             for d in item.CANCUPHAPLY]
    return {
        "code": national_code(item.MATTHC),
        "name": _nfc(item.TENTTHC) or item.MATTHC,
        "publisher": _nfc(item.MACOQUANCONGBO),
        "published": item.TRANGTHAI.strip() == "1",
        "fields": sorted({f.MALINHVUC.strip() for f in item.LINHVUCTHUCHIEN}),
        "channels": channels,
        "components": sorted(components.values(), key=lambda c: c["code"]),
        "agencies": sorted({a.MADONVI.strip() for a in item.COQUANTHUCHIEN}),
        "legal": sorted(legal, key=lambda d: (d["date"] or "", d["number"])),
    }


def digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def fees_by_channel(content: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    return {c["channel"]: c["fees"] for c in content.get("channels", [])}


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[list[str], list[int], dict[str, Any]]:
    """What changed from ``old`` (None: never seen) to ``new``: the change kinds, the channels whose
    fees changed and a detail (fees before and after per channel, components added and removed)."""
    if old is None:
        return (["published"] if new["published"] else []), [], {}
    changes: list[str] = []
    detail: dict[str, Any] = {}
    if new["published"] and not old["published"]:
        changes.append("published")
    if old["published"] and not new["published"]:
        changes.append("withdrawn")
    if old["components"] != new["components"]:
        changes.append("components")
        before, after = {c["code"] for c in old["components"]}, {c["code"] for c in new["components"]}
        detail["components"] = {"added": sorted(after - before), "removed": sorted(before - after)}
    was, now = fees_by_channel(old), fees_by_channel(new)
    fee_channels = sorted(ch for ch in set(was) | set(now) if was.get(ch, []) != now.get(ch, []))
    if fee_channels:
        changes.append("fees")
        detail["fees"] = {str(ch): {"before": [[f["code"], f["amount"]] for f in was.get(ch, [])],
                                    "after": [[f["code"], f["amount"]] for f in now.get(ch, [])]} for ch in fee_channels}
    keys = ("name", "publisher", "fields", "agencies")  # the legal basis: told as the decision, not a change
    terms = [(c["channel"], c["time_limit"], c["description"]) for c in old["channels"]]
    if any(old.get(k) != new.get(k) for k in keys) or terms != [(c["channel"], c["time_limit"], c["description"])
                                                                 for c in new["channels"]]:
        changes.append("details")
    return changes, fee_channels, detail


def decision_of(content: dict[str, Any]) -> tuple[str | None, date | None]:
    """The decision a version cites: the latest-dated document of its legal basis (CANCUPHAPLY)."""
    dated = [d for d in content.get("legal", []) if d.get("date")]
    if not dated:
        return None, None
    last = max(dated, key=lambda d: (d["date"], d["number"]))
    text = " ".join(p for p in (last["number"], last.get("title")) if p)[:2000] or None
    return text, date.fromisoformat(last["date"])


def message_id(code: str, version: int) -> str:
    return f"catalogue-{code}-v{version}"


def notice(content: dict[str, Any], version: int, changes: list[str], fee_channels: list[int], seen_at: datetime) -> dict[str, Any]:
    """The canonical ``catalogue.changed`` message of a procedure's version."""
    decision, decided_on = decision_of(content)
    channels = [{"channel": c["channel"], "time_limit": c["time_limit"], "description": c["description"],
                 "fees": [{"code": f["code"], "name": f["name"], "amount": f["amount"], "kind": f["kind"]} for f in c["fees"]]}
                for c in content["channels"]]
    components = [{k: v for k, v in c.items() if v is not None} for c in content["components"]]
    payload: dict[str, Any] = {
        "procedure_code": content["code"], "procedure_name": content["name"][:1000], "publisher": content["publisher"],
        "published": content["published"], "changes": changes, "fee_channels": fee_channels,
        "field_codes": content["fields"][:50], "channels": channels, "components": components[:200],
        "agencies": content["agencies"][:200], "decision": decision,
        "decided_on": decided_on.isoformat() if decided_on else None, "seen_at": seen_at.isoformat(),
    }
    return {"message_id": message_id(content["code"], version), "type": TYPE, "source": SOURCE,
            "occurred_at": seen_at.isoformat(), "subject": f"procedure:{content['code']}",
            "payload": {k: v for k, v in payload.items() if v is not None}}
