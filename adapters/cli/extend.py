"""Extension requests (延期申请): `rectify extend request|approve|refuse|list`."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.render import clip, console, parse_time
from engine.extensions import Extension, PendingExtension, approver_titles, cn

pass_ctx = click.make_pass_decorator(Context)


@cli.group()
def extend() -> None:
    """延期申请：责任人或责任单位负责人申请延期，规则指定的审批人批准或不予批准。"""


def _when(ctx: Context, at: str | None) -> Any:
    return parse_time(at, ctx.app.config.timezone, "--at") if at else None


def _said(request: Extension) -> str:
    return f"{cn(request.old_due)} → {cn(request.new_due)}（{request.deadline}）"


@extend.command("request")
@click.argument("item_id", type=int)
@click.option("--actor", required=True, help="申请人：本事项责任人或责任单位负责人（须在 org.yaml 中）")
@click.option("--deadline", "deadline", required=True, help="新的期限，如 “2027年1月15日前”“10个工作日内”（自申请时起算）")
@click.option("--reason", required=True, help="申请延期的理由")
@click.option("--at", "at", help="申请时间，ISO 格式（默认：现在）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def request_cmd(ctx: Context, item_id: int, actor: str, deadline: str, reason: str, at: str | None,
                as_json: bool) -> None:
    """申请延长事项的整改期限。"""
    app = ctx.app
    done = app.service.request_extension(item_id, actor, deadline, reason, _when(ctx, at))
    if as_json:
        echo_json(done.to_json(app.config.timezone))
        return
    item = app.store.get(item_id)
    approvers = approver_titles(app.service.extension_rules(item).approvers)
    click.echo(f"事项 {item_id} 已申请延期：{_said(done)}，等待{approvers}审批")


def _answer(ctx: Context, item_id: int, actor: str, approve: bool, note: str | None, at: str | None,
            as_json: bool) -> None:
    app = ctx.app
    done = app.service.answer_extension(item_id, actor, approve, note, _when(ctx, at))
    if as_json:
        echo_json(done.to_json(app.config.timezone))
    elif approve:
        click.echo(f"事项 {item_id} 的延期申请已批准：整改期限改为{cn(done.new_due)}")
    else:
        click.echo(f"事项 {item_id} 的延期申请未获批准：整改期限仍为{cn(done.old_due)}")


@extend.command("approve")
@click.argument("item_id", type=int)
@click.option("--actor", required=True, help="审批人（须在 org.yaml 中，具有规则指定的审批角色）")
@click.option("--note", help="审批意见")
@click.option("--at", "at", help="审批时间，ISO 格式（默认：现在）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def approve_cmd(ctx: Context, item_id: int, actor: str, note: str | None, at: str | None, as_json: bool) -> None:
    """批准事项待审批的延期申请：整改期限改为申请的日期。"""
    _answer(ctx, item_id, actor, True, note, at, as_json)


@extend.command("refuse")
@click.argument("item_id", type=int)
@click.option("--actor", required=True, help="审批人（须在 org.yaml 中，具有规则指定的审批角色）")
@click.option("--note", required=True, help="不予批准的理由")
@click.option("--at", "at", help="审批时间，ISO 格式（默认：现在）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def refuse_cmd(ctx: Context, item_id: int, actor: str, note: str, at: str | None, as_json: bool) -> None:
    """不批准事项待审批的延期申请：整改期限不变。"""
    _answer(ctx, item_id, actor, False, note, at, as_json)


def _row(p: PendingExtension, tz: Any) -> dict[str, Any]:
    return {**p.request.to_json(tz), "title": p.item.title, "unit": p.item.unit,
            "approvers": list(p.approvers), "approvers_title": approver_titles(p.approvers)}


@extend.command("list")
@click.option("--as", "viewer", metavar="NAME", help="只列出此人可以审批的申请")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def list_cmd(ctx: Context, viewer: str | None, as_json: bool) -> None:
    """列出待审批的延期申请（待办）。"""
    app = ctx.app
    tz = app.config.timezone
    rows = [_row(p, tz) for p in app.service.pending_extensions(viewer)]
    if as_json:
        echo_json(rows)
        return
    table = Table(title="待审批的延期申请")
    for title in ("编号", "标题", "责任单位", "申请人", "申请时间", "原期限", "申请延期至", "理由", "审批人"):
        table.add_column(title, overflow="fold")
    for r in rows:
        table.add_row(str(r["item_id"]), clip(r["title"]), r["unit"] or "", r["requested_by"],
                      str(r["requested_at"])[:16].replace("T", " "), r["old_due"] or "", r["new_due"],
                      clip(r["reason"]), r["approvers_title"])
    console.print(table)
    click.echo(f"共 {len(rows)} 项")
