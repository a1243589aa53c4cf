#!/usr/bin/env python3
"""Verify lienthong audit bundles offline: ``python verify_bundle.py [BUNDLE ...] [--trust KEY_ID ...]``.

Standalone on purpose: it needs only Python 3.9+ and the ``cryptography`` and ``rfc8785`` packages
(``pip install cryptography rfc8785``), no hub code and no database; it lives outside the hub, in
the repository's top-level ``audit/`` folder (``audit/README.md``: how to run it, and the bundle
format). Each lienthong bundle carries a copy of this file; an auditor should rather use their own
copy (from the hub's source, ``audit/verify_bundle.py``) and pass ``--trust`` with the key id the
hub published (``lienthong audit key``), since whoever could alter a bundle could also alter its
copy of this file and its ``public-keys/``.

A bundle is a directory (or its ``.tar.gz``) holding ``records.jsonl``, ``checkpoints.jsonl``,
``start.json``, ``public-keys/<key_id>.pem``, ``MANIFEST.json`` and this file. It checks:

- the hash chain: ``h_seq = SHA-256(bytes(h_{seq-1}) || RFC8785(record_seq))``, from the start hash
  in ``start.json`` (genesis, or a checkpoint signed by the hub, or the anchor of an archive);
  ``record_seq`` is every field of the line but ``chain_hash``, a field of ``OPTIONAL_FIELDS``
  (columns added later: ``caller_request_id``, a look-up's ``officer_*``) only when it is not null,
  so bundles of records made before them verify unchanged;
- every checkpoint's Ed25519 signature over RFC 8785 of ``{seq, chain_hash, at, key_id}``, and that
  its chain hash equals the recomputed one; the last record must be vouched for by a checkpoint;
- the files against ``MANIFEST.json``;
- given several bundles in order (archive 1, archive 2, a later export), that each starts where the
  previous one ended.

It prints the first problem in English and Vietnamese (kind ``changed``, ``deleted``,
``inserted``, ``reordered`` or ``checkpoint``, with the record's seq and id) and exits 1, or prints
OK and exits 0 (2: it could not run, e.g. a package is missing). The hub's ``lienthong audit verify`` walks the database with the same code
(:func:`walk`), with its own ``link`` from ``hub.audit.records``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import sys
import tarfile
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

try:
    import rfc8785
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError as missing:  # pragma: no cover - the auditor's machine
    print(f"verify_bundle.py needs the packages cryptography and rfc8785: pip install cryptography rfc8785 ({missing})",
          file=sys.stderr)
    sys.exit(2)

FORMAT = "lienthong-audit-bundle/1"
GENESIS = "0" * 64
BUNDLE_FILES = ("records.jsonl", "checkpoints.jsonl", "start.json", "verify_bundle.py")

Record = Dict[str, Any]  # a record's chained fields plus its stored "chain_hash"
Link = Callable[[str, Mapping[str, Any]], str]
#: Fields added to access records after the first records were sealed: a record's canonical form
#: includes one only when it is present and not null, so older records verify as they were sealed.
OPTIONAL_FIELDS = ("caller_request_id", "officer_ip", "officer_device", "officer_os", "officer_browser", "officer_mac")


# --- the chain: the same few lines as hub/audit/records.py (a test proves they agree) -----------


def canonical(record: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of ``record``."""
    return rfc8785.dumps(dict(record))


def link(previous: str, record: Mapping[str, Any]) -> str:
    """The chain hash of ``record`` placed after the record whose chain hash is ``previous``."""
    return hashlib.sha256(bytes.fromhex(previous) + canonical(record)).hexdigest()


def checkpoint_message(checkpoint: Mapping[str, Any]) -> bytes:
    """The bytes a checkpoint's signature covers: RFC 8785 of ``{seq, chain_hash, at, key_id}``."""
    return canonical({k: checkpoint[k] for k in ("seq", "chain_hash", "at", "key_id")})


def key_id(public: Ed25519PublicKey) -> str:
    """A public key's id: hex SHA-256 of its raw 32 bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def signature_error(checkpoint: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]) -> Optional[str]:
    """Why ``checkpoint``'s signature is not good, or None when it verifies with its key."""
    public = keys.get(checkpoint.get("key_id", ""))
    if public is None:
        return f"signed by an unknown or untrusted key {str(checkpoint.get('key_id'))[:16]}"
    try:
        public.verify(base64.b64decode(checkpoint["signature"], validate=True), checkpoint_message(checkpoint))
    except (InvalidSignature, ValueError, TypeError, KeyError):
        return "its signature does not verify"
    return None


# --- the report ----------------------------------------------------------------------------------


@dataclass
class Problem:
    """The first thing wrong. ``seq``/``id`` name the record; ``first_seq`` starts a checkpoint's range."""

    kind: str  # changed | deleted | inserted | reordered | checkpoint | file
    seq: Optional[int] = None
    id: Optional[int] = None
    detail: str = ""
    other: Optional[Tuple[int, Optional[int]]] = None  # reordered: (seq, id) of the other record
    first_seq: Optional[int] = None  # checkpoint: the range the checkpoint should vouch for
    where: str = ""  # the bundle, when verifying bundles

    def _rec(self, vi: bool = False) -> str:
        word = "bản ghi" if vi else "record"
        return f"{word} seq {self.seq}" + (f" (id {self.id})" if self.id is not None else "")

    def english(self) -> str:
        at = f" [{self.where}]" if self.where else ""
        detail = f": {self.detail}" if self.detail else ""
        if self.kind == "changed":
            text = f"{self._rec()} was changed"
        elif self.kind == "deleted":
            text = f"record seq {self.seq} was deleted (it is missing)"
        elif self.kind == "inserted":
            text = f"a record was inserted at seq {self.seq}" + (f" (id {self.id})" if self.id is not None else "")
        elif self.kind == "reordered":
            o_seq, o_id = self.other or (None, None)
            text = f"{self._rec()} and record seq {o_seq} (id {o_id}) were swapped"
        elif self.kind == "checkpoint":
            text = (f"checkpoint at seq {self.seq} does not vouch for the records: records seq {self.first_seq} to "
                    f"{self.seq} were rewritten, or the checkpoint is forged")
        else:
            text = "a file of the bundle differs from its MANIFEST"
        return f"TAMPERED{at}: {text}{detail}"

    def vietnamese(self) -> str:
        at = f" [{self.where}]" if self.where else ""
        if self.kind == "changed":
            text = f"{self._rec(True)} đã bị sửa"
        elif self.kind == "deleted":
            text = f"bản ghi seq {self.seq} đã bị xóa (không còn)"
        elif self.kind == "inserted":
            text = f"có bản ghi bị chèn vào tại seq {self.seq}" + (f" (id {self.id})" if self.id is not None else "")
        elif self.kind == "reordered":
            o_seq, o_id = self.other or (None, None)
            text = f"{self._rec(True)} và bản ghi seq {o_seq} (id {o_id}) đã bị đổi chỗ"
        elif self.kind == "checkpoint":
            text = (f"điểm kiểm tra tại seq {self.seq} không khớp: các bản ghi từ seq {self.first_seq} đến {self.seq} "
                    f"đã bị ghi lại, hoặc điểm kiểm tra bị giả mạo")
        else:
            text = "một tệp của gói khác với MANIFEST"
        return f"BỊ CAN THIỆP{at}: {text}"


@dataclass
class Report:
    """What a verification found: the first problem (None when intact) and what was checked."""

    problem: Optional[Problem] = None
    records: int = 0
    checkpoints: int = 0
    start_seq: int = 0
    start_hash: str = GENESIS
    last_seq: int = 0
    last_hash: str = GENESIS
    unsealed: int = 0  # database only: records not sealed yet (the sealer's next pass)
    vouched: Dict[int, str] = field(default_factory=dict)  # seq -> chain hash of every good checkpoint

    @property
    def ok(self) -> bool:
        return self.problem is None

    def lines(self) -> List[str]:
        """The verdict in English, then Vietnamese."""
        if self.problem is not None:
            return [self.problem.english(), self.problem.vietnamese()]
        span = f"seq {self.start_seq + 1}-{self.last_seq}" if self.records else f"none after seq {self.start_seq}"
        span_vi = f"seq {self.start_seq + 1}-{self.last_seq}" if self.records else f"không có sau seq {self.start_seq}"
        return [f"OK: the audit trail is intact: {self.records} records ({span}), {self.checkpoints} signed checkpoints "
                f"verified; last chain hash {self.last_hash}",
                f"OK: nhật ký kiểm toán nguyên vẹn: {self.records} bản ghi ({span_vi}), "
                f"{self.checkpoints} điểm kiểm tra có chữ ký hợp lệ"]


# --- walking the chain ---------------------------------------------------------------------------


def chained_fields(record: Mapping[str, Any]) -> Dict[str, Any]:
    """What the chain hashes of ``record``: every field but ``chain_hash``, and an optional field
    (:data:`OPTIONAL_FIELDS`) only when it is not null."""
    return {k: v for k, v in record.items() if k != "chain_hash" and not (v is None and k in OPTIONAL_FIELDS)}


_body = chained_fields


def _classify(previous: str, cur: Record, nxt: Optional[Record], link: Link,
              before_previous: Optional[str]) -> Tuple[str, int, Any, Optional[Tuple[int, Any]]]:
    """Why ``cur`` (at seq i) does not link after ``previous``: (kind, seq, id, other record).

    reordered: swapping ``cur`` and ``nxt`` back makes both verify; inserted: ``nxt`` verifies in
    ``cur``'s place (``cur`` is extra), or ``cur`` verifies in the previous record's place (that one,
    whose hash chains, is extra: ``before_previous`` is the hash before it); else changed.
    """
    i = cur["seq"]
    if nxt is not None and nxt.get("seq") == i + 1:
        # Swapped with the next record: putting them back makes both verify. Try the two ways a swap
        # can look (rows moved with their chain hashes, or contents moved under them) and with or
        # without the ids moved along.
        for keep_ids in (False, True):
            a, b = {**_body(nxt), "seq": i}, {**_body(cur), "seq": i + 1}
            if keep_ids:
                a["id"], b["id"] = cur.get("id"), nxt.get("id")
            ha = link(previous, a)
            for stored_a, stored_b in ((cur["chain_hash"], nxt["chain_hash"]), (nxt["chain_hash"], cur["chain_hash"])):
                if ha == stored_a and link(ha, b) == stored_b:
                    return "reordered", i, cur.get("id"), (i + 1, nxt.get("id"))
        # An extra record pushed the rest one place on: the next record verifies in this place.
        if link(previous, {**_body(nxt), "seq": i}) == nxt["chain_hash"]:
            return "inserted", i, cur.get("id"), None
    if before_previous is not None and link(before_previous, {**_body(cur), "seq": i - 1}) == cur["chain_hash"]:
        return "inserted", i - 1, None, None  # the previous record, chained by the forger, is the extra one
    return "changed", i, cur.get("id"), None


def walk(records: Iterable[Record], start_seq: int, start_hash: str, checkpoints: Sequence[Mapping[str, Any]],
         keys: Mapping[str, Ed25519PublicKey], link: Link = link, end_seq: Optional[int] = None,
         progress: Optional[Callable[[int], None]] = None) -> Report:
    """Walk ``records`` (seq order) from ``(start_seq, start_hash)``; return the first problem and counts.

    ``checkpoints`` (seq order) are those from ``start_seq`` on; when ``start_seq`` > 0 one of
    them must be at ``start_seq`` and vouch for ``start_hash``. ``end_seq``: the seq the records
    must reach (a missing tail is ``deleted``); checkpoints past the last record also mean one.
    ``progress(n)`` is called every 1,000 records with the number walked so far.
    """
    report = Report(start_seq=start_seq, start_hash=start_hash, last_seq=start_seq, last_hash=start_hash)
    pending = deque(sorted(checkpoints, key=lambda c: c["seq"]))
    last_good = start_seq

    def bad_checkpoint(cp: Mapping[str, Any], computed: str, rid: Optional[int]) -> Optional[Problem]:
        error = signature_error(cp, keys)
        if error is None and cp["chain_hash"] != computed:
            error = "its chain hash differs from the records' recomputed chain hash"
        if error:
            return Problem("checkpoint", cp["seq"], rid, error, first_seq=last_good + 1)
        return None

    vouched = start_seq == 0 and start_hash == GENESIS
    while pending and pending[0]["seq"] <= start_seq:
        cp = pending.popleft()
        if cp["seq"] == start_seq:
            report.problem = bad_checkpoint(cp, start_hash, None)
            if report.problem:
                report.problem.first_seq = start_seq
                return report
            vouched = True
            report.checkpoints += 1
            report.vouched[start_seq] = start_hash
    if not vouched:
        report.problem = Problem("checkpoint", start_seq, None, "no signed checkpoint vouches for where the chain starts",
                                 first_seq=start_seq)
        return report

    it = iter(records)
    ahead: deque[Optional[Record]] = deque()

    def peek() -> Optional[Record]:
        if not ahead:
            ahead.extend([next(it, None)])
        return ahead[0]

    prev_seq, prev_hash, prev_id, before_prev = start_seq, start_hash, None, None
    while True:
        cur = ahead.popleft() if ahead else next(it, None)
        if cur is None:
            break
        seq, rid = cur.get("seq"), cur.get("id")
        if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(cur.get("chain_hash"), str):
            report.problem = Problem("changed", prev_seq + 1, rid if isinstance(rid, int) else None,
                                     "its seq or chain hash is not readable")
            return report
        if seq <= prev_seq:
            report.problem = Problem("inserted", seq, rid, "a second record with this seq")
            return report
        if seq > prev_seq + 1:
            report.problem = Problem("deleted", prev_seq + 1, None, f"the chain jumps from seq {prev_seq} to {seq} (id {rid})")
            return report
        computed = link(prev_hash, _body(cur))
        nxt = peek()
        if computed != cur["chain_hash"]:
            if nxt is not None and nxt.get("seq") == seq:
                report.problem = Problem("inserted", seq, rid, "a second record with this seq")
                return report
            kind, at_seq, at_id, other = _classify(prev_hash, cur, nxt, link, before_prev)
            report.problem = Problem(kind, at_seq, prev_id if at_seq < seq else at_id, other=other)
            return report
        if nxt is not None and nxt.get("seq") == seq:
            report.problem = Problem("inserted", seq, nxt.get("id"), "a second record with this seq")
            return report
        if prev_id is not None and isinstance(rid, int) and rid <= prev_id:
            report.problem = Problem("inserted", seq, rid, f"its id is out of order (after id {prev_id})")
            return report
        while pending and pending[0]["seq"] == seq:
            cp = pending.popleft()
            report.problem = bad_checkpoint(cp, computed, rid)
            if report.problem:
                return report
            last_good = seq
            report.checkpoints += 1
            report.vouched[seq] = computed
        prev_seq, prev_hash, prev_id, before_prev = seq, computed, rid, prev_hash
        report.records += 1
        report.last_seq, report.last_hash = seq, computed
        if progress is not None and report.records % 1000 == 0:
            progress(report.records)
    if progress is not None:
        progress(report.records)
    if pending or (end_seq is not None and prev_seq < end_seq):
        beyond = f"; a checkpoint vouches for seq {pending[-1]['seq']}" if pending else f"; the chain should reach seq {end_seq}"
        report.problem = Problem("deleted", prev_seq + 1, None, f"the records end at seq {prev_seq}{beyond}")
    return report


# --- bundles -------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_keys(folder: Path) -> Dict[str, Ed25519PublicKey]:
    """``public-keys/<key_id>.pem`` files whose content has that key id."""
    keys: Dict[str, Ed25519PublicKey] = {}
    for pem in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        try:
            public = serialization.load_pem_public_key(pem.read_bytes())
        except ValueError:
            continue
        if isinstance(public, Ed25519PublicKey) and key_id(public) == pem.stem:
            keys[pem.stem] = public
    return keys


def _jsonl(path: Path, bad: List[Problem], after: Callable[[], int]) -> Iterator[Record]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                value = json.loads(line)
                if not isinstance(value, dict):
                    raise ValueError("not an object")
            except ValueError:
                bad.append(Problem("changed", after() + 1, None, f"{path.name} line {number} is not a JSON record"))
                return
            yield value


def _verify_dir(folder: Path, trusted: Optional[Sequence[str]]) -> Report:
    try:
        manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
        start = json.loads((folder / "start.json").read_text(encoding="utf-8"))
        bad: List[Problem] = []
        checkpoints = list(_jsonl(folder / "checkpoints.jsonl", bad, lambda: 0))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} bundle")
    except (OSError, ValueError) as exc:
        return Report(problem=Problem("file", detail=f"unreadable bundle: {exc}"))
    if bad:
        return Report(problem=Problem("file", detail=bad[0].detail))
    keys = load_keys(folder / "public-keys")
    if trusted:
        keys = {k: v for k, v in keys.items() if any(k.startswith(t.lower()) for t in trusted)}
    state = {"seq": int(start["seq"])}

    def records() -> Iterator[Record]:
        for record in _jsonl(folder / "records.jsonl", bad, lambda: state["seq"]):
            if isinstance(record.get("seq"), int):
                state["seq"] = record["seq"]
            yield record

    report = walk(records(), int(start["seq"]), str(start["chain_hash"]), checkpoints, keys,
                  end_seq=int(manifest.get("last_seq", 0)))
    if bad and (report.problem is None or report.problem.kind == "deleted"):
        report.problem = bad[0]
    if report.problem is None and report.records and report.last_seq not in report.vouched:
        report.problem = Problem("checkpoint", report.last_seq, None, "the last record is not vouched for by a checkpoint",
                                 first_seq=max([s for s in report.vouched if s < report.last_seq], default=0) + 1)
    if report.problem is None:
        for name, digest in sorted(manifest.get("files", {}).items()):
            path = folder / name
            if ".." in Path(name).parts or not path.is_file() or sha256_file(path) != digest:
                report.problem = Problem("file", detail=f"{name} does not match MANIFEST.json")
                break
    if report.problem is None and manifest.get("records") != report.records:
        report.problem = Problem("file", detail="MANIFEST.json counts a different number of records")
    return report


def _open(path: Path, scratch: Path) -> Path:
    """The bundle directory of ``path`` (a directory, or a .tar.gz extracted into ``scratch``)."""
    if path.is_dir():
        return path
    with tarfile.open(path, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(scratch, filter="data")
        else:  # Python without extraction filters: refuse anything but plain files and folders inside
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in member.name.split("/"):
                    raise ValueError(f"unsafe member {member.name!r} in {path.name}")
            tar.extractall(scratch)
    found = [p.parent for p in scratch.rglob("MANIFEST.json")]
    if len(found) != 1:
        raise ValueError(f"{path.name} holds {len(found)} bundles")
    return found[0]


def verify_bundles(paths: Sequence[Path], trusted: Optional[Sequence[str]] = None) -> Report:
    """Verify bundles in chain order; each must start where the previous ended (or at a point it vouched for)."""
    total = Report()
    previous: Optional[Report] = None
    for n, path in enumerate(paths):
        scratch = Path(tempfile.mkdtemp(prefix="lienthong-bundle-"))
        try:
            try:
                folder = _open(Path(path), scratch)
            except (OSError, ValueError, tarfile.TarError) as exc:
                report = Report(problem=Problem("file", detail=f"cannot open: {exc}"))
            else:
                report = _verify_dir(folder, trusted)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if report.problem is None and previous is not None:
            if report.start_seq > previous.last_seq:
                report.problem = Problem("deleted", previous.last_seq + 1, None,
                                         f"the previous bundle ends at seq {previous.last_seq}, this one starts after "
                                         f"seq {report.start_seq}")
            elif previous.vouched.get(report.start_seq, previous.start_hash if report.start_seq == previous.start_seq
                                      else None) != report.start_hash:
                report.problem = Problem("checkpoint", report.start_seq, None,
                                         "this bundle does not start where the previous one vouched for",
                                         first_seq=report.start_seq)
        if n == 0:
            total.start_seq, total.start_hash = report.start_seq, report.start_hash
        total.records += report.records
        total.checkpoints += report.checkpoints
        total.last_seq, total.last_hash = report.last_seq, report.last_hash
        if report.problem is not None:
            report.problem.where = Path(path).name
            total.problem = report.problem
            return total
        previous = report
    return total


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Verify lienthong audit bundles offline (in chain order).")
    parser.add_argument("bundles", nargs="*", type=Path,
                        help="bundle directories or .tar.gz files, oldest first (default: the folder of this file)")
    parser.add_argument("--trust", action="append", default=[], metavar="KEY_ID",
                        help="accept only checkpoints signed by this key id (or its first 16+ hex characters); repeatable")
    args = parser.parse_args(argv)
    if any(len(t) < 16 for t in args.trust):
        parser.error("--trust needs a key id or at least its first 16 hex characters")
    bundles = args.bundles or [Path(__file__).resolve().parent]
    report = verify_bundles(bundles, args.trust or None)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
