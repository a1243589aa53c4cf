"""The one-line notices a page shows after a change (``?notice=<code>``): codes, so a crafted link can
only show one of these sentences. Each page module adds the codes it uses."""

from __future__ import annotations

from hub.console.i18n import N_

NOTICES: dict[str, str] = {
    "signed-out": N_("You have signed out."),
    "signed-out-everywhere": N_("You have signed out on every device."),
}
