"""The safety office is told of each hazard reported without a unit (待分派): one email to
each of its addresses (org.yaml: the office's mailbox and its head), queued in the outbox
with the report and sent at the daemon's next tick. Until the item is assigned, its
reminders and escalations reach the office as well (engine.recipients).

The web workbench tells the office of every 随手拍 report itself (adapters/web/notify.py);
this is for the command line (`rectify report` without `--unit`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from engine.model import Item
from engine.recipients import Addressee, resolve
from engine.scheduler import Composed

if TYPE_CHECKING:
    from adapters.wiring import App

log = structlog.get_logger("rectify.report")


def office_addresses(app: App, item: Item) -> list[Addressee]:
    """The office's mailbox and its head, each address once."""
    org = app.site.org
    office = org.units[org.safety_office]
    head = [Addressee("safety_office", office.head, org.people[office.head].email)] if (
        office.head in org.people) else []
    found = {a.email.lower(): a for a in [*resolve(("safety_office",), item, org), *head] if a.email}
    return list(found.values())


def _text(app: App, name: str, item: Item) -> str:
    org = app.site.org
    reporter = item.reporter or "有人"
    found = item.found_at.astimezone(app.config.timezone)
    base = app.config.web.base_url if app.config.web.configured else ""
    link = f"\n在网页工作台查看和交办：{base.rstrip('/')}/items/{item.id}\n" if base else ""
    kind = [item.category, item.level]
    return (f"{name}：\n\n{reporter}上报了一项隐患，没有指定责任单位（待分派），请尽快确定责任单位和责任人并交办：\n\n"
            f"   事项编号：#{item.id}\n   标　　题：{item.title}\n"
            f"   类别等级：{' · '.join(k for k in kind if k)}\n"
            f"   位　　置：{item.location or '未填写'}\n   发现时间：{found:%Y-%m-%d %H:%M}\n"
            f"{link}\n交办前，该事项的提醒和督办都发给{org.safety_office}。\n\n"
            f"——\n{app.organisation}\n本邮件由 rectify 自动发送，请勿直接回复。\n")


def tell_office(app: App, item: Item, at: datetime) -> int:
    """Queue the emails about `item` (reported without a unit); how many were queued."""
    count = 0
    for a in office_addresses(app, item):
        subject = f"【待分派】{item.title[:60]}（尚未确定责任单位，请交办）"
        app.outbox.add_message(Composed(a.name, a.email or "", subject, _text(app, a.name, item), None, ()), at)
        count += 1
    if count == 0:
        log.warning("unassigned_without_office_address", item=item.id, office=app.site.org.safety_office)
    return count
