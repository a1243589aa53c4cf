"""The edge: the HTTP API partners and operators call."""
