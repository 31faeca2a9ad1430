"""REST API of the investigations app."""
