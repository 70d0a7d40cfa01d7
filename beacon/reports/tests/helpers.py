"""Images for tests: real JPEG/PNG bytes, one carrying a GPS position in its EXIF."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG whose EXIF holds a GPS position, a camera make and a timestamp."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0132] = "2024:05:01 21:30:00"  # DateTime
    exif[GPS_IFD] = {
        1: "N",
        2: (49.0, 16.0, 12.5),
        3: "W",
        4: (123.0, 7.0, 48.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 128)).save(out, "PNG")
    return out.getvalue()
