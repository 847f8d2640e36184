"""Handing a stored evidence file (or its thumbnail) to a browser, so that nothing
uploaded can ever run as a page: the media type is the one read from the bytes when the
file was accepted, the browser is told not to guess another (nosniff), the response is
sandboxed with nothing allowed (Content-Security-Policy), and only JPEG, PNG and WebP
images may be shown inline; PDF and HEIC files are always downloads.
"""

from __future__ import annotations

from urllib.parse import quote

from engine.evidence import EXTENSIONS, Attachment
from engine.ports import EvidenceStore

# Shown in the page (an <img>, or opened on its own): images the browser decodes itself.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def download_name(file: Attachment, thumbnail: bool = False) -> str:
    """The uploaded name, ending as the file's real type ends (a .exe name on a JPEG is
    downloaded as .exe.jpg)."""
    extension = ".jpg" if thumbnail else EXTENSIONS[file.media_type]
    name = file.name
    if thumbnail:
        name = name.rsplit(".", 1)[0] + "-缩略图"
    return name if name.lower().endswith(extension) or (extension == ".jpg" and name.lower().endswith(".jpeg")) \
        else name + extension


def _disposition(kind: str, name: str, sha256: str, extension: str) -> str:
    """RFC 6266: an ASCII fallback name and the real one in UTF-8."""
    fallback = f"evidence-{sha256[:12]}{extension}"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def headers_for(file: Attachment, thumbnail: bool = False, inline: bool = True) -> tuple[str, dict[str, str]]:
    """(content type, headers) for serving the file or its thumbnail."""
    content_type = "image/jpeg" if thumbnail else file.media_type
    shown = inline and content_type in INLINE_TYPES
    name = download_name(file, thumbnail)
    extension = ".jpg" if thumbnail else EXTENSIONS[file.media_type]
    sha256 = (file.thumbnail or file.sha256) if thumbnail else file.sha256
    return content_type, {
        "Content-Disposition": _disposition("inline" if shown else "attachment", name, sha256, extension),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer",
        # The bytes under a hash never change; only the person who may see them keeps them.
        "Cache-Control": "private, max-age=31536000, immutable",
    }


def serve(store: EvidenceStore, file: Attachment, thumbnail: bool = False,
          inline: bool = True) -> tuple[bytes, str, dict[str, str]]:
    """(bytes, content type, headers) of the stored file, or of its thumbnail (a file
    without one, a PDF, is served itself as a download). NotFound when the store lacks it.
    The caller has decided that the person may see the item the file belongs to."""
    use_thumbnail = thumbnail and file.thumbnail is not None
    data = store.get(file.thumbnail if use_thumbnail and file.thumbnail else file.sha256)
    content_type, headers = headers_for(file, use_thumbnail, inline)
    return data, content_type, headers
