"""Photo intake: decode to prove it is an image, re-encode, keep nothing else.

Nothing from the uploaded file survives but its pixels: EXIF (GPS position, camera serial,
time), XMP, ICC profiles and comments are all dropped because the image is rebuilt from
raw pixel data and saved without them. The EXIF orientation is applied first so the
picture still shows the right way up.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 5
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # decompression bombs: a 10 MB PNG can claim gigapixels
MAX_SIDE = 3000  # longer side after re-encoding; plenty for evidence, bounded storage
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


_strict_lock = threading.Lock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Refuse truncated images while decoding an upload.

    Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` is process-wide, and WeasyPrint sets
    it to True when imported (for the PDFs), which would let a cut-off upload through.
    """
    with _strict_lock:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


class PhotoError(ValueError):
    """A file that is not an acceptable photo; the message says why."""


@dataclass(frozen=True)
class CleanPhoto:
    """A re-encoded photo ready to store."""

    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


def read_limited(stream: IO[bytes], name: str) -> bytes:
    """Read an upload, refusing it as soon as it passes the size limit."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise PhotoError(
            _("%(name)s is larger than 10 MB; choose a smaller photo.") % {"name": name}
        )
    return data


def clean_photo(data: bytes, name: str) -> CleanPhoto:
    """Decode ``data`` fully and return it re-encoded without any metadata."""
    if len(data) > MAX_BYTES:
        raise PhotoError(
            _("%(name)s is larger than 10 MB; choose a smaller photo.") % {"name": name}
        )
    not_image = PhotoError(
        _("%(name)s is not a JPEG, PNG or WebP photo that can be read.") % {"name": name}
    )
    try:
        with warnings.catch_warnings(), _strict_decoding():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in FORMATS:
                    raise not_image
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoError(_("%(name)s has too many pixels to process.") % {"name": name})
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                source_format = str(image.format)
                image.load()  # decodes every pixel: truncated or fake files fail here
                upright = ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise not_image from None
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    keep_alpha = has_alpha and source_format in ("PNG", "WEBP")
    mode = "RGBA" if keep_alpha else "RGB"
    converted = upright.convert(mode)
    converted.thumbnail((MAX_SIDE, MAX_SIDE))
    # A new image from the raw pixels carries no info dict, EXIF, XMP or ICC profile.
    bare = Image.frombytes(mode, converted.size, converted.tobytes())
    out = io.BytesIO()
    content_type, extension = FORMATS[source_format]
    if source_format == "JPEG":
        bare.save(out, "JPEG", quality=85, optimize=True)
    elif source_format == "PNG":
        bare.save(out, "PNG", optimize=True)
    else:
        bare.save(out, "WEBP", quality=85)
    return CleanPhoto(out.getvalue(), content_type, extension, bare.width, bare.height)
