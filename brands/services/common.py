"""Small helpers the brand services share: how a date reads in a refusal, an upload's display name, and a
required free-text input."""

import unicodedata
from datetime import datetime
from pathlib import PurePath

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


def required(text: str, field: str, message: str) -> str:
    """`text` stripped, or a refusal of `field` with `message` when nothing is left."""
    text = text.strip()
    if not text:
        raise ValidationError({field: message})
    return text
