"""PDQ hashes of image files (evidence brands upload), computed with `pdqhash`: maintained Python bindings
of Meta's own C++ PDQ reference code, the hasher of ThreatExchange and hasher-matcher-actioner.

The hash is written as Meta writes it (64 hex characters, most significant bit first), so it compares with
the hashes marketplaces send (`detection.hashing`). Images are decoded at a reduced size first: PDQ works
on a 64x64 downsample of the luminance, and a 20 MB photo decoded at full size would cost seconds.
"""

from typing import IO

import numpy as np
import pdqhash
from PIL import Image

#: The types of evidence that are images (core.uploads.DOCUMENT_TYPES; PDFs are not hashed).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
#: Longest side an image is reduced to before hashing.
MAX_SIDE = 512
#: Images with more pixels than this are not decoded (a small compressed file can claim a huge canvas).
MAX_PIXELS = 50_000_000
#: PDQ's quality (0-100) below which Meta's tools drop a hash: too few features to match on.
MIN_QUALITY = 50


class NotHashable(ValueError):
    """The file is not an image PDQ can hash (corrupt, truncated, or too large a canvas)."""


def pdq_hash(file: IO[bytes]) -> tuple[str, int]:
    """(hash as 64 hex characters, quality 0-100) of the image in `file`; NotHashable if it cannot be read."""
    try:
        with Image.open(file) as image:
            if image.width * image.height > MAX_PIXELS:
                raise NotHashable(f"{image.width}x{image.height} pixels is more than {MAX_PIXELS} pixels")
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size
            rgb = image.convert("RGB")
            rgb.thumbnail((MAX_SIDE, MAX_SIDE))
            bits, quality = pdqhash.compute(np.asarray(rgb))
    except NotHashable:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        # Pillow reports a corrupt or truncated file as OSError (UnidentifiedImageError is one), SyntaxError
        # or ValueError, depending on the format and where the data ends.
        raise NotHashable(str(exc) or type(exc).__name__) from exc
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)
