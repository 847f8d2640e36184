"""Taking a file as evidence: what it is, read from its bytes (never its name), whether it
is whole, what an image says of itself, and its thumbnail.

Accepted: JPEG, PNG, WebP, HEIC (when Pillow can open it: pillow-heif) and PDF, up to
`evidence.max_mb` (`evidence.max_files` per item is the service's to count, in the
transaction that records them). Nothing here keeps a file: the service does, once the
event that carries it is decided allowed. Everything else — a program
renamed .jpg, SVG (which can hold script), HTML, an archive, a truncated or corrupt
image, an image past Pillow's decompression-bomb limit, a PDF that does not parse or
holds JavaScript — is refused with EvidenceRefused naming the file and why, in Chinese.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import FileAccess
from engine.evidence import Accepted, Attachment, EvidenceRefused, clean_name, size_text
from engine.site import EvidenceConfig

try:  # HEIC, the iPhone's own format, when the pillow-heif plugin is installed
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - depends on what is installed
    HEIF = False

THUMBNAIL_PX = 480
THUMBNAIL_QUALITY = 82
# The brands of an ISO-BMFF file ("ftyp" box) that are HEIF images.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}
# Exif IFD, GPS IFD and the tags read from them.
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 36867, 36881
_OFFSET = re.compile(r"[+-]\d\d:\d\d")
# A PDF's script actions, looked for in the raw bytes. One hidden in a compressed object
# stream is not found this way; it still cannot run here: a PDF is only ever served as a
# download, under a sandboxing Content-Security-Policy (adapters.evidence.serve).
_PDF_SCRIPT = re.compile(rb"/(JavaScript|JS)(?![A-Za-z0-9])")


def sniff(data: bytes) -> str | None:
    """The accepted media type the bytes begin as, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def what_else(data: bytes) -> str:
    """Why bytes that are none of the accepted types are refused, saying what they are
    when that can be told."""
    head = data[:512].lstrip().lower()
    if data.startswith(b"MZ"):
        return "文件内容是 Windows 可执行程序，不是图片或 PDF（与文件名无关，按内容判断）"
    if data.startswith(b"\x7fELF"):
        return "文件内容是可执行程序，不是图片或 PDF（与文件名无关，按内容判断）"
    if b"<svg" in data[:4096].lower() or (head.startswith(b"<?xml") and b"svg" in data[:4096].lower()):
        return "SVG 矢量图可以夹带脚本，不接受；请改用 JPEG 或 PNG 图片"
    if head.startswith((b"<!doctype html", b"<html", b"<script", b"<head", b"<body", b"<iframe")):
        return "文件内容是网页（HTML），不接受"
    if data.startswith(b"PK\x03\x04"):
        return "文件内容是压缩包或 Office 文档，不接受；请上传图片或 PDF"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "不接受 GIF 图片；请改用 JPEG 或 PNG 图片"
    if data[4:8] == b"ftyp":
        return "文件内容是视频或本系统无法打开的图片格式，不接受"
    return "无法识别文件内容：只接受 JPEG、PNG、WebP、HEIC 图片和 PDF 文件（按内容判断，与文件名无关）"


def accept(raw_name: str, data: bytes, config: EvidenceConfig) -> Accepted:
    """The file checked and read, or EvidenceRefused naming it and saying why."""
    name = clean_name(raw_name)
    if not data:
        raise EvidenceRefused(name, "文件是空的")
    if len(data) > config.max_bytes:
        raise EvidenceRefused(name, f"文件大小 {size_text(len(data))}，超过上限 {size_text(config.max_bytes)}")
    media_type = sniff(data)
    if media_type is None or (media_type == "image/heic" and not HEIF):
        raise EvidenceRefused(name, what_else(data))
    if media_type == "application/pdf":
        _check_pdf(name, data)
        return Accepted(Attachment(_sha256(data), name, media_type, len(data)), data, None)
    return _image(name, media_type, data)


def _open(name: str, media_type: str, data: bytes) -> Image.Image:
    """The image, decoded whole (so a truncated or corrupt one fails here), within
    Pillow's decompression-bomb limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format != _PILLOW_FORMATS[media_type]:
                raise EvidenceRefused(name, "图片内容与其格式不符，文件可能已损坏")
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except Image.DecompressionBombError:
        raise EvidenceRefused(name, "图片像素过多（超过图像库的安全上限），疑似“解压炸弹”，不接受") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise EvidenceRefused(name, "图片已损坏或不完整（可能上传中断），请重新拍摄或上传") from None
    return image


def _image(name: str, media_type: str, data: bytes) -> Accepted:
    image = _open(name, media_type, data)
    taken_at, latitude, longitude = exif_facts(image)
    try:
        upright = ImageOps.exif_transpose(image)
        small = thumbnail(upright)
    except (OSError, ValueError, TypeError):  # a colour mode or EXIF block Pillow cannot turn into a JPEG
        raise EvidenceRefused(name, "图片无法转换为缩略图（颜色格式或元数据异常），请另存为普通 JPEG 后重试") from None
    file = Attachment(_sha256(data), name, media_type, len(data), width=upright.width, height=upright.height,
                      taken_at=taken_at, latitude=latitude, longitude=longitude, thumbnail=_sha256(small))
    return Accepted(file, data, small)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def thumbnail(image: Image.Image, px: int = THUMBNAIL_PX) -> bytes:
    """A JPEG at most `px` on its longer side, upright, with no metadata (no EXIF, no GPS,
    no colour profile): a fresh image holding only the pixels."""
    small = image.copy()
    small.thumbnail((px, px))
    if small.mode in ("RGBA", "LA", "P", "PA"):
        small = small.convert("RGBA")
        flat = Image.new("RGB", small.size, "white")
        flat.paste(small, mask=small.getchannel("A"))
        small = flat
    clean = Image.new("RGB", small.size)
    clean.paste(small.convert("RGB"))
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


def exif_facts(image: Image.Image) -> tuple[str | None, float | None, float | None]:
    """(taken at, latitude, longitude) from the image's EXIF, each None when absent or
    not readable: DateTimeOriginal (with OffsetTimeOriginal when given) as ISO text, the
    GPS position in decimal degrees."""
    try:
        exif = image.getexif()
        detail = exif.get_ifd(_EXIF_IFD)
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:  # noqa: BLE001 - a malformed EXIF block is no fact, not a refusal
        return None, None, None
    return _taken_at(detail.get(_DATETIME_ORIGINAL), detail.get(_OFFSET_TIME_ORIGINAL)), *_position(gps)


def _taken_at(value: Any, offset: Any) -> str | None:
    """EXIF's "2021:02:28 10:15:00" (the camera's clock, no zone) as "2021-02-28T10:15:00",
    with its offset ("+08:00") when the camera wrote one; None when it is no valid time."""
    if not isinstance(value, str):
        return None
    text = value.strip("\x00 ")
    zone = offset.strip("\x00 ") if isinstance(offset, str) and _OFFSET.fullmatch(offset.strip("\x00 ")) else ""
    try:  # checked as an aware time (UTC when no offset was written); kept as the camera wrote it
        datetime.strptime(text + (zone or "+00:00"), "%Y:%m:%d %H:%M:%S%z")
    except ValueError:
        return None
    return text[:10].replace(":", "-") + "T" + text[11:] + zone


def _degrees(value: Any, ref: Any, negative: str, limit: float) -> float | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative:
        degrees = -degrees
    if degrees != degrees or abs(degrees) > limit:  # NaN or off the globe
        return None
    return round(degrees, 7)


def _position(gps: Any) -> tuple[float | None, float | None]:
    latitude = _degrees(gps.get(2), gps.get(1), "S", 90)
    longitude = _degrees(gps.get(4), gps.get(3), "W", 180)
    if latitude is None or longitude is None:
        return None, None
    return latitude, longitude


def _check_pdf(name: str, data: bytes) -> None:
    """A PDF that parses and has pages, without JavaScript."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if _PDF_SCRIPT.search(data):
        raise EvidenceRefused(name, "PDF 文件中含有脚本（JavaScript），不接受")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            pages = len(reader.pages)
            if reader.is_encrypted:
                raise EvidenceRefused(name, "PDF 文件已加密，无法查看，请上传未加密的文件")
    except EvidenceRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError, AttributeError):
        raise EvidenceRefused(name, "PDF 文件已损坏或不完整，无法打开") from None
    if pages < 1:
        raise EvidenceRefused(name, "PDF 文件没有任何页面")


def check(config: EvidenceConfig, files: Sequence[tuple[str, bytes]]) -> list[Accepted]:
    """Every file checked and read (EvidenceRefused for the first that is refused: then
    none is taken), nothing kept: the files to pass to Service.fire or report, which
    keep them once the event is decided allowed, within `evidence.max_files` per item."""
    return [accept(name, data, config) for name, data in files]


class Readable(Protocol):
    """A file being uploaded as an ASGI framework gives it (Starlette's UploadFile)."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


async def read_upload(upload: Readable, config: EvidenceConfig) -> tuple[str, bytes]:
    """(name, bytes) of an uploaded file, read at most one byte past the limit: a larger
    file is refused without being read whole. (A web layer should also refuse a request
    whose Content-Length is beyond what it allows, before the framework spools it.)"""
    name = clean_name(upload.filename or "未命名文件")
    data = await upload.read(config.max_bytes + 1)
    if len(data) > config.max_bytes:
        raise EvidenceRefused(name, f"文件大小超过上限 {size_text(config.max_bytes)}")
    return upload.filename or "未命名文件", data


def read_file(path: Path, config: EvidenceConfig) -> tuple[str, bytes]:
    """(name, bytes) of a file named on the command line, refused unread when it is
    larger than the limit."""
    name = clean_name(path.name)
    try:
        size = path.stat().st_size
        if size > config.max_bytes:
            raise EvidenceRefused(name, f"文件大小 {size_text(size)}，超过上限 {size_text(config.max_bytes)}")
        with path.open("rb") as f:
            data = f.read(config.max_bytes + 1)
    except OSError as exc:
        raise FileAccess.from_os_error(exc, path, "读取佐证文件") from exc
    return path.name, data
