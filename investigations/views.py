"""Pages of the investigations app."""
