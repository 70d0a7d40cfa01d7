from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile

from beacon.reports.photos import MAX_BYTES, PhotoError, clean_photo
from beacon.reports.tests.helpers import GPS_IFD, jpeg_with_gps, png_bytes


def test_gps_exif_is_stripped() -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(GPS_IFD), "the fixture must carry GPS data"
    clean = clean_photo(original, "holiday.jpg")
    assert clean.content_type == "image/jpeg"
    with Image.open(io.BytesIO(clean.content)) as after:
        exif = after.getexif()
        assert not exif.get_ifd(GPS_IFD)
        assert len(exif) == 0
        assert "exif" not in after.info
        assert "icc_profile" not in after.info
        assert after.size == (64, 48)
    assert b"TestCam" not in clean.content
    assert b"Exif" not in clean.content


def test_png_is_reencoded_keeping_transparency() -> None:
    clean = clean_photo(png_bytes(), "x.png")
    assert clean.content_type == "image/png"
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.mode == "RGBA"


def test_text_renamed_jpg_is_refused() -> None:
    with pytest.raises(PhotoError, match="not a JPEG, PNG or WebP"):
        clean_photo(b"this is just text pretending to be a photo\n" * 20, "fake.jpg")


@pytest.mark.parametrize("lenient_elsewhere", [False, True])
def test_truncated_jpeg_is_refused(
    lenient_elsewhere: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another library (WeasyPrint) may have made Pillow accept truncated files globally.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", lenient_elsewhere)
    data = jpeg_with_gps((400, 300))
    with pytest.raises(PhotoError):
        clean_photo(data[: len(data) // 2], "cut.jpg")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is lenient_elsewhere


def test_other_formats_are_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    with pytest.raises(PhotoError):
        clean_photo(out.getvalue(), "anim.gif")


def test_oversize_is_refused() -> None:
    with pytest.raises(PhotoError, match="10 MB"):
        clean_photo(b"\xff\xd8" + b"0" * MAX_BYTES, "huge.jpg")
