"""Commands on policy and plans: explain, simulate."""

from __future__ import annotations

import sys
from datetime import tzinfo
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.table import Table

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.render import console, instant, minute, parse_time
from adapters.present import conditions_text, explain_json, facts_text, recipients
from adapters.sitefiles import load_site_files
from engine.obligations import current_filings
from engine.ports import Query

pass_ctx = click.make_pass_decorator(Context)


@cli.command()
@click.argument("item_id", type=int)
@click.option("--at", "at", help="按此时间计算（默认：现在）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def explain(ctx: Context, item_id: int, at: str | None, as_json: bool) -> None:
    """说明事项适用哪条规则、为什么、期限是哪天，以及全部提醒和升级安排。"""
    app = ctx.app
    now = instant(at, app)
    item = app.store.get(item_id)
    data = explain_json(app, item, now)
    if as_json:
        echo_json(data)
        return
    rules = {r.name: r for r in app.service.policies.get(item.policy_version).rules}
    conditions = {name: conditions_text(r.match.conditions) for name, r in rules.items()}
    _print_explain(data, conditions, app.config.timezone)


def _print_explain(data: dict[str, Any], conditions: dict[str, str], tz: tzinfo) -> None:
    click.echo(f"事项 {data['id']} 的特征：{facts_text(data['facts'])}")
    click.echo(f"按规则版本 {data['policy_version']} 计算" + (
        f"（rules/ 当前为 {data['current_policy_version']}；rectify policy diff 查看改按新规则的变化）"
        if data["policy_version"] != data["current_policy_version"] else ""))
    for c in data["candidates"]:
        mark = "✓" if c["matches"] else "✗"
        chosen = "  ← 生效" if c["rule"] == data["rule"] else ""
        click.echo(f"  {mark} {c['rule']}（{c['file']}，条件：{conditions.get(c['rule'], c['match'])}；"
                   f"具体程度 {c['specificity']}，优先级 {c['priority']}）{chosen}")
    if data["deadline_expr"]:
        click.echo(_deadline_line(data))
    if data["plan_note"]:
        click.echo(f"说明：{data['plan_note']}")
    if data["provisional"]:
        click.echo(f"注意（暂定期限）：{data['provisional_note']}")
    table = Table(title="今后的提醒与升级", box=box.SIMPLE_HEAD)
    table.add_column("时间", no_wrap=True)
    table.add_column("类型", no_wrap=True)
    table.add_column("步骤", no_wrap=True)
    table.add_column("通知对象", overflow="fold", ratio=1)
    table.add_column("依据", overflow="fold")
    for s in data["plan"]:
        table.add_row(minute(s["at"], tz), "提醒" if s["kind"] == "remind" else "升级", s["step"],
                      "、".join(s["recipients"]), s["rule_text"])
    console.print(table)


def _deadline_line(data: dict[str, Any]) -> str:
    """Where the deadline comes from and when the item falls overdue; a paused item
    (its clock stopped in a `pause_in` state) says so, and since when, instead."""
    line = f"期限：{data['deadline_expr']}（{data['deadline_source']}）→ "
    if data["paused"]:
        since = _minute(data["paused_since"])
        return (line + f"原定最后期限 {data['due'] or '未设定'}；自 {since} 起处于“{data['paused_state']}”，"
                "暂停计时（暂停期间不计入时限，也不会逾期；恢复后期限按暂停的时间顺延）")
    if data["overdue_at"] is None:
        return line + (f"最后期限 {data['due']}" if data["due"] else "无截止日期")
    return line + f"最后期限 {data['due']}，{_minute(data['overdue_at'])} 起逾期"


def _minute(iso: str | None) -> str:
    """An ISO instant as people read it: 2026-12-01 16:28."""
    return iso[:16].replace("T", " ") if iso else "未知时间"


@cli.command()
@click.option("--from", "start", required=True, help="起始时间（ISO）")
@click.option("--to", "end", required=True, help="结束时间（ISO）")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="用草稿规则目录代替站点的 rules/，预览改动的效果")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def simulate(ctx: Context, start: str, end: str, rules_dir: Path | None, as_json: bool) -> None:
    """列出某段时间内将发出的全部提醒和升级（不发送、不改动任何数据）。"""
    app = ctx.app
    tz = app.config.timezone
    t0, t1 = parse_time(start, tz, "--from"), parse_time(end, tz, "--to")
    if t1 <= t0:
        raise click.BadParameter("--to 应晚于 --from", param_hint="--to")
    rules = load_site_files(app.config, rules_dir, clock=app.service.clock).rules if rules_dir else app.site.rules
    rows: list[dict[str, Any]] = []
    found = app.store.query(Query())
    for item, plan in zip(found, app.plans_for(found, rules), strict=True):
        for step in plan.steps(t0, t1):
            rows.append({"at": step.at.astimezone(tz).isoformat(), "item": item.id, "title": item.title,
                         "kind": step.kind, "step": step.action, "key": step.key,
                         "recipients": recipients(step, item, app), "rule": plan.rule.name if plan.rule else None,
                         "policy_version": rules.version})
    rows.sort(key=lambda r: (r["at"], r["item"]))
    if as_json:
        echo_json(rows)
        return
    table = Table(title=f"模拟：{t0.astimezone(tz):%Y-%m-%d %H:%M} 至 {t1.astimezone(tz):%Y-%m-%d %H:%M}（规则版本 {rules.version}）")
    for title in ("时间", "事项", "类型", "步骤", "通知对象"):
        table.add_column(title, no_wrap=title == "时间", overflow="fold")
    for r in rows:
        table.add_row(minute(r["at"], tz), f"{r['item']} {r['title']}", "提醒" if r["kind"] == "remind" else "升级",
                      r["step"], "、".join(r["recipients"]))
    console.print(table)
    click.echo(f"共 {len(rows)} 条")


@cli.command()
@click.option("--at", "at", help="按此时间生成（默认：现在）")
@click.option("--dry-run", is_flag=True, help="只列出将要生成的报送任务")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def obligations(ctx: Context, at: str | None, dry_run: bool, as_json: bool) -> None:
    """为当期的定期报送义务给每个单位生成一项报送任务（已生成的不会重复）。

    某项义务无法生成（如按学期计的周期超出 calendar.yaml 所列学期）时，其余义务照常生成，
    无法生成的逐项列在标准错误输出中，退出码为 1。"""
    app = ctx.app
    tz = app.config.timezone
    now = instant(at, app)
    due, failures = current_filings(app.site.rules, app.site.org, now, tz, app.service.calendar)
    taken = app.store.origins([r.origin for r in due])
    if dry_run:
        rows = [{"origin": r.origin, "unit": r.unit, "title": r.title, "due": r.due.isoformat(),
                 "exists": r.origin in taken} for r in due]
        if as_json:
            echo_json(rows)
        for x in [] if as_json else rows:
            click.echo(f"{'已存在' if x['exists'] else '将生成'}：{x['unit']} {x['title']}")
    else:
        created = app.service.open_filings(due, now)
        if as_json:
            echo_json([{"id": i.id, "unit": i.unit, "title": i.title, "origin": i.origin} for i in created])
        else:
            click.echo(f"生成报送任务 {len(created)} 项，已存在 {len(taken)} 项")
    for f in failures:
        click.echo(f"错误：{f.describe()}", err=True)
    if failures:
        sys.exit(1)
