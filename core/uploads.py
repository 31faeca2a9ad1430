"""Checking uploaded files by their content, before anything is stored.

The name and the browser's Content-Type are the uploader's claims; the first bytes are evidence. A file
is accepted when its detected type (puremagic, pure Python: no system library needed) is in the
allow-list AND its extension matches that type, and it is within the size cap. The caller gets the
detected type and the SHA-256 to store with the file.
"""

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

import puremagic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

#: Documents and evidence: PDFs and images (download-only, never rendered inline).
DOCUMENT_TYPES: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({".pdf"}),
    "image/png": frozenset({".png"}),
    "image/jpeg": frozenset({".jpg", ".jpeg"}),
    "image/webp": frozenset({".webp"}),
}

#: Videos (a test purchase's unboxing and examination): download-only too.
VIDEO_TYPES: dict[str, frozenset[str]] = {
    "video/mp4": frozenset({".mp4", ".m4v"}),
    "video/quicktime": frozenset({".mov"}),
    "video/webm": frozenset({".webm"}),
}

#: What each accepted type is called in a message ("this file is not a PDF").
TYPE_NAMES: dict[str, str] = {
    "application/pdf": "a PDF",
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/webp": "a WebP image",
    "video/mp4": "an MP4 video",
    "video/quicktime": "a QuickTime video",
    "video/webm": "a WebM video",
}


def _type_name(content_type: str) -> str:
    return TYPE_NAMES.get(content_type, content_type)


@dataclass(frozen=True)
class CheckedUpload:
    file: UploadedFile
    content_type: str
    sha256: str
    size: int


def check_upload(
    file: UploadedFile, *, allowed: dict[str, frozenset[str]] = DOCUMENT_TYPES, max_bytes: int | None = None
) -> CheckedUpload:
    """Validate `file` by content, extension and size; raise ValidationError with a message naming it."""
    name = PurePath(file.name or "").name
    cap = max_bytes or settings.FILE_UPLOAD_MAX_BYTES
    if file.size is None or file.size == 0:
        raise ValidationError(f"{name} is empty.", code="empty")
    if file.size > cap:
        raise ValidationError(
            f"{name} is {file.size / 1_048_576:.1f} MiB; the limit is {cap / 1_048_576:.0f} MiB.", code="too_large"
        )
    head = file.read(4096)
    file.seek(0)
    detected = {match.mime_type for match in puremagic.magic_string(head)} if head else set()
    content_type = next((mime for mime in allowed if mime in detected), None)
    suffix = PurePath(name).suffix.lower()
    # The type the name claims, when it claims an accepted one: the message then says the file is not that.
    claimed = next((mime for mime, extensions in allowed.items() if suffix in extensions), None)
    if content_type is None:
        if claimed is not None:
            raise ValidationError(
                f"{name} is not {_type_name(claimed)}, though its name ends in {suffix}: upload the real document "
                "(export or scan it again).",
                code="type",
            )
        accepted = ", ".join(sorted({ext for exts in allowed.values() for ext in exts}))
        raise ValidationError(f"{name} is not a file type we accept ({accepted}).", code="type")
    if suffix not in allowed[content_type]:
        actual = _type_name(content_type)
        if claimed is not None:
            message = f"{name} is not {_type_name(claimed)}: its content is {actual}."
        else:
            message = f"{name}'s name does not match its content ({actual})."
        proper = sorted(allowed[content_type])[0]
        raise ValidationError(f"{message} Rename it to end in {proper}, or upload the right file.", code="extension")
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return CheckedUpload(file=file, content_type=content_type, sha256=digest.hexdigest(), size=file.size)
