"""Proof that the guarantees hold: differential, fault, deadline, resource and hygiene tests."""
