"""Management commands of the listings app (the delisting benchmark)."""
