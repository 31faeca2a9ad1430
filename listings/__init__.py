"""The listings app (domain): marketplaces, sellers and listings (millions of rows), their upserts, strikes
and the repeat-infringer penalty ladder, and the delisting engine (batch removal in Celery chunks). It
knows nothing of brands or cases: higher apps pass ids and register hooks."""
