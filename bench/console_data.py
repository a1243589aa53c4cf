"""A province's year of traffic in PostgreSQL, for the console bench: a million messages with their
deliveries and attempts, and five million access records, written by the database itself.

``INSERT ... SELECT FROM generate_series`` writes a million rows in seconds, where the hub's own
writers would take hours; the rows have the shapes and spreads the console's queries meet: twelve
partners, seven message types, dossiers with several messages each, one delivery in a thousand
dead, look-ups with a blind-indexed citizen, people's requests, refusals, and a sealed hash chain
(``seq`` set; the hashes are not real, which the pages never check: only "verify now" does).
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, text

SOURCES = ["motcua", "national_dvc", "national_payment", "postal_vnpost", "population_db", "ops"]
TYPES = ["dossier.submitted", "status.changed", "fee.notice", "payment.completed", "result.issued",
         "postal.collected", "postal.delivered"]
DESTINATIONS = ["national_dvc", "motcua", "postal_vnpost", "national_payment"]
PARTNERS = ["motcua", "national_dvc", "national_payment", "postal_vnpost", "population_db", "tiemchung",
            "ops", "bo_tu_phap", "bo_tnmt", "vneid", "so_tp", "so_tnmt"]
ROUTES = ["/v1/messages", "/v1/citizens/lookup", "/v1/dossiers/{dossier_code}/trace", "/v1/messages/{message_id}",
          "/v1/flows", "/console/overview", "/v1/audit/records"]


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def seed(engine: Engine, messages: int = 1_000_000, records: int = 5_000_000, days: int = 365,
         say: "callable[[str], None]" = print) -> dict[str, float]:  # type: ignore[valid-type]
    """Fill an empty, migrated PostgreSQL hub database; seconds spent per table."""
    spent: dict[str, float] = {}
    dossiers = max(1, messages // 4)
    statements = {
        "messages": f"""
            INSERT INTO messages (source, message_id, type, dossier_code, occurred_at, received_at, body_sha256, body)
            SELECT ({_array(SOURCES)})[1 + g % {len(SOURCES)}], 'm-' || g, ({_array(TYPES)})[1 + (g / 3) % {len(TYPES)}],
                   '000.00.00.H49-' || to_char(DATE '2026-01-01' + (g % {dossiers}) % 330, 'YYMMDD') || '-' ||
                       lpad(((g % {dossiers}) % 10000)::text, 4, '0'),
                   now() - make_interval(secs => ({messages} - g) * {days * 86400.0 / messages}),
                   now() - make_interval(secs => ({messages} - g) * {days * 86400.0 / messages}),
                   md5(g::text) || md5((g + 1)::text),
                   '{{"message_id": "m-' || g || '", "type": "status.changed", "payload": {{"status": ' || (1 + g % 10)
                       || ', "content": "Chuyển xử lý hồ sơ bước ' || g % 7 || '"}}}}'
            FROM generate_series(1, {messages}) AS g""",
        "deliveries": f"""
            INSERT INTO deliveries (message_pk, destination, order_key, state, attempts, next_attempt_at, last_error,
                                    created_at, updated_at, delivered_at)
            SELECT m.id, ({_array(DESTINATIONS)})[1 + m.id % {len(DESTINATIONS)}], m.dossier_code,
                   CASE WHEN m.id % 1000 = 7 THEN 'dead' WHEN m.id > {messages} - 50 THEN 'pending'
                        WHEN m.id % 997 = 3 THEN 'retrying' ELSE 'delivered' END,
                   CASE WHEN m.id % 1000 = 7 THEN 8 ELSE 1 END,
                   m.received_at, CASE WHEN m.id % 1000 = 7 THEN 'permanent: HTTP 422 MaLoi 12 ' || m.id % 5 ELSE NULL END,
                   m.received_at, m.received_at + interval '1 second',
                   CASE WHEN m.id % 1000 = 7 OR m.id % 997 = 3 THEN NULL ELSE m.received_at + interval '1 second' END
            FROM messages m""",
        "delivery_attempts": """
            INSERT INTO delivery_attempts (delivery_id, attempt, at, outcome, detail, duration_ms)
            SELECT d.id, 1, d.updated_at, CASE WHEN d.state = 'delivered' THEN 'delivered' ELSE 'failed' END,
                   COALESCE(d.last_error, 'HTTP 200'), 20 + d.id % 80
            FROM deliveries d""",
        "access_records": f"""
            INSERT INTO access_records (at, request_id, kind, outcome, partner_code, key_id, account, client_ip, user_agent,
                                        method, route, path, status, latency_us, message_ids, summary, citizen_index,
                                        content, seq, chain_hash)
            SELECT now() - make_interval(secs => ({records} - g) * {days * 86400.0 / records}),
                   md5(g::text)::uuid::text,
                   CASE WHEN g % 10 = 3 THEN 'lookup' ELSE 'request' END,
                   CASE WHEN g % 53 = 0 THEN 'no_credential' WHEN g % 89 = 0 THEN 'rate_limited' ELSE 'ok' END,
                   CASE WHEN g % 53 = 0 THEN NULL ELSE ({_array(PARTNERS)})[1 + g % {len(PARTNERS)}] END,
                   CASE WHEN g % 53 = 0 THEN NULL ELSE 1 + g % 40 END,
                   CASE WHEN g % 10 = 3 THEN 'CB' || lpad((g % 500)::text, 4, '0')
                        WHEN g % 97 = 0 THEN 'vanhanh' ELSE NULL END,
                   '10.' || (g % 7) || '.' || (g % 250) || '.' || (g % 200 + 1),
                   'lienthong-partner/1.0', CASE WHEN g % 3 = 0 THEN 'GET' ELSE 'POST' END,
                   ({_array(ROUTES)})[1 + g % {len(ROUTES)}], '/v1/messages',
                   CASE WHEN g % 53 = 0 THEN 401 WHEN g % 89 = 0 THEN 429 ELSE 200 END,
                   800 + g % 5000, CASE WHEN g % 10 = 1 THEN 'm-' || g ELSE '' END, '',
                   CASE WHEN g % 10 = 3 THEN md5('citizen-' || (g % 200000)) || md5('x' || (g % 200000)) ELSE NULL END,
                   NULL, g, md5(g::text) || md5(('h' || g)::text)
            FROM generate_series(1, {records}) AS g""",
    }
    with engine.begin() as conn:
        for table, sql in statements.items():
            started = time.perf_counter()
            conn.execute(text(sql))
            spent[table] = time.perf_counter() - started
            say(f"  seeded {table} in {spent[table]:.0f} s")
        conn.execute(text("SELECT setval(pg_get_serial_sequence('access_records', 'id'), (SELECT max(id) FROM access_records))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        started = time.perf_counter()
        conn.execute(text("VACUUM ANALYZE"))
        spent["analyze"] = time.perf_counter() - started
    return spent
