"""Reads about brands that other apps rely on."""

from brands.choices import Lane
from brands.models import Brand, BrandMembership, ProgramMembership


def brand_lane(brand: Brand) -> str:
    """The lane a case filed now by `brand` takes: expedited while its MarketSafe membership is active."""
    if ProgramMembership.objects.filter(brand=brand).active().exists():
        return Lane.EXPEDITED
    return Lane.STANDARD


def membership_for(*, user, brand: Brand) -> BrandMembership | None:
    """The user's active membership of `brand`, or None."""
    if not user.is_authenticated:
        return None
    return BrandMembership.objects.filter(user=user, brand=brand, is_active=True).first()
