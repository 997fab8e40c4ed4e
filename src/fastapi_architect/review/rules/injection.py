"""Rules module injection."""
