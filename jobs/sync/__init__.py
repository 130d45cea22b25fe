"""The sync engine: one object's current local state → the right Graph calls."""
