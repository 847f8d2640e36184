"""`rectify audit`: the ledger checked against itself, the items, and heads kept elsewhere."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.cli.base import Context, cli, handle_errors
from engine.audit import Anchor, AnchorError, audit_store, parse_anchor

pass_ctx = click.make_pass_decorator(Context)


@cli.command()
@click.argument("item_id", type=click.IntRange(min=1), required=False)
@click.option("--export-head", "export_to", metavar="FILE",
              help="校验无误后，把每个事项的链尾哈希写入 FILE（- 为标准输出），并显示总校验码；请把文件和校验码保存在数据库以外")
@click.option("--against", "against", metavar="FILE", type=click.Path(dir_okay=False),
              help="与以前用 --export-head 保存的链尾文件比对，证明其后没有改写以前的记录")
@pass_ctx
@handle_errors
def audit(ctx: Context, item_id: int | None, export_to: str | None, against: str | None) -> None:
    """校验台账：哈希链是否完整、与事项记录是否一致、事项是否缺失，发现篡改即报告。"""
    app = ctx.app
    anchor = _read_anchor(against) if against else None
    result = audit_store(app.store, item_id, anchor, keep_heads=bool(export_to))
    findings, heads, checked = result.findings, result.heads, result.checked
    for finding in findings:
        click.echo(str(finding), err=True)
    if findings:
        click.echo(f"已校验 {checked} 个事项，发现 {len(findings)} 处问题（见上）", err=True)
        raise SystemExit(1)
    summary = f"已校验 {checked} 个事项的历史记录，全部完好"
    if anchor is not None:
        summary += f"；与 {anchor.taken_at} 的链尾记录（校验码 {anchor.digest[:16]}…）一致"
    if export_to:
        taken = Anchor(app.service.clock.now().astimezone(app.config.timezone).isoformat(timespec="seconds"), heads)
        _write_anchor(export_to, taken.text(app.config.name))
        click.echo(summary, err=export_to == "-")
        click.echo(f"链尾校验码：{taken.digest}（请与链尾文件一起保存在别处，如随阶段报告报送上级）",
                   err=export_to == "-")
        return
    click.echo(summary)


def _read_anchor(path: str) -> Anchor:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"无法读取链尾文件 {path}：{exc.strerror if isinstance(exc, OSError) else '不是 UTF-8 文本'}",
                                 param_hint="--against") from None
    try:
        return parse_anchor(text)
    except AnchorError as exc:
        raise click.BadParameter(f"{path}：{exc}", param_hint="--against") from None


def _write_anchor(target: str, text: str) -> None:
    if target == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"无法写入 {target}：{exc.strerror}", param_hint="--export-head") from None
