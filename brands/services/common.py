"""Small helpers the brand services share: how a date reads in a refusal, the stored fields of a checked
upload, and a required free-text input."""

import unicodedata
from datetime import datetime
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format

from core.uploads import CheckedUpload


def day(moment: datetime) -> str:
    """The local date of `moment`, as messages to people show it."""
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


def display_name(upload: CheckedUpload) -> str:
    """The uploader's file name, kept only as metadata: no path, no control characters, bounded length."""
    name = PurePath((upload.file.name or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-255:] or "document"


def stored_document(upload: CheckedUpload, *, uploaded_by: Any) -> dict[str, Any]:
    """The `core.files.StoredDocument` fields of a checked upload (see `core.uploads.check_upload`)."""
    return {
        "file": upload.file,
        "original_name": display_name(upload),
        "content_type": upload.content_type,
        "size": upload.size,
        "sha256": upload.sha256,
        "uploaded_by": uploaded_by,
    }


def required(text: str, field: str, message: str) -> str:
    """`text` stripped, or a refusal of `field` with `message` when nothing is left."""
    text = text.strip()
    if not text:
        raise ValidationError({field: message})
    return text
