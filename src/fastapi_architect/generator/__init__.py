"""Project and resource generator: `new` and `add resource`."""
