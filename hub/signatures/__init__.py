"""Message signatures: the hub's own signing keys and outbound signer, partners' registered keys and the inbound verifier (RFC 9421)."""
