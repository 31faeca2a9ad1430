import pytest

from tests import factories


@pytest.fixture
def superuser_client(client, db):
    """A client logged in as a superuser (the admin's pages, whatever their permissions)."""
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client
