"""延期申请 on the web: the item page's section (the item's requests and answers, the
form to ask, the buttons to answer) and the three POSTs behind it, each through the
application service with the logged-in person as the actor (engine.extensions decides
again on every POST: who may ask or answer, the rule's limits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.web.app import Ctx, WebError, page, web_of
from adapters.web.routes import visible_item
from adapters.web.views import local
from engine.extensions import APPROVED, PENDING, Extension, approver_titles, cn
from engine.model import Item

VERBS = ("request", "approve", "refuse")


@dataclass
class Shown:
    """One request as the page lists it."""

    requested_by: str
    requested_at: str
    asked: str  # the day asked for, and the words it was asked in
    old_due: str
    reason: str
    status: str
    pending: bool
    answer: str  # who answered, when, with what note ("" while pending)


def _shown(request: Extension, ctx: Ctx) -> Shown:
    tz = ctx.app.config.timezone
    answer = ""
    if request.answered_by:
        answer = f"{request.answered_by}于{local(request.answered_at, tz)}{request.status_title}"
        if request.answer_note:
            answer += f"：{request.answer_note}"
    return Shown(request.requested_by, local(request.requested_at, tz), f"{cn(request.new_due)}（{request.deadline}）",
                 cn(request.old_due), request.reason, request.status_title, request.status == PENDING, answer)


@dataclass
class Limits:
    """The rule's limits as the request form shows them."""

    approvers: str
    max_count: int
    approved: int
    max_days: int
    due: str
    latest: str


def _limits(ctx: Ctx, item: Item, requests: list[Extension]) -> Limits:
    svc = ctx.app.service
    rules = svc.extension_rules(item)
    due: date | None = svc.plan(item).due
    latest = cn(due + timedelta(days=rules.max_days)) if due else ""
    return Limits(approver_titles(rules.approvers), rules.max_count, sum(r.status == APPROVED for r in requests),
                  rules.max_days, cn(due), latest)


def section(ctx: Ctx, item: Item) -> Markup:
    """The item page's 延期申请 section: nothing when there is no request and the person
    may not ask for one."""
    svc = ctx.app.service
    requests = svc.extensions(item.id or 0)
    actions = svc.extension_actions(item, ctx.person)
    if not requests and not actions:
        return Markup("")
    pending = next((r for r in requests if r.status == PENDING), None)
    template = ctx.web.templates.env.get_template("extensions.html")
    return Markup(template.render(item=item, csrf=ctx.session.csrf if ctx.session else "",
                                  requests=[_shown(r, ctx) for r in reversed(requests)], actions=actions,
                                  pending_id=pending.id if pending else "", limits=_limits(ctx, item, requests)))


DONE = {"request": "extension_request", "approve": "extension_approve", "refuse": "extension_refuse"}


def extension_post(ctx: Ctx) -> Response:
    item = visible_item(ctx)
    verb = ctx.request.path_params["verb"]
    if verb not in VERBS:
        raise WebError(404, "找不到页面", "没有这一操作")
    svc = ctx.app.service
    if verb == "request":
        svc.request_extension(item.id or 0, ctx.person, ctx.field("deadline"), ctx.field("reason"), ctx.now)
    else:
        _same_request(ctx, item)
        svc.answer_extension(item.id or 0, ctx.person, verb == "approve", ctx.field("note").strip() or None, ctx.now)
    return RedirectResponse(f"/items/{item.id}?done={DONE[verb]}#extensions", status_code=303)


def _same_request(ctx: Ctx, item: Item) -> None:
    """An answer is for the request the page showed: if it was answered since (and maybe
    another one made), nothing is written."""
    given = ctx.field("request")
    pending = next((r for r in ctx.app.service.extensions(item.id or 0) if r.status == PENDING), None)
    if given and (pending is None or str(pending.id) != given):
        raise WebError(409, "延期申请已有变化",
                       "您打开页面之后，此延期申请已被他人审批或撤换，未做任何修改；请查看最新内容后再操作")


def routes() -> list[Route]:
    return [Route("/items/{item_id:int}/extension/{verb}", page(web_of)(extension_post), methods=["POST"])]
