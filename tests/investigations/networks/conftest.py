"""Fixtures of the investigations tests: a marketplace's service token and API client (the platform's)."""

# The platform API's client and its token, for the seller upsert with identifiers.
from tests.integrations.conftest import api, staff_user, token  # noqa: F401
