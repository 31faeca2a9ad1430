"""Choices of the detection app."""

from django.db import models


class CandidateStatus(models.TextChoices):
    OPEN = "open", "Possible re-listing"
    FILED = "filed", "Filed"
    DISMISSED = "dismissed", "Dismissed"
    WITHDRAWN = "withdrawn", "Filed automatically, then withdrawn"


class Strength(models.TextChoices):
    STRONG = "strong", "Strong"
    WEAK = "weak", "Possible"


class WatchMatchState(models.TextChoices):
    """What the brand made of a brand-watch match."""

    NEW = "new", "New"
    SEEN = "seen", "Seen"
    FILED = "filed", "Filed"
    DISMISSED = "dismissed", "Dismissed"


#: The outbox topic (`core.outbox`) of new brand-watch matches: `publish(WATCH_MATCHED, matches)` inside the
#: run's transaction; the integrations app turns each into a `watch.match` webhook event of the brand.
WATCH_MATCHED = "detection.watch_matched"
