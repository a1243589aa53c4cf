"""The audit trail: access records, their hash chain and signed checkpoints (detection rules and alerts: ``hub.alerts``)."""
