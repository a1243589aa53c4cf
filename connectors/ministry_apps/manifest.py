"""Ministry software (phần mềm chuyên ngành) as a partner of the hub: registered; the contract only.

It has no connector, route or simulator yet (``interface.py``), so no routing rule may send it
anything (``lienthong routes check`` refuses one).
"""

from __future__ import annotations

from hub.seam import Manifest, PartnerSettings, SandboxSeed, SeedPartner, partner_settings


class MinistryAppsSettings(PartnerSettings):
    """Nothing to configure yet (``LIENTHONG_MINISTRY_APPS_<NAME>``)."""

    model_config = partner_settings("ministry_apps")


MANIFEST = Manifest(
    code="ministry_apps",
    name="Phần mềm chuyên ngành của bộ",
    kind="ministry_app",
    settings=MinistryAppsSettings,
    seed=SandboxSeed(partners=(SeedPartner("ministry_apps", "Phần mềm chuyên ngành của bộ", "ministry_app"),)),
)
