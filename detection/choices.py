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
