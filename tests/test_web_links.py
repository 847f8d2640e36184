"""Digest emails link each item for their recipient; `rectify web link` prints a login
link; the web section of rectify.yaml."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli.base import cli
from adapters.wiring import open_app
from engine.clock import FakeClock
from engine.errors import ConfigError
from tests.conftest import START
from tests.daemonharness import deliver_around_the_clock
from tests.smtpserver import Server, use_smtp
from tests.webclient import BASE, Browser, enable_web, hazard, text_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _tick_mail(site: Path, mailer: object | None = None) -> tuple[object, list[int]]:
    app = open_app(site, FakeClock(START))
    ids = [hazard(app, "实训楼消防通道堵塞", state="assigned").id or 0, hazard(app, "灭火器过期").id or 0]
    app.service.clock.advance(timedelta(days=42))  # type: ignore[attr-defined]  # a Monday, 09:00: office hours
    app.scheduler().tick(app.service.clock.now())
    return app, ids


@pytest.mark.slow
def test_every_digest_carries_a_link_per_item_that_opens_it_for_its_recipient(
        sqlite_site: Path, serve: Callable[..., Server]) -> None:
    server = serve()
    use_smtp(sqlite_site, server)
    enable_web(sqlite_site)
    app, ids = _tick_mail(sqlite_site)
    received = {r.message["To"].addresses[0].display_name: r.message for r in server.handler.received}
    mail = received["马建军"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "请登录系统查看详情" not in text + html
    links = re.findall(re.escape(BASE) + r"/login/(d\.[A-Za-z0-9_.-]+)", text)
    assert len(set(links)) == len(set(re.findall(r"事项编号：#(\d+)", text))) >= 1
    assert all(f'href="{BASE}/login/{token}"' in html for token in links)
    assert "7天内有效" in text and "只能使用一次" in text
    # The link logs 马建军 in and opens the item; a second use is refused.
    item_id = int(re.findall(r"事项编号：#(\d+)", text)[0])
    path = f"/login/{links[0]}"
    browser = Browser(app)  # type: ignore[arg-type]
    answer = browser.client.post(path, data={"csrf": Browser.token(browser.get(path).text)})
    assert answer.status_code == 303 and answer.headers["location"] == f"/items/{item_id}"
    page = browser.get(answer.headers["location"])
    assert page.status_code == 200 and "退出（马建军）" in text_of(page.text)
    # A logged-in person may use the login page too (its form carries the session's token).
    page = browser.get("/login")
    assert browser.client.post("/login", data={"csrf": Browser.token(page.text), "who": "马建军"}).status_code == 200
    # This browser already holds 马建军's session: the used link just goes on.
    again = browser.client.post(path, data={"csrf": Browser.token(browser.get(path).text)})
    assert again.status_code == 303 and again.headers["location"] == f"/items/{item_id}"
    other = Browser(app)  # type: ignore[arg-type]
    refused = other.client.post(path, data={"csrf": Browser.token(other.get(path).text)})
    assert refused.status_code == 400 and "已经使用过" in text_of(refused.text)
    # A unit's own mailbox (not a person who can log in) gets the items' addresses, no login in them.
    units = [m for name, m in received.items() if name not in app.site.org.people  # type: ignore[attr-defined]
             and "事项编号" in m.get_body(("plain",)).get_content()]
    assert units
    for m in units:
        body = m.get_body(("plain",)).get_content()
        assert "/login/" not in body and f"{BASE}/items/" in body and "以本人身份登录" in body
    app.close()  # type: ignore[attr-defined]
    assert ids


@pytest.mark.slow
def test_a_digest_link_expires_after_link_days(sqlite_site: Path, serve: Callable[..., Server]) -> None:
    server = serve()
    use_smtp(sqlite_site, server)
    enable_web(sqlite_site, link_days=2)
    app, _ = _tick_mail(sqlite_site)
    [mail] = [r.message for r in server.handler.received if r.message["To"].addresses[0].display_name == "马建军"]
    text = mail.get_body(("plain",)).get_content()
    assert "2天内有效" in text
    path = "/login/" + re.findall(r"/login/(d\.[A-Za-z0-9_.-]+)", text)[0]
    app.service.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    browser = Browser(app)  # type: ignore[arg-type]
    late = browser.client.post(path, data={"csrf": Browser.token(browser.get(path).text)})
    assert late.status_code == 400 and "已过期" in text_of(late.text)
    tampered = browser.client.post(path[:-4] + "AAAA", data={"csrf": Browser.token(browser.get(path).text)})
    assert tampered.status_code == 400 and "无效" in text_of(tampered.text)
    app.close()  # type: ignore[attr-defined]


@pytest.mark.slow
def test_without_a_web_address_digests_have_no_links_and_say_so_honestly(sqlite_site: Path) -> None:
    app, _ = _tick_mail(sqlite_site)
    mails = list((sqlite_site / "mail").glob("*.eml"))
    assert mails
    for path in mails:
        body = path.read_text(encoding="utf-8")
        assert "/login/" not in body and "请登录系统查看详情" not in body
    assert not (sqlite_site / "web-secret").exists()  # nothing signed, no key made
    app.close()  # type: ignore[attr-defined]


def test_rectify_web_link_prints_a_single_use_url_at_the_public_address(sqlite_site: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["--site", str(sqlite_site), "web", "link", "赵卫东"], catch_exceptions=False)
    assert out.exit_code == 0 and re.fullmatch(r"http://127\.0\.0\.1:8080/login/[A-Za-z0-9_-]{40,}\n", out.stdout)
    out = runner.invoke(cli, ["--site", str(sqlite_site), "web", "--port", "9000", "link", "赵卫东", "--item", "1"])
    assert out.exit_code == 1 and "找不到事项" in out.stderr
    enable_web(sqlite_site, "https://anquan.example.edu.cn/")
    out = runner.invoke(cli, ["--site", str(sqlite_site), "web", "link", "赵卫东"], catch_exceptions=False)
    assert out.stdout.startswith("https://anquan.example.edu.cn/login/")
    out = runner.invoke(cli, ["--site", str(sqlite_site), "web", "link", "查无此人"])
    assert out.exit_code == 1 and "找不到人员" in out.stderr


def test_the_web_section_is_checked(sqlite_site: Path) -> None:
    enable_web(sqlite_site, "ftp://x", link_days=0)
    with pytest.raises(ConfigError) as err:
        open_app(sqlite_site)
    assert "rectify.yaml" in str(err.value)


def test_a_link_asked_for_on_the_login_page_is_delivered_by_the_sites_mailer(
        sqlite_site: Path, serve: Callable[..., Server]) -> None:
    server = serve()
    use_smtp(sqlite_site, server)
    enable_web(sqlite_site)
    app = open_app(sqlite_site, FakeClock(START))
    try:
        browser = Browser(app)
        token = Browser.token(browser.get("/login").text)
        assert browser.client.post("/login", data={"csrf": token, "who": "赵卫东"}).status_code == 200
        app.scheduler().deliver(app.service.clock.now())
        [received] = server.handler.received
        assert received.rcpt_tos == ["zhao.weidong@example.org"]
        body = received.message.get_body(("plain",)).get_content()
        path = re.search(re.escape(BASE) + r"(/login/[A-Za-z0-9_-]+)", body)
        assert path and "30 分钟" in body
        answer = browser.client.post(path.group(1), data={"csrf": Browser.token(browser.get(path.group(1)).text)})
        assert answer.status_code == 303 and "退出（赵卫东）" in text_of(browser.get("/").text)
    finally:
        app.close()


def test_a_deadline_change_mail_links_the_item_for_its_recipient(sqlite_site: Path,
                                                                serve: Callable[..., Server]) -> None:
    """The 期限调整 mail (a provisional deadline counted again) carries, like a digest, the
    signed link that logs its recipient in on the item; a unit's mailbox gets none. Sent
    through a real SMTP server by the site's mailer."""
    from tests.test_provisional import MOVES

    server = serve()
    use_smtp(sqlite_site, server)
    enable_web(sqlite_site)
    deliver_around_the_clock(sqlite_site)  # the real clock may be at night or on a weekend
    run = CliRunner()

    def rectify(*args: str) -> str:
        out = run.invoke(cli, ["--site", str(sqlite_site), *args], catch_exceptions=False)
        assert out.exit_code == 0, out.output
        return out.stdout

    item = int(re.findall(r"\d+", rectify("report", "--title", "楼道应急灯损坏", "--category", "消防", "--unit",
                                          "保卫处", "--reporter", "郭晓明", "--responsible", "马建军",
                                          "--found-at", "2026-12-24T09:00", "--at", "2026-12-24T09:00",
                                          "--deadline", "10个工作日内"))[0])
    (sqlite_site / "calendar.yaml").write_text(MOVES, encoding="utf-8")
    assert "已通知 马建军" in rectify("calendar", "apply", "--actor", "周安宁")
    app = open_app(sqlite_site)
    try:
        app.scheduler().deliver(app.service.clock.now())
        [mail] = [r.message for r in server.handler.received if "期限调整" in str(r.message["Subject"])]
        assert mail["To"].addresses[0].display_name == "马建军"
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        assert "请登录系统查看详情" not in text + html and "7天内有效" in text
        [token] = re.findall(re.escape(BASE) + r"/login/(d\.[A-Za-z0-9_.-]+)", text)
        assert f'href="{BASE}/login/{token}"' in html
        browser = Browser(app)
        path = f"/login/{token}"
        answer = browser.client.post(path, data={"csrf": Browser.token(browser.get(path).text)})
        assert answer.status_code == 303 and answer.headers["location"] == f"/items/{item}"
        page = browser.get(answer.headers["location"])
        assert page.status_code == 200 and "退出（马建军）" in text_of(page.text) and "楼道应急灯损坏" in page.text
    finally:
        app.close()


def test_without_a_web_address_a_deadline_change_mail_says_how_to_follow_up(sqlite_site: Path) -> None:
    from tests.test_provisional import MOVES

    deliver_around_the_clock(sqlite_site)  # the real clock may be at night or on a weekend
    run = CliRunner()
    base = ["--site", str(sqlite_site)]
    run.invoke(cli, [*base, "report", "--title", "楼道应急灯损坏", "--category", "消防", "--unit", "保卫处",
                     "--reporter", "郭晓明", "--responsible", "马建军", "--found-at", "2026-12-24T09:00", "--at", "2026-12-24T09:00",
                     "--deadline", "10个工作日内"], catch_exceptions=False)
    (sqlite_site / "calendar.yaml").write_text(MOVES, encoding="utf-8")
    run.invoke(cli, [*base, "calendar", "apply", "--actor", "周安宁"], catch_exceptions=False)
    run.invoke(cli, [*base, "tick"], catch_exceptions=False)
    mails = [BytesParser(policy=default).parsebytes(p.read_bytes()) for p in (sqlite_site / "mail").glob("*.eml")]
    [changed] = [m for m in mails if "期限调整" in str(m["Subject"])]
    assert "请按新的整改期限及时处理，并将整改进展报告安全办" in changed.get_body(("plain",)).get_content()
    for m in mails:
        body = m.get_body(("plain",)).get_content() + m.get_body(("html",)).get_content()
        assert "/login/" not in body and "请登录系统查看详情" not in body


def test_extension_requests_and_answers_link_the_item_for_their_recipients(
        sqlite_site: Path, serve: Callable[..., Server]) -> None:
    """【延期申请】 to the approvers and 【同意延期】 to the requester travel in digests: each
    with the link that opens the item for that recipient (the office's mailbox: the item's
    address, to log in there as oneself)."""
    server = serve()
    use_smtp(sqlite_site, server)
    enable_web(sqlite_site)
    app = open_app(sqlite_site, FakeClock(START))
    try:
        item = hazard(app, "防火门损坏", state="rectifying").id or 0
        app.service.request_extension(item, "马建军", "2021年4月2日前", "防火门需定制")
        app.scheduler().tick(app.service.clock.now())
        app.service.answer_extension(item, "周安宁", True, "同意")
        app.scheduler().tick(app.service.clock.now())
        told: dict[tuple[str, str], str] = {}
        for r in server.handler.received:
            text = r.message.get_body(("plain",)).get_content()
            for what in ("【延期申请】", "【同意延期】"):
                if what in text:
                    told[(what, r.message["To"].addresses[0].display_name)] = text
        # The approvers (the safety office) are told in the office's mailbox; the requester personally.
        assert {("【延期申请】", "综治办"), ("【同意延期】", "马建军")} <= set(told)
        for (_, person), text in told.items():
            if person not in app.site.org.people:  # a unit's mailbox: the item's address, no login in it
                assert "/login/" not in text and f"查看和办理：{BASE}/items/{item}" in text and "以本人身份登录" in text
                continue
            [token] = re.findall(re.escape(BASE) + r"/login/(d\.[A-Za-z0-9_.-]+)", text)
            browser = Browser(app)
            path = f"/login/{token}"
            answer = browser.client.post(path, data={"csrf": Browser.token(browser.get(path).text)})
            assert answer.status_code == 303 and answer.headers["location"] == f"/items/{item}"
            assert f"退出（{person}）" in text_of(browser.get(f"/items/{item}").text)
    finally:
        app.close()
