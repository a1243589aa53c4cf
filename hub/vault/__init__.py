"""The credential vault (issue #5): partner credentials envelope-encrypted in the database.

- :mod:`hub.vault.envelope`: AES-256-GCM data keys wrapped by the master key;
- :mod:`hub.vault.store`: :class:`Vault` (set, list, delete, rewrap; ``get`` for the hub's own use)
  and :func:`credential`, what connectors call;
- :mod:`hub.vault.names`: the name rule and the well-known credentials;
- ``lienthong credentials ...`` is :mod:`hub.cli.credentials`; the admin API is ``hub/edge/vault.py``.
"""

from hub.vault.envelope import VaultError, WrongMasterKey
from hub.vault.store import Vault, VaultMissing, credential

__all__ = ["Vault", "VaultError", "VaultMissing", "WrongMasterKey", "credential"]
