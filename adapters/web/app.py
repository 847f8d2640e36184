"""The web workbench as an ASGI application (Starlette): pages rendered on the server
in Chinese, htmx for the parts that change in place, every write through the
application service with the logged-in person as the actor.

Each request works on one snapshot of the site (`Service.pinned()`); nothing about a
person or a session lives in this process (see adapters/web/auth.py), so any number of
processes may serve one site.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import jinja2
import structlog
from markupsafe import Markup
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.sqlstore import SqlStore
from adapters.templates import CompiledTemplates
from adapters.web.auth import (
    COOKIE,
    AskLimit,
    LinkProver,
    LoginRefused,
    Session,
    Sessions,
    site_secret,
)
from adapters.web.views import BOARD_ALL, BOARD_SCOPED, plain_message
from adapters.wiring import App
from engine.errors import ConcurrentUpdate, Forbidden, NotFound, RectifyError, Refused, StoreError
from engine.evidence import EvidenceRefused

log = structlog.get_logger("rectify.web")
HERE = Path(__file__).resolve().parent
PRE_CSRF = "rectify_csrf"
# The most a form (without files) may carry; larger bodies are refused before parsing.
MAX_FORM_BYTES = 256 * 1024

Section = Callable[["Ctx", Any], Markup]


class WebError(Exception):
    """A refusal to show as a Chinese page with this status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass
class Ctx:
    """One request: who asks (if anyone), on which snapshot of the site, at what time."""

    request: Request
    form: FormData | None
    session: Session | None
    app: App
    now: datetime
    web: Web

    @property
    def person(self) -> str:
        if self.session is None:
            raise WebError(401, "请先登录", "登录已失效或尚未登录，请重新获取登录链接")
        return self.session.person

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else self.request.query_params.get(name)
        return value if isinstance(value, str) else ""


@dataclass
class Web:
    """The workbench of one site: its app, keys, login and sessions."""

    app: App
    base_url: str
    templates: Jinja2Templates
    links: LinkProver
    sessions: Sessions
    asks: AskLimit
    # Extra sections of the item page (attachments, extension requests …): each returns
    # HTML for the item, or "" — added by the features that own them.
    item_sections: list[Section] = field(default_factory=list)
    # How many requests run at once: as many as the database pool has connections, so
    # that the others wait their turn in the event loop, however long, instead of in
    # the pool, whose wait times out (a 500 under load). One limiter per event loop.
    threads: int = 10
    _limiters: weakref.WeakKeyDictionary[Any, anyio.CapacityLimiter] = field(
        default_factory=weakref.WeakKeyDictionary)

    def workers(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.threads)
        return limiter

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    def now(self) -> datetime:
        return self.app.service.clock.now()

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def render(self, ctx: Ctx, name: str, status: int = 200, **data: Any) -> Response:
        person = ctx.session.person if ctx.session else None
        board = person is not None and bool(ctx.app.service.org.roles_of(person) & (BOARD_ALL | BOARD_SCOPED))
        context = {"site_name": self.app.config.name, "person": person, "board": board,
                   "csrf": ctx.session.csrf if ctx.session else "", **data}
        return self.templates.TemplateResponse(ctx.request, name, context, status_code=status)

    def error_page(self, request: Request, status: int, title: str, message: str) -> Response:
        context = {"site_name": self.app.config.name, "person": None, "csrf": "",
                   "title": title, "message": message, "status": status}
        return self.templates.TemplateResponse(request, "error.html", context, status_code=status)


def status_of(exc: RectifyError, method: str = "GET") -> tuple[int, str]:
    """The HTTP status and page title for an engine refusal (an unknown person or unit
    in a form is bad input, not a missing page)."""
    if isinstance(exc, NotFound) and method != "POST":
        return 404, "找不到"
    if isinstance(exc, Refused | Forbidden):
        return 403, "不能执行此操作"
    if isinstance(exc, ConcurrentUpdate):
        return 409, "事项已被他人修改"
    if isinstance(exc, StoreError):
        return 503, "数据库暂时无法访问"
    return 400, "填写的内容有误"


Handler = Callable[[Ctx], Response]


def page(web_of: Callable[[Request], Web], login: bool = True) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """An endpoint: reads the form of a POST (checking its size and CSRF token), finds
    the session, runs the handler in a worker thread on a pinned snapshot, and turns
    every refusal into a Chinese page (never a traceback)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            web = web_of(request)
            try:
                form = await _form(request, web) if request.method == "POST" else None
                return await anyio.to_thread.run_sync(partial(_run, web, handler, request, form, login),
                                                      limiter=web.workers())
            except WebError as exc:
                return web.error_page(request, exc.status, exc.title, exc.message)
            finally:
                await request.close()  # the uploads' spooled temporary files

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


async def _form(request: Request, web: Web) -> FormData:
    from adapters.web import photos

    multipart = request.headers.get("content-type", "").lower().startswith("multipart/form-data")
    limit = photos.body_limit(web.app.config.evidence, MAX_FORM_BYTES) if multipart else MAX_FORM_BYTES
    size = request.headers.get("content-length")
    if size is None and multipart:
        raise WebError(411, "无法上传", "上传文件的请求必须注明长度（Content-Length），未做任何修改")
    if size is not None and (not size.isdigit() or int(size) > limit):
        raise WebError(413, "提交的内容过大", f"提交的内容不能超过 {photos.limit_text(limit, multipart, web.app.config.evidence)}，未做任何修改")
    try:
        form = await request.form(max_files=2 * photos.FILES_PER_FORM if multipart else 0, max_fields=200)
    except Exception:  # malformed multipart or urlencoded bodies
        raise WebError(400, "表单格式错误", "提交的表单无法读取，请返回页面重新填写") from None
    if multipart:
        await photos.read_files(request, form, web.app.config.evidence)
    return form


def _run(web: Web, handler: Handler, request: Request, form: FormData | None, login: bool) -> Response:
    now = web.now()
    try:
        session = web.sessions.find(request.cookies.get(COOKIE), now)
        app = App(web.app.config, web.app.store, web.app.service.pinned())
        if session is not None and session.person not in app.service.org.people:
            session = None  # removed from org.yaml since: no longer anyone here
        ctx = Ctx(request, form, session, app, now, web)
        if login and session is None:
            return _login_needed(web, ctx)
        if form is not None:
            _check_csrf(ctx)
        return handler(ctx)
    except WebError as exc:
        return web.error_page(request, exc.status, exc.title, exc.message)
    except LoginRefused as exc:
        return web.error_page(request, 400, "登录链接不可用", str(exc))
    except EvidenceRefused as exc:  # the item's file limit, counted by the service
        return web.error_page(request, 415, "文件不能作为佐证", f"{exc}；未做任何修改")
    except RectifyError as exc:
        status, title = status_of(exc, request.method)
        events = {t.event: t.title for wf in web.app.service.workflows.values() for t in wf.transitions}
        return web.error_page(request, status, title, plain_message(str(exc), events))
    except PoolTimeout:  # every connection busy for longer than the pool waits
        log.warning("web_busy", path=request.url.path)
        response = web.error_page(request, 503, "系统繁忙", "同时使用的人较多，操作未能完成，未做任何修改；请稍后重试")
        response.headers["Retry-After"] = "5"
        return response
    except Exception as exc:  # noqa: BLE001 - the last resort: a page, the traceback in the log
        log.error("web_internal_error", path=request.url.path, error=f"{type(exc).__name__}: {exc}"[:2000],
                  exc_info=True)
        return web.error_page(request, 500, "系统内部错误", "操作未能完成，详情已写入日志；请稍后重试或联系系统管理员")


def _login_needed(web: Web, ctx: Ctx) -> Response:
    if ctx.request.method != "GET":
        raise WebError(401, "请先登录", "登录已失效或尚未登录，未做任何修改；请重新获取登录链接后再操作")
    expired = "&expired=1" if ctx.request.cookies.get(COOKIE) else ""
    from urllib.parse import quote

    target = ctx.request.url.path + (f"?{ctx.request.url.query}" if ctx.request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}{expired}", status_code=303)


def _check_csrf(ctx: Ctx) -> None:
    given = ctx.field("csrf") or ctx.request.headers.get("x-csrf-token", "")
    expected = ctx.session.csrf if ctx.session else ctx.request.cookies.get(PRE_CSRF, "")
    if not expected or not given or not hmac.compare_digest(given, expected):
        raise WebError(403, "页面已失效", "表单校验码缺失或不正确（页面可能已过期），未做任何修改；请刷新页面后重试")


def pre_csrf(ctx: Ctx) -> str:
    """The login forms' CSRF token: the session's when someone is logged in, else a
    random value in a cookie that the form must repeat."""
    if ctx.session is not None:
        return ctx.session.csrf
    return ctx.request.cookies.get(PRE_CSRF) or secrets.token_urlsafe(24)


def set_pre_csrf(web: Web, response: Response, token: str) -> Response:
    if web.sessions.csrf_shape(token):
        return response  # the session's own token: no cookie needed
    response.set_cookie(PRE_CSRF, token, httponly=True, samesite="lax", secure=web.secure, path="/")
    return response


def pool_capacity(db: Any) -> int:
    """The connections the database pool lends at once (its size and overflow)."""
    pool = db.pool
    size, overflow = getattr(pool, "size", None), getattr(pool, "_max_overflow", 0)
    if not callable(size):
        return 10
    return max(1, size() + max(0, overflow))


# The pages' templates compiled once per process (each build() has an environment of its own).
_COMPILED_PAGES = CompiledTemplates()


def build(app: App, base_url: str | None = None) -> Starlette:
    """The ASGI application of a site (`base_url`: the public address; default the
    configured `web.base_url`, else http://127.0.0.1:8080)."""
    from adapters.web import board, extend, routes

    if not isinstance(app.store, SqlStore):
        raise TypeError("the web workbench needs a SQL store")
    config = app.config.web
    secret = site_secret(config.secret_file)
    templates = Jinja2Templates(env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True, bytecode_cache=_COMPILED_PAGES))
    web = Web(app, (base_url or config.base_url or "http://127.0.0.1:8080").rstrip("/"), templates,
              LinkProver(app.store, secret),
              Sessions(app.store, secret, timedelta(hours=config.session_hours)), AskLimit(app.store, app.service.clock))
    web.threads = pool_capacity(app.store.db)
    web.item_sections.append(extend.section)
    static = Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    asgi = Starlette(routes=[*routes.routes(), *extend.routes(), *board.routes(), static],
                     exception_handlers={HTTPException: _http_error, Exception: _internal_error},
                     middleware=[Middleware(SecurityHeaders)])
    from adapters.web import photos

    web.item_sections.append(photos.section)
    asgi.state.web = web
    return asgi


# Pages come only from this site, are never framed, never cached, and never tell another
# site which page (a login link's path) they were opened from.
HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                 b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = HEADERS + ([] if static else [(b"cache-control", b"no-store")])
                given = {bytes(k).lower() for k, _ in message.get("headers", [])}  # a file's own stricter ones
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in given)]
            await send(message)

        await self.app(scope, receive, with_headers)


def web_of(request: Request) -> Web:
    found: Web = request.app.state.web
    return found


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    titles = {404: ("找不到页面", "您要找的页面不存在"), 405: ("不支持的操作", "此页面不接受这种请求")}
    title, message = titles.get(status, ("请求有误", "请求无法处理"))
    return web_of(request).error_page(request, status, title, message)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("web_internal_error", path=request.url.path, error=f"{type(exc).__name__}: {exc}"[:2000])
    return web_of(request).error_page(request, 500, "系统内部错误", "操作未能完成，详情已写入日志；请稍后重试或联系系统管理员")
