"""User agents parsed into device, operating system and browser (ua-parser, the maintained uap-core rules)."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse


def _version(*parts: str | None) -> str:
    return ".".join(p for p in parts if p)


@lru_cache(maxsize=4096)  # partners send the same few agents all day; parsing one costs ~0.1 ms
def describe(user_agent: str) -> tuple[str, str, str]:
    """``(device, os, browser)`` for a User-Agent header, each "" when unknown; the browser and OS
    carry their versions (e.g. ``("Samsung SM-A525F", "Android 13", "Chrome Mobile 120.0")``)."""
    if not user_agent:
        return "", "", ""
    found = parse(user_agent[:500])
    device = found.device
    device_name = " ".join(p for p in (device.brand, device.model) if p) or device.family if device else ""
    os_name = f"{found.os.family} {_version(found.os.major, found.os.minor, found.os.patch)}".strip() if found.os else ""
    ua = found.user_agent
    browser = f"{ua.family} {_version(ua.major, ua.minor)}".strip() if ua else ""
    return (device_name or "")[:60], os_name[:60], browser[:60]
