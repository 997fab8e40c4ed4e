"""Rules module security."""
