"""The store: tables, engine, and the transactions that accept, claim and settle messages."""
