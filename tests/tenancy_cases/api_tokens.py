"""Tenancy cases of the API token pages.

Every member lists and creates tokens (for their own membership, with their own role); revoking another
member's token is for owners (the harness's token belongs to the brand's creator, an owner).
"""

from brands.api.models import ApiToken
from brands.api.services import token_create
from brands.choices import Role
from brands.models import BrandMembership
from tests.harness import TenancyCase

OWNERS = frozenset({Role.OWNER})


def _token(brand, user):
    membership = BrandMembership.objects.get(brand=brand, user=user)
    token, _ = token_create(membership=membership, actor=user, name="tenancy")
    return {"pk": token.pk}


CASES = [
    TenancyCase("api-tokens:token_list", model=ApiToken),
    TenancyCase("api-tokens:token_create", model=ApiToken),
    TenancyCase("api-tokens:token_create", model=ApiToken, method="post", data={"name": "Nightly import"}),
    TenancyCase(
        "api-tokens:token_revoke", model=ApiToken, make=_token, allowed_roles=OWNERS, method="post", success=302
    ),
]
