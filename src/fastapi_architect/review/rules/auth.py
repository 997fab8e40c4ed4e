"""Rules module auth."""
