"""Rules module architecture."""
