"""Writes and lookups of API tokens. Creation and revocation are audited with the token's brand.

A token reads `ms_<prefix>_<secret>`: the prefix (public, unique) finds the row, the SHA-256 of the whole
string is compared in constant time. Who may create or revoke a token is checked by the callers (a
member for their own membership, an owner for any token of the brand); the rules that hold whoever
calls are checked here.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from brands.api.models import ApiToken
from brands.models import BrandMembership
from core.audit.services import audit_record

TOKEN_PREFIX = "ms"  # noqa: S105 (the public marker of a MarketSafe token, not a secret)
#: last_used_at is written at most this often per token, so a busy script does not rewrite its row per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_NAME_CHARS = ApiToken._meta.get_field("name").max_length


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, membership: BrandMembership, actor: Any, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `membership`; returns it with its secret, which is never stored and never shown again."""
    membership = BrandMembership.objects.select_for_update().select_related("brand").get(pk=membership.pk)
    if not membership.is_active:
        raise ValidationError("This membership is no longer active; it cannot get a token.")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the token after what uses it, e.g. “nightly import script”."})
    if len(name) > MAX_NAME_CHARS:
        raise ValidationError({"name": f"The name has {len(name)} characters; the limit is {MAX_NAME_CHARS}."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        membership=membership, name=name, prefix=prefix, secret_hash=_hash(raw), created_by=actor, expires_at=expires_at
    )
    audit_record(
        action="api_token.create",
        target=token,
        actor=actor,
        to_state=ApiToken.Status.ACTIVE,
        brand_id=membership.brand_id,
        data={
            "prefix": prefix,
            "name": name,
            "member": membership.user_id,
            "role": membership.role,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: Any, reason: str = "") -> ApiToken:
    """Revoke a token at once; a token already revoked is refused with the date it was revoked."""
    token = ApiToken.objects.select_for_update().select_related("membership").get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError(f"This token was already revoked on {timezone.localtime(token.revoked_at):%Y-%m-%d}.")
    old = token.status
    token.revoked_at, token.revoked_by = timezone.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        action="api_token.revoke",
        target=token,
        actor=actor,
        from_state=old,
        to_state=ApiToken.Status.REVOKED,
        reason=reason.strip(),
        brand_id=token.membership.brand_id,
        data={"prefix": token.prefix, "name": token.name},
    )
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The usable token `raw` stands for, with its membership, brand and user; None when there is none."""
    parts = raw.split("_", 2)  # the secret may contain "_" itself
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("membership__brand", "membership__user")
        .filter(prefix=parts[1])
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(raw)):
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
