"""Partners that exist only in the test tree: the proof that a partner is one folder (issue #13)."""
