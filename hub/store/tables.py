"""Database tables (SQLAlchemy Core). Alembic migrations under ``migrations/`` create them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# SQLite has no 64-bit autoincrement alias other than INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC on every backend, returned timezone-aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


partners = Table(
    "partners",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("agency_id", String(20)),
    Column("state", String(12), nullable=False, default="active"),  # active | suspended
    Column("contacts", Text, nullable=False, default="[]"),  # JSON list of {name, email, phone}
    Column("allowed_ips", Text, nullable=False, default="[]"),  # JSON list of CIDR; empty: any address
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    Column("signatures", String(10), nullable=False, default="off", server_default="off"),  # off | optional | required
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("partner_id", Id, ForeignKey("partners.id"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("label", String(100), nullable=False, default=""),
    Column("scopes", Text, nullable=False, default="{}"),  # JSON, see hub.access.scopes
    Column("allowed_ips", Text, nullable=False, default="[]"),  # JSON list of CIDR; empty: the partner's list
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Column("replaced_by", Id),  # rotation: the key that took over
)

# Partners' public keys for HTTP message signatures (hub/signatures); an HMAC secret lives in the vault.
partner_signing_keys = Table(
    "partner_signing_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("partner_code", String(40), ForeignKey("partners.code"), nullable=False, index=True),
    Column("keyid", String(200), nullable=False, unique=True),
    Column("alg", String(30), nullable=False),  # ed25519 | ecdsa-p256-sha256 | rsa-pss-sha512 | hmac-sha256
    Column("public_jwk", Text, nullable=False),  # JSON; for hmac-sha256 without its secret
    Column("state", String(10), nullable=False),  # active | revoked
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("not_after", UtcDateTime),  # optional end of validity
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(60), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(12), nullable=False),  # admin | operator | auditor
    Column("password_hash", String(200), nullable=False),
    Column("allowed_ips", Text, nullable=False, default="[]"),  # JSON list of CIDR; empty: the hub-wide default
    Column("state", String(12), nullable=False, default="active"),  # active | disabled
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime),
    Column("disabled_at", UtcDateTime),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("client_ip", String(45), nullable=False),
    Column("user_agent", String(300), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("last_seen_at", UtcDateTime),  # the idle timeout counts from here (None: from created_at)
)

rate_policies = Table(
    "rate_policies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("counter", String(8), nullable=False),  # key: each key counts alone | partner: all of a partner's keys together
    Column("partner_code", String(40)),  # None: the default for every partner
    Column("key_id", Id),  # only for counter=key: this key alone
    Column("route_class", String(12), nullable=False, default="*"),  # intake | read | ops | lookup | admin | audit | *
    Column("name", String(30), nullable=False),  # shown in RateLimit-Policy, e.g. "per-second"
    Column("quota", Integer, nullable=False),
    Column("window_seconds", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("counter", "partner_code", "key_id", "route_class", "name", name="uq_rate_policies_subject"),
)

admin_actions = Table(
    "admin_actions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("actor", String(80), nullable=False),  # account username, or cli:<os user>
    Column("client_ip", String(45), nullable=False, default=""),
    Column("action", String(40), nullable=False),
    Column("target", String(120), nullable=False),
    Column("before", Text),  # JSON, secrets never included
    Column("after", Text),
)

access_records = Table(
    # One row per request to the hub (refused, unauthenticated and malformed ones included), per
    # sign-in/sign-out, per CLI admin action and per decryption of a record's content. Append-only:
    # the sealer (hub/audit/seal.py) gives each row its place ``seq`` in the hash chain and its
    # ``chain_hash``; nothing else ever updates or deletes a row (archiving moves sealed rows out
    # into a verifiable bundle). Never holds a secret, an API key or a citizen ID in clear.
    # Indexed for the time windows of search and detection (and the console's newest-first order),
    # per key, person, address and citizen, and for the rare kinds and the request ids an auditor
    # looks for; every index costs the writer on each of the ~thousand inserts per second (the three
    # of 0015: 8% of its rows per second, docs/PERFORMANCE.md).
    "access_records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),  # also the console's newest-first order (issue 15)
    # The hub's own id, never the caller's. Indexed (0015) for the console's search by request id,
    # which otherwise read all five million records of a year (over a second).
    Column("request_id", String(36), nullable=False, default="", index=True),
    # The caller's X-Request-Id (printable ASCII, at most 100 characters), kept beside the hub's id;
    # chained only when present, so records written before this column verify as they were sealed.
    # Indexed (0015): the same search matches it too.
    Column("caller_request_id", String(100), index=True),
    # request | lookup | cli | decrypt | message_read. Indexed (0015) for the rare kinds an auditor
    # filters on (content opened, command line: a few hundred in five million, 1.6 s without it).
    Column("kind", String(16), nullable=False, index=True),
    Column("outcome", String(40), nullable=False, default=""),  # ok, or why not: no_credential, expired, rate_limited...
    Column("partner_code", String(40)),
    Column("key_id", Id, index=True),
    Column("account", String(60), index=True),  # the person: admin/operator/auditor account, or officer code
    Column("client_ip", String(45), nullable=False, default="", index=True),
    Column("forwarded_for", String(300), nullable=False, default=""),  # the believed proxy chain
    Column("user_agent", String(300), nullable=False, default=""),
    Column("device", String(60), nullable=False, default=""),
    Column("os", String(60), nullable=False, default=""),
    Column("browser", String(60), nullable=False, default=""),
    Column("method", String(8), nullable=False, default=""),
    Column("route", String(200), nullable=False, default=""),  # the route template, e.g. /v1/messages/{message_id}
    Column("path", String(300), nullable=False, default=""),
    Column("status", Integer, nullable=False, default=0),
    Column("latency_us", BigInteger, nullable=False, default=0),
    Column("request_bytes", BigInteger, nullable=False, default=0),
    Column("response_bytes", BigInteger, nullable=False, default=0),
    Column("message_ids", Text, nullable=False, default=""),  # comma-separated message ids the request carried
    Column("summary", String(300), nullable=False, default=""),  # what was done, never personal data
    Column("citizen_index", String(64), index=True),  # blind index (keyed hash) of the citizen ID looked up
    Column("content", Text),  # the look-up's content, AES-256-GCM encrypted (hub/audit/crypto.py)
    # A look-up's officer as the one-stop system reports them (seed 001 Đ29.7), beside the calling
    # server's client_ip/device above; null elsewhere. Added in 0009: hashed only when not null
    # (hub/audit/records.py LATER), so records chained before them verify as they did.
    Column("officer_ip", String(45)),
    Column("officer_device", String(60)),
    Column("officer_os", String(60)),
    Column("officer_browser", String(60)),
    Column("officer_mac", String(17)),
    Column("seq", BigInteger, unique=True),  # place in the hash chain, given by the sealer
    Column("chain_hash", String(64)),  # h_seq = SHA-256(h_{seq-1} || canonical(record))
    # A dossier's trace finds the look-ups made for it by their summary (hub.store.queries.dossier_lookups);
    # partial: only look-up records carry that summary, so the index stays a tenth of the table's.
    Index("ix_access_records_lookup_summary", "summary", postgresql_where=text("kind = 'lookup'"),
          sqlite_where=text("kind = 'lookup'")),
    sqlite_autoincrement=True,  # ids are never reused, not even after archiving empties the table
)

audit_checkpoints = Table(
    # Signed heads of the chain: the hub's audit key (Ed25519) signs (seq, chain_hash, at).
    "audit_checkpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("chain_hash", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("key_id", String(64), nullable=False),  # fingerprint of the signing key
    Column("signature", String(200), nullable=False),  # base64
)

audit_anchor = Table(
    # Where the chain in the database starts once older records were archived and pruned: the last
    # archived record's seq and chain hash (one row, id 1), and the bundle that holds them.
    "audit_anchor",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("bundle", String(300), nullable=False, default=""),
    Column("at", UtcDateTime, nullable=False),
)

alerts = Table(
    # Raised by the detection rules (hub/alerts/rules.py); one row per rule and subject while open.
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("rule", String(40), nullable=False, index=True),
    Column("subject", String(120), nullable=False),  # ip:..., key:..., account:...
    Column("severity", String(10), nullable=False, default="warning"),
    Column("detail", Text, nullable=False, default=""),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("count", Integer, nullable=False, default=1),
    Column("state", String(12), nullable=False, default="open"),  # open | acknowledged
)

vault_secrets = Table(
    # The credential vault (hub/vault): secrets the hub uses towards partners, envelope-encrypted.
    # ``ciphertext`` is the value under its own data key (AAD: name, version); ``wrapped_key`` is that
    # data key under the master key named by ``master_key_id``. Nothing here is ever in clear.
    "vault_secrets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("master_key_id", String(16), nullable=False),  # first 16 hex of SHA-256 of the master key
    Column("wrapped_key", LargeBinary, nullable=False),  # nonce || AES-256-GCM(master key, data key)
    Column("ciphertext", LargeBinary, nullable=False),  # nonce || AES-256-GCM(data key, value)
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(80), nullable=False),
)

key_fingerprints = Table(
    # The keys every hub process must share (hub/keyset.py): one row per key, SHA-256 of its material
    # truncated to 16 hex digits (never the key). The first process to start records each; every later
    # one compares and refuses to start on a difference. Rotations (vault rewrap, audit rotate-key,
    # hub-keys rotate) replace the row and say who did it in ``changed_by``.
    "key_fingerprints",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("first_by", String(120), nullable=False),
    Column("changed_at", UtcDateTime),
    Column("changed_by", String(120)),
)

partner_cursors = Table(
    # Where each partner's scheduled pull stands in its feed (hub/seam.py ``Cursor``): the last id or
    # time read, so that a restart resumes where it stopped. One row per (partner, cursor name).
    "partner_cursors",
    metadata,
    Column("partner_code", String(40), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("value", String(400), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

officers = Table(
    # Officers (MaCanBo) a partner's system may look citizens up for (seed 002 Đ10, 001 Đ11):
    # registered per partner, with a tier, a validity and a state; hub/citizens/officers.py.
    "officers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("partner_code", String(40), nullable=False),  # the partner (one-stop system) that registered them
    Column("officer_code", String(60), nullable=False),  # MaCanBo
    Column("full_name", String(200), nullable=False),
    Column("agency_id", String(20), nullable=False),  # V1V2V3.Z1Z2.Y1Y2.MX1X2
    Column("unit", String(300), nullable=False, default=""),  # handling unit (department), code or name
    Column("tier", String(16), nullable=False, default="own_dossiers"),  # own_dossiers | own_unit | whole_agency
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime),
    Column("state", String(12), nullable=False, default="active"),  # active | disabled | revoked
    Column("reason", String(300), nullable=False, default=""),  # why the last state change
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    Column("last_lookup_at", UtcDateTime),
    UniqueConstraint("partner_code", "officer_code", name="uq_officers_partner_code"),
)

payments = Table(
    # The payments the hub knows of (connectors/national_dvc/payment/records.py): a payment platform
    # callback is believed only for a known reference ``MaThamChieu`` and only with the dossier,
    # agency, procedure and amount recorded here. ``origin``: how the hub learnt of it (``init``: it
    # opened the payment itself; ``bill``: a fee notice told it). States: open | paid.
    "payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("partner", String(40), nullable=False),  # the payment partner's code at the hub (``national_payment``)
    Column("reference", String(100), nullable=False),  # MaThamChieu
    Column("dossier_code", String(100), nullable=False, index=True),  # MaHoSo
    Column("agency_id", String(40), nullable=False),  # MaDonVi
    Column("procedure_code", String(60), nullable=False),  # MaTTHC
    Column("amount", BigInteger, nullable=False),  # SoTien, whole đồng
    Column("state", String(12), nullable=False),
    Column("transaction_id", String(100)),  # MaGiaoDich of the confirmed payment
    Column("origin", String(12), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime),
    # The payment loop (issue 17, connectors/national_dvc/payment/loop.py, migration 0018): the
    # payment page INIT answered and when it expires; the last QUERY and how many were asked (a
    # payment open too long is asked, so a lost callback is caught up); the electronic receipt
    # (GET_BILL) once routed to the one-stop system, and when it was last asked. States, beyond
    # open | paid: failed (QUERY: the payment failed), expired (still pending past expires_at),
    # unknown (QUERY: the platform does not know the reference).
    Column("pay_url", String(500)),
    Column("expires_at", UtcDateTime),
    Column("queried_at", UtcDateTime),
    Column("queries", Integer, nullable=False, server_default="0"),
    Column("bill_asked_at", UtcDateTime),
    Column("receipt_number", String(100)),
    Column("receipt_at", UtcDateTime),
    UniqueConstraint("partner", "reference", name="uq_payments_partner_reference"),
    Index("ix_payments_partner_state_created_at", "partner", "state", "created_at"),
)

postal_orders = Table(
    # The orders the hub booked with a postal operator (connectors/postal_vnpost/records.py): a pickup
    # of a dossier (leg ``pickup``) or the delivery of a paper result (leg ``result``). ``job`` is
    # what the postman needs and nothing more (JSON: whom, where, phone, what, amount to collect);
    # the ``*_at`` columns are the first time each step was seen, whatever order events arrived in.
    "postal_orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("partner", String(40), nullable=False),
    Column("order_number", String(60), nullable=False),  # OrderNumber
    Column("dossier_code", String(40), nullable=False, index=True),
    Column("agency_id", String(40), nullable=False),
    Column("leg", String(8), nullable=False),  # pickup | result
    Column("state", String(16), nullable=False),  # booked | cancelled (orders the operator holds or held)
    Column("step", String(40), nullable=False),  # the furthest canonical step (postal.booked ...)
    Column("waybill", String(50)),  # ItemCode
    Column("job", Text, nullable=False),
    Column("cod_amount", BigInteger, nullable=False, default=0),  # đồng to collect
    Column("cod_collected", BigInteger),  # đồng collected, as the delivery event said
    Column("receipt_number", String(50)),  # the acceptance receipt of a dossier that came by post
    Column("receipt_at", UtcDateTime),
    Column("booked_at", UtcDateTime, nullable=False),
    Column("collected_at", UtcDateTime),
    Column("handed_over_at", UtcDateTime),  # pickup: handed over to the agency
    Column("delivered_at", UtcDateTime),  # result: delivered to the citizen
    Column("failed_at", UtcDateTime),
    Column("returned_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("partner", "order_number", name="uq_postal_orders_partner_order_number"),
)

postal_changes = Table(
    # One row per change of an order the operator should see (booked, receipt, cancelled): the keyset
    # feed of its own sync (GET /v1/postal/pickups?since=<id>).
    "postal_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("partner", String(40), nullable=False),
    Column("order_id", Id, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_postal_changes_partner_id", "partner", "id"),
)

postal_events = Table(
    # Every postal event the hub accepted, once: from the tracking feed or pushed by the operator,
    # deduplicated by the operator's event id. ``step``: the canonical type it became.
    "postal_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("partner", String(40), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("order_number", String(60), nullable=False, index=True),
    Column("dossier_code", String(40)),  # None: an order the hub does not know (kept, flagged)
    Column("leg", String(8)),
    Column("step", String(40), nullable=False),
    Column("operator_code", String(20), nullable=False),
    Column("recognised", Integer, nullable=False, default=1),
    Column("at", UtcDateTime, nullable=False),
    Column("post_office", String(50)),
    Column("origin", String(8), nullable=False),  # feed | push
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("partner", "event_id", name="uq_postal_events_partner_event_id"),
)

postal_status_codes = Table(
    # The operator's status codes and what each means to the hub (editable by an admin; the known
    # ones are seeded by the partner on first use). ``step``: the canonical type (postal.collected ...).
    "postal_status_codes",
    metadata,
    Column("partner", String(40), primary_key=True),
    Column("code", String(20), primary_key=True),
    Column("step", String(40), nullable=False),
    Column("meaning", String(300), nullable=False),  # Vietnamese, as the operator says it
    Column("seeded", Integer, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(120), nullable=False, default=""),
)

ministry_cases = Table(
    # The dossiers a ministry system (an adapter, connectors/ministry_apps/) has been handed and whose
    # status the hub pulls from it (as the civil-status registry's LayKetQua): what it last answered,
    # what the hand-over kept for the pull (its module...), and when the case ended. One row per
    # (ministry, dossier); the last state seen is the pull's durable place.
    "ministry_cases",
    metadata,
    Column("ministry", String(40), primary_key=True),
    Column("dossier_code", String(60), primary_key=True),
    Column("state", String(40), nullable=True),
    Column("kept", Text, nullable=False, default="{}"),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("checked_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Index("ix_ministry_cases_open", "ministry", "closed_at", "checked_at"),
)

dvc_calendar_days = Table(
    # The working-day calendar's exceptions to weekdays and Vietnam's public holidays, edited with
    # ``lienthong calendar add|remove`` (connectors/national_dvc/statistics/calendar.py): a day worked
    # (a swap Saturday) or a day off (the bridge day, an extra holiday), each with the decision that set it.
    "dvc_calendar_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("kind", String(10), nullable=False),  # working | off
    Column("decision", String(300), nullable=False),  # e.g. "Thông báo 6150/TB-BLĐTBXH"
    Column("note", String(300), nullable=False, default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(120), nullable=False, default=""),
)

dvc_statistics_sent = Table(
    # The months whose processing statistics (DongBoThongKeHoSo) reached the national portal
    # (connectors/national_dvc/statistics/send.py): the monthly job sends a month once, even across
    # restarts; ``lienthong statistics send`` may send it again (``times`` counts).
    "dvc_statistics_sent",
    metadata,
    Column("month", String(7), primary_key=True),  # YYYY-MM, Vietnam time
    Column("rule", String(20), nullable=False),  # the definition of on time used (000-14.3 | 004-14.4)
    Column("records", Integer, nullable=False),  # agencies sent
    Column("times", Integer, nullable=False, default=1),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("sent_by", String(120), nullable=False),  # job | cli:<user>
    Column("answer", Text, nullable=False, default=""),  # the portal's last message
)

result_signatures = Table(
    # The signature checks of result documents (connectors/national_dvc/results/): one row per document
    # of a result.issued bound for the national portal, replaced when the document is checked again (a
    # retry, a replay after the trust list changed). The console's dossier trace and the trace API show
    # them: who signed, whether the signature holds. ``state``: valid, untrusted, expired, broken,
    # not-signed, not-pdf, unavailable; the booleans are None when no signature was read.
    "result_signatures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dossier_code", String(40), nullable=False, index=True),
    Column("message_id", String(64), nullable=False),
    Column("document_id", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("signer", Text, nullable=True),
    Column("issuer", Text, nullable=True),
    Column("signed_at", UtcDateTime, nullable=True),
    Column("intact", Boolean, nullable=True),
    Column("trusted", Boolean, nullable=True),
    Column("valid", Boolean, nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("checked_at", UtcDateTime, nullable=False),
    UniqueConstraint("dossier_code", "message_id", "document_id", name="uq_result_signatures_document"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(40), nullable=False),
    Column("message_id", String(64), nullable=False),
    # Indexed (0015) for the console's message search by a rare type (300 ms on a million without).
    Column("type", String(40), nullable=False, index=True),
    Column("dossier_code", String(40), index=True),  # None: a notice (catalogue, question), ordered by its subject
    Column("occurred_at", UtcDateTime, nullable=False),
    # Indexed (0015): the console's message search reads its pages newest first through it, and a
    # time range as a range of it (hub/store/queries.py newest_first).
    Column("received_at", UtcDateTime, nullable=False, index=True),
    Column("body_sha256", String(64), nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("source", "message_id", name="uq_messages_source_message_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_pk", Id, ForeignKey("messages.id"), nullable=False, index=True),
    Column("destination", String(40), nullable=False),
    Column("order_key", String(64), nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Index("ix_deliveries_due", "destination", "state", "next_attempt_at"),
    # The relay's sweep looks for waiting or leased rows across destinations; without this it
    # would scan every delivered row twice a second.
    Index("ix_deliveries_state", "state", "next_attempt_at"),
    Index("ix_deliveries_order", "destination", "order_key", "id"),
    # The console's replay of a destination's dead letters, watched live (polled every 2 s): the
    # deliveries of a destination changed since a moment; without it, a scan of every delivery (0015).
    Index("ix_deliveries_destination_updated_at", "destination", "updated_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("delivery_id", Id, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("outcome", String(12), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("duration_ms", Integer, nullable=False, default=0),
    # The console's overview (polled every 2 s) and its chart: the failed attempts of the last hours,
    # without a scan of every attempt ever made (0015).
    Index("ix_delivery_attempts_outcome_at", "outcome", "at"),
)

# -- the national portal's ratings and citizens' questions (connectors/national_dvc/ratings/, questions/) --

portal_ratings = Table(
    # Citizens' ratings of how a dossier was handled (rating.given from the one-stop system), kept by the
    # portal connector to send monthly aggregates (DongBoDanhGia). One per dossier code (seed 004 Đ12.2):
    # the primary key closes the race of two ratings reaching delivery at once.
    "portal_ratings",
    metadata,
    Column("dossier_code", String(40), primary_key=True),
    Column("message_id", String(64), nullable=False),
    Column("agency_id", String(50), nullable=False),
    Column("unit", String(50), nullable=False),  # the handling unit's code, the agency's when none given
    Column("procedure_code", String(60), nullable=False),
    Column("level", String(20), nullable=False),  # very_satisfied | satisfied | not_satisfied
    Column("rated_at", UtcDateTime, nullable=False),
    Column("month", String(7), nullable=False, index=True),  # YYYY-MM of rated_at in Asia/Ho_Chi_Minh
    Column("stored_at", UtcDateTime, nullable=False),
)

portal_rating_sends = Table(
    # What the hub sent to the portal of each month's ratings (DongBoDanhGia), so that a restart does not
    # send a month twice and a month whose ratings grew after it was sent is sent again; ``requested_at``
    # is an operator's ``lienthong ratings send`` waiting for the worker's ratings job.
    "portal_rating_sends",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("ratings", Integer, nullable=False, default=0),  # how many ratings the last send counted
    Column("records", Integer, nullable=False, default=0),  # aggregate records (procedure x unit) sent
    Column("digest", String(64), nullable=False, default=""),  # SHA-256 of the records sent
    Column("sent_at", UtcDateTime, nullable=True),
    Column("requested_at", UtcDateTime, nullable=True),
    Column("requested_by", String(120), nullable=False, default=""),
    Column("last_error", Text, nullable=False, default=""),
)

portal_questions = Table(
    # Citizens' questions pulled from the national portal (LayDanhSachHoiDapGuiTuDVCQG) and handed to the
    # one-stop system as question.asked, written in the same transaction as the message: a question is
    # pulled once. ``answered_at``: the answer reached the portal; ``alerted_at``: the overdue alert raised.
    "portal_questions",
    metadata,
    Column("question_id", String(60), primary_key=True),  # HOIDAPID
    Column("service", String(60), nullable=False),  # the list it came from
    Column("agency_id", String(50), nullable=False),  # MADONVI
    Column("message_id", String(64), nullable=False),
    Column("asked_at", UtcDateTime, nullable=False),
    Column("answer_due_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime, nullable=True),
    Column("alerted_at", UtcDateTime, nullable=True),
    Index("ix_portal_questions_open", "answered_at", "answer_due_at"),
)

# Delivery states. "pending" and "retrying" wait for a worker, "sending" is leased to one.
PENDING, SENDING, RETRYING, DELIVERED, DEAD = "pending", "sending", "retrying", "delivered", "dead"
WAITING_STATES = (PENDING, RETRYING)
OPEN_STATES = (PENDING, RETRYING, SENDING)

# -- the national catalogue (connectors/national_dvc/catalogue/, issue 17) ------------------------
# The catalogue as the hub last read it from the national portal, and every change it saw.

catalogue_procedures = Table(
    # One row per procedure ever listed: its latest version, as a normalised JSON ``content``
    # (name, fields, channels with their fees, components, agencies, legal basis) and its digest.
    "catalogue_procedures",
    metadata,
    Column("code", String(30), primary_key=True),  # the national code, e.g. 2.000477
    Column("name", Text, nullable=False),
    Column("published", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

catalogue_history = Table(
    # Each version of a procedure the hub saw: when, what changed, the decision it cites, the
    # catalogue.changed message it produced and when that reached the one-stop system (filled in by
    # the late-fee check from ``deliveries``); ``alerted_at``: the late-fee alert raised about it.
    "catalogue_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(30), nullable=False),
    Column("version", Integer, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    Column("changes", String(80), nullable=False),  # comma-separated: published,withdrawn,components,fees,details
    Column("fee_channels", String(10), nullable=False, default=""),  # e.g. "1,2"
    Column("detail", Text, nullable=False, default="{}"),  # JSON: what changed (fees before/after per channel...)
    Column("decision", Text),
    Column("decided_on", String(10)),  # ISO date
    Column("message_id", String(64)),  # None: nothing sent (a procedure first seen unpublished)
    Column("delivered_at", UtcDateTime),
    Column("alerted_at", UtcDateTime),
    UniqueConstraint("code", "version", name="uq_catalogue_history_code_version"),
    # the late-fee check: fee changes not yet delivered nor alerted
    Index("ix_catalogue_history_open_fees", "fee_channels", "delivered_at", "alerted_at"),
)

catalogue_agencies = Table(
    "catalogue_agencies",  # LayDanhMucCoQuan, as last read
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("level", String(20)),
    Column("updated_at", UtcDateTime, nullable=False),
)

catalogue_fields = Table(
    "catalogue_fields",  # LayDanhMucLinhVuc, as last read
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("sector", String(40)),
    Column("updated_at", UtcDateTime, nullable=False),
)
