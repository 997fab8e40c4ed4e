"""Rules module validation."""
