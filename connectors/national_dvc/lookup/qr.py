"""A dossier's QR code: the address of its public look-up page, drawn by ``segno`` (PNG or SVG).

The image depends only on the code and the hub's public address, never on the dossier's data, so
it is made without reading the store (no oracle of which codes exist) and may be cached."""

from __future__ import annotations

import io
from urllib.parse import quote

import segno

MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def page_url(base_url: str, code: str) -> str:
    """The public page of dossier ``code`` under ``base_url`` (no trailing slash)."""
    return f"{base_url.rstrip('/')}/tra-cuu/{quote(code, safe='')}"


def make(url: str) -> segno.QRCode:
    """The QR code of ``url``: error correction M (a printed receipt may be creased), no smaller version."""
    return segno.make(url, error="m", micro=False)


def image(url: str, kind: str) -> bytes:
    """``url``'s QR code as ``kind`` (``png`` or ``svg``): 4-module quiet zone, 6 pixels a module."""
    out = io.BytesIO()
    make(url).save(out, kind=kind, scale=6, border=4)
    return out.getvalue()
