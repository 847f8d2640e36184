"""`rectify evidence sweep`: evidence files no item names, left by writes that died."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from adapters.cli.base import Context, cli, handle_errors

pass_ctx = click.make_pass_decorator(Context)


@cli.group()
def evidence() -> None:
    """佐证文件的维护。"""


@evidence.command()
@click.option("--hours", type=click.IntRange(min=1), default=24, show_default=True,
              help="只处理这么多小时以前保存的文件（正在写入的事项不受影响）")
@click.option("--dry-run", is_flag=True, help="只列出这些文件，不删除")
@pass_ctx
@handle_errors
def sweep(ctx: Context, hours: int, dry_run: bool) -> None:
    """删除没有任何事项引用的佐证文件：保存文件后、写入事项前进程中断（断电、被终止）时留下的。"""
    app = ctx.app
    before = app.service.clock.now() - timedelta(hours=hours)
    shown = before.astimezone(app.config.timezone).strftime("%Y-%m-%d %H:%M")
    found = app.service.unattached_evidence(before) if dry_run else app.service.sweep_evidence(before)
    for sha256 in found:
        click.echo(sha256)
    temporaries = _temporaries(app.evidence, before, dry_run)
    if dry_run:
        also = f"，另有写入中断留下的临时文件 {temporaries} 个" if temporaries else ""
        click.echo(f"{shown} 以前保存、没有事项引用的佐证文件共 {len(found)} 个{also}；未删除（--dry-run）")
    else:
        also = f"，另删除写入中断留下的临时文件 {temporaries} 个" if temporaries else ""
        click.echo(f"已删除 {shown} 以前保存、没有事项引用的佐证文件 {len(found)} 个{also}")


def _temporaries(store: object, before: datetime, dry_run: bool) -> int:
    """The directory store's temporary files of writes that died mid-way: counted, and
    removed unless `dry_run`."""
    from adapters.evidence.stores import DirectoryEvidence

    if not isinstance(store, DirectoryEvidence):
        return 0
    found = store.temporaries_before(before)
    if not dry_run:
        for path in found:
            store.remove_temporary(path)
    return len(found)
