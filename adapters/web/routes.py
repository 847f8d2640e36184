"""The workbench's pages: login, 我的待办, the item page with its events and amendments,
and 随手拍 (report a hazard). Every write goes through the application service with the
logged-in person as the actor; the engine decides again on every POST."""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.web import photos, views
from adapters.web.app import Ctx, WebError, page, pre_csrf, set_pre_csrf, web_of
from adapters.web.auth import COOKIE, LoginRefused, safe_next
from adapters.web.login import ask_link
from adapters.web.notify import tell_safety_office
from adapters.web.queries import Filters, todo
from engine.access import may_see, scope_of
from engine.errors import NotFound
from engine.model import LEVELS, Item
from engine.service import NewItem

UNSURE = "不确定"
DONE = {"amend": "修改", "report": "登记", "extension_request": "提交延期申请",
        "extension_approve": "批准延期", "extension_refuse": "答复延期申请（不予批准）"}


def routes() -> list[Route]:
    return [
        Route("/", page(web_of)(todo_page)),
        Route("/login", page(web_of, login=False)(login_page), methods=["GET", "POST"]),
        Route("/login/{token}", page(web_of, login=False)(login_link), methods=["GET", "POST"]),
        Route("/logout", page(web_of)(logout), methods=["POST"]),
        Route("/items/{item_id:int}", page(web_of)(item_page)),
        Route("/items/{item_id:int}/events/{event}", page(web_of)(event_page), methods=["GET", "POST"]),
        Route("/items/{item_id:int}/amend", page(web_of)(amend_page), methods=["GET", "POST"]),
        Route("/report", page(web_of)(report_page), methods=["GET", "POST"]),
        Route("/items/{item_id:int}/files/{file_id:int}", page(web_of)(photos.file_page)),
    ]


# -- login -------------------------------------------------------------------------


def login_page(ctx: Ctx) -> Response:
    web = ctx.web
    token = pre_csrf(ctx)
    next_path = safe_next(ctx.field("next") or ctx.request.query_params.get("next"))
    if ctx.request.method == "POST":
        client = ctx.request.client.host if ctx.request.client else "unknown"
        sent = ask_link(ctx, ctx.field("who"), client, next_path)
        response = web.render(ctx, "login_sent.html", status=200 if sent else 429, limited=not sent,
                              minutes=int(web.app.config.web.ask_minutes))
        return set_pre_csrf(web, response, token)
    expired = bool(ctx.request.query_params.get("expired"))
    response = web.render(ctx, "login.html", next=next_path, login_csrf=token, expired=expired)
    return set_pre_csrf(web, response, token)


def login_link(ctx: Ctx) -> Response:
    """GET shows a button (mail scanners that open links must not use them up); POST
    uses the link and starts a session. A link already used by this browser's own
    session just opens the page it leads to."""
    web = ctx.web
    token = ctx.request.path_params["token"]
    if ctx.request.method == "GET":
        csrf = pre_csrf(ctx)
        return set_pre_csrf(web, web.render(ctx, "login_link.html", token=token, login_csrf=csrf), csrf)
    try:
        proof = web.links.redeem(token, ctx.now)
    except LoginRefused as exc:
        if ctx.session is not None and exc.person == ctx.session.person:
            return RedirectResponse(exc.next_path, status_code=303)
        raise
    ctx.app.service.org.person(proof.person)  # still in org.yaml
    cookie = web.sessions.start(proof.person, ctx.now)
    response = RedirectResponse(proof.next_path, status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=int(web.sessions.lifetime.total_seconds()), httponly=True,
                        samesite="lax", secure=web.secure, path="/")
    return response


def logout(ctx: Ctx) -> Response:
    if ctx.session is not None:
        ctx.web.sessions.end(ctx.session, ctx.now)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- 我的待办 ------------------------------------------------------------------------


def _filters(ctx: Ctx) -> Filters:
    q = ctx.request.query_params
    page_no = q.get("page", "1")
    return Filters(state=q.get("state", ""), unit=q.get("unit", ""), category=q.get("category", ""),
                   level=q.get("level", ""), q=q.get("q", "").strip(),
                   page=int(page_no) if page_no.isdigit() and len(page_no) < 7 else 1)


def _state_choices(ctx: Ctx) -> list[tuple[str, str]]:
    """Open states by name, titled as each workflow titles them (待验收/已报送)."""
    seen: dict[str, list[str]] = {}
    for wf in ctx.app.service.workflows.values():
        for s in wf.states.values():
            if not s.final and s.title not in seen.setdefault(s.name, []):
                seen[s.name].append(s.title)
    return [(name, "/".join(titles)) for name, titles in seen.items()]


def todo_page(ctx: Ctx) -> Response:
    svc = ctx.app.service
    f = _filters(ctx)
    scope = scope_of(svc.org, ctx.person)
    states = {name: (frozenset(s for s in wf.states if s not in svc.final_states(name)), svc.final_states(name))
              for name, wf in svc.workflows.items()}
    found = todo(ctx.app.store, scope, states, f)  # type: ignore[arg-type]
    rows = views.todo_rows(ctx.app, ctx.person, found.items, ctx.now)
    data: dict[str, Any] = {"rows": rows, "found": found, "filters": f}
    if ctx.request.headers.get("hx-request"):
        return ctx.web.render(ctx, "todo_rows.html", **data)
    units = sorted(scope.units) if not scope.everything else list(svc.org.units)
    return ctx.web.render(ctx, "todo.html", states=_state_choices(ctx), units=units,
                          extensions=views.pending_extensions(ctx.app, ctx.person),
                          awaiting=views.awaiting(ctx.app, ctx.person, ctx.now),
                          categories=list(svc.policies.current.categories), levels=list(LEVELS), **data)


# -- the item page -------------------------------------------------------------------


def visible_item(ctx: Ctx) -> Item:
    """The item of the URL if this person may see it; otherwise the same 404 as for an
    item that does not exist (no title leaks)."""
    item_id = int(ctx.request.path_params["item_id"])
    try:
        item = ctx.app.store.get(item_id)
    except NotFound:
        item = None
    if item is None or not may_see(ctx.app.service.org, ctx.person, item):
        raise WebError(404, "找不到事项", f"找不到事项 {item_id}，或您无权查看")
    return item


def item_page(ctx: Ctx) -> Response:
    app, item = ctx.app, visible_item(ctx)
    svc, tz = app.service, app.config.timezone
    wf = svc.workflows.get_or_fail(item.workflow)
    plan = svc.plan(item)
    left, overdue = views.time_left(item, plan, ctx.now, svc.calendar_of(item), tz,
                                    item.state in svc.final_states(item.workflow))
    amend_fields, _ = views.amend_inputs(app, ctx.person, item)
    done = ctx.request.query_params.get("done", "")
    done_title = next((t.title for t in wf.transitions if t.event == done), DONE.get(done, ""))
    sections = [s(ctx, item) for s in ctx.web.item_sections]
    return ctx.web.render(
        ctx, "item.html", item=item, state_title=wf.states[item.state].title if item.state in wf.states else "",
        workflow_title=wf.title, fields=views.item_fields(item, tz), left=left, overdue=overdue,
        rung=views.rung(plan, ctx.now), explained=views.explained(app, item, ctx.now),
        events=[(t, bool(t.settable)) for t in views.offered(app, ctx.person, item, ctx.now)],
        may_amend=bool(amend_fields), history=views.history(app.store.history(item.id or 0), wf, tz),
        done_title=done_title, sections=[s for s in sections if s])


def _stale(ctx: Ctx, item: Item) -> None:
    given = ctx.field("version")
    if given and given != str(item.version):
        raise WebError(409, "事项已被他人修改",
                       "您打开页面之后，此事项已被其他人修改，未做任何修改；请查看最新内容后再操作")


def _values(ctx: Ctx, names: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for name in names:
        value = ctx.field(name).strip()
        if value:
            values[name] = value
    return values


def event_page(ctx: Ctx) -> Response:
    app, item = ctx.app, visible_item(ctx)
    event = ctx.request.path_params["event"]
    wf = app.service.workflows.get_or_fail(item.workflow)
    t = next((t for t in views.offered(app, ctx.person, item, ctx.now) if t.event == event), None)
    if ctx.request.method == "POST":
        _stale(ctx, item)
        names = t.settable if t else ()
        files = photos.evidence(ctx)
        # The engine decides (and refuses an event this person may not fire, naming why),
        # before it keeps any file.
        app.service.fire(item.id or 0, event, ctx.person, _values(ctx, names), ctx.field("note").strip() or None,
                         evidence=files)
        return RedirectResponse(f"/items/{item.id}?done={event}", status_code=303)
    if t is None:
        known = any(x.event == event for x in wf.transitions)
        raise WebError(403 if known else 404, "不能执行此操作",
                       "您现在不能对此事项执行这一操作" if known else "流程中没有这一操作")
    partial = bool(ctx.request.headers.get("hx-request"))
    return ctx.web.render(ctx, "event_form.html" if partial else "event.html", item=item, t=t,
                          inputs=views.event_inputs(app, t, item), photo_groups=photos.groups(ctx, item),
                          files_per_form=photos.FILES_PER_FORM)


def amend_page(ctx: Ctx) -> Response:
    app, item = ctx.app, visible_item(ctx)
    inputs, note_needed = views.amend_inputs(app, ctx.person, item)
    if ctx.request.method == "POST":
        _stale(ctx, item)
        names = tuple(i.name for i in inputs)
        current = {i.name: i.value for i in inputs}
        changed = {k: v for k, v in _values(ctx, names).items() if v != current.get(k)}
        if not inputs:
            raise WebError(403, "不能修改", "您无权修改此事项")
        if not changed:
            raise WebError(400, "没有修改", "所填内容与现有内容相同，没有需要修改的内容")
        app.service.amend(item.id or 0, ctx.person, changed, ctx.field("note").strip() or None)
        return RedirectResponse(f"/items/{item.id}?done=amend", status_code=303)
    if not inputs:
        raise WebError(403, "不能修改", "您无权修改此事项")
    partial = bool(ctx.request.headers.get("hx-request"))
    return ctx.web.render(ctx, "amend_form.html" if partial else "amend.html", item=item, inputs=inputs,
                          note_needed=note_needed)


# -- 随手拍 --------------------------------------------------------------------------


REPORT_FIELDS = ("title", "category", "level", "location", "unit", "description")


def report_page(ctx: Ctx) -> Response:
    svc = ctx.app.service
    if ctx.request.method == "POST":
        given = {name: ctx.field(name).strip() for name in REPORT_FIELDS}
        if not given["title"]:
            raise WebError(400, "填写的内容有误", "请填写隐患标题")
        unit = None if given["unit"] in ("", UNSURE) else given["unit"]
        files = photos.evidence(ctx)
        item = svc.report(NewItem(
            title=given["title"], category=given["category"], level=given["level"] or "一般",
            unit=unit, location=given["location"] or None, reporter=ctx.person,
            fields={"description": given["description"]} if given["description"] else None, evidence=files))
        tell_safety_office(ctx, item)
        return RedirectResponse(f"/items/{item.id}?done=report", status_code=303)
    return ctx.web.render(ctx, "report.html", categories=list(svc.policies.current.categories),
                          levels=list(LEVELS), units=list(svc.org.units), unsure=UNSURE,
                          files_per_form=photos.FILES_PER_FORM)

