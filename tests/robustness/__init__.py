"""Issue 7, "Prove it holds": differential, fault, deadline, resource and hygiene tests."""
