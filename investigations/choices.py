"""Choices of the investigations app: test purchases, their files and their chain of custody."""

from django.db import models


class Verdict(models.TextChoices):
    """The authenticator's verdict on the item bought; `pending` until one is recorded."""

    PENDING = "pending", "Pending examination"
    GENUINE = "genuine", "Genuine"
    COUNTERFEIT = "counterfeit", "Counterfeit"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


#: Verdicts that may still be replaced by a (new) examination: a genuine or counterfeit verdict is final.
VERDICT_OPEN = frozenset({Verdict.PENDING, Verdict.INCONCLUSIVE})


class OrderConfirmation(models.TextChoices):
    """Whether the marketplace confirmed, through the platform API, that the order exists for the listing."""

    UNCONFIRMED = "unconfirmed", "Unconfirmed: the marketplace has not answered yet"
    CONFIRMED = "confirmed", "Confirmed by the marketplace"
    NOT_FOUND = "not_found", "Not found by the marketplace"


class RecordedSide(models.TextChoices):
    BRAND = "brand", "The brand"
    MARKETPLACE = "marketplace", "The marketplace"


class FileKind(models.TextChoices):
    PHOTO = "photo", "Photo"
    VIDEO = "video", "Video"
    REPORT = "report", "Authentication report"


class CustodyEventType(models.TextChoices):
    BOUGHT = "bought", "Bought"
    RECEIVED = "received", "Received"
    EXAMINED = "examined", "Examined"
    VERDICT = "verdict", "Verdict given"
    SHARED = "shared", "Shared with a notice"


#: Event types a person adds by hand; `bought` opens the chain (recorded with the purchase), `verdict` and
#: `shared` are written by the services that record a verdict and attach the purchase to a notice.
MANUAL_EVENT_TYPES = (CustodyEventType.RECEIVED, CustodyEventType.EXAMINED)
