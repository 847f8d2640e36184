"""Real files for the evidence tests, made here: photos with and without EXIF, a PDF,
and the files that must be refused (a program renamed .jpg, SVG, HTML, a truncated
photo, a decompression bomb)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

TAKEN = "2021:02:28 10:15:00"


def jpeg(width: int = 1200, height: int = 900, *, exif: bool = True, orientation: int = 1,
         color: str = "#c0392b") -> bytes:
    """A JPEG photo; with EXIF: time taken (+08:00), a GPS position in Shanghai and the
    orientation given."""
    image = Image.new("RGB", (width, height), color)
    for x in range(0, width, 40):  # some detail, so the file is not trivially small
        image.paste("#2c3e50", (x, 0, x + 10, height))
    out = io.BytesIO()
    if not exif:
        image.save(out, "JPEG", quality=90)
        return out.getvalue()
    data = Image.Exif()
    data[0x0112] = orientation
    data[0x010F] = "rectify-test-camera"
    detail = data.get_ifd(0x8769)
    detail[36867] = TAKEN
    detail[36881] = "+08:00"
    gps = data.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 13.0, 49.44), "E", (121.0, 28.0, 25.32)
    image.save(out, "JPEG", quality=90, exif=data)
    return out.getvalue()


def png(width: int = 300, height: int = 200, alpha: bool = True) -> bytes:
    image = Image.new("RGBA" if alpha else "RGB", (width, height), (20, 120, 200, 128) if alpha else "blue")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 100), "green").save(out, "WEBP")
    return out.getvalue()


def heic() -> bytes:
    import pillow_heif  # noqa: F401  (registers the HEIF plugin)

    out = io.BytesIO()
    Image.new("RGB", (160, 120), "orange").save(out, "HEIF")
    return out.getvalue()


def pdf(script: bool = False) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if script:  # an action run on opening the document
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header claims width × height pixels (900 million by default:
    past Pillow's decompression-bomb limit)."""
    raw = png(1, 1, alpha=False)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    start = 8
    return raw[:start] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[start + 25:]


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode."
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SVG_PLAIN = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
