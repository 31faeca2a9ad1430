"""The custom user model (present from the first migration so it can grow without a painful swap)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """Anyone who logs in: brand staff and agents, moderators, association reviewers, administrators.

    What a user may do inside a brand comes from `brands.BrandMembership`; what staff may do in the
    admin comes from their groups.
    """

    email = models.EmailField("e-mail address")
    display_name = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="accounts_user_email_ci_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username
