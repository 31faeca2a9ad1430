"""Private stored documents (rights certificates, application documents, evidence).

Files live in the "private" storage, outside any web-served path, under generated names; the original
name is kept only as sanitised metadata. They are served by views that apply the tenant scope first.
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models.functions import Now
from django.http import FileResponse
from django.utils.text import get_valid_filename


def private_storage() -> Storage:
    """The "private" storage of settings.STORAGES (a callable, so migrations don't freeze its location)."""
    return storages["private"]


def private_upload_to(instance: models.Model, filename: str) -> str:
    suffix = PurePath(get_valid_filename(filename)).suffix.lower()[:10]
    return f"{instance._meta.app_label}/{instance._meta.model_name}/{uuid.uuid4().hex}{suffix}"


class StoredDocument(models.Model):
    file = models.FileField(storage=private_storage, upload_to=private_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, help_text="Detected from the content, not the name.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name

    def as_attachment(self) -> FileResponse:
        """The file as a download, typed as detected at upload, never rendered inline. Callers check access."""
        return FileResponse(
            self.file.open("rb"),
            as_attachment=True,
            filename=self.original_name,
            content_type=self.content_type or "application/octet-stream",
        )
