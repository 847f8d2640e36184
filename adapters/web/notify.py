"""The safety office is told of a hazard reported on the web (随手拍): one email to each
of its addresses (org.yaml: the office's mailbox, as the daemon writes to it, and its
head), queued in the outbox and
sent by the daemon's mailer. A person's email carries a single-use link that opens the
item for them; a unit's mailbox gets the item's address."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from adapters.outbox import SqlOutbox
from engine.model import Item
from engine.recipients import Addressee, resolve
from engine.scheduler import Composed

if TYPE_CHECKING:
    from adapters.web.app import Ctx

log = structlog.get_logger("rectify.web")


def _text(site: str, name: str, item: Item, reporter: str, link: str) -> str:
    return (f"{name}：\n\n{reporter}通过随手拍上报了一项隐患，请及时交办：\n\n"
            f"   事项编号：#{item.id}\n   标　　题：{item.title}\n   类别等级：{item.category} · {item.level}\n"
            f"   责任单位：{item.unit or '不确定（请综治办交办）'}\n   位　　置：{item.location or '未填写'}\n\n"
            f"查看和交办：{link}\n\n——\n{site}\n本邮件由 rectify 自动发送，请勿直接回复。\n")


def tell_safety_office(ctx: Ctx, item: Item) -> int:
    """Queue the emails; returns how many. A failure is logged, never undoes the report."""
    web, org = ctx.web, ctx.app.service.org
    expires = ctx.now + timedelta(days=ctx.app.config.web.link_days)
    count = 0
    try:
        # Outside office hours it waits for them, unless the item's rule says urgent.
        rule = ctx.app.site.rules.rule_named(item.rule)
        urgent = rule is not None and rule.urgent
        outbox = SqlOutbox(ctx.app.store)  # type: ignore[arg-type]
        office = org.units[org.safety_office]
        head = [Addressee("safety_office", office.head, org.people[office.head].email)] if (
            office.head in org.people) else []
        for a in {a.name: a for a in [*resolve(("safety_office",), item, org), *head]}.values():
            if not a.email:
                continue
            link = (web.url("/login/" + web.links.digest_token(a.name, item.id or 0, expires))
                    if a.name in org.people else web.url(f"/items/{item.id}"))
            subject = f"【随手拍】{item.title[:60]}（{item.unit or '待交办'}）"
            mail = Composed(a.name, a.email, subject, _text(ctx.app.organisation, a.name, item, ctx.person, link), None, (),
                            urgent=urgent)
            outbox.add_message(mail, ctx.now)
            count += 1
    except Exception as exc:  # noqa: BLE001 - the item is reported; the notice is logged as missing
        log.error("report_notice_failed", item=item.id, error=f"{type(exc).__name__}: {exc}"[:500])
    return count
