"""One PDF's PAdES signatures checked with pyHanko against the configured authorities.

pyHanko does the work: it finds the signatures, checks that the signed byte ranges still hash to what
was signed (``intact``), that the signature over them is cryptographically sound (``valid`` in its
terms), what was appended after signing (its difference analysis), and builds the signer's chain to a
trust root with pyhanko-certvalidator. This module only turns its status into the hub's verdict.

The chain is validated at the signing time (the time a trusted timestamp token gives, else the time
the signer states, never later than now): a result signed while its certificate was valid stays valid
after the certificate expires. Revocation is not checked: the hub fetches no CRL or OCSP answer (its
machines reach no network but the partners'; ``allow_fetching=False``, ``soft-fail``), so a certificate
revoked after issue is not caught here.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from connectors.national_dvc.results.trust import TrustRoots
from connectors.national_dvc.results.verdict import Signature, Verdict

log = logging.getLogger(__name__)

#: What may be appended to a signed PDF without breaking its signature: nothing, validation data
#: (LTV), or another signature and form fields (a second signer).
ALLOWED_CHANGES = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)
PDF_MAGIC = b"%PDF-"


def is_pdf(content: bytes) -> bool:
    """A PDF starts with ``%PDF-`` within its first 1024 bytes (ISO 32000 readers accept leading bytes)."""
    return PDF_MAGIC in content[:1024]


def name_of(cert: Any) -> str:
    """``CN (O)`` of a certificate's subject or issuer name, else its whole name."""
    native = cert.native if hasattr(cert, "native") else {}
    cn, org = native.get("common_name"), native.get("organization_name")
    if cn and org and org != cn:
        return f"{cn} ({org})"
    return str(cn or org or cert.human_friendly)


def check(content: bytes, roots: TrustRoots, now: datetime | None = None) -> Verdict:
    """The verdict on ``content`` against ``roots``."""
    if not is_pdf(content):
        return Verdict("not-pdf", "the document is not a PDF (its signature is not checked)")
    now = now or datetime.now(timezone.utc)
    try:
        embedded = list(PdfFileReader(io.BytesIO(content), strict=False).embedded_signatures)
        if not embedded:
            return Verdict("not-signed", "the PDF carries no digital signature")
        signatures = tuple(_signature(sig, roots, now) for sig in embedded)
    except Exception as exc:  # noqa: BLE001 - the PDF comes from outside: whatever a crafted file makes the parser
        # raise is a verdict on the file, not a hub error (which would retry the same bytes for ever)
        log.warning("dvc results: a PDF could not be checked (%s: %s)", type(exc).__name__, str(exc)[:200])
        return Verdict("broken", f"the PDF cannot be read ({type(exc).__name__})")
    for state, test in (("broken", "intact"), ("untrusted", "trusted"), ("expired", "valid")):
        failing = next((s for s in signatures if not getattr(s, test)), None)
        if failing is not None:
            return Verdict(state, failing.reason, signatures)  # type: ignore[arg-type]
    return Verdict("valid", "", signatures)


def _context(roots: TrustRoots, moment: datetime) -> ValidationContext:
    return ValidationContext(trust_roots=list(roots.certificates), allow_fetching=False, revocation_mode="soft-fail",
                             moment=moment)


def _signature(sig: Any, roots: TrustRoots, now: datetime) -> Signature:
    claimed = sig.self_reported_timestamp
    moment = min(claimed, now) if claimed is not None else now
    try:
        status = validate_pdf_signature(sig, _context(roots, moment))
    except (PdfError, ValueError, KeyError, TypeError) as exc:  # pyHanko's SignatureValidationError is a ValueError
        cert = _cert_or_none(sig)
        return Signature(name_of(cert.subject) if cert else "?", name_of(cert.issuer) if cert else "?", claimed,
                         False, False, False, f"the signature cannot be checked ({type(exc).__name__})")
    cert = status.signing_cert
    signer, issuer = name_of(cert.subject), name_of(cert.issuer)
    timestamp = getattr(status, "timestamp_validity", None)
    signed_at = timestamp.timestamp if timestamp is not None and timestamp.trusted else status.signer_reported_dt or claimed
    level = status.modification_level
    untouched = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    appended_ok = untouched or (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and level in ALLOWED_CHANGES
                                and status.docmdp_ok is not False)
    if not (status.intact and status.valid):
        return Signature(signer, issuer, signed_at, False, False, False,
                         f"signature of {signer} is broken: the signed bytes were changed after signing")
    if not appended_ok:
        return Signature(signer, issuer, signed_at, False, False, False,
                         f"signature of {signer} is broken: the PDF was changed after it was signed "
                         f"({level.name.lower() if level is not None else 'unknown changes'})")
    if status.trusted:
        return Signature(signer, issuer, signed_at, True, True, True, "")
    not_before, not_after = cert["tbs_certificate"]["validity"]["not_before"].native, \
        cert["tbs_certificate"]["validity"]["not_after"].native
    if signed_at is not None and not (not_before <= signed_at <= not_after):
        # the chain is asked again inside the certificate's own validity, to tell "untrusted" from "expired"
        inside = min(not_after - timedelta(seconds=1), now)
        trusted = bool(validate_pdf_signature(sig, _context(roots, inside)).trusted)
        if trusted:
            return Signature(signer, issuer, signed_at, True, True, False,
                             f"the certificate of {signer} was not valid when it signed "
                             f"(valid {not_before:%Y-%m-%d} to {not_after:%Y-%m-%d})")
    problem = str(getattr(status.trust_problem_indic, "name", status.trust_problem_indic or ""))
    why = "does not chain to a trusted certificate authority" if problem in ("", "NO_CERTIFICATE_CHAIN_FOUND") \
        else f"is not trusted ({problem})"
    return Signature(signer, issuer, signed_at, True, False, False, f"the certificate of {signer} (issued by {issuer}) {why}")


def _cert_or_none(sig: Any) -> Any:
    try:
        return sig.signer_cert
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
