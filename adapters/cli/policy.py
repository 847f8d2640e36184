"""`rectify policy`: the stored policy versions, and moving items in flight to the current one."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.render import console, instant
from engine.access import require_office
from engine.ports import Query
from engine.rebinding import PlanChange, compare, in_flight

if TYPE_CHECKING:
    from adapters.wiring import App

pass_ctx = click.make_pass_decorator(Context)


@cli.group()
def policy() -> None:
    """规则版本：查看已用过的版本，预览并迁移在办事项到当前规则。"""


@policy.command("versions")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def versions(ctx: Context, as_json: bool) -> None:
    """列出数据库中记录的规则版本及各自约束的事项数。"""
    app = ctx.app
    tz = app.config.timezone
    current = app.site.rules.version
    rows = [{"version": v, "loaded_at": at.astimezone(tz).isoformat(), "items": n, "current": v == current}
            for v, at, n in app.store.policy_versions()]
    if as_json:
        echo_json({"current": current, "versions": rows})
        return
    click.echo(f"当前规则版本（rules/ 目录）：{current}")
    for r in rows:
        mark = "  ← 当前" if r["current"] else ""
        click.echo(f"  {r['version']}  首次使用 {r['loaded_at']}  约束事项 {r['items']} 项{mark}")


def _changes(app: App, now: datetime) -> list[PlanChange]:
    new_policy = app.site.rules
    found = in_flight(app.store.query(Query()), new_policy.version, app.service.final_states)
    return [compare(i, app.service.plan(i), app.service.plan(i, new_policy), now) for i in found]


def _value(value: Any, tz: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, tuple):
        return [_value(v, tz) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(change: PlanChange, tz: Any) -> dict[str, Any]:
    item = change.item
    return {"item": item.id, "title": item.title, "from_version": item.policy_version,
            "to_version": change.new.policy_version, "changed": change.changed,
            "changes": {k: {"old": _value(o, tz), "new": _value(n, tz)} for k, (o, n) in change.changes.items()}}


def _describe(field: str, old: Any, new: Any) -> str:
    names = {"rule": "规则", "due": "最后期限", "overdue_at": "逾期时间", "paused": "暂停计时", "steps": "后续步骤"}
    if field == "steps":
        def fmt(steps: list[Any]) -> str:
            return "；".join(f"{s[0][:16]} {s[2]}" for s in steps) or "无"
        return f"{names[field]}：{fmt(old)} → {fmt(new)}"
    return f"{names[field]}：{old if old is not None else '无'} → {new if new is not None else '无'}"


def _print(rows: list[dict[str, Any]], version: str) -> None:
    changed = [r for r in rows if r["changed"]]
    table = Table(title=f"在办事项迁移到规则版本 {version} 的变化")
    table.add_column("事项")
    table.add_column("原版本")
    table.add_column("变化")
    for r in changed:
        text = "\n".join(_describe(k, v["old"], v["new"]) for k, v in r["changes"].items())
        table.add_row(f"{r['item']} {r['title']}", r["from_version"] or "（未绑定）", text)
    if changed:
        console.print(table)
    click.echo(f"受旧版本约束的在办事项 {len(rows)} 项：计划将改变 {len(changed)} 项，"
               f"不变 {len(rows) - len(changed)} 项")


@policy.command("diff")
@click.option("--at", "at", help="按此时间比较（默认：现在）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def diff(ctx: Context, at: str | None, as_json: bool) -> None:
    """预览：在办事项若改按 rules/ 中的当前规则，期限和后续提醒升级会怎样变（不改动数据）。"""
    app = ctx.app
    tz = app.config.timezone
    now = instant(at, app)
    rows = [_row(c, tz) for c in _changes(app, now)]
    if as_json:
        echo_json({"version": app.site.rules.version, "items": rows})
        return
    _print(rows, app.site.rules.version)


@policy.command("apply")
@click.option("--actor", required=True, help="操作人（须在 org.yaml 中），记入每项事项的台账")
@click.option("--dry-run", is_flag=True, help="只列出将迁移的事项，不改动数据")
@click.option("--note", help="迁移说明，记入台账")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def apply(ctx: Context, actor: str, dry_run: bool, note: str | None, as_json: bool) -> None:
    """把受旧版本约束的在办事项迁移到当前规则，每项在台账中留下记录。"""
    app = ctx.app
    tz = app.config.timezone
    actor = require_office(app.site.org, actor, "迁移在办事项的规则版本")
    now = app.service.clock.now()
    changes = _changes(app, now)
    rows = [_row(c, tz) for c in changes]
    if not dry_run:
        for change in changes:
            assert change.item.id is not None
            app.service.apply_policy(change.item.id, actor, note=note)
    if as_json:
        echo_json({"version": app.site.rules.version, "dry_run": dry_run, "items": rows})
        return
    _print(rows, app.site.rules.version)
    if dry_run:
        click.echo(f"（预演）将迁移 {len(rows)} 项；去掉 --dry-run 执行")
    else:
        click.echo(f"已迁移 {len(rows)} 项到规则版本 {app.site.rules.version}，已记入台账")
