"""综合看板 on the web: the safety office's view (engine.dashboard), every number a link
to the list of its items, the chart inline (adapters.charts), the 台账 and the stage
report workbook as downloads (the same files `rectify export` and `rectify stage-report`
write) and the outbox's dead letters.

Who sees it: the safety office, the principal and the administrator see the whole
school, downloads and dead letters included; a 分管校领导 sees the numbers of the units
they supervise, a unit head those of the units they head (each with their own unit),
without the school-wide downloads and the outbox; anyone else is refused (403).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

import structlog
from markupsafe import Markup
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.charts import unit_chart
from adapters.web.app import Ctx, WebError, page, web_of
from adapters.web.views import BOARD_ALL, BOARD_SCOPED, Row, todo_rows
from engine import dashboard
from engine.access import Scope, scope_of
from engine.dashboard import NO_UNIT, Selection
from engine.model import KINDS, LEVELS
from engine.ports import Query
from engine.reports import Period, parse_period, period_containing

log = structlog.get_logger("rectify.web")
PAGE = 20
MAX_PAGE = 100000
DEAD_SHOWN = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Viewer:
    """Who looks at the board, and how far: everything (scope None) or their units."""

    scope: Scope | None
    everything: bool


def viewer(ctx: Ctx, whole_school: bool = False) -> Viewer:
    """The viewer, or a 403 page for someone the board is not for (or, with
    `whole_school`, for a leader asking for what covers the whole school)."""
    org = ctx.app.service.org
    roles = org.roles_of(ctx.person)
    if roles & BOARD_ALL:
        return Viewer(None, True)
    if roles & BOARD_SCOPED and not whole_school:
        return Viewer(scope_of(org, ctx.person), False)
    if roles & BOARD_SCOPED:
        raise WebError(403, "无权下载", "全校台账、阶段报告和发件队列仅供综治办、校长和系统管理员查看")
    raise WebError(403, "无权查看综合看板", "综合看板仅供综治办、校长、系统管理员、分管校领导和单位负责人查看")


def scope_title(ctx: Ctx, who: Viewer) -> str:
    """Whose numbers the board shows: 全校, or e.g. 赵卫东负责的单位（保卫处）."""
    if who.everything or who.scope is None:
        return "全校"
    org = ctx.app.service.org
    headed, supervised = org.headed_by(ctx.person), org.supervised_by(ctx.person)
    how = "、".join(w for w, units in (("负责", headed), ("分管", supervised)) if units)
    own = org.person(ctx.person).unit
    also = "及所在" if own and own not in headed | supervised else ""
    return f"{ctx.person}{how}{also}的单位（{'、'.join(sorted(who.scope.units)) or '无'}）"


def link(selection: Selection) -> str:
    return "/board/items?" + urlencode(selection.to_params())


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}个工作日"


def _kind(ctx: Ctx) -> str:
    kind = ctx.request.query_params.get("kind", "hazard")
    if kind not in ("hazard", "task"):
        raise WebError(400, "请求有误", "统计类型应为隐患或整治任务")
    return kind


def board_page(ctx: Ctx) -> Response:
    who = viewer(ctx)
    kind = _kind(ctx)
    d = dashboard.build(ctx.app.service, ctx.now, who.scope, kind=kind)
    charts = [Markup(unit_chart(view, link=link)) for view in (d.current, d.previous) if view.counted]
    dead = ctx.app.outbox.list_messages(("dead",), DEAD_SHOWN) if who.everything else []
    local = d.at.astimezone(ctx.app.config.timezone)
    periods = [d.current.period, d.current.period.previous()]
    retried = ctx.request.query_params.get("retried", "")
    return ctx.web.render(ctx, "board.html", d=d, who=who, retried=retried if retried.isdigit() else "", kind_title=KINDS[kind], kind=kind, link=link,
                          percent=percent, days=days, charts=charts, dead=dead, periods=periods,
                          as_of=f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}",
                          scope_title=scope_title(ctx, who))


# -- the items behind a number ------------------------------------------------------------


def _selection(ctx: Ctx) -> tuple[Selection, int]:
    params = dict(ctx.request.query_params)
    number = params.pop("page", "1")
    page_no = int(number) if number.isdigit() and 0 < int(number) <= MAX_PAGE else 1
    return Selection.from_params(params), page_no


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _span(what: str, first: date | None, last: date | None) -> str:
    if first and last:
        return f"{_day(first)}至{_day(last)}{what}"
    return f"{_day(first)}起{what}" if first else f"{_day(last)}前{what}" if last else ""


def describe(ctx: Ctx, s: Selection) -> str:
    """A selection as a person says it: 在办、保卫处、逾期的隐患."""
    svc = ctx.app.service
    parts = [{"open": "在办", "closed": "已办结"}.get(s.status, "")]
    if s.workflow and s.state:
        wf = svc.workflows.get(s.workflow)
        parts.append(f"处于“{wf.states[s.state].title}”" if wf and s.state in wf.states else "处于其他状态")
    if s.unit is not None:
        parts.append("未指定单位" if s.unit == NO_UNIT else s.unit)
    if s.category is not None:
        parts.append(s.category or "未分类")
    if s.level:
        parts.append(LEVELS.get(s.level, s.level))
    parts += [_span("发现", s.found_from, s.found_until), _span("办结", s.closed_from, s.closed_until)]
    parts += ["逾期" if s.overdue else "", "挂牌督办" if s.supervised else ""]
    shown = "、".join(p for p in parts if p)
    return f"{shown}的{KINDS.get(s.kind or '', '事项')}" if shown else KINDS.get(s.kind or "", "全部事项")


@dataclass
class Listed:
    total: int
    page: int
    rows: list[Row]
    query: dict[str, str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE))

    def url(self, page_no: int) -> str:
        return "/board/items?" + urlencode({**self.query, "page": str(page_no)})


def items_page(ctx: Ctx) -> Response:
    who = viewer(ctx)
    selection, page_no = _selection(ctx)
    total, found = dashboard.items(ctx.app.service, selection, ctx.now, who.scope, limit=PAGE,
                                   offset=(page_no - 1) * PAGE)
    rows = todo_rows(ctx.app, ctx.person, found, ctx.now)
    listed = Listed(total, page_no, rows, selection.to_params())
    return ctx.web.render(ctx, "board_items.html", title=describe(ctx, selection), listed=listed)


# -- downloads -------------------------------------------------------------------------------


def _attachment(content: bytes, filename: str) -> Response:
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "-." else "_" for c in filename)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=XLSX, headers={"content-disposition": disposition})


def ledger_download(ctx: Ctx) -> Response:
    """The whole 台账 as `rectify export 台账.xlsx` writes it, as of now."""
    from adapters.export import ledger_export, write

    viewer(ctx, whole_school=True)
    app = ctx.app
    found = app.store.query(Query())
    with tempfile.TemporaryDirectory(prefix="rectify-export-") as tmp:
        path = Path(tmp) / "台账.xlsx"
        write(path, ledger_export(app, found, ctx.now))
        content = path.read_bytes()
    today = ctx.now.astimezone(app.config.timezone).date()
    return _attachment(content, f"台账-{today:%Y%m%d}.xlsx")


def _period(ctx: Ctx) -> Period:
    text = ctx.request.query_params.get("period", "")
    if text:
        return parse_period(text)
    return period_containing(ctx.now.astimezone(ctx.app.config.timezone).date(), "quarter")


def stage_report_download(ctx: Ctx) -> Response:
    """The stage report's workbook as `rectify stage-report --period P` writes it."""
    from adapters import stagereport
    from adapters.stagebook import workbook_bytes

    viewer(ctx, whole_school=True)
    period = _period(ctx)
    report = stagereport.produce(ctx.app, period, ctx.now)
    return _attachment(workbook_bytes(report, ctx.app.config.timezone), f"阶段整治情况-{period.key}.xlsx")


def retry_dead(ctx: Ctx) -> Response:
    """Put dead letters back in the queue (as `rectify outbox retry ID`): the daemon's
    mailer sends them at its next tick."""
    viewer(ctx, whole_school=True)
    given = ctx.form.getlist("message") if ctx.form is not None else []
    ids = [int(v) for v in given if isinstance(v, str) and v.isdigit() and len(v) < 12]
    if not ids:
        raise WebError(400, "没有选择邮件", "请选择要重新发送的邮件")
    count = ctx.app.outbox.retry_dead(ids, ctx.now)
    log.info("web_dead_letters_retried", actor=ctx.person, messages=ids, count=count)
    return RedirectResponse(f"/board?retried={count}#dead-letters", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/board", page(web_of)(board_page)),
        Route("/board/items", page(web_of)(items_page)),
        Route("/board/ledger.xlsx", page(web_of)(ledger_download)),
        Route("/board/stage-report.xlsx", page(web_of)(stage_report_download)),
        Route("/board/dead-letters/retry", page(web_of)(retry_dead), methods=["POST"]),
    ]

