"""The only place that imports Django: set up, read ``_meta`` into the Schema, cache it."""
