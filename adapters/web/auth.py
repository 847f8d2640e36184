"""Who is asking: login links, sessions and the login page's rate limit, all in the database.

Proving who someone is is a small interface (`Prover`): something that turns what the
browser brings into a person of org.yaml, or refuses. One prover ships, the login link
(`LinkProver`); another way (WeCom or DingTalk OAuth) would be another prover with its
own routes that ends the same way, by `Sessions.start(person)`.

Nothing is kept in a process's memory, so several web processes (on several machines,
one PostgreSQL site) serve the same people:

- a login link is a random token whose SHA-256 alone is stored, with its person, expiry
  and use; redeeming marks it used in the same UPDATE that checks it unused and unexpired;
- a digest link is signed instead (the daemon renders digests inside its write
  transaction and stores nothing for them): person, item, expiry and a random nonce,
  signed with the site's key; redeeming records its SHA-256 as used, once (unique);
- a session is a random id signed into the cookie; its SHA-256 is the row that says
  whose it is and until when; logout ends the row, so it ends in every process;
- the CSRF token is an HMAC of the session id with the site's key: nothing to store;
- asked-for links are counted per person and per client address in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapters.schema import web_asks, web_logins, web_sessions
from adapters.sqlstore import SqlStore
from engine.ports import Clock

COOKIE = "rectify_session"
SECRET_BYTES = 32
# Asked-for links: at most this many per person, and per client address, in the window.
ASKS_PER_PERSON = 3
ASKS_PER_CLIENT = 10
ASK_WINDOW = timedelta(hours=1)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def site_secret(path: Path) -> bytes:
    """The key that signs cookies and digest links: read from `path`, created there once
    (mode 0600) when missing. Every web process and daemon of a site must read the same
    file (copy it to each machine)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(SECRET_BYTES) + "\n")
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < 16:
        raise ValueError(f"{path}: 网页登录密钥过短（至少 16 个字符）")
    return text.encode()


class LoginRefused(Exception):
    """A link that is unknown, tampered with, used or expired: the message says which
    in Chinese; `person` is whom it named, when known."""

    def __init__(self, message: str, person: str | None = None, next_path: str = "/") -> None:
        super().__init__(message)
        self.person, self.next_path = person, next_path


@dataclass(frozen=True)
class Proof:
    """Who the browser proved to be, and where they were going."""

    person: str
    next_path: str


class Prover(Protocol):
    """One way of proving who someone is."""

    def redeem(self, token: str, at: datetime) -> Proof:
        """The person the token proves, or LoginRefused."""
        ...


def safe_next(path: str | None) -> str:
    """Only a path of this site (never another host) may follow a login."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 255:
        return "/"
    return path


class LinkProver:
    """Login links: random tokens stored hashed, and digest links signed with the site's key."""

    DIGEST_PREFIX = "d."

    def __init__(self, store: SqlStore, secret: bytes) -> None:
        self.store = store
        self._signer = URLSafeSerializer(secret, salt="rectify-digest-link")

    def issue(self, person: str, purpose: str, lifetime: timedelta, at: datetime, next_path: str = "/") -> str:
        """A new single-use token for `person`, valid for `lifetime` from `at`."""
        token = secrets.token_urlsafe(32)
        with self.store.write() as conn:
            conn.execute(insert(web_logins), {
                "token_hash": sha256(token), "person": person, "purpose": purpose,
                "next_path": safe_next(next_path), "created_at": at, "expires_at": at + lifetime})
        return token

    def digest_token(self, person: str, item_id: int, expires_at: datetime) -> str:
        """A signed single-use link opening `item_id` for `person` until `expires_at`."""
        nonce = secrets.token_urlsafe(9)
        return self.DIGEST_PREFIX + self._signer.dumps([person, item_id, int(expires_at.timestamp()), nonce])

    def redeem(self, token: str, at: datetime) -> Proof:
        if token.startswith(self.DIGEST_PREFIX):
            return self._redeem_signed(token[len(self.DIGEST_PREFIX):], at)
        return self._redeem_stored(token, at)

    def _redeem_stored(self, token: str, at: datetime) -> Proof:
        digest = sha256(token)
        with self.store.write() as conn:
            row = conn.execute(select(web_logins).where(web_logins.c.token_hash == digest)).first()
            if row is None:
                raise LoginRefused("登录链接无效：链接不完整或已被改动，请重新获取登录链接")
            if row.used_at is not None:
                raise LoginRefused("此登录链接已经使用过（每个链接只能使用一次），请重新获取登录链接", row.person,
                                   safe_next(row.next_path))
            if row.expires_at <= at:
                raise LoginRefused("此登录链接已过期，请重新获取登录链接", row.person)
            conn.execute(update(web_logins).where(web_logins.c.id == row.id).values(used_at=at))
        return Proof(row.person, safe_next(row.next_path))

    def _redeem_signed(self, payload: str, at: datetime) -> Proof:
        try:
            person, item_id, expires, _nonce = self._signer.loads(payload)
            expires_at = datetime.fromtimestamp(int(expires), at.tzinfo)
            item = int(item_id)
        except (BadSignature, ValueError, TypeError, OverflowError):
            raise LoginRefused("登录链接无效：链接不完整或已被改动，请重新获取登录链接") from None
        if expires_at <= at:
            raise LoginRefused("此邮件中的链接已过期，请重新获取登录链接", str(person))
        try:
            with self.store.write() as conn:
                conn.execute(insert(web_logins), {
                    "token_hash": sha256(payload), "person": str(person), "purpose": "digest",
                    "next_path": f"/items/{item}", "created_at": at, "expires_at": expires_at, "used_at": at})
        except Exception as exc:  # the unique hash: this link was used before
            if isinstance(exc.__cause__, IntegrityError) or isinstance(exc, IntegrityError):
                raise LoginRefused("此链接已经使用过（每个链接只能使用一次），请重新获取登录链接",
                                   str(person), f"/items/{item}") from None
            raise
        return Proof(str(person), f"/items/{item}")


@dataclass(frozen=True)
class Session:
    person: str
    id_hash: str
    csrf: str


class Sessions:
    """Sessions as database rows behind signed cookies."""

    def __init__(self, store: SqlStore, secret: bytes, lifetime: timedelta) -> None:
        self.store, self.lifetime = store, lifetime
        self._secret = secret
        self._signer = URLSafeSerializer(secret, salt="rectify-session")

    def start(self, person: str, at: datetime) -> str:
        """A new session for `person`; returns the cookie value."""
        sid = secrets.token_urlsafe(32)
        with self.store.write() as conn:
            conn.execute(insert(web_sessions), {"id_hash": sha256(sid), "person": person, "created_at": at,
                                                "expires_at": at + self.lifetime})
        return self._signer.dumps(sid)

    def find(self, cookie: str | None, at: datetime) -> Session | None:
        """The live session the cookie names, or None (missing, tampered, ended, expired)."""
        if not cookie:
            return None
        try:
            sid = str(self._signer.loads(cookie))
        except BadSignature:
            return None
        id_hash = sha256(sid)
        with self.store.read() as conn:
            row = conn.execute(select(web_sessions).where(web_sessions.c.id_hash == id_hash)).first()
        if row is None or row.ended_at is not None or row.expires_at <= at:
            return None
        return Session(row.person, id_hash, self.csrf_for(id_hash))

    @staticmethod
    def csrf_shape(token: str) -> bool:
        """Whether `token` looks like a session's CSRF token (64 hex digits) rather than
        a login form's random one."""
        return len(token) == 64 and all(c in "0123456789abcdef" for c in token)

    def csrf_for(self, id_hash: str) -> str:
        return hmac.new(self._secret, b"csrf:" + id_hash.encode(), hashlib.sha256).hexdigest()

    def end(self, session: Session, at: datetime) -> None:
        with self.store.write() as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.id_hash == session.id_hash).values(ended_at=at))


class AskLimit:
    """How many login links the login page may send: per person and per client address,
    in a sliding window, counted in the database (so it holds across processes)."""

    def __init__(self, store: SqlStore, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def allow(self, person: str | None, client: str, at: datetime) -> tuple[bool, bool]:
        """Record the ask; (within the client's limit, within the person's limit)."""
        since = at - ASK_WINDOW
        with self.store.write() as conn:
            by_client = conn.execute(select(func.count()).select_from(web_asks).where(
                and_(web_asks.c.client == client, web_asks.c.at > since))).scalar_one()
            by_person = 0
            if person is not None:
                by_person = conn.execute(select(func.count()).select_from(web_asks).where(
                    and_(web_asks.c.person == person, web_asks.c.at > since))).scalar_one()
            conn.execute(insert(web_asks), {"at": at, "person": person, "client": client[:64]})
        return by_client < ASKS_PER_CLIENT, by_person < ASKS_PER_PERSON
