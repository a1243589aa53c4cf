"""A province's year of traffic in PostgreSQL, for the console bench (bench/console_pages.py): a
million messages with their deliveries and attempts, five million access records, and the small
tables the admin pages list, in a migrated, empty hub database.

The big tables are written by the database itself (``INSERT ... SELECT FROM generate_series``: a
million rows in seconds, where the hub's own writers would take hours); the small ones by the hub's
own functions (partners, keys, accounts, rate limits, vault credentials), so they are exactly what
an admin would have made. The rows have the shapes and spreads the console's queries meet:

- messages: dossiers of four messages two days apart (submitted, a status change, then a fee,
  payment, postal step, result or another status change), from the one-stop system, the payment
  platform and the post, over ``days`` days, in id order as the hub would have numbered them;
- deliveries routed as ``hub/routes.yaml`` does (the one-stop system's messages to the national
  portal, a pickup dossier also to the post, the others back to the one-stop system); one in a
  thousand dead (refused for good, or retries exhausted after eight attempts), a few retrying,
  pending and sending at the recent end only; each attempt a ``delivery_attempts`` row with the
  outcome the workers write (``ok``, ``transient``, ``permanent``);
- access records of every kind the hub writes: intake, reads, traces, metrics scrapes, people's
  console pages, refusals (no credential, unknown paths, rate limits, validation), look-ups with the
  officer's context, a blind index computed the hub's way (:meth:`CitizenData.blind_index` under the
  bench's index key) and a real sealed content, and the rare kinds an auditor looks for (content
  opened, command line, message read); every one sealed (``seq``, a ``chain_hash`` that is not a
  real chain: the pages never check it, only "verify now" does) with a signed-looking checkpoint
  every 100,000;
- alerts of each rule over the year (a few open), officers of two one-stop systems (a few disabled
  or revoked, some unused for months).

:func:`seed` returns what the bench needs to ask realistic questions (the citizen IDs looked up,
the key ids, the officers and people).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import Engine, select, text

from hub.access.accounts import add_account
from hub.access.keys import issue_key, revoke_key
from hub.access.policies import set_policy
from hub.alerts.rules import RULES
from hub.audit.crypto import CitizenData
from hub.config import Settings
from hub.partners import add_partner
from hub.store.tables import api_keys, partners
from hub.vault.names import well_known
from hub.vault.store import Vault

#: code, name, kind, the addresses its servers call from
PARTNERS = [
    ("motcua", "Hệ thống thông tin giải quyết TTHC tỉnh", "one_stop", ["10.10.1.11", "10.10.1.12"]),
    ("national_dvc", "Cổng Dịch vụ công quốc gia", "national_portal", ["203.162.10.21", "203.162.10.22"]),
    ("national_payment", "Nền tảng thanh toán quốc gia", "payment_platform", ["203.162.20.31"]),
    ("postal_vnpost", "Bưu điện Việt Nam (VNPost)", "postal", ["14.160.30.41", "14.160.30.42"]),
    ("population_db", "CSDL quốc gia về dân cư", "population_db", ["10.50.0.51"]),
    ("ops", "Vận hành trung tâm", "operator", ["10.10.9.5"]),
    ("so_tp", "Sở Tư pháp", "one_stop", ["10.10.3.61"]),
    ("so_tnmt", "Sở Tài nguyên và Môi trường", "ministry_app", ["10.10.4.71"]),
    ("bo_tu_phap", "Bộ Tư pháp", "ministry_app", ["203.162.40.81"]),
    ("bo_tnmt", "Bộ Tài nguyên và Môi trường", "ministry_app", ["203.162.50.91"]),
    ("vneid", "Ứng dụng VNeID", "ministry_app", ["203.162.60.11"]),
    ("so_yte", "Hệ thống của Sở Y tế", "ministry_app", ["10.10.5.21"]),
]
#: Who sends messages, with weights: most of the traffic is the one-stop system's.
INTAKE = {"motcua": 70, "postal_vnpost": 10, "national_payment": 6, "so_tp": 5, "bo_tu_phap": 4, "so_tnmt": 3,
          "so_yte": 2}
READERS = {"national_dvc": 5, "motcua": 3, "vneid": 1, "bo_tnmt": 1}
#: People: the bench's three (signed in through the form) and a province's others.
PEOPLE = [("vanhanh", "operator"), ("kiemtra", "auditor"), ("quantri", "admin"),
          ("vanhanh2", "operator"), ("vanhanh3", "operator"), ("vanhanh.dem", "operator"),
          ("kiemtra2", "auditor"), ("thanhtra", "auditor"), ("quantri2", "admin")]
PASSWORD = "correct horse battery"
AGENCIES = ["000.00.00.H49", "000.00.01.H49", "000.00.02.H49", "000.00.13.H49", "000.00.21.H49"]
DEAD_REASONS = [
    'permanent: HTTP 422 {"MaLoi": "12", "MoTa": "Mã hồ sơ không đúng định dạng"}',
    "retries exhausted: HTTP 503 Service Unavailable",
    "retries exhausted: timeout after 10 s",
    'permanent: HTTP 400 {"MaLoi": "07", "MoTa": "Trạng thái hồ sơ không hợp lệ"}',
    "permanent: the order does not fit VNPost's format: receiver_phone",
]
BROWSER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/120.0.0.0 Safari/537.36")
CONSOLE_ROUTES = ["/console/overview", "/console/overview/live", "/console/dead-letters", "/console/messages",
                  "/console/trace", "/console/audit/records", "/console/audit/alerts", "/console/admin/partners"]
OFFICERS_PER_PARTNER = {"motcua": 2700, "so_tp": 300}
CHECKPOINT_EVERY = 100_000


def citizen_id(i: int) -> str:
    """The ``i``-th citizen of the bench: a 12-digit personal ID (province 042, century and sex, year, serial)."""
    return f"042{i % 4}{(55 + i % 50) % 100:02d}{i:06d}"


@dataclass
class Seeded:
    """What was written, for the bench's questions."""

    messages: int
    records: int
    now: datetime  # the newest moment of the data (UTC)
    citizens: list[str]  # the citizen IDs the look-ups name (blind-indexed)
    key_ids: dict[str, list[int]]  # working keys per partner
    officers: list[str]  # officer codes of motcua that look citizens up
    people: list[str]
    spent: dict[str, float] = field(default_factory=dict)


def _weighted(weights: dict[str, int], key_ids: dict[str, list[int]]) -> tuple[list[str], list[int], list[str]]:
    """Parallel lists (partner, key id, address), each partner ``weight`` times, cycling its keys and addresses."""
    ips = {code: addresses for code, _n, _k, addresses in PARTNERS}
    out: tuple[list[str], list[int], list[str]] = ([], [], [])
    for code, weight in weights.items():
        for j in range(weight):
            out[0].append(code)
            out[1].append(key_ids[code][j % len(key_ids[code])])
            out[2].append(ips[code][j % len(ips[code])])
    return out


def _small_tables(engine: Engine, settings: Settings) -> dict[str, list[int]]:
    """Partners, their keys (one revoked, one expiring), accounts, rate limits and credentials, by
    the hub's own functions (each an admin action, as an admin would have made them)."""
    pepper = settings.effective_key_pepper
    for code, name, kind, addresses in PARTNERS:
        add_partner(engine, code, name, kind, AGENCIES[0] if kind == "one_stop" else None,
                    allowed_ips=[f"{a}/32" for a in addresses], actor="bench")
        labels = ["chính", "dự phòng"] if code in ("motcua", "postal_vnpost", "national_dvc") else ["chính"]
        for label in labels:
            issue_key(engine, code, pepper, label, actor="bench")
    issue_key(engine, "motcua", pepper, "thử nghiệm", expires_at=datetime.now(timezone.utc) + timedelta(days=20),
              actor="bench")
    with engine.begin() as conn:
        rows = conn.execute(select(partners.c.code, api_keys.c.id).join(partners, partners.c.id == api_keys.c.partner_id)
                            .order_by(api_keys.c.id)).all()
    key_ids: dict[str, list[int]] = {}
    for code, key_id in rows:
        key_ids.setdefault(code, []).append(key_id)
    revoke_key(engine, issue_key_id(engine, settings, "so_yte"), actor="bench")  # an old key, revoked
    for username, role in PEOPLE:
        add_account(engine, username, username.replace(".", " ").title(), role, PASSWORD, actor="bench")
    for name, quota, window in (("per-second", 100_000, 1), ("daily", 100_000_000, 86_400)):
        set_policy(engine, counter="key", name=name, quota=quota, window_seconds=window, actor="bench")
    for code in ("motcua", "postal_vnpost", "national_payment"):
        set_policy(engine, counter="partner", partner_code=code, name="per-minute", quota=20_000, window_seconds=60,
                   actor="bench")
    vault = Vault(engine, settings)
    for name in list(well_known())[:4]:
        vault.put(name, "bench-secret-value", actor="bench")
    return key_ids


def issue_key_id(engine: Engine, settings: Settings, code: str) -> int:
    """Issue one more key to ``code``; its id."""
    issue_key(engine, code, settings.effective_key_pepper, "cũ", actor="bench")
    with engine.begin() as conn:
        found: int = conn.execute(select(api_keys.c.id).order_by(api_keys.c.id.desc()).limit(1)).scalar_one()
    return found


def _messages_sql(messages: int, days: int) -> tuple[str, dict[str, Any]]:
    """Messages: dossiers of four, two days apart; types and sources as the province's partners send them."""
    step = days * 86400.0 / messages
    spacing = max(1, min(9999, int(2 * 86400 / step)))  # messages between two of a dossier's (two days)
    sql = f"""
        WITH s AS (
            SELECT g, (g - 1) / {4 * spacing} AS block, ((g - 1) % {4 * spacing}) / {spacing} AS k,
                   (g - 1) % {spacing} AS r, :t0 - make_interval(secs => ({messages} - g) * {step}) AS at
            FROM generate_series(1, {messages}) AS g
        ), d AS (
            SELECT s.*, (block * {spacing} + r) AS dossier,
                   (CAST(:agencies AS text[]))[1 + r % 5] || '-' ||
                   to_char(:t0 - make_interval(secs => ({messages} - block * {4 * spacing} - 1) * {step}), 'YYMMDD')
                   || '-' || lpad((r % 10000)::text, 4, '0') AS code,
                   CASE WHEN k = 0 THEN 'dossier.submitted'
                        WHEN k = 1 THEN 'status.changed'
                        WHEN k = 2 AND r % 10 < 2 THEN 'fee.notice'
                        WHEN k = 2 AND r % 10 = 2 THEN 'payment.confirmed'
                        WHEN k = 2 AND r % 10 = 3 THEN 'postal.booked'
                        WHEN k = 3 AND r % 10 = 3 THEN 'postal.collected'
                        WHEN k = 3 AND r % 3 = 0 THEN 'result.issued'
                        WHEN k = 3 AND r % 997 = 5 THEN 'postal.returned'
                        ELSE 'status.changed' END AS type
            FROM s
        )
        INSERT INTO messages (source, message_id, type, dossier_code, occurred_at, received_at, body_sha256, body)
        SELECT CASE WHEN type LIKE 'postal.%' THEN 'postal_vnpost' WHEN type LIKE 'payment.%' THEN 'national_payment'
                    ELSE 'motcua' END,
               md5('m' || g)::uuid::text, type, code, at - make_interval(secs => 5 + g % 300), at,
               encode(sha256(convert_to(g::text, 'UTF8')), 'hex'),
               json_build_object(
                   'message_id', md5('m' || g)::uuid::text, 'type', type, 'dossier_code', code,
                   'occurred_at', to_char(at - make_interval(secs => 5 + g % 300), 'YYYY-MM-DD"T"HH24\\:MI\\:SS"+00\\:00"'),
                   'payload', json_build_object(
                       'agency_id', split_part(code, '-', 1), 'status', CASE WHEN k = 0 THEN 1 ELSE 2 + g % 9 END,
                       'channel', CASE WHEN r % 10 = 3 THEN 3 ELSE 2 END, 'procedure_code', '2.00' || (1000 + r % 400),
                       'handler_name', (CAST(:names AS text[]))[1 + g % 8], 'department', 'Phòng Tư pháp',
                       'content', 'Chuyển xử lý hồ sơ bước ' || (k + 1),
                       'leg', CASE WHEN type LIKE 'postal.%' THEN 'pickup' END,
                       'order_number', CASE WHEN type LIKE 'postal.%' THEN 'EB' || lpad(dossier::text, 9, '0') || 'VN' END))::text
        FROM d ORDER BY g"""
    return sql, {"agencies": AGENCIES, "names": ["Trần Văn Bình", "Nguyễn Thị Hằng", "Lê Minh Tuấn", "Phạm Thu Hà",
                                                 "Hoàng Văn Nam", "Võ Thị Lan", "Đặng Quốc Huy", "Bùi Thị Mai"]}


def _deliveries_sql(messages: int) -> tuple[str, dict[str, Any]]:
    """One delivery per message as the routing table sends it (and the pickup dossiers to the post too)."""
    sql = f"""
        INSERT INTO deliveries (message_pk, destination, order_key, state, attempts, next_attempt_at, lease_until,
                                last_error, created_at, updated_at, delivered_at)
        SELECT id, destination, dossier_code, state,
               CASE state WHEN 'pending' THEN 0 WHEN 'sending' THEN 1 WHEN 'retrying' THEN 1 + id % 3
                          WHEN 'dead' THEN CASE WHEN reason LIKE 'permanent%' THEN 1 ELSE 8 END
                          ELSE CASE WHEN id % 50 = 9 THEN 2 ELSE 1 END END,
               CASE state WHEN 'retrying' THEN received_at + interval '20 minutes' WHEN 'pending' THEN received_at
                          WHEN 'sending' THEN received_at ELSE done END,
               CASE WHEN state = 'sending' THEN received_at + interval '30 seconds' END,
               CASE WHEN state = 'dead' THEN reason WHEN state = 'retrying' THEN 'transient: HTTP 503 Service Unavailable' END,
               received_at, CASE WHEN state IN ('pending', 'sending') THEN received_at ELSE done END,
               CASE WHEN state = 'delivered' THEN done END
        FROM (
            SELECT m.id, m.dossier_code, m.received_at, dest.destination,
                   CASE WHEN m.id % 1000 = 7 AND dest.n = 1 THEN 'dead'
                        WHEN m.id > {messages} - 12 THEN 'pending'
                        WHEN m.id > {messages} - 15 THEN 'sending'
                        WHEN m.id > {messages} - 3000 AND m.id % 50 = 1 THEN 'retrying'
                        ELSE 'delivered' END AS state,
                   (CAST(:reasons AS text[]))[1 + (m.id / 1000) % 5] AS reason,
                   m.received_at + CASE WHEN m.id % 1000 = 7 AND (m.id / 1000) % 5 IN (1, 2) THEN interval '2 hours'
                                        WHEN m.id % 50 = 9 THEN interval '40 seconds'
                                        ELSE make_interval(secs => 0.2 + (m.id % 30) / 10.0) END AS done
            FROM messages m
            CROSS JOIN LATERAL (
                SELECT CASE WHEN m.source = 'motcua' THEN 'national_dvc' ELSE 'motcua' END AS destination, 1 AS n
                UNION ALL
                SELECT 'postal_vnpost', 2 WHERE m.type = 'dossier.submitted' AND m.body::json->'payload'->>'channel' = '3'
            ) AS dest
            ORDER BY m.id, dest.n
        ) AS x"""
    return sql, {"reasons": DEAD_REASONS}


ATTEMPTS_SQL = """
    INSERT INTO delivery_attempts (delivery_id, attempt, at, outcome, detail, duration_ms)
    SELECT d.id, a, d.created_at + (d.updated_at - d.created_at) * a / d.attempts,
           CASE WHEN d.state = 'delivered' AND a = d.attempts THEN 'ok'
                WHEN d.state = 'dead' AND d.last_error LIKE 'permanent%' THEN 'permanent'
                ELSE 'transient' END,
           CASE WHEN d.state = 'delivered' AND a = d.attempts THEN 'HTTP 200'
                WHEN d.state = 'dead' THEN regexp_replace(d.last_error, '^[a-z ]+: ', '')
                ELSE 'HTTP 503 Service Unavailable' END,
           40 + d.id % 400
    FROM deliveries d CROSS JOIN LATERAL generate_series(1, d.attempts) AS a
    WHERE d.state <> 'sending'
    ORDER BY d.id, a"""


def _records_sql(records: int, messages: int, days: int, lo: int, hi: int) -> str:
    """Access records ``lo``..``hi`` of ``records``: ``c`` (g mod 100, or a rare kind) picks the class."""
    step = days * 86400.0 / records

    def pick(name: str, n: int, cast: str = "text") -> str:
        return f"(CAST(:{name} AS {cast}[]))[1 + (g / 100) % {n}]"

    return f"""
        WITH s AS (
            SELECT g, CASE WHEN g % 100003 = 17 THEN 100 WHEN g % 50021 = 23 THEN 101 WHEN g % 30011 = 29 THEN 102
                           ELSE g % 100 END AS c,
                   :t0 - make_interval(secs => ({records} - g) * {step}) AS at,
                   md5('m' || (1 + g * {messages}::bigint / {records}))::uuid::text AS mid
            FROM generate_series({lo}, {hi}) AS g
        )
        INSERT INTO access_records (at, request_id, caller_request_id, kind, outcome, partner_code, key_id, account,
                                    client_ip, forwarded_for, user_agent, device, os, browser, method, route, path,
                                    status, latency_us, request_bytes, response_bytes, message_ids, summary,
                                    citizen_index, content, officer_ip, officer_device, officer_os, officer_browser,
                                    officer_mac, seq, chain_hash)
        SELECT at, md5('r' || g),
               CASE WHEN c < 55 AND g % 2 = 0 THEN 'mc-' || md5('c' || g) WHEN c BETWEEN 55 AND 64 THEN 'lk-' || g END,
               CASE WHEN c = 100 THEN 'decrypt' WHEN c = 101 THEN 'cli' WHEN c = 102 THEN 'message_read'
                    WHEN c BETWEEN 55 AND 64 THEN 'lookup' ELSE 'request' END,
               CASE WHEN c = 95 AND (g / 100) % 2 = 0 THEN 'no_credential' WHEN c = 95 THEN 'unknown_key'
                    WHEN c = 96 THEN 'http-404' WHEN c = 97 THEN 'rate_limited'
                    WHEN c = 98 THEN 'validation' WHEN c = 64 AND g % 7 = 0 THEN 'officer-not-allowed' ELSE 'ok' END,
               CASE WHEN c < 55 OR c IN (85, 86, 87, 88, 89, 97, 98) THEN {pick('in_p', 100)}
                    WHEN c BETWEEN 55 AND 64 THEN 'motcua'
                    WHEN c BETWEEN 65 AND 79 THEN {pick('rd_p', 10)}
                    WHEN c BETWEEN 80 AND 84 THEN 'ops' END,
               CASE WHEN c < 55 OR c IN (85, 86, 87, 88, 89, 97, 98) THEN {pick('in_k', 100, 'bigint')}
                    WHEN c BETWEEN 55 AND 64 THEN {pick('lk_k', 3, 'bigint')}
                    WHEN c BETWEEN 65 AND 79 THEN {pick('rd_k', 10, 'bigint')}
                    WHEN c BETWEEN 80 AND 84 THEN {pick('ops_k', 1, 'bigint')} END,
               CASE WHEN c BETWEEN 55 AND 64 THEN (CAST(:officers AS text[]))[(1 + abs(hashint4(g + 1)::bigint) % :n_officers)::int]
                    WHEN c BETWEEN 90 AND 94 OR c IN (100, 102) THEN {pick('people', 9)}
                    WHEN c = 101 THEN 'cli\\:root' END,
               CASE WHEN c < 55 OR c IN (85, 86, 87, 88, 89, 97, 98) THEN {pick('in_ip', 100)}
                    WHEN c BETWEEN 55 AND 64 THEN '10.10.1.11'
                    WHEN c BETWEEN 65 AND 79 THEN {pick('rd_ip', 10)}
                    WHEN c BETWEEN 80 AND 84 THEN '10.10.9.5'
                    WHEN c BETWEEN 90 AND 94 OR c IN (100, 102) THEN '10.20.' || (g % 6) || '.' || (10 + (g / 100) % 40)
                    WHEN c = 101 THEN ''
                    WHEN c = 99 THEN '10.0.0.5'
                    ELSE '113.' || (160 + g % 30) || '.' || (g / 7 % 250) || '.' || (1 + g % 253) END,
               '',
               CASE WHEN c BETWEEN 90 AND 94 OR c IN (100, 102) THEN '{BROWSER_AGENT}'
                    WHEN c = 101 THEN 'lienthong-cli' WHEN c IN (95, 96) THEN 'Mozilla/5.0 zgrab/0.x'
                    WHEN c = 99 THEN 'kube-probe/1.29' ELSE 'python-httpx/0.27.0' END,
               CASE WHEN c BETWEEN 90 AND 94 OR c IN (100, 102) THEN 'Other' ELSE '' END,
               CASE WHEN c BETWEEN 90 AND 94 OR c IN (100, 102) THEN 'Windows 10' ELSE '' END,
               CASE WHEN c BETWEEN 90 AND 94 OR c IN (100, 102) THEN 'Chrome 120.0'
                    WHEN c IN (101, 95, 96, 99) THEN '' ELSE 'Python Requests 0.27' END,
               CASE WHEN c < 55 OR c BETWEEN 55 AND 64 OR c IN (85, 86, 87, 88, 89, 95, 97, 98, 100) THEN 'POST'
                    WHEN c = 101 THEN 'CLI' ELSE 'GET' END,
               CASE WHEN c < 55 OR c IN (95, 97, 98) THEN '/v1/messages'
                    WHEN c BETWEEN 55 AND 64 THEN '/v1/citizens/lookup'
                    WHEN c BETWEEN 65 AND 74 THEN '/v1/messages/{{message_id}}'
                    WHEN c BETWEEN 75 AND 79 THEN '/v1/dossiers/{{dossier_code}}/trace'
                    WHEN c BETWEEN 80 AND 84 THEN '/metrics'
                    WHEN c BETWEEN 85 AND 89 THEN '/v1/messages\\:batch'
                    WHEN c BETWEEN 90 AND 93 THEN (CAST(:console AS text[]))[1 + (g / 100) % 8]
                    WHEN c = 94 THEN '/v1/audit/records'
                    WHEN c = 99 THEN '/healthz'
                    WHEN c = 100 THEN '/console/audit/records/{{record_id}}/content'
                    WHEN c = 101 THEN 'key.revoke'
                    WHEN c = 102 THEN '/v1/audit/messages\\:read'
                    ELSE '' END,
               CASE WHEN c < 55 OR c IN (95, 97, 98) THEN '/v1/messages'
                    WHEN c BETWEEN 55 AND 64 THEN '/v1/citizens/lookup'
                    WHEN c BETWEEN 65 AND 74 THEN '/v1/messages/' || mid
                    WHEN c BETWEEN 75 AND 79 THEN '/v1/dossiers/000.00.00.H49-' || to_char(at, 'YYMMDD') || '-'
                                                  || lpad((g % 5000)::text, 4, '0') || '/trace'
                    WHEN c BETWEEN 80 AND 84 THEN '/metrics'
                    WHEN c BETWEEN 85 AND 89 THEN '/v1/messages\\:batch'
                    WHEN c BETWEEN 90 AND 93 THEN (CAST(:console AS text[]))[1 + (g / 100) % 8]
                    WHEN c = 94 THEN '/v1/audit/records'
                    WHEN c = 96 THEN (CAST(:junk AS text[]))[1 + (g / 100) % 4]
                    WHEN c = 99 THEN '/healthz'
                    WHEN c = 100 THEN '/console/audit/records/' || (g - 1 - g % 1000) || '/content'
                    WHEN c = 101 THEN '' WHEN c = 102 THEN '/v1/audit/messages\\:read' END,
               CASE WHEN c < 55 OR c BETWEEN 85 AND 89 THEN 202 WHEN c = 95 THEN 401 WHEN c = 96 THEN 404
                    WHEN c = 97 THEN 429 WHEN c = 98 THEN 422 WHEN c = 64 AND g % 7 = 0 THEN 403
                    WHEN c = 101 THEN 0 ELSE 200 END,
               CASE WHEN c BETWEEN 55 AND 64 THEN 180000 + g % 400000 WHEN c BETWEEN 85 AND 89 THEN 60000 + g % 90000
                    WHEN c = 101 THEN 0 ELSE 900 + g % 9000 END,
               CASE WHEN c < 55 THEN 900 + g % 2000 WHEN c BETWEEN 85 AND 89 THEN 30000 + g % 40000
                    WHEN c BETWEEN 55 AND 64 THEN 420 ELSE 0 END,
               CASE WHEN c BETWEEN 65 AND 79 THEN 2000 + g % 6000 WHEN c BETWEEN 90 AND 93 THEN 12000 + g % 30000
                    ELSE 150 + g % 300 END,
               CASE WHEN c < 55 OR c = 102 THEN mid ELSE '' END,
               CASE WHEN c BETWEEN 90 AND 93 AND g % 3 = 0 THEN 'audit search' WHEN c = 100 THEN 'decrypt record ' || (g - 1 - g % 1000)
                    WHEN c = 101 THEN 'key.revoke key\\:' || (1 + g % 12) ELSE '' END,
               CASE WHEN c BETWEEN 55 AND 64 THEN (CAST(:citizens AS text[]))[(1 + abs(hashint4(g)::bigint) % :n_citizens)::int] END,
               CASE WHEN c BETWEEN 55 AND 64 THEN :content END,
               CASE WHEN c BETWEEN 55 AND 64 THEN '192.168.' || (g % 12) || '.' || (20 + (g / 100) % 200) END,
               CASE WHEN c BETWEEN 55 AND 64 THEN 'Other' END,
               CASE WHEN c BETWEEN 55 AND 64 THEN 'Windows 10' END,
               CASE WHEN c BETWEEN 55 AND 64 THEN 'Chrome 119.0' END,
               CASE WHEN c BETWEEN 55 AND 64 THEN '00\\:1A\\:2B\\:' || lpad(to_hex(g % 256), 2, '0') || '\\:4D\\:5E' END,
               g, encode(sha256(convert_to('h' || g, 'UTF8')), 'hex')
        FROM s ORDER BY g"""


ALERTS_SQL = """
    INSERT INTO alerts (rule, subject, severity, detail, first_at, last_at, count, state)
    SELECT (CAST(:rules AS text[]))[1 + i % :n_rules],
           CASE i % 3 WHEN 0 THEN 'ip\\:113.' || (160 + i % 30) || '.' || (i % 250) || '.7'
                      WHEN 1 THEN 'key\\:' || (1 + i % 12) ELSE 'account\\:CB' || lpad((i % 2700)::text, 5, '0') END,
           CASE WHEN i % 4 = 0 THEN 'critical' ELSE 'warning' END,
           'Phát hiện ' || (3 + i % 40) || ' lần trong cửa sổ 15 phút',
           :t0 - make_interval(days => :n - i, hours => 2), :t0 - make_interval(days => :n - i),
           1 + i % 5, CASE WHEN i > :n - 12 THEN 'open' ELSE 'acknowledged' END
    FROM generate_series(1, :n) AS i"""

OFFICERS_SQL = """
    INSERT INTO officers (partner_code, officer_code, full_name, agency_id, unit, tier, valid_from, valid_until, state,
                          reason, created_at, updated_at, last_lookup_at)
    SELECT :partner, :prefix || lpad(i::text, 5, '0'), (CAST(:names AS text[]))[1 + i % 8] || ' ' || i,
           (CAST(:agencies AS text[]))[1 + i % 5], 'Bộ phận một cửa ' || (1 + i % 30),
           (ARRAY['own_dossiers', 'own_dossiers', 'own_unit', 'whole_agency'])[1 + i % 4],
           :t0 - interval '400 days', CASE WHEN i % 11 = 0 THEN :t0 + interval '200 days' END,
           CASE WHEN i % 29 = 0 THEN 'revoked' WHEN i % 13 = 0 THEN 'disabled' ELSE 'active' END,
           CASE WHEN i % 29 = 0 THEN 'nghỉ hưu' WHEN i % 13 = 0 THEN 'chuyển công tác' ELSE '' END,
           :t0 - interval '400 days', :t0 - make_interval(days => i % 300),
           CASE WHEN i % 9 = 0 THEN NULL ELSE :t0 - make_interval(days => (i * 7) % 330) END
    FROM generate_series(1, :n) AS i"""

CHECKPOINTS_SQL = """
    INSERT INTO audit_checkpoints (seq, chain_hash, at, key_id, signature)
    SELECT seq, chain_hash, at + interval '30 seconds', 'bench0000000000000000000000000000',
           encode(sha256(convert_to('sig' || seq, 'UTF8')), 'base64')
    FROM access_records WHERE seq % :every = 0 OR seq = :last ORDER BY seq"""


def seed(engine: Engine, settings: Settings, messages: int = 1_000_000, records: int = 5_000_000, days: int = 365,
         say: Callable[[str], None] = print) -> Seeded:
    """Fill an empty, migrated PostgreSQL hub database (see the module docstring); what it holds."""
    started = time.perf_counter()
    spent: dict[str, float] = {}
    key_ids = _small_tables(engine, settings)
    spent["small tables"] = time.perf_counter() - started
    say(f"  seeded partners, keys, accounts, limits, credentials in {spent['small tables']:.0f} s")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    t0 = now.replace(tzinfo=None) - timedelta(seconds=1)  # naive UTC, as the store keeps times
    citizen = CitizenData(settings)
    citizens = [citizen_id(i) for i in range(max(1000, records // 50))]
    officers = [f"CB{i:05d}" for i in range(1, OFFICERS_PER_PARTNER["motcua"] + 1) if i % 13 and i % 29][:2000]
    people = [name for name, _role in PEOPLE]
    sealed = citizen.seal_content({"id_number": citizens[0], "full_name": "Nguyễn Văn An",
                                   "purpose": "Xác minh nhân thân để giải quyết hồ sơ", "dossier_code":
                                   f"{AGENCIES[0]}-260101-0001", "answer": "found"})
    in_p, in_k, in_ip = _weighted(INTAKE, key_ids)
    rd_p, rd_k, rd_ip = _weighted(READERS, key_ids)
    record_params = {"t0": t0, "in_p": in_p, "in_k": in_k, "in_ip": in_ip, "rd_p": rd_p, "rd_k": rd_k, "rd_ip": rd_ip,
                     "lk_k": (key_ids["motcua"] * 3)[:3], "ops_k": key_ids["ops"][:1], "people": people,
                     "officers": officers, "n_officers": len(officers),
                     "citizens": [citizen.blind_index(c) for c in citizens], "n_citizens": len(citizens),
                     "content": sealed, "console": CONSOLE_ROUTES,
                     "junk": ["/.env", "/wp-login.php", "/v1/../etc/passwd", "/admin"]}
    assert len(in_p) == 100 and len(rd_p) == 10
    m_sql, m_params = _messages_sql(messages, days)
    d_sql, d_params = _deliveries_sql(messages)
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("messages", m_sql, {"t0": t0, **m_params}),
        ("deliveries", d_sql, d_params),
        ("delivery_attempts", ATTEMPTS_SQL, {}),
    ]
    chunk = 1_000_000
    for lo in range(1, records + 1, chunk):
        hi = min(records, lo + chunk - 1)
        steps.append((f"access_records {lo:,}-{hi:,}", _records_sql(records, messages, days, lo, hi), record_params))
    steps += [
        ("audit_checkpoints", CHECKPOINTS_SQL, {"every": CHECKPOINT_EVERY, "last": records}),
        ("alerts", ALERTS_SQL, {"t0": t0, "rules": sorted(RULES), "n_rules": len(RULES), "n": 150}),
    ]
    names = ["Trần Văn Bình", "Nguyễn Thị Hằng", "Lê Minh Tuấn", "Phạm Thu Hà", "Hoàng Văn Nam", "Võ Thị Lan",
             "Đặng Quốc Huy", "Bùi Thị Mai"]
    for (partner, n), prefix in zip(OFFICERS_PER_PARTNER.items(), ("CB", "TP")):
        steps.append((f"officers of {partner}", OFFICERS_SQL, {"t0": t0, "partner": partner, "prefix": prefix, "n": n,
                                                               "names": names, "agencies": AGENCIES}))
    for name, sql, params in steps:
        begun = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text(sql), params)
        spent[name] = time.perf_counter() - begun
        say(f"  seeded {name} in {spent[name]:.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        begun = time.perf_counter()
        conn.execute(text("VACUUM ANALYZE"))
        spent["vacuum analyze"] = time.perf_counter() - begun
    say(f"  vacuum analyze in {spent['vacuum analyze']:.0f} s")
    return Seeded(messages, records, now, citizens, key_ids, officers, people, spent)
