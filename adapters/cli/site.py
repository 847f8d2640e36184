"""Commands on the site itself: init, check, templates, org, workflow, db."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from adapters import database, demo
from adapters.cli.base import Context, cli, echo_json, fail, handle_errors
from adapters.cli.render import console
from adapters.sitesetup import create_site
from adapters.templates import Templates
from adapters.wiring import load_policy, open_app
from engine import site as site_mod
from engine.errors import ConfigError, Problem, RectifyError

pass_ctx = click.make_pass_decorator(Context)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--demo", "with_demo", is_flag=True, help="同时写入演示数据")
@click.option("--database-url", help="数据库地址（默认：站点目录下的 SQLite 文件）")
@handle_errors
def init(directory: Path, with_demo: bool, database_url: str | None) -> None:
    """创建一个站点目录：rectify.yaml、org.yaml、calendar.yaml、rules/、workflows/、templates/ 和数据库。"""
    config = create_site(directory, database_url)
    click.echo(f"已创建站点 {directory}（数据库：{database.describe(config.database_url)}）")
    if with_demo:
        app = open_app(directory.resolve())
        try:
            count = demo.populate(app)
        finally:
            app.close()
        click.echo(f"已写入演示数据 {count} 条")


@cli.group("templates")
def templates_group() -> None:
    """邮件模板：站点 templates/ 中的同名文件覆盖随程序提供的模板。"""


@templates_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def templates_list(ctx: Context, as_json: bool) -> None:
    """列出全部模板，以及各自从站点还是随程序提供的目录加载。"""
    site_dir = site_mod.load(ctx.site_dir).templates_dir
    templates = Templates(site_dir)
    shipped, own = templates.shipped_names(), set(templates.overrides())
    rows = [{"name": n, "source": "site" if n in own else "shipped",
             "path": str((site_dir if n in own else templates.shipped_dir) / n)} for n in shipped]
    rows += [{"name": n, "source": "site-only", "path": str(site_dir / n)} for n in sorted(own - set(shipped))]
    if as_json:
        echo_json(rows)
        return
    labels = {"site": "站点覆盖", "shipped": "随程序提供", "site-only": "站点自有（程序不使用）"}
    for r in rows:
        click.echo(f"{r['name']}\t{labels[r['source']]}\t{r['path']}")


@templates_group.command("copy")
@click.argument("names", nargs=-1)
@click.option("--all", "copy_all", is_flag=True, help="复制全部随程序提供的模板")
@pass_ctx
@handle_errors
def templates_copy(ctx: Context, names: tuple[str, ...], copy_all: bool) -> None:
    """把随程序提供的模板复制到站点 templates/，以便修改；已有的站点文件不会被覆盖。"""
    target = site_mod.load(ctx.site_dir).templates_dir
    templates = Templates(target)
    shipped = templates.shipped_names()
    wanted = shipped if copy_all else list(names)
    if not wanted:
        fail("请给出模板名称（rectify templates list 可列出），或用 --all", 2)
    unknown = [n for n in wanted if n not in shipped]
    if unknown:
        fail(f"没有这些随程序提供的模板：{'、'.join(unknown)}（已有：{'、'.join(shipped)}）", 2)
    target.mkdir(parents=True, exist_ok=True)
    kept = []
    for name in wanted:
        if (target / name).exists():
            kept.append(name)
            continue
        shutil.copyfile(templates.shipped_dir / name, target / name)
        click.echo(f"已复制 {name} → {target / name}")
    if kept:
        fail(f"站点已有这些模板，未覆盖：{'、'.join(kept)}（要恢复随程序提供的版本，先删除站点文件）")


@cli.command()
@pass_ctx
def check(ctx: Context) -> None:
    """校验站点文件（含 calendar.yaml）；每个问题以 文件:行号: 说明 列出。"""
    problems: list[Problem] = []
    try:
        config = site_mod.load(ctx.site_dir)
    except ConfigError as exc:
        problems = exc.problems
    except RectifyError as exc:
        fail(str(exc))
    if not problems:
        for checker in (lambda: load_policy(config), lambda: Templates(config.templates_dir).check()):
            try:
                checker()
            except ConfigError as exc:
                problems += exc.problems
    for p in problems:
        click.echo(str(p), err=True)
    if problems:
        fail(f"发现 {len(problems)} 个问题，站点文件未通过校验")
    if not config.calendar_file.exists():
        click.echo("提示：站点没有 calendar.yaml（学期、尚未内置年份的节假日安排、学校自己的放假日），"
                   "工作日只按内置的国务院安排计算；用 rectify calendar init 写入带说明的示例", err=True)
    click.echo("站点文件校验通过")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def org(ctx: Context, as_json: bool) -> None:
    """列出责任单位和人员。"""
    organisation = load_policy(site_mod.load(ctx.site_dir)).org
    units: list[dict[str, Any]] = [
        {"name": u.name, "head": u.head, "leader": u.leader, "email": u.email, "aliases": list(u.aliases),
         "safety_office": u.name == organisation.safety_office}
        for u in organisation.units.values()
    ]
    people: list[dict[str, Any]] = [
        {"name": p.name, "unit": p.unit, "email": p.email, "title": p.title,
         "roles": sorted(organisation.roles_of(p.name))}
        for p in organisation.people.values()
    ]
    if as_json:
        echo_json({"units": units, "people": people, "safety_office": organisation.safety_office})
        return
    table = Table(title="责任单位")
    for title in ("单位", "负责人", "分管校领导", "邮箱"):
        table.add_column(title)
    for u in organisation.units.values():
        name = u.name + ("（综治办）" if u.name == organisation.safety_office else "")
        table.add_row(name, u.head, u.leader or "", u.email or "")
    console.print(table)
    table = Table(title="人员")
    for title in ("姓名", "单位", "职务", "邮箱", "角色"):
        table.add_column(title)
    for p in organisation.people.values():
        roles = "、".join(sorted(organisation.roles_of(p.name)))
        table.add_row(p.name, p.unit or "", p.title or "", p.email or "", roles)
    console.print(table)


@cli.group()
def workflow() -> None:
    """查看流程定义。"""


@workflow.command("show")
@click.argument("name")
@pass_ctx
@handle_errors
def workflow_show(ctx: Context, name: str) -> None:
    """以 Mermaid 状态图输出流程。"""
    workflows = load_policy(site_mod.load(ctx.site_dir)).workflows
    click.echo(workflows.get_or_fail(name).mermaid())


@cli.group()
def db() -> None:
    """数据库维护。"""


@db.command("upgrade")
@pass_ctx
@handle_errors
def db_upgrade(ctx: Context) -> None:
    """创建或升级数据库结构到最新版本。"""
    config = site_mod.load(ctx.site_dir)
    engine = database.open_engine(config.database_url, must_exist=False)
    try:
        database.upgrade(engine)
        click.echo(f"数据库 {database.describe(config.database_url)} 已是最新结构（{database.current_revision(engine)}）")
    finally:
        engine.dispose()
