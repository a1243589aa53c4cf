"""Connectors: one folder per partner, each the only place that knows that partner's wire format."""
