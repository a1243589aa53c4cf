"""The operator's status codes and the canonical step each one is (table ``postal_status_codes``).

The table is data, editable by an admin (``PUT /v1/postal/status-codes/{code}``); the codes below
are seeded for a partner the first time its table is read. No public table of the NGSP feed's
``StatusCode`` was found (``../shared/DOMAIN.md``); these are VNPost's commercial codes: 0 draft,
1 created, 2-9 pickup stages (6 picked up, 7 at the post office, 9 pickup cancelled), 10-15
transport and delivery (14 delivered, 15 failed), 16-22 returns and cancellation.

A step is generic; the leg makes it concrete (:func:`step_type`): ``delivered`` of a pickup order
means the dossier reached the agency (``postal.handed_over``), of a result order that the citizen
got it (``postal.delivered``). A code the table does not know becomes ``postal.unrecognised``,
kept with the operator's own words and flagged, never dropped.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Literal, Mapping

from sqlalchemy import Connection, Engine, delete, insert, select, update

from hub.seam import reading, tables

codes_table = tables.postal_status_codes

#: Steps a code may be; each becomes the canonical type ``postal.<step>`` (``delivered`` by leg).
STEPS: tuple[str, ...] = ("booked", "collected", "in_transit", "delivered", "failed", "returned", "cancelled")
Leg = Literal["pickup", "result"]

#: code -> (step, meaning): VNPost's commercial codes.
SEED_CODES: dict[str, tuple[str, str]] = {
    "0": ("booked", "Đơn hàng nháp"),
    "1": ("booked", "Đã tạo đơn hàng"),
    "2": ("booked", "Đã tiếp nhận đơn hàng"),
    "3": ("booked", "Đã phân công bưu tá"),
    "4": ("booked", "Bưu tá đang đi lấy hàng"),
    "5": ("failed", "Lấy hàng không thành công"),
    "6": ("collected", "Đã nhận hàng (bưu tá đã lấy hàng)"),
    "7": ("in_transit", "Đã đến bưu cục"),
    "8": ("in_transit", "Đã đóng chuyến thư"),
    "9": ("cancelled", "Hủy lấy hàng"),
    "10": ("in_transit", "Đang vận chuyển"),
    "11": ("in_transit", "Đến bưu cục phát"),
    "12": ("in_transit", "Bưu tá đang phát"),
    "13": ("in_transit", "Chờ phát lại"),
    "14": ("delivered", "Phát thành công"),
    "15": ("failed", "Phát không thành công"),
    "16": ("returned", "Chờ chuyển hoàn"),
    "17": ("returned", "Đang chuyển hoàn"),
    "18": ("returned", "Chuyển hoàn thành công"),
    "19": ("failed", "Chuyển hoàn không thành công"),
    "20": ("cancelled", "Hủy đơn hàng"),
    "21": ("cancelled", "Khách hàng hủy"),
    "22": ("returned", "Đã trả lại người gửi"),
}


def step_type(step: str | None, leg: Leg | None) -> str:
    """The canonical type of ``step`` for an order of ``leg``: ``postal.unrecognised`` for no step."""
    if step is None or step not in STEPS:
        return "postal.unrecognised"
    if step == "delivered" and leg == "pickup":
        return "postal.handed_over"  # a pickup order is delivered to the agency
    return f"postal.{step}"


def seed(engine: Engine, partner: str) -> None:
    """Insert the known codes for ``partner`` when its table is empty (an admin's edits are kept)."""
    with reading(engine) as conn:  # a read first: a write transaction only the first time
        if conn.execute(select(codes_table.c.code).where(codes_table.c.partner == partner).limit(1)).first():
            return
    with engine.begin() as conn:
        if conn.execute(select(codes_table.c.code).where(codes_table.c.partner == partner).limit(1)).first():
            return
        now = datetime.now(timezone.utc)
        conn.execute(insert(codes_table), [
            {"partner": partner, "code": code, "step": step, "meaning": meaning, "seeded": 1, "updated_at": now,
             "updated_by": "seed"} for code, (step, meaning) in SEED_CODES.items()])


def table(engine: Engine, partner: str) -> dict[str, tuple[str, str]]:
    """code -> (step, meaning) of ``partner``'s table, seeded on first use."""
    seed(engine, partner)
    with reading(engine) as conn:
        return {r.code: (r.step, r.meaning) for r in conn.execute(
            select(codes_table.c.code, codes_table.c.step, codes_table.c.meaning)
            .where(codes_table.c.partner == partner))}


def rows(engine: Engine, partner: str) -> list[dict[str, Any]]:
    """The table as an admin sees it, by code (numeric codes in number order)."""
    seed(engine, partner)
    with reading(engine) as conn:
        # str keys: a table's column names are quoted_name, which orjson refuses as keys
        found = [{str(k): v for k, v in r._mapping.items()}
                 for r in conn.execute(select(codes_table).where(codes_table.c.partner == partner))]
    for row in found:
        row["seeded"], row["updated_at"] = bool(row["seeded"]), row["updated_at"].isoformat()
        del row["partner"]
    return sorted(found, key=lambda r: (not r["code"].isdigit(), int(r["code"]) if r["code"].isdigit() else 0, r["code"]))


def classify(known: Mapping[str, tuple[str, str]], code: str, leg: Leg | None) -> tuple[str, bool]:
    """(canonical type, recognised) of operator ``code`` on an order of ``leg``."""
    entry = known.get(code)
    if entry is None:
        return "postal.unrecognised", False
    return step_type(entry[0], leg), True


#: ``audit(conn, before, after)``: records the admin's change in the change's own transaction.
Audit = Callable[[Connection, "dict[str, Any] | None", "dict[str, Any] | None"], None]


def _row(conn: Connection, partner: str, code: str) -> dict[str, Any] | None:
    found = conn.execute(select(codes_table.c.code, codes_table.c.step, codes_table.c.meaning).where(
        codes_table.c.partner == partner, codes_table.c.code == code)).first()
    return {"code": found.code, "step": found.step, "meaning": found.meaning} if found is not None else None


def put(engine: Engine, partner: str, code: str, step: str, meaning: str, actor: str,
        audit: Audit) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Set what ``code`` means, and ``audit`` it, in one transaction (the table seeded first, so that an
    admin's first edit does not keep the known codes out); (before, after). ValueError for a step
    not in :data:`STEPS`."""
    if step not in STEPS:
        raise ValueError(f"step: one of {', '.join(STEPS)}")
    seed(engine, partner)
    after = {"code": code, "step": step, "meaning": meaning}
    values = {"step": step, "meaning": meaning, "seeded": 0, "updated_at": datetime.now(timezone.utc), "updated_by": actor}
    with engine.begin() as conn:
        before = _row(conn, partner, code)
        if before is None:
            conn.execute(insert(codes_table).values(partner=partner, code=code, **values))
        else:
            conn.execute(update(codes_table).where(codes_table.c.partner == partner, codes_table.c.code == code)
                         .values(**values))
        audit(conn, before, after)
    return before, after


def remove(engine: Engine, partner: str, code: str, audit: Audit) -> dict[str, Any] | None:
    """Delete ``code`` from the table and ``audit`` it, in one transaction; what it was, or None (nothing
    done, nothing audited) if the table has no such code. Later events with it are kept as unrecognised."""
    seed(engine, partner)
    with engine.begin() as conn:
        before = _row(conn, partner, code)
        if before is not None:
            conn.execute(delete(codes_table).where(codes_table.c.partner == partner, codes_table.c.code == code))
            audit(conn, before, None)
    return before
