"""Asking for a login link on the login page, and printing one for the operator.

The asked-for link goes only to the address org.yaml gives the person: it is queued in
the outbox (`SqlOutbox.add_message`) and delivered by the site's mailer at the daemon's
next tick, like every other message. The page answers the same whether the name is
known or not; only a client asking too often is told so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from adapters.outbox import SqlOutbox
from adapters.sqlstore import SqlStore
from adapters.web.auth import LinkProver, safe_next
from engine.names import normalise
from engine.org import Org, Person
from engine.scheduler import Composed

if TYPE_CHECKING:
    from adapters.web.app import Ctx
    from adapters.wiring import App

log = structlog.get_logger("rectify.web")
MAX_WHO = 320


def person_named(org: Org, who: str) -> Person | None:
    """The person whose name or email (any case) this is, or None."""
    typed = normalise(who[:MAX_WHO])
    if not typed:
        return None
    found = org.people.get(typed)
    if found is not None:
        return found
    wanted = typed.casefold()
    return next((p for p in org.people.values() if p.email and p.email.casefold() == wanted), None)


def login_mail(site_name: str, person: Person, url: str, minutes: int) -> Composed:
    text = (f"{person.name}：\n\n您好！您（或有人以您的名义）在{site_name}安全隐患整改督办系统申请了登录链接。\n"
            f"请在 {minutes} 分钟内打开下面的链接登录（只能使用一次）：\n\n{url}\n\n"
            "如果不是您本人申请，请忽略本邮件，无需任何操作。\n\n——\n"
            f"{site_name}\n本邮件由 rectify 自动发送，请勿直接回复。\n")
    # Asked for by the person waiting at the login page: sent at once, office hours or not.
    return Composed(person.name, person.email or "", f"{site_name}：登录链接", text, None, (), urgent=True)


def ask_link(ctx: Ctx, who: str, client: str, next_path: str) -> bool:
    """Queue a login link for whoever `who` names (if anyone, and within the limits);
    False only when this client asked too often."""
    web, org = ctx.web, ctx.app.service.org
    person = person_named(org, who)
    client_ok, person_ok = web.asks.allow(person.name if person else None, client, ctx.now)
    if not client_ok:
        log.warning("login_link_limited", client=client)
        return False
    if person is None or not person.email or not person_ok:
        if person is not None and not person_ok:
            log.warning("login_link_limited", person=person.name)
        return True
    minutes = int(web.app.config.web.ask_minutes)
    token = web.links.issue(person.name, "asked", timedelta(minutes=web.app.config.web.ask_minutes), ctx.now,
                            safe_next(next_path))
    mail = login_mail(ctx.app.organisation, person, web.url(f"/login/{token}"), minutes)
    SqlOutbox(ctx.app.store).add_message(mail, ctx.now)  # type: ignore[arg-type]
    log.info("login_link_queued", person=person.name)
    return True


def operator_link(app: App, person: str, at: datetime, base_url: str, next_path: str = "/") -> str:
    """`rectify web link PERSON`: a single-use login URL valid `web.link_days`."""
    from adapters.web.auth import site_secret

    if not isinstance(app.store, SqlStore):
        raise TypeError("login links need a SQL store")
    name = app.site.org.person(person).name
    links = LinkProver(app.store, site_secret(app.config.web.secret_file))
    token = links.issue(name, "link", timedelta(days=app.config.web.link_days), at, next_path)
    return base_url.rstrip("/") + f"/login/{token}"
