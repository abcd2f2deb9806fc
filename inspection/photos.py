"""Evidence photos: accept only real images, within the size cap, with EXIF removed by default.

EXIF carries GPS positions and device serials; a warehouse's evidence photos have no need of
them, so they are dropped unless INSPECTION_KEEP_EXIF says otherwise.
"""

import io
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .exceptions import PhotoRejected

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# A small file can still decode to a huge bitmap (a "decompression bomb").
MAX_PIXELS = 40_000_000


def prepare_photo(upload: UploadedFile) -> ContentFile:
    """Check one upload is an image within the cap and return it ready to store.

    Raises PhotoRejected with a message for the clerk.
    """
    name = PurePath(upload.name or "photo").stem[:40] or "photo"
    if upload.size > settings.INSPECTION_PHOTO_MAX_BYTES:
        raise PhotoRejected(
            _("%(file)s is %(size)s MB; the limit is %(limit)s MB.")
            % {
                "file": upload.name,
                "size": number_format(upload.size / 1_000_000, 1),
                "limit": number_format(f"{settings.INSPECTION_PHOTO_MAX_BYTES / 1_000_000:g}"),
            }
        )
    try:
        with Image.open(upload) as probe:
            probe.verify()
        upload.seek(0)
        image = Image.open(upload)
        if image.format not in FORMATS:
            raise PhotoRejected(
                _("%(file)s is a %(format)s image; use JPEG, PNG, WebP or GIF.")
                % {"file": upload.name, "format": image.format}
            )
        if image.width * image.height > MAX_PIXELS:
            raise PhotoRejected(
                _("%(file)s is too large a picture (%(width)s×%(height)s).")
                % {"file": upload.name, "width": image.width, "height": image.height}
            )
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoRejected(
            _("%(file)s is not an image: attach a photo (JPEG or PNG).") % {"file": upload.name}
        ) from None
    filename = f"{name}.{FORMATS[image.format]}"
    if settings.INSPECTION_KEEP_EXIF:
        upload.seek(0)
        return ContentFile(upload.read(), name=filename)
    out = io.BytesIO()
    fmt = image.format
    # Turn the picture upright before its orientation tag goes with the rest of the EXIF.
    upright = ImageOps.exif_transpose(image)
    upright.save(out, format=fmt, **({"quality": 90} if fmt in {"JPEG", "WEBP"} else {}))
    return ContentFile(out.getvalue(), name=filename)
