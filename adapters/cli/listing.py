"""`rectify list` (filters, sorting, keyword search, what is overdue and what falls due
soon) and `rectify summary` (the morning's one screen)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import click

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.itemview import items_table
from adapters.cli.render import console, instant, item_json
from adapters.wiring import App
from engine import dashboard
from engine.access import Scope, may_see, scope_of
from engine.deadline import Deadline, Kind, parse_deadline
from engine.deadline.dates import cn_date
from engine.errors import DeadlineError, RectifyError, UnknownCategory
from engine.ledgerview import days_overdue
from engine.model import KINDS, Item
from engine.names import normalise
from engine.plan import Plan
from engine.ports import Query

pass_ctx = click.make_pass_decorator(Context)

# --sort: what a clerk types (Chinese or English) → the key rows are ordered by.
SORTS = {"编号": "id", "期限": "due", "逾期": "overdue", "发现": "found", "单位": "unit", "等级": "level"}
SORT_CHOICES = [*SORTS, *dict.fromkeys(SORTS.values())]
LISTED_STATES = 30  # known states named in a refusal


class BadFilter(RectifyError):
    """A filter value `list` cannot match to anything the site knows."""

    exit_code = 2

    def __init__(self, option: str, value: str, reason: str) -> None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        super().__init__(f"{option} 的值“{shown}”无效：{reason}")


def state_pairs(app: App, typed: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The (workflow, state) pairs named by states as typed: a title (整改中, as `list`
    and `show` print it) or a name (rectifying), in any workflow. An unknown one is
    refused, listing the titles there are."""
    pairs: list[tuple[str, str]] = []
    workflows = app.site.workflows
    for text in typed:
        wanted = normalise(text)
        found = [(wf.name, s.name) for wf in workflows.values() for s in wf.states.values()
                 if wanted in (s.name, normalise(s.title))]
        if not found:
            titles = list(dict.fromkeys(s.title for wf in workflows.values() for s in wf.states.values()))
            raise BadFilter("--state", text, "没有这个状态；可选：" + "、".join(titles[:LISTED_STATES]))
        pairs += found
    return tuple(dict.fromkeys(pairs))


def categories(app: App, typed: Sequence[str]) -> tuple[str, ...]:
    """The categories as typed, each one the rules list or some stored item carries (an
    item imported before a category was dropped from the rules); else refused naming the
    known ones."""
    known = list(app.service.policies.current.categories)
    for text in typed:
        if text not in known and not app.store.count(Query(category=(text,))):
            raise UnknownCategory(text, known)
    return tuple(typed)


def due_until(app: App, text: str, now: datetime) -> date:
    """The last day of `--due-within` ("5个工作日", "3日内", "本周", "本月底前"), read with the
    deadline grammar on the site's working calendar from now ("N个工作日" as "N个工作日内")."""
    def read(expression: str) -> Deadline:
        return parse_deadline(expression, now, app.config.timezone, calendar=app.service.calendar, count=1)

    typed = text.strip()
    try:
        found = read(typed)
    except DeadlineError as exc:
        try:
            found = read(typed + "内")
        except DeadlineError:
            raise BadFilter("--due-within", text, exc.reason) from None
    if found.kind not in (Kind.ONCE, Kind.WINDOW) or not found.dues:
        raise BadFilter("--due-within", text, "应为一段时间或一个日期，如“5个工作日”“3日”“本周”“本月底前”")
    return found.dues[0]


def _matches(item: Item, words: str) -> bool:
    text = normalise(" ".join(str(v) for v in (item.title, item.location, item.fields.get("description")) if v))
    return words in text.casefold()


def _row(app: App, item: Item, plan: Plan, now: datetime) -> dict[str, Any]:
    tz = app.config.timezone
    row = item_json(item, app.site.workflows, tz)
    row["due"] = plan.due.isoformat() if plan.due else None
    row["overdue_at"] = plan.overdue_at.astimezone(tz).isoformat() if plan.overdue_at else None
    # Counted as the dashboard and the 台账 count them (reports.overdue_row, ledgerview).
    late = plan.overdue_at is not None and plan.overdue_at <= now
    reached = plan.reached(now) if late else []
    row["overdue"] = late
    row["days_overdue"] = days_overdue(plan, now)
    row["escalation"] = reached[-1].action if reached else ""
    row["ongoing"] = plan.ongoing
    return row


def _sort_key(order: str, units: dict[str, int]) -> Any:
    far = date.max.isoformat()
    keys = {
        "id": lambda r: r["id"],
        "due": lambda r: (r["due"] or far, r["id"]),
        "overdue": lambda r: (-r["days_overdue"], r["due"] or far, r["id"]),
        "found": lambda r: (r["found_at"], r["id"]),
        "unit": lambda r: (units.get(r["unit"] or "", len(units)), r["unit"] or "", r["id"]),
        "level": lambda r: (r["level"] != "重大", r["id"]),
    }
    return keys[order]


@cli.command("list")
@click.option("--state", multiple=True, help="按状态筛选（如 整改中 或 rectifying），可重复")
@click.option("--unit", multiple=True, help="按责任单位筛选，可重复")
@click.option("--category", multiple=True, help="按类别筛选，可重复")
@click.option("--kind", multiple=True, type=click.Choice(["hazard", "task"]), help="hazard（隐患）或 task（整治任务）")
@click.option("--overdue", is_flag=True, help="只列出已逾期的事项，并列出逾期天数和已到的督办措施")
@click.option("--due-within", "due_within", metavar="期限", help="只列出在此期限内到期、尚未逾期的事项，如 5个工作日、3日")
@click.option("--search", metavar="关键词", help="在标题、位置和描述中查找")
@click.option("--sort", "order", type=click.Choice(SORT_CHOICES), default="编号", show_default=True,
              help="排序：编号、期限（早的在前）、逾期（逾期久的在前）、发现（早的在前）、单位（按 org.yaml）、等级（重大在前）")
@click.option("--at", "at", help="逾期判断的时间（ISO，默认：现在）")
@click.option("--as", "viewer", metavar="NAME", help="只列出此人有权查看的事项（按 org.yaml 中的单位和角色）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def list_items(ctx: Context, state: tuple[str, ...], unit: tuple[str, ...], category: tuple[str, ...],
               kind: tuple[str, ...], overdue: bool, due_within: str | None, search: str | None, order: str,
               at: str | None, viewer: str | None, as_json: bool) -> None:
    """列出事项（可筛选、查找、排序，只看逾期或即将到期的）。"""
    app = ctx.app
    now = instant(at, app)
    org = app.site.org
    query = Query(states=state_pairs(app, state), unit=tuple(org.unit(u).name for u in unit),
                  category=categories(app, category), kind=kind)
    until = due_until(app, due_within, now) if due_within is not None else None
    found = app.store.query(query)
    if viewer:
        name = org.person(viewer).name
        found = [i for i in found if may_see(org, name, i)]
    if search:
        words = normalise(search).casefold()
        found = [i for i in found if _matches(i, words)]
    rows = []
    for item, plan in zip(found, app.plans_for(found), strict=True):
        row = _row(app, item, plan, now)
        if overdue and not row["overdue"]:
            continue
        if until is not None and (row["overdue"] or plan.paused or plan.due is None or plan.due > until
                                  or item.state in app.service.final_states(item.workflow)):
            continue
        rows.append(row)
    rows.sort(key=_sort_key(SORTS.get(order, order), {n: i for i, n in enumerate(org.units)}))
    if as_json:
        echo_json(rows)
        return
    console.print(items_table(rows, overdue_view=overdue))
    click.echo(f"共 {len(rows)} 项" + (f"（{until.month}月{until.day}日前到期）" if until else ""))


# -- summary -------------------------------------------------------------------------------

SUMMARY_ROWS = 5  # items listed under each heading of `summary`


def _due_this_week(app: App, when: datetime, scope: Scope | None, kind: str) -> tuple[date, date, list[dict[str, Any]]]:
    """(today, Sunday, the open items not yet overdue whose last day falls in between),
    soonest first."""
    today = when.astimezone(app.config.timezone).date()
    sunday = today + timedelta(days=6 - today.weekday())
    t = dashboard.terms(app.service, when, scope)
    found = app.store.query(dashboard.resolve(app.service, dashboard.Selection(kind=kind, status="open"), t))
    rows = []
    for item, plan in zip(found, app.plans_for(found), strict=True):
        if plan.due is None or not today <= plan.due <= sunday:
            continue
        if plan.overdue_at is not None and plan.overdue_at <= when:
            continue
        rows.append({"id": item.id, "title": item.title, "unit": item.unit, "level": item.level,
                     "due": plan.due.isoformat()})
    rows.sort(key=lambda r: (r["due"], r["id"]))
    return today, sunday, rows


def summary_json(d: dashboard.Dashboard, week: tuple[date, date, list[dict[str, Any]]], tz: tzinfo) -> dict[str, Any]:
    total = d.current.total
    return {
        "as_of": d.at.astimezone(tz).isoformat(), "person": d.person, "kind": d.kind,
        "open": d.open.value, "overdue": d.overdue.figure.value, "supervised": d.supervised.figure.value,
        "overdue_by_unit": [{"unit": r.name or None, "title": r.title, "overdue": r.overdue.value,
                             "supervised": r.supervised.value} for r in d.by_unit if r.overdue.value],
        "due_this_week": {"from": week[0].isoformat(), "until": week[1].isoformat(), "count": len(week[2]),
                          "rows": week[2]},
        "supervised_rows": [{"id": r.item_id, "title": r.title, "unit": r.unit or None, "days_overdue": r.days_overdue}
                            for r in d.supervised.rows],
        "rate": None if total is None else {"period": d.current.label, "found": total.count.found,
                                            "closed": total.count.closed, "rate": total.rate},
    }


def _more(shown: int, total: int, hint: str) -> list[str]:
    return [f"  ……另有 {total - shown} 项（{hint}）"] if total > shown else []


def summary_lines(data: dict[str, Any], scope: str, what: str) -> list[str]:
    """One screen: the totals, the overdue by unit, what falls due this week, 挂牌督办, the rate."""
    at = datetime.fromisoformat(data["as_of"])
    out = [f"整治概况（{scope}）：截至{cn_date(at.date())} {at:%H:%M}",
           f"在办{what} {data['open']} 项：逾期 {data['overdue']} 项，挂牌督办 {data['supervised']} 项，"
           f"本周到期 {data['due_this_week']['count']} 项"]
    rate = data["rate"]
    out.append("整改率：尚无事项" if rate is None else
               f"整改率：至今累计发现 {rate['found']} 项，已整改 {rate['closed']} 项，整改率 "
               f"{'—' if rate['rate'] is None else format(rate['rate'], '.1%')}")
    units = data["overdue_by_unit"]
    out += ["", "逾期（按责任单位）：" + ("无" if not units else "")]
    out += [f"  {u['title']} {u['overdue']} 项" + (f"（挂牌督办 {u['supervised']} 项）" if u["supervised"] else "")
            for u in units]
    week = data["due_this_week"]
    first, last = date.fromisoformat(week["from"]), date.fromisoformat(week["until"])
    out += ["", f"本周到期（{first.month}月{first.day}日至{last.month}月{last.day}日）：{week['count']} 项"]
    for r in week["rows"][:SUMMARY_ROWS]:
        due = date.fromisoformat(r["due"])
        out.append(f"  事项 {r['id']} {r['title']}｜{r['unit'] or '未指定单位'}｜{due.month}月{due.day}日到期")
    out += _more(SUMMARY_ROWS, week["count"], "rectify list --due-within 本周内 --sort 期限")
    out += ["", f"挂牌督办：{data['supervised']} 项"]
    for r in data["supervised_rows"][:SUMMARY_ROWS]:
        out.append(f"  事项 {r['id']} {r['title']}｜{r['unit'] or '未指定单位'}｜逾期{r['days_overdue']}天")
    out += _more(min(SUMMARY_ROWS, len(data["supervised_rows"])), data["supervised"], "rectify dashboard")
    return out


@cli.command("summary")
@click.option("--as", "person", metavar="NAME", help="只统计此人有权查看的单位（默认：全校）")
@click.option("--at", "at", help="按此时间统计（默认：现在）")
@click.option("--kind", type=click.Choice(["hazard", "task"]), default="hazard", show_default=True,
              help="统计隐患（hazard）或整治任务（task）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def summary(ctx: Context, person: str | None, at: str | None, kind: str, as_json: bool) -> None:
    """一屏看全：逾期（按单位）、本周到期、挂牌督办、整改率（与综合看板同一套数字）。"""
    app = ctx.app
    when = instant(at, app)
    scope = scope_of(app.service.org, person) if person else None
    d = dashboard.build(app.service, when, scope, kind=kind, top=SUMMARY_ROWS)
    data = summary_json(d, _due_this_week(app, when, scope, kind), app.config.timezone)
    if as_json:
        echo_json(data)
        return
    for line in summary_lines(data, f"{d.person}可查看的范围" if d.person else "全校", KINDS[kind]):
        click.echo(line)
