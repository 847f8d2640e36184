"""`rectify calendar apply`: count provisional deadlines again with the site calendar, by
hand, as the daemon does when calendar.yaml changes (engine.provisional).

    rectify calendar apply [--dry-run] [--json]
"""

from __future__ import annotations

from typing import Any

import click

from adapters.cli.base import Context, echo_json, handle_errors
from adapters.cli.calendar import calendar_group
from engine.provisional import RecountReport

pass_ctx = click.make_pass_decorator(Context)


@calendar_group.command("apply")
@click.option("--dry-run", is_flag=True, help="只列出将重新计算的事项，不改动数据、不发邮件")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def calendar_apply(ctx: Context, dry_run: bool, as_json: bool) -> None:
    """按当前站点日历重新计算在办事项的暂定期限，以及按学期计算的期限（如“寒假前”“学期末”）
    （守护进程在 calendar.yaml 改动后会自动执行）。期限改变的事项记入台账并通知责任人（无责任人时通知单位负责人）。"""
    app = ctx.app
    report = app.recount().run("cli", dry_run=dry_run)
    if as_json:
        tz = app.config.timezone
        echo_json({**report.summary(), "items": [r.to_json(tz) for r in report.items]})
        return
    _print(report)


def _print(report: RecountReport) -> None:
    click.echo(f"按当前站点日历重新计算暂定期限及按学期计算的期限：在办事项 {report.checked} 项")
    for r in report.items:
        click.echo(f"  事项 {r.item_id} {r.title}：{_due(r.old_due, r.was_provisional)} → {_due(r.new_due, r.provisional)}"
                   + (f"，{'将通知' if report.dry_run else '已通知'} {'、'.join(r.notified)}" if r.notified else ""))
    click.echo(f"期限改变 {report.moved} 项，期限不变改为确定 {report.confirmed} 项，"
               f"仍为暂定 {report.still_provisional} 项"
               + (f"，按学期计算且期限不变 {report.terms_unchanged} 项" if report.terms_unchanged else "")
               + (f"，出错 {report.failed} 项（见日志）" if report.failed else ""))
    if report.dry_run:
        click.echo("（预演）未改动任何数据；去掉 --dry-run 执行")
    elif any(r.notified for r in report.items):
        click.echo("已记入台账；通知邮件已排队，由守护进程（或 rectify tick）发送")
    elif report.items:
        click.echo("已记入台账")


def _due(day: Any, provisional: bool) -> str:
    return (day.isoformat() if day else "无") + ("（暂定）" if provisional else "（确定）")

