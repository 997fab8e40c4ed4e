"""Rules module rest."""
