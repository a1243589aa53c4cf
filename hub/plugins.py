"""The partners the hub knows: every manifest under ``connectors/``, plus those named by ``LIENTHONG_PLUGINS``.

A partner's folder ``connectors/<code>/`` has a ``manifest`` module exporting ``MANIFEST`` (one
:class:`~hub.seam.Manifest`) or ``MANIFESTS`` (several: the national portal and its payment
platform). Adding a partner is adding its folder; nothing here changes. ``LIENTHONG_PLUGINS`` lists
more manifest modules by import path (a partner shipped outside this repository, or the tests'
own). The loop is cached per list; each process imports the manifests once.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

import connectors
from hub.seam import InboundRoute, Manifest, PartnerSettings

if TYPE_CHECKING:
    from hub.config import Settings

#: Kinds of partner the hub itself has, beside those its partners' manifests declare.
HUB_KINDS = ("operator",)


class ManifestError(RuntimeError):
    """A manifest is missing, malformed, or clashes with another (two partners with one code)."""


def _modules() -> list[str]:
    """``connectors.<name>.manifest`` for every folder of ``connectors/`` that has one, by name."""
    found = []
    for info in sorted(pkgutil.iter_modules(connectors.__path__), key=lambda i: i.name):
        if info.ispkg and importlib.util.find_spec(f"connectors.{info.name}.manifest") is not None:
            found.append(f"connectors.{info.name}.manifest")
    return found


def _extra() -> tuple[str, ...]:
    from hub.config import get_settings

    return tuple(get_settings().plugins)


@lru_cache(maxsize=8)
def _load(extra: tuple[str, ...]) -> tuple[Manifest, ...]:
    loaded: dict[str, Manifest] = {}
    for name in [*_modules(), *extra]:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ManifestError(f"partner manifest {name!r} cannot be imported: {exc}") from exc
        found = getattr(module, "MANIFESTS", None) or ((module.MANIFEST,) if hasattr(module, "MANIFEST") else ())
        if not found or not all(isinstance(m, Manifest) for m in found):
            raise ManifestError(f"{name} must export MANIFEST (a hub.seam.Manifest) or MANIFESTS")
        for manifest in found:
            if manifest.code in loaded:
                raise ManifestError(f"two partners named {manifest.code!r} ({name})")
            loaded[manifest.code] = manifest
    return tuple(loaded.values())


def manifests(extra: Iterable[str] | None = None) -> tuple[Manifest, ...]:
    """Every partner's manifest, in a stable order; ``extra`` defaults to ``LIENTHONG_PLUGINS``."""
    return _load(tuple(extra) if extra is not None else _extra())


def manifest(code: str) -> Manifest:
    """The manifest of partner ``code``; LookupError naming the known ones otherwise."""
    for m in manifests():
        if m.code == code:
            return m
    raise LookupError(f"no partner named {code!r}; known: {', '.join(m.code for m in manifests())}")


def partner_settings(code: str, settings: "Settings") -> PartnerSettings:
    """Partner ``code``'s own settings: its ``LIENTHONG_<CODE>_*`` variables, with the hub's
    ``LIENTHONG_PARTNER_SETTINGS`` entry for it over them."""
    return manifest(code).settings(**settings.partner_settings.get(code, {}))


def destinations() -> dict[str, frozenset[str]]:
    """Destination code -> canonical types it accepts, for every partner with an outbound connector
    or that is named in routing (a partner without one accepts nothing)."""
    return {m.code: (m.accepts if m.connector is not None else frozenset()) for m in manifests()}


def kinds() -> tuple[str, ...]:
    """Every kind of partner: the hub's own and each manifest's, each once."""
    return tuple(dict.fromkeys([*(m.kind for m in manifests()), *(p.kind for m in manifests() for p in m.seed.partners),
                                *HUB_KINDS]))


def credentials() -> dict[str, tuple[str, str, str]]:
    """Vault name ``<code>.<what>`` -> (description, partner code, settings field of its fallback)."""
    return {f"{m.code}.{what}": (description, m.code, setting)
            for m in manifests() for what, (description, setting) in m.credentials.items()}


def problem_types() -> dict[str, tuple[int, str]]:
    """Problem type slug -> (status, title), of every partner."""
    return {slug: spec for m in manifests() for slug, spec in m.problems.items()}


def inbound_routes() -> list[tuple[Manifest, InboundRoute]]:
    """Every partner's inbound routes, with their partner."""
    return [(m, route) for m in manifests() for route in m.routes]
