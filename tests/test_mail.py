"""Mail delivery against a real SMTP server (aiosmtpd on 127.0.0.1) and into .eml files."""

from __future__ import annotations

import email
import random
import socket
import ssl
import subprocess
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from adapters.mail import FileMailer, SmtpMailer, build_email, mailer_for
from engine.clock import FakeClock
from engine.errors import ConfigError
from engine.mail import (
    Attachment,
    InlineImage,
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    TemporaryFailure,
    retry_delay,
)
from engine.site import MailConfig
from tests.smtpserver import PASSWORD, SENDER, USER, Recorder, Server, _check_login, _free_port  # noqa: F401

WHEN = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)
ZHANG = Recipient("张三（后勤处）", "zhangsan@school.example.org")
LI = Recipient("李四", "lisi@school.example.org")
SUBJECT = "【整改通知】实验楼三层消防通道堵塞，请于3个工作日内整改"
BODY = "张三老师：\n\n实验楼三层东侧消防通道被杂物堵塞。\n请于 2021年3月4日 前完成整改并上传照片。\n\n综治办\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _message(key: str = "outbox-123", **changes: Any) -> OutgoingMessage:
    base = OutgoingMessage(key=key, subject=SUBJECT, text=BODY, html=None, to=(ZHANG,))
    return replace(base, **changes)


def _plain(msg: EmailMessage) -> str:
    """The text part; MIME carries text with CRLF line ends (RFC 2046), so compare with LF."""
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


@pytest.fixture
def smtp(serve: Callable[..., Server]) -> Server:
    return serve()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, made by the openssl CLI."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
               "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"openssl 无法生成自签名证书：{exc}")
    return Certificate(cert, key)


# --- what arrives ---------------------------------------------------------------------


def test_a_chinese_subject_and_body_arrive_intact(smtp: Server) -> None:
    """A Chinese subject, names and body reach the server unchanged, from the configured sender."""
    SmtpMailer(smtp.config(), clock=FakeClock(WHEN)).send(_message(cc=(LI,)))
    (got,) = smtp.handler.received
    assert got.mail_from == SENDER
    assert got.rcpt_tos == [ZHANG.email, LI.email]
    msg = got.message
    assert msg["Subject"] == SUBJECT
    assert msg["To"].addresses[0].display_name == ZHANG.name
    assert msg["Cc"].addresses[0].display_name == LI.name
    assert msg["Date"].datetime == WHEN
    assert msg["Auto-Submitted"] == "auto-generated"
    assert _plain(msg) == BODY
    # Only ASCII on the wire: no server needs 8BITMIME or SMTPUTF8.
    assert got.content.isascii()


def test_html_with_an_inline_image_and_an_xlsx_attachment_arrive(smtp: Server) -> None:
    """The HTML alternative shows its image by cid, and the spreadsheet arrives byte for byte."""
    png, sheet = b"\x89PNG\r\n\x1a\nfake", b"PK\x03\x04 fake xlsx \x00\xff"
    message = _message(
        html='<p>实验楼三层</p><img src="cid:photo-1@rectify">',
        inline_images=(InlineImage("photo-1@rectify", png, "image/png", "现场照片.png"),),
        attachments=(Attachment("隐患清单.xlsx", sheet, XLSX),),
    )
    SmtpMailer(smtp.config()).send(message)
    msg = smtp.handler.received[0].message
    assert msg.get_content_type() == "multipart/mixed"
    html = msg.get_body(("html",))
    assert html is not None and "实验楼三层" in html.get_content()
    assert _plain(msg) == BODY
    (image,) = [p for p in msg.walk() if p["Content-ID"] == "<photo-1@rectify>"]
    assert image.get_content() == png
    (attached,) = list(msg.iter_attachments())
    assert attached.get_filename() == "隐患清单.xlsx"
    assert attached.get_content_type() == XLSX
    assert attached.get_content() == sheet


def test_the_message_id_is_the_same_on_every_send_of_a_key(smtp: Server) -> None:
    """Sending one outbox row twice (a retry) gives the same Message-ID, so duplicates are visible."""
    mailer = SmtpMailer(smtp.config())
    mailer.send(_message("outbox-123"))
    mailer.send(_message("outbox-123"))
    mailer.send(_message("outbox-124"))
    ids = [r.message["Message-ID"] for r in smtp.handler.received]
    assert ids == ["<outbox-123@school.example.org>"] * 2 + ["<outbox-124@school.example.org>"]


def test_a_recipient_in_to_and_cc_is_sent_to_once(smtp: Server) -> None:
    """The envelope names each address once even if org.yaml puts a person in To and Cc."""
    twin = Recipient("张三", ZHANG.email.upper())
    SmtpMailer(smtp.config()).send(_message(cc=(twin, LI)))
    assert smtp.handler.received[0].rcpt_tos == [ZHANG.email, LI.email]


# --- header injection -----------------------------------------------------------------


def _headers(msg: EmailMessage) -> list[str]:
    return sorted(name.lower() for name in msg.keys())


BASE_HEADERS = sorted(["from", "to", "subject", "date", "message-id", "auto-submitted",
                       "mime-version", "content-type", "content-transfer-encoding"])


def test_a_subject_with_crlf_adds_no_header_and_no_recipient(smtp: Server) -> None:
    """CR/LF in a subject becomes a space: no Bcc header appears and the envelope is unchanged."""
    SmtpMailer(smtp.config()).send(_message(subject="标题\r\nBcc: evil@example.org\r\n\r\nbody"))
    (got,) = smtp.handler.received
    assert got.rcpt_tos == [ZHANG.email]
    assert _headers(got.message) == BASE_HEADERS
    assert got.message["Subject"] == "标题 Bcc: evil@example.org body"
    header_lines = got.content.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert not [line for line in header_lines if line.lower().startswith(b"bcc")]


def test_a_display_name_with_crlf_adds_no_header_and_no_recipient(smtp: Server) -> None:
    """CR/LF and separators in a person's name stay inside the name of that one address."""
    to = Recipient("张三\r\nBcc: evil@example.org", ZHANG.email)
    cc = Recipient('Li", evil2@example.org, "x\n', LI.email)
    SmtpMailer(smtp.config()).send(_message(to=(to,), cc=(cc,)))
    (got,) = smtp.handler.received
    assert got.rcpt_tos == [ZHANG.email, LI.email]
    assert _headers(got.message) == sorted([*BASE_HEADERS, "cc"])
    (to_address,) = got.message["To"].addresses
    (cc_address,) = got.message["Cc"].addresses
    assert (to_address.addr_spec, cc_address.addr_spec) == (ZHANG.email, LI.email)
    assert to_address.display_name == "张三 Bcc: evil@example.org"
    assert cc_address.display_name == 'Li", evil2@example.org, "x'


@pytest.mark.parametrize("bad", [
    "a@example.org\r\nBcc: x@example.org",
    "a@example.org, b@example.org",
    "张三 <a@example.org>",
    "a@example.org>",
    '"a b"@example.org',
    "a@b@example.org",
    "a@example.org\x00",
    "a @example.org",
    "a@",
    "a@localhost",
])
def test_an_unsafe_address_is_refused_before_connecting(smtp: Server, bad: str) -> None:
    """An address that is not a plain local@domain is a PermanentFailure that names it; nothing is sent."""
    with pytest.raises(PermanentFailure) as err:
        SmtpMailer(smtp.config()).send(_message(to=(LI, Recipient("王五", bad))))
    text = str(err.value)
    assert "王五" in text and "邮件地址无效" in text
    assert bad.replace("\r", "\\r").replace("\n", "\\n").replace("\x00", "\\x00") in text
    assert "\r" not in text and "\n" not in text
    assert smtp.handler.received == []


@given(subject=st.text(), name=st.text(), other=st.text())
def test_no_subject_or_name_changes_the_headers_or_recipients(subject: str, name: str, other: str) -> None:
    """Whatever text a subject or display name holds, the message has the same headers and addresses."""
    message = _message(subject=subject, to=(Recipient(name, ZHANG.email),),
                       cc=(Recipient(other, LI.email),))
    built = build_email(message, SENDER, "school.example.org", now=WHEN)
    parsed = email.message_from_bytes(built.as_bytes(), policy=policy.default)
    assert sorted(parsed.keys()) == sorted(built.keys())
    assert len(parsed.keys()) == len(BASE_HEADERS) + 1
    assert [a.addr_spec for a in parsed["To"].addresses] == [ZHANG.email]
    assert [a.addr_spec for a in parsed["Cc"].addresses] == [LI.email]
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]


def test_a_message_for_cc_only_has_an_empty_to_group(smtp: Server) -> None:
    """With nobody in To the header says undisclosed-recipients and the Cc people still get it."""
    SmtpMailer(smtp.config()).send(_message(to=(), cc=(LI,)))
    (got,) = smtp.handler.received
    assert got.rcpt_tos == [LI.email]
    assert got.message["To"].addresses == ()
    assert [a.addr_spec for a in got.message["Cc"].addresses] == [LI.email]


def test_a_message_without_recipients_is_permanent() -> None:
    """An outbox row that names nobody can never be delivered."""
    with pytest.raises(PermanentFailure, match="没有收件人"):
        build_email(_message(to=()), SENDER, "school.example.org")


def test_an_outbox_key_must_be_safe_as_a_file_name_and_message_id() -> None:
    """A key with a path separator, spaces or angle brackets is a caller's bug, refused at once."""
    for key in ["../etc/passwd", "a b", "<x>", "", ".hidden", "a..b", "a\n"]:
        with pytest.raises(ValueError, match="邮件标识"):
            _message(key)


# --- what the server answers ----------------------------------------------------------


@pytest.mark.parametrize(("where", "code", "failure"), [
    ("rcpt", 451, TemporaryFailure),
    ("rcpt", 550, PermanentFailure),
    ("data", 451, TemporaryFailure),
    ("data", 554, PermanentFailure),
])
def test_a_4xx_is_temporary_and_a_5xx_is_permanent(
    serve: Callable[..., Server], where: str, code: int, failure: type[Exception]
) -> None:
    """The server's code decides: 4xx means retry later, 5xx means dead letter; the reply is quoted."""
    reply = f"{code} 4.7.1 Try again later" if code < 500 else f"{code} 5.1.1 No such user"
    if where == "rcpt":
        handler = Recorder(rcpt_reply=lambda address: reply)
    else:
        handler = Recorder(data_reply=reply)
    server = serve(handler)
    with pytest.raises(failure) as err:
        SmtpMailer(server.config()).send(_message())
    assert err.value.code == code  # type: ignore[attr-defined]
    assert f"服务器答复 {code}" in str(err.value) and reply[4:] in str(err.value)
    assert f"127.0.0.1:{server.port}" in str(err.value)


def test_when_some_recipients_are_refused_the_others_still_get_it(serve: Callable[..., Server]) -> None:
    """A 550 for one address while another is accepted is no failure: a retry would duplicate."""
    server = serve(Recorder(rcpt_reply=lambda a: "550 5.1.1 No such user" if a == LI.email else None))
    with capture_logs() as logs:
        SmtpMailer(server.config()).send(_message(cc=(LI,)))
    assert server.handler.received[0].rcpt_tos == [ZHANG.email]
    assert [e for e in logs if e["event"] == "mail_partly_refused"][0]["refused"] == {LI.email: 550}


def test_nothing_listening_is_temporary() -> None:
    """A refused connection (server down) is worth retrying."""
    config = MailConfig(transport="smtp", host="127.0.0.1", port=_free_port(), sender=SENDER)
    with pytest.raises(TemporaryFailure, match="连接被拒绝"):
        SmtpMailer(config).send(_message())


def test_a_server_that_never_greets_times_out_as_temporary() -> None:
    """A server that accepts the connection but says nothing fails after timeout_seconds, as temporary."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        config = MailConfig(transport="smtp", host="127.0.0.1", port=silent.getsockname()[1],
                            sender=SENDER, timeout_seconds=0.2)
        with pytest.raises(TemporaryFailure, match="0.2 秒内没有响应"):
            SmtpMailer(config).send(_message())


# --- sessions -------------------------------------------------------------------------


def test_a_session_sends_several_messages_over_one_connection(smtp: Server) -> None:
    """Inside session() every send reuses the same connection."""
    mailer = SmtpMailer(smtp.config())
    with mailer.session():
        for n in range(3):
            mailer.send(_message(f"outbox-{n}"))
    peers = {r.peer for r in smtp.handler.received}
    assert len(smtp.handler.received) == 3 and len(peers) == 1


def test_after_a_failure_in_a_session_the_next_send_reconnects(serve: Callable[..., Server]) -> None:
    """A refused message does not poison the session: the next message goes out on a new connection."""
    server = serve(Recorder(rcpt_reply=lambda a: "550 5.1.1 No such user" if a == LI.email else None))
    mailer = SmtpMailer(server.config())
    with mailer.session():
        with pytest.raises(PermanentFailure):
            mailer.send(_message("outbox-1", to=(LI,)))
        mailer.send(_message("outbox-2"))
        mailer.send(_message("outbox-3"))
    assert [r.message["Message-ID"] for r in server.handler.received] == [
        "<outbox-2@school.example.org>", "<outbox-3@school.example.org>"]
    assert len({r.peer for r in server.handler.received}) == 1


def test_a_session_reconnects_when_the_server_dropped_the_idle_connection(smtp: Server) -> None:
    """A connection the server closed between two sends is replaced, not reported as a failure."""
    mailer = SmtpMailer(smtp.config())
    with mailer.session():
        mailer.send(_message("outbox-1"))
        assert mailer._conn is not None and mailer._conn.sock is not None
        # What a server's idle timeout looks like to the client: the connection is gone.
        mailer._conn.sock.shutdown(socket.SHUT_RDWR)
        mailer.send(_message("outbox-2"))
    assert len(smtp.handler.received) == 2
    assert len({r.peer for r in smtp.handler.received}) == 2


# --- TLS and login --------------------------------------------------------------------


def test_login_over_starttls_with_the_password_from_an_env_var(
    serve: Callable[..., Server], certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """security=starttls upgrades the connection, then logs in with the password from password_env."""
    monkeypatch.setenv("RECTIFY_TEST_SMTP_PASSWORD", PASSWORD)
    server = serve(tls_context=certificate.server_context(), require_starttls=True,
                   authenticator=_check_login, auth_required=True)
    config = server.config(security="starttls", username=USER, password_env="RECTIFY_TEST_SMTP_PASSWORD")
    with capture_logs() as logs:
        SmtpMailer(config, ssl_context=certificate.client_context()).send(_message())
    (got,) = server.handler.received
    assert got.tls and got.login == USER.encode()
    assert PASSWORD not in repr(logs)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_over_ssl_with_the_password_from_a_file(
    serve: Callable[..., Server], certificate: Certificate, tmp_path: Path
) -> None:
    """security=ssl speaks TLS from the first byte; the password file's trailing newline is dropped."""
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    # aiosmtpd counts only STARTTLS as encryption, so AUTH over implicit TLS needs auth_require_tls=False.
    server = serve(ssl_context=certificate.server_context(), authenticator=_check_login,
                   auth_required=True, auth_require_tls=False)
    config = server.config(security="ssl", username=USER, password_file=str(secret))
    SmtpMailer(config, ssl_context=certificate.client_context()).send(_message())
    (got,) = server.handler.received
    assert got.tls and got.login == USER.encode()


def test_an_untrusted_certificate_is_temporary(serve: Callable[..., Server], certificate: Certificate) -> None:
    """With the default context a self-signed certificate fails verification: retry, do not dead-letter."""
    server = serve(tls_context=certificate.server_context(), require_starttls=True)
    with pytest.raises(TemporaryFailure, match="TLS"):
        SmtpMailer(server.config(security="starttls")).send(_message())


def test_a_wrong_password_is_temporary_and_the_password_is_nowhere(
    serve: Callable[..., Server], certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 535 at login is about the settings, not the message; the password is in no text and no frame."""
    wrong = "wrong-pass-0815"
    monkeypatch.setenv("RECTIFY_TEST_SMTP_PASSWORD", wrong)
    server = serve(tls_context=certificate.server_context(), require_starttls=True,
                   authenticator=_check_login, auth_required=True)
    mailer = SmtpMailer(server.config(security="starttls", username=USER,
                                      password_env="RECTIFY_TEST_SMTP_PASSWORD"),
                        ssl_context=certificate.client_context())
    with capture_logs() as logs, pytest.raises(TemporaryFailure, match="登录失败") as err:
        mailer.send(_message())
    assert err.value.code == 535
    shown = "".join(traceback.format_exception(err.value)) + repr(mailer) + repr(logs)
    assert wrong not in shown
    assert err.value.__context__ is None and err.value.__cause__ is None
    # Rich tracebacks print every frame's locals: no frame below this test may hold the password.
    frames = [frame for frame, _ in traceback.walk_tb(err.value.__traceback__)]
    assert [f.f_code.co_name for f in frames[1:]] == ["send", "_open", "_login"]
    assert not [f for f in frames[1:] if wrong in repr(f.f_locals)]
    assert server.handler.received == []


def test_a_missing_password_is_a_clear_config_error(
    smtp: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unset password variable or a missing password file is named in a Chinese ConfigError."""
    monkeypatch.delenv("RECTIFY_NO_SUCH_PASSWORD", raising=False)
    by_env = smtp.config(username=USER, password_env="RECTIFY_NO_SUCH_PASSWORD")
    with pytest.raises(ConfigError, match="环境变量 RECTIFY_NO_SUCH_PASSWORD 未设置或为空"):
        SmtpMailer(by_env).send(_message())
    missing = tmp_path / "no-such-file"
    with pytest.raises(ConfigError, match=f"无法读取 mail.password_file 指定的密码文件 {missing}"):
        SmtpMailer(smtp.config(username=USER, password_file=str(missing))).send(_message())
    assert smtp.handler.received == []


def test_a_non_ascii_password_is_refused_without_showing_it(
    smtp: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """smtplib can only send ASCII passwords; a Chinese one is a ConfigError that does not quote it."""
    monkeypatch.setenv("RECTIFY_TEST_SMTP_PASSWORD", "安全口令2021")
    config = smtp.config(username=USER, password_env="RECTIFY_TEST_SMTP_PASSWORD")
    with pytest.raises(ConfigError, match="非 ASCII") as err:
        SmtpMailer(config).send(_message())
    assert "安全口令" not in str(err.value) and err.value.__context__ is None


def test_starttls_on_a_server_without_it_is_temporary(smtp: Server) -> None:
    """security=starttls never falls back to plain text: a server without STARTTLS is a retryable error."""
    with pytest.raises(TemporaryFailure, match="mail.security"):
        SmtpMailer(smtp.config(security="starttls")).send(_message())
    assert smtp.handler.received == []


def test_settings_that_cannot_log_in_are_refused_when_the_mailer_is_made() -> None:
    """A username without a password source, or with two, is a ConfigError before any connection."""
    with pytest.raises(ConfigError, match="还需设置 mail.password_env 或 mail.password_file"):
        SmtpMailer(MailConfig(transport="smtp", sender=SENDER, username=USER))
    with pytest.raises(ConfigError, match="只能设置其一"):
        SmtpMailer(MailConfig(transport="smtp", sender=SENDER, username=USER,
                              password_env="X", password_file="/x"))
    with pytest.raises(ConfigError, match="mail.from"):
        SmtpMailer(MailConfig(transport="smtp", sender="安全办 <a@example.org>"))
    with pytest.raises(ConfigError, match="mail.security"):
        SmtpMailer(MailConfig(transport="smtp", sender=SENDER, security="tls"))


# --- files ----------------------------------------------------------------------------


def test_the_file_mailer_writes_one_eml_per_key_and_a_resend_replaces_it(tmp_path: Path) -> None:
    """Each key becomes <key>.eml; sending a key again overwrites its file; no temporary files remain."""
    outbox = tmp_path / "mail" / "out"
    mailer = FileMailer(outbox, sender=SENDER, clock=FakeClock(WHEN))
    mailer.send(_message("outbox-1"))
    mailer.send(_message("outbox-2"))
    mailer.send(_message("outbox-1", subject="第二次发送"))
    assert sorted(p.name for p in outbox.iterdir()) == ["outbox-1.eml", "outbox-2.eml"]
    msg = email.message_from_bytes((outbox / "outbox-1.eml").read_bytes(), policy=policy.default)
    assert msg["Subject"] == "第二次发送"
    assert msg["Message-ID"] == "<outbox-1@school.example.org>"
    assert _plain(msg) == BODY


def test_the_file_mailer_refuses_the_same_bad_addresses_as_smtp(tmp_path: Path) -> None:
    """The file sink is a real Mailer: an injected address fails there too, and no file is written."""
    with pytest.raises(PermanentFailure):
        FileMailer(tmp_path).send(_message(to=(Recipient("x", "a@example.org, b@example.org"),)))
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_written_is_temporary(tmp_path: Path) -> None:
    """A full disk or a read-only directory is worth retrying, and says which directory."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(TemporaryFailure, match="无法写入邮件文件"):
        FileMailer(blocker / "mail").send(_message())


def test_mailer_for_follows_the_transport(tmp_path: Path) -> None:
    """transport=file gives a FileMailer on outbox_dir; transport=smtp gives an SmtpMailer."""
    file_mailer = mailer_for(MailConfig(transport="file", outbox_dir=tmp_path / "mail", sender=SENDER))
    assert isinstance(file_mailer, FileMailer) and file_mailer.directory == tmp_path / "mail"
    assert isinstance(mailer_for(MailConfig(transport="smtp", sender=SENDER)), SmtpMailer)


# --- retry delays ---------------------------------------------------------------------


class _Highest(random.Random):
    """Always draws the top of the range, to see the backoff ceiling itself."""

    def random(self) -> float:
        return 1.0


@given(attempt=st.integers(1, 10_000), base=st.floats(0.1, 600), extra=st.floats(0, 100_000),
       seed=st.integers())
def test_retry_delay_is_jittered_within_the_capped_exponential_ceiling(
    attempt: int, base: float, extra: float, seed: int
) -> None:
    """Full jitter: the delay lies in [0, min(cap, base * 2**(attempt-1))]."""
    cap = base + extra
    delay = retry_delay(attempt, base, cap, random.Random(seed))
    assert 0 <= delay <= min(cap, base * 2.0 ** min(attempt - 1, 62))


@given(attempt=st.integers(1, 200))
def test_retry_delay_ceiling_doubles_until_the_cap(attempt: int) -> None:
    """The ceiling grows 30, 60, 120, ... seconds and stays at the one-hour cap."""
    top = _Highest()
    assert retry_delay(attempt, rng=top) == min(3600, 30 * 2 ** (attempt - 1))
    assert retry_delay(attempt + 1, rng=top) >= retry_delay(attempt, rng=top)


def test_retry_delays_spread_out() -> None:
    """Two messages that failed together do not retry at the same instant."""
    rng = random.Random(7)
    delays = {retry_delay(5, rng=rng) for _ in range(20)}
    assert len(delays) == 20 and max(delays) <= 480


def test_retry_delay_refuses_nonsense() -> None:
    """Attempt 0 or a cap below the base is a caller's bug."""
    with pytest.raises(ValueError):
        retry_delay(0)
    with pytest.raises(ValueError):
        retry_delay(1, base=60, cap=30)

