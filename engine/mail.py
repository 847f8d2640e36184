"""Outgoing mail as data: the message, its two failures (the Mailer port is in engine.ports) and the retry delay.

Pure: nothing here touches the network or the disk. `adapters/mail.py` holds the
SMTP and file implementations of `Mailer`.

    RectifyError
    └── DeliveryError          a message was not handed over; say whether to retry
        ├── TemporaryFailure   connection refused, timeout, disconnect, SMTP 4xx: retry later
        └── PermanentFailure   SMTP 5xx, an invalid address: dead letter, do not retry
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

from engine.errors import RectifyError

# The outbox key becomes a file name (`<key>.eml`) and the left half of the Message-ID,
# so it is restricted to characters that are safe in both.
# Dot-separated runs of letters, digits, _ and - (a valid dot-atom, never "." or "..").
_KEY = re.compile(r"(?=.{1,200}\Z)[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_CID = re.compile(r"(?=.{1,200}\Z)[A-Za-z0-9_-]+(?:[.@][A-Za-z0-9_-]+)*")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", re.IGNORECASE)

# RFC 5322 dot-atom: letters, digits and these; no quoted local parts, no comments, ASCII only.
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

# Characters that end a line for str.splitlines() or hide text (bidi overrides, zero-width).
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs"}


@dataclass(frozen=True)
class Recipient:
    """A person from org.yaml: the display name and the address, never parsed from free text."""

    name: str
    email: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"

    def __post_init__(self) -> None:
        _check_mime_type(self.mime_type)


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows with `<img src="cid:{cid}">`."""

    cid: str
    content: bytes
    mime_type: str = "image/png"
    filename: str | None = None

    def __post_init__(self) -> None:
        _check_mime_type(self.mime_type)
        if not self.mime_type.lower().startswith("image/"):
            raise ValueError(f"内嵌图片的类型应为 image/*：{self.mime_type}")
        if not _CID.fullmatch(self.cid):
            raise ValueError(f"内嵌图片的 cid 只能含字母、数字和 . _ @ -：{self.cid!r}")


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row ready to send; `key` is the row's stable identity, e.g. "outbox-123"."""

    key: str
    subject: str
    text: str
    html: str | None
    to: tuple[Recipient, ...]
    cc: tuple[Recipient, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    inline_images: tuple[InlineImage, ...] = ()

    def __post_init__(self) -> None:
        # A bad key or a dangling image is a bug in the caller, not a delivery problem.
        if not _KEY.fullmatch(self.key):
            raise ValueError(f"邮件标识只能含字母、数字、_、- 和分隔用的 .：{self.key!r}")
        if self.inline_images and self.html is None:
            raise ValueError(f"邮件 {self.key} 有内嵌图片但没有 HTML 正文")

    @property
    def recipients(self) -> tuple[Recipient, ...]:
        return self.to + self.cc


class DeliveryError(RectifyError):
    """The message was not handed over; `code` and `reply` are the server's, when it answered."""

    retry: bool = False

    def __init__(
        self,
        key: str,
        reason: str,
        *,
        server: str | None = None,
        code: int | None = None,
        reply: str | None = None,
    ) -> None:
        self.key, self.reason, self.server, self.code, self.reply = key, reason, server, code, reply
        super().__init__(self._sentence())

    def _facts(self) -> str:
        parts = [self.server] if self.server else []
        if self.code is not None:
            answer = f"服务器答复 {self.code}"
            parts.append(f"{answer} {visible(self.reply)}" if self.reply else answer)
        return f"（{'，'.join(parts)}）" if parts else ""

    def _sentence(self) -> str:
        return f"邮件 {self.key} 无法投递{self._facts()}：{self.reason}"


class TemporaryFailure(DeliveryError):
    """Worth retrying later: the server or the network is unwell, not the message."""

    retry = True

    def _sentence(self) -> str:
        return f"邮件 {self.key} 暂时无法投递{self._facts()}：{self.reason}；稍后重试"


class PermanentFailure(DeliveryError):
    """Retrying cannot help: the server refused this message or an address is invalid."""

    def _sentence(self) -> str:
        return f"邮件 {self.key} 无法投递，不再重试{self._facts()}：{self.reason}"


def retry_delay(
    attempt: int, base: float = 30, cap: float = 3600, rng: random.Random | None = None
) -> float:
    """Seconds to wait after the `attempt`-th failure (1, 2, ...): capped exponential backoff
    with *full jitter* (AWS Architecture Blog, "Exponential Backoff and Jitter"):
    uniform(0, min(cap, base * 2 ** (attempt - 1))). Full jitter spreads retries of many
    messages that failed together (a server outage) across the whole window.
    """
    if attempt < 1:
        raise ValueError(f"attempt 应从 1 开始：{attempt}")
    if base <= 0 or cap < base:
        raise ValueError(f"应满足 0 < base <= cap：base={base}, cap={cap}")
    # Past 2**62 the ceiling is the cap anyway; stopping there avoids float overflow.
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 62))
    return (rng or random).uniform(0, ceiling)


def valid_addr_spec(address: str) -> bool:
    """A plain ASCII `local@domain`: one @, a dot-atom local part, a dotted hostname.

    Stricter than RFC 5322 on purpose: no quoted strings, comments, spaces, commas,
    angle brackets or control characters, so nothing can smuggle in a second address.
    """
    local, at, domain = address.partition("@")
    return bool(at) and valid_local_part(local) and valid_domain(domain)


def valid_local_part(local: str) -> bool:
    return 0 < len(local) <= 64 and all(_ATEXT.fullmatch(atom) for atom in local.split("."))


def valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return 0 < len(domain) <= 253 and len(labels) >= 2 and all(_LABEL.fullmatch(x) for x in labels)


def header_text(value: str) -> str:
    """User text made safe for a header: each run of line breaks, control and format
    characters becomes one space, so a subject or a name can never start a new header."""
    out: list[str] = []
    for ch in value:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            if not out or out[-1] != " ":
                out.append(" ")
        else:
            out.append(ch)
    return "".join(out).strip()


def visible(text: str) -> str:
    """Text for an error message with invisible characters shown as escapes (\\r, \\n, \\x00)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _check_mime_type(mime_type: str) -> None:
    if not _MIME_TYPE.fullmatch(mime_type):
        raise ValueError(f"MIME 类型应形如 type/subtype：{mime_type!r}")
