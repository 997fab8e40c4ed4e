"""Rules module database."""
