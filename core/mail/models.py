"""The e-mail outbox: a message is a row written in the transaction of the change it tells of."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class OutgoingEmail(models.Model):
    """One plain-text e-mail, kept until a worker has handed it to the mail server (`core.mail`).

    Sent rows are deleted a day later (`mail_sweep`): the bodies carry invitation and password-reset links.
    """

    subject = models.CharField(max_length=255)
    body = models.TextField()
    from_email = models.CharField(max_length=254)
    recipients = ArrayField(models.CharField(max_length=254))
    created_at = models.DateTimeField(auto_now_add=True)
    #: When the sweep last re-published it (its first message may never have reached the broker).
    swept_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="mail_unsent_idx"),
            models.Index(fields=["sent_at"], condition=models.Q(sent_at__isnull=False), name="mail_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.recipients)}"
