"""The public look-up page (``GET /tra-cuu/{code}``), what a dossier's QR code opens: Vietnamese
first, English with ``?lang=en``. Jinja2 with autoescaping on (a procedure name or a code is text,
never markup); no script, a Content-Security-Policy that allows none."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from connectors.national_dvc.lookup.answers import STATUS_NAMES_EN
from connectors.national_dvc.wire_types import HANOI

ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                  undefined=StrictUndefined)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Tra cứu tình trạng hồ sơ", "code": "Mã hồ sơ", "applicant": "Chủ hồ sơ", "procedure": "Thủ tục",
        "status": "Tình trạng", "received": "Ngày tiếp nhận", "due": "Ngày hẹn trả", "finished": "Ngày kết thúc xử lý",
        "privacy": "Tên chủ hồ sơ được che một phần để bảo vệ dữ liệu cá nhân.",
        "not_found": "Không tìm thấy hồ sơ có mã này. Vui lòng kiểm tra lại mã trên giấy tiếp nhận.",
        "bad_code": "Mã hồ sơ không đúng định dạng (ví dụ: 000.00.00.H49-261123-0001).",
        "limited": "Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau một phút.",
        "other_lang": "en", "other_lang_name": "English",
    },
    "en": {
        "title": "Dossier status look-up", "code": "Dossier code", "applicant": "Applicant", "procedure": "Procedure",
        "status": "Status", "received": "Received", "due": "Due", "finished": "Handling ended",
        "privacy": "The applicant's name is partly hidden to protect personal data.",
        "not_found": "No dossier has this code. Please check the code on your receipt.",
        "bad_code": "This is not a dossier code (for example: 000.00.00.H49-261123-0001).",
        "limited": "Too many look-ups. Please try again in a minute.",
        "other_lang": "vi", "other_lang_name": "Tiếng Việt",
    },
}


def language(query: dict[str, str] | Any) -> str:
    """``en`` when the query asks for it, else Vietnamese."""
    return "en" if str(query.get("lang", "")).lower().startswith("en") else "vi"


def _shown(value: str | None) -> str | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(HANOI).strftime("%d/%m/%Y %H:%M")


def render_found(lang: str, answer: dict[str, Any]) -> str:
    """The page of a dossier (``answer``: :func:`~.answers.public_answer`)."""
    status = answer.get("status")
    name = STATUS_NAMES_EN.get(status or 0, "") if lang == "en" else answer["status_name"]
    dates = {"received": _shown(answer["received_at"]), "due": _shown(answer["due_at"]),
             "finished": _shown(answer["finished_at"])}
    return ENV.get_template("tra_cuu.html").render(lang=lang, t=TEXTS[lang], code=answer["dossier_code"],
                                                   dossier=answer, status_name=name, dates=dates)


def render_message(lang: str, state: str, code: str = "", **values: Any) -> str:
    """The page saying there is nothing to show: ``state`` ``not_found``, ``bad_code`` or ``limited``."""
    t = TEXTS[lang]
    return ENV.get_template("tra_cuu.html").render(lang=lang, t=t, code=code, dossier=None, state=state,
                                                   message=t[state].format(**values))
