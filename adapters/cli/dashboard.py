"""`rectify dashboard`: the safety office's view (综合看板) as text or JSON, the same
numbers the web workbench shows (engine.dashboard).

    rectify dashboard [--as NAME] [--at ISO] [--kind hazard|task] [--top N] [--json] [--svg FILE]
"""

from __future__ import annotations

from pathlib import Path

import click

from adapters.charts import unit_chart
from adapters.cli.base import Context, cli, echo_json, existing_directory, handle_errors
from adapters.cli.render import instant
from engine import dashboard
from engine.access import scope_of
from engine.dashboard import Dashboard, GroupRow, PeriodView, UnitRate
from engine.model import KINDS
from engine.reports import OverdueRow

pass_ctx = click.make_pass_decorator(Context)


@cli.command("dashboard", short_help="综合看板：在办、逾期、挂牌督办和各单位整改率。")
@click.option("--as", "person", metavar="NAME", help="只统计此人有权查看的单位（默认：全校）")
@click.option("--at", "at", help="按此时间统计（默认：现在）")
@click.option("--kind", type=click.Choice(["hazard", "task"]), default="hazard", show_default=True,
              help="统计隐患（hazard）或整治任务（task）")
@click.option("--top", type=click.IntRange(1, 1000), default=dashboard.TOP, show_default=True,
              help="逾期和挂牌督办事项列出的条数")
@click.option("--json", "as_json", is_flag=True)
@click.option("--svg", "svg", type=click.Path(dir_okay=False, path_type=Path),
              help="把本季度各单位整改率、逾期率图写入此 SVG 文件")
@pass_ctx
@handle_errors
def dashboard_command(ctx: Context, person: str | None, at: str | None, kind: str, top: int, as_json: bool,
                      svg: Path | None) -> None:
    """综合看板：在办事项按状态、单位、类别统计，逾期事项与挂牌督办清单，各单位整改率、逾期率和平均整改用时（本季度与上季度对比）。"""
    if svg is not None:
        existing_directory(svg.parent, "写入看板图", svg)
    app = ctx.app
    when = instant(at, app)
    scope = scope_of(app.service.org, person) if person else None
    d = dashboard.build(app.service, when, scope, kind=kind, top=top)
    if svg is not None:
        svg.write_text(unit_chart(d.current), encoding="utf-8")
    if as_json:
        echo_json(dashboard.to_json(d, app.config.timezone))
        return
    for line in lines(d, app.config.timezone):
        click.echo(line)


def _scope(d: Dashboard) -> str:
    return f"（{d.person}可查看的范围）" if d.person else "（全校）"


def lines(d: Dashboard, tz: object) -> list[str]:
    """The dashboard in Chinese, one line each."""
    local = d.at.astimezone(tz)  # type: ignore[arg-type]
    what = KINDS[d.kind]
    out = [f"综合看板{_scope(d)}：截至{local.year}年{local.month}月{local.day}日 {local:%H:%M}",
           f"在办{what} {d.open.value} 项，其中逾期 {d.overdue.figure.value} 项、挂牌督办 {d.supervised.figure.value} 项"]
    if d.kind == "hazard":
        out.append(f"在办整治任务 {d.tasks_open.value} 项，其中逾期 {d.tasks_overdue.value} 项")
    out += ["", "按状态（在办）："]
    out += [f"  {r.workflow_title}·{r.title}：{r.open.value}" for r in d.by_state if r.open.value]
    out += _groups("按责任单位", d.by_unit) + _groups("按类别", d.by_category)
    out += _overdue(f"逾期{what}（重大优先，逾期时间长的在前）", d.overdue.figure.value, d.overdue.rows)
    out += _overdue("挂牌督办", d.supervised.figure.value, d.supervised.rows)
    for view in (d.current, d.previous):
        out += _period(view)
    return out


def _groups(title: str, rows: list[GroupRow]) -> list[str]:
    out = ["", f"{title}：在办 / 逾期 / 挂牌督办"]
    out += [f"  {r.title}：{r.open.value} / {r.overdue.value} / {r.supervised.value}" for r in rows]
    return out if rows else [*out, "  无"]


def _overdue(title: str, total: int, rows: list[OverdueRow]) -> list[str]:
    out = ["", f"{title}：共 {total} 项" + (f"，列出前 {len(rows)} 项" if len(rows) < total else "")]
    for r in rows:
        due = f"{r.due.year}年{r.due.month}月{r.due.day}日" if r.due else "未设定"
        out.append(f"  事项 {r.item_id} {r.title}｜{r.unit or '未指定'}｜{r.level}｜{r.state_title}｜"
                   f"整改期限{due}，逾期{r.days_overdue}天｜{r.escalation or '尚未升级督办'}")
    return out


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}个工作日"


def _unit_line(u: UnitRate) -> str:
    line = (f"  {u.title}：累计发现 {u.count.found}，累计整改 {u.count.closed}，整改率 {_percent(u.rate)}；"
            f"本期新增 {u.count.new}，本期整改 {u.count.closed_in_period}，平均整改用时 {_days(u.mean_days_to_close)}")
    if u.open is not None and u.overdue is not None:
        line += f"；在办 {u.open.value}，逾期 {u.overdue.value}，逾期率 {_percent(u.overdue_ratio)}"
    return line


def _period(view: PeriodView) -> list[str]:
    out = ["", f"{view.label}："]
    if not view.counted:
        return [*out, "  该期间尚无事项记录"]
    out += [_unit_line(u) for u in view.units]
    if view.total is not None:
        out.append(_unit_line(view.total))
    return out
