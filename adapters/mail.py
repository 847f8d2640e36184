"""Mail delivery: OutgoingMessage to RFC 5322 bytes, handed to an SMTP server or written to .eml files.

Every address is built with `email.headerregistry.Address` from a Recipient (org.yaml),
never parsed from text, and the envelope recipients are passed to SMTP explicitly, so no
subject, name or body can add a recipient (CVE-2023-27043 concerns the parser we avoid).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from pathlib import Path

import structlog

from adapters.clock import SystemClock
from engine.errors import ConfigError
from engine.mail import (
    DeliveryError,
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    TemporaryFailure,
    header_text,
    valid_addr_spec,
    visible,
)
from engine.ports import Clock, Mailer
from engine.site import CONFIG_FILE, MailConfig

log = structlog.get_logger("rectify.mail")

# SMTP line endings and RFC 2047 headers; bodies base64/quoted-printable so that no server
# has to support 8BITMIME.
POLICY = policy.SMTP.clone(cte_type="7bit")
SECURITY = ("none", "starttls", "ssl")


def build_email(
    message: OutgoingMessage,
    sender: str,
    domain: str,
    *,
    sender_name: str = "",
    now: datetime | None = None,
) -> EmailMessage:
    """The message as an EmailMessage; PermanentFailure if a recipient address is invalid."""
    _check_sender(sender, domain)
    if not message.recipients:
        raise PermanentFailure(message.key, "没有收件人")
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(display_name=header_text(sender_name), addr_spec=sender)
    msg["To"] = [_address(message.key, r) for r in message.to] or "undisclosed-recipients:;"
    if message.cc:
        msg["Cc"] = [_address(message.key, r) for r in message.cc]
    msg["Subject"] = header_text(message.subject)
    msg["Date"] = format_datetime(now or SystemClock().now())
    msg["Message-ID"] = message_id(message.key, domain)
    # RFC 3834: tells autoresponders (out-of-office) not to answer a notification.
    msg["Auto-Submitted"] = "auto-generated"
    _set_body(msg, message)
    return msg


def message_id(key: str, domain: str) -> str:
    """The same on every retry, so a duplicate sent after a lost "250" is recognisable."""
    return f"<{key}@{domain}>"


def envelope_recipients(message: OutgoingMessage) -> list[str]:
    """RCPT TO addresses: To then Cc, each once (addresses compare case-insensitively)."""
    seen: set[str] = set()
    out = []
    for recipient in message.recipients:
        if recipient.email.lower() not in seen:
            seen.add(recipient.email.lower())
            out.append(recipient.email)
    return out


def _check_sender(sender: str, domain: str) -> None:
    # The sender and domain come from rectify.yaml: a mistake there is the site's, not the message's.
    if not valid_addr_spec(sender):
        raise ConfigError.single(CONFIG_FILE, None, f"mail.from 不是有效的邮件地址：{visible(sender)}")
    if not valid_addr_spec(f"x@{domain}"):
        raise ConfigError.single(CONFIG_FILE, None, f"邮件域名无效：{visible(domain)}")


def _address(key: str, recipient: Recipient) -> Address:
    if not valid_addr_spec(recipient.email):
        raise PermanentFailure(
            key, f"收件人“{visible(recipient.name)}”的邮件地址无效：{visible(recipient.email)}"
        )
    return Address(display_name=header_text(recipient.name), addr_spec=recipient.email)


def _set_body(msg: EmailMessage, message: OutgoingMessage) -> None:
    msg.set_content(message.text)
    if message.html is not None:
        msg.add_alternative(message.html, subtype="html")
        html_part = msg.get_body(("html",))
        assert isinstance(html_part, MIMEPart)
        for image in message.inline_images:
            maintype, subtype = image.mime_type.split("/")
            html_part.add_related(
                image.content, maintype, subtype, cid=f"<{image.cid}>",
                filename=header_text(image.filename) if image.filename else None,
            )
    for attachment in message.attachments:
        maintype, subtype = attachment.mime_type.split("/")
        msg.add_attachment(
            attachment.content, maintype, subtype,
            filename=header_text(attachment.filename) or "attachment",
        )


class SmtpMailer:
    """Sends by SMTP. One connection per message, or one per `session()` block.

    Not thread-safe: give each sending thread its own mailer. The password is read when
    a connection logs in and is never stored on the mailer, logged or put in an error.
    """

    def __init__(
        self,
        config: MailConfig,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
        sender_name: str = "",
        local_hostname: str | None = None,
    ) -> None:
        _check_config(config)
        self.config = config
        self.domain = config.sender.rpartition("@")[2]
        self._ssl_context = ssl_context
        self._clock = clock or SystemClock()
        self._sender_name = sender_name
        self._local_hostname = local_hostname
        self._in_session = False
        self._conn: smtplib.SMTP | None = None

    @property
    def server(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def __repr__(self) -> str:
        return (f"SmtpMailer({self.server}, security={self.config.security}, "
                f"username={self.config.username!r})")

    def send(self, message: OutgoingMessage) -> None:
        email_message = build_email(
            message, self.config.sender, self.domain,
            sender_name=self._sender_name, now=self._clock.now(),
        )
        conn = self._reusable_connection() or self._open(message.key)
        try:
            refused = self._transmit(conn, email_message, envelope_recipients(message), message.key)
        except BaseException:
            # The connection's state is unknown after any failure: never reuse it.
            self._conn = None
            conn.close()
            raise
        if self._in_session:
            self._conn = conn
        else:
            _quit(conn)
        log.info("mail_sent", key=message.key, server=self.server, recipients=len(message.recipients))
        if refused:
            log.warning("mail_partly_refused", key=message.key, server=self.server,
                        refused={addr: code for addr, (code, _) in refused.items()})

    @contextmanager
    def session(self) -> Iterator[SmtpMailer]:
        """Reuse one connection for the sends in the block; after a failure the next send
        reconnects. The connection opens at the first send and closes (QUIT) at the end."""
        if self._in_session:
            raise RuntimeError("SmtpMailer.session() 不能嵌套")
        self._in_session = True
        try:
            yield self
        finally:
            self._in_session = False
            conn, self._conn = self._conn, None
            if conn is not None:
                _quit(conn)

    def _reusable_connection(self) -> smtplib.SMTP | None:
        """The session's connection if the server still answers NOOP; servers drop idle ones,
        and finding out here costs one round trip instead of a failed message."""
        conn, self._conn = self._conn, None
        if conn is None:
            return None
        try:
            if conn.noop()[0] == 250:
                return conn
        except (smtplib.SMTPException, OSError):
            pass
        conn.close()
        return None

    def _open(self, key: str) -> smtplib.SMTP:
        try:
            conn = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise _session_failure(exc, key, self.server, self.config.timeout_seconds) from exc
        try:
            self._login(conn, key)
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        conn: smtplib.SMTP
        # Both connect in the constructor and close their socket if the greeting fails.
        if config.security == "ssl":
            conn = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_seconds,
                                    context=self._context(), local_hostname=self._local_hostname)
        else:
            conn = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds,
                                local_hostname=self._local_hostname)
        try:
            if config.security == "starttls":
                conn.starttls(context=self._context())
        except BaseException:
            conn.close()
            raise
        return conn

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _login(self, conn: smtplib.SMTP, key: str) -> None:
        if not self.config.username:
            return
        failure: DeliveryError | None = None
        try:
            conn.login(self.config.username, _password(self.config))
        except (smtplib.SMTPException, OSError) as exc:
            failure = _session_failure(exc, key, self.server, self.config.timeout_seconds)
        finally:
            # smtplib keeps the password on the connection after login; drop it.
            conn.password = ""  # type: ignore[attr-defined]
        if failure is not None:
            # Raised outside the handler on purpose: no __context__ chaining back to
            # smtplib's login frame, whose locals (shown by rich tracebacks) hold the password.
            raise failure

    def _transmit(
        self, conn: smtplib.SMTP, msg: EmailMessage, to_addrs: list[str], key: str
    ) -> dict[str, tuple[int, bytes]]:
        try:
            return conn.send_message(msg, from_addr=self.config.sender, to_addrs=to_addrs)
        except (smtplib.SMTPException, OSError) as exc:
            raise _message_failure(exc, key, self.server, self.config.timeout_seconds) from exc


class FileMailer:
    """Writes each message to `<directory>/<key>.eml` (the bytes SMTP would carry).

    The file appears whole or not at all; sending the same key again replaces it.
    """

    def __init__(
        self,
        directory: Path,
        *,
        sender: str = "rectify@example.org",
        sender_name: str = "",
        clock: Clock | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.sender = sender
        self.domain = sender.rpartition("@")[2]
        _check_sender(sender, self.domain)
        self._sender_name = sender_name
        self._clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"FileMailer({str(self.directory)!r})"

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.eml"

    def send(self, message: OutgoingMessage) -> None:
        email_message = build_email(
            message, self.sender, self.domain, sender_name=self._sender_name, now=self._clock.now()
        )
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.path_for(message.key), email_message.as_bytes())
        except OSError as exc:
            raise TemporaryFailure(
                message.key, f"无法写入邮件文件：{exc.strerror or exc}", server=str(self.directory)
            ) from exc
        log.info("mail_written", key=message.key, path=str(self.path_for(message.key)))


def mailer_for(config: MailConfig, *, clock: Clock | None = None, sender_name: str = "") -> Mailer:
    if config.transport == "smtp":
        return SmtpMailer(config, clock=clock, sender_name=sender_name)
    if config.transport == "file":
        return FileMailer(config.outbox_dir, sender=config.sender, clock=clock, sender_name=sender_name)
    raise ConfigError.single(CONFIG_FILE, None, f"邮件方式应为 smtp 或 file：{config.transport}")


def _check_config(config: MailConfig) -> None:
    _check_sender(config.sender, config.sender.rpartition("@")[2])
    if config.security not in SECURITY:
        raise ConfigError.single(
            CONFIG_FILE, None, f"mail.security 应为 none、starttls 或 ssl：{config.security}"
        )
    if config.username and not (config.password_env or config.password_file):
        raise ConfigError.single(
            CONFIG_FILE, None, "设置了 mail.username，还需设置 mail.password_env 或 mail.password_file"
        )
    if config.password_env and config.password_file:
        raise ConfigError.single(
            CONFIG_FILE, None, "mail.password_env 与 mail.password_file 只能设置其一"
        )


def _password(config: MailConfig) -> str:
    """The SMTP password from the environment variable or the file named in rectify.yaml."""
    if config.password_env:
        value = os.environ.get(config.password_env)
        if not value:
            raise ConfigError.single(
                CONFIG_FILE, None,
                f"mail.password_env 指定的环境变量 {config.password_env} 未设置或为空，无法登录邮件服务器",
            )
        return _ascii_only(value, f"环境变量 {config.password_env}")
    assert config.password_file  # _check_config: a username comes with one password source
    try:
        value = Path(config.password_file).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError.single(
            CONFIG_FILE, None,
            f"无法读取 mail.password_file 指定的密码文件 {config.password_file}：{exc.strerror or exc}",
        ) from None
    if not value:
        raise ConfigError.single(
            CONFIG_FILE, None, f"mail.password_file 指定的密码文件 {config.password_file} 是空的"
        )
    return _ascii_only(value, f"密码文件 {config.password_file}")


def _ascii_only(password: str, source: str) -> str:
    # smtplib encodes AUTH as ASCII; say so here rather than fail inside login with the
    # password inside a UnicodeEncodeError.
    if not password.isascii():
        raise ConfigError.single(
            CONFIG_FILE, None, f"{source} 中的邮件密码含非 ASCII 字符（如中文或全角符号），smtplib 无法用它登录"
        )
    return password


def _quit(conn: smtplib.SMTP) -> None:
    """Say goodbye; the message is already accepted, so a failing QUIT is no failure."""
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def _message_failure(exc: OSError, key: str, server: str, timeout: float) -> DeliveryError:
    """A failure while sending one message: the server's 5xx about it is final."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _recipients_refused(exc, key, server)
    if isinstance(exc, smtplib.SMTPResponseException):
        failure = PermanentFailure if 500 <= exc.smtp_code < 600 else TemporaryFailure
        return failure(key, "服务器拒收这封邮件", server=server, code=exc.smtp_code,
                       reply=_text(exc.smtp_error))
    return _network_failure(exc, key, server, timeout)


def _recipients_refused(exc: smtplib.SMTPRecipientsRefused, key: str, server: str) -> DeliveryError:
    # smtplib raises this only when every recipient was refused; one 4xx among them is worth a retry.
    refused = sorted(exc.recipients.items())
    codes = [code for _, (code, _) in refused]
    failure = TemporaryFailure if any(code < 500 for code in codes) else PermanentFailure
    first_code, first_reply = refused[0][1]
    names = "、".join(addr for addr, _ in refused)
    return failure(key, f"收件人全部被拒收：{names}", server=server, code=first_code,
                   reply=_text(first_reply))


def _session_failure(exc: OSError, key: str, server: str, timeout: float) -> TemporaryFailure:
    """A failure before any message was offered (connect, TLS, login): it says nothing about
    the message, so it is never final for it, whatever the code (a wrong password is a 535)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return TemporaryFailure(key, "邮件服务器登录失败，请检查 mail.username 和密码", server=server,
                                code=exc.smtp_code, reply=_text(exc.smtp_error))
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return TemporaryFailure(key, f"邮件服务器不支持所需功能（{exc}），请检查 mail.security",
                                server=server)
    if isinstance(exc, smtplib.SMTPResponseException):
        return TemporaryFailure(key, "邮件服务器拒绝建立会话", server=server, code=exc.smtp_code,
                                reply=_text(exc.smtp_error))
    return _network_failure(exc, key, server, timeout)


def _network_failure(exc: OSError, key: str, server: str, timeout: float) -> TemporaryFailure:
    # smtplib reports a read that timed out as a disconnect, with the timeout as its context.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        reason = f"邮件服务器 {timeout:g} 秒内没有响应"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        reason = "邮件服务器断开了连接"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "连接被拒绝（服务器未运行，或主机、端口不对）"
    elif isinstance(exc, ssl.SSLError):
        reason = f"TLS 加密连接失败：{exc.reason or exc}"
    else:
        reason = f"网络错误：{exc.strerror or exc}"
    return TemporaryFailure(key, reason, server=server)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _write_atomically(path: Path, data: bytes) -> None:
    # The temporary name starts with "." and ends ".tmp": a reader of *.eml never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
