"""Who may call the hub: partner keys and people's accounts, scopes, IP allowlists, rate-limit
policies, admin actions and refused-access events. The edge applies it in ``hub/edge/gate.py``."""
