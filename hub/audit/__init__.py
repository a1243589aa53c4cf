"""The audit trail: access records, their hash chain and signed checkpoints, and the detection rules."""
