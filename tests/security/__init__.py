"""Security tests: each one is the attack a rule of issue #12 stops, against the real application."""
