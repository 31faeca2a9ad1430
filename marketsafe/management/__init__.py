"""Management commands of the wiring (demo data for every app)."""
