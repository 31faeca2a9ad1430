"""Tenancy cases of the API token pages.

Every member lists and creates tokens (for their own membership, with their own role); revoking another
member's token is for owners (the harness's token belongs to the brand's creator, an owner).
"""

from brands.api.models import ApiToken
from brands.api.services import token_create
from brands.models import BrandMembership
from tests.harness import ACTOR, SET, Audited, Saved, TenancyCase, owners_post


def _token(brand, user):
    membership = BrandMembership.objects.get(brand=brand, user=user)
    token, _ = token_create(membership=membership, actor=user, name="tenancy")
    return {"pk": token.pk}


CASES = [
    TenancyCase("api-tokens:token_list", model=ApiToken),
    TenancyCase("api-tokens:token_create", model=ApiToken),
    TenancyCase(
        "api-tokens:token_create",
        model=ApiToken,
        method="post",
        data={"name": "Nightly import"},
        saved=Saved(ApiToken, {"name": "Nightly import", "membership__user": ACTOR, "created_by": ACTOR}),
        audited=Audited("api_token.create", to_state=ApiToken.Status.ACTIVE),
    ),
    owners_post(
        "api-tokens:token_revoke",
        ApiToken,
        make=_token,
        saved=Saved(ApiToken, {"revoked_at": SET, "revoked_by": ACTOR}),
        audited=Audited("api_token.revoke", from_state=ApiToken.Status.ACTIVE, to_state=ApiToken.Status.REVOKED),
    ),
]
