"""Who may look citizens up: the officer registry (``officers.py``) and the rights tiers (``tiers.py``).

The look-up shapes are canonical (``hub/messages/lookups.py``); the look-up routes are built by the
edge (``hub/edge/lookups.py``) from the partners that offer look-ups (``connectors/population_db``);
the officers' admin routes are in ``hub/edge/officers.py``.
"""
