"""Commands on the site itself: init, check, templates, org, workflow, db."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from adapters import database
from adapters.cli.base import Context, cli, echo_json, fail, handle_errors
from adapters.cli.render import console
from adapters.cli.workflowview import show_workflow
from adapters.clock import SystemClock
from adapters.sitefiles import load_config, load_site_files
from adapters.sitesetup import create_site
from adapters.templates import Templates
from adapters.wiring import open_app
from engine.errors import ConfigError, FileAccess, Problem, RectifyError
from engine.org import addresses, is_example_address

pass_ctx = click.make_pass_decorator(Context)


@cli.command(short_help="创建站点目录（配置、组织、日历、规则、流程、模板和数据库）。")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--demo", "with_demo", is_flag=True, help="同时写入演示数据")
@click.option("--database-url", help="数据库地址（默认：站点目录下的 SQLite 文件）")
@handle_errors
def init(directory: Path, with_demo: bool, database_url: str | None) -> None:
    """创建一个站点目录：rectify.yaml、org.yaml、calendar.yaml、rules/、workflows/、templates/ 和数据库。"""
    config = create_site(directory, database_url)
    click.echo(f"已创建站点 {directory}（数据库：{database.describe(config.database_url)}）")
    if with_demo:
        from adapters import demo  # openpyxl (the demo's spreadsheets): only for --demo

        root = directory.resolve()
        demo.add_demo_robot(root)
        shift = demo.date_campaign(root, SystemClock().now().astimezone(config.timezone).date())
        app = open_app(root)
        try:
            count = demo.populate(app, shift)
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
    site_dir = load_config(ctx.site_dir).templates_dir
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
    config = load_config(ctx.site_dir)
    target = config.templates_dir
    templates = Templates(target)
    shipped = templates.shipped_names()
    wanted = shipped if copy_all else list(names)
    if not wanted:
        fail("请给出模板名称（rectify templates list 可列出），或用 --all", 2)
    unknown = [n for n in wanted if n not in shipped]
    if unknown:
        fail(f"没有这些随程序提供的模板：{'、'.join(unknown)}（已有：{'、'.join(shipped)}）", 2)
    _inside_site(target, config.root)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccess.from_os_error(exc, target, "创建模板目录") from exc
    kept, linked = [], []
    for name in wanted:
        dest = target / name
        if dest.is_symlink():
            linked.append(name)  # written through, it would land wherever the link points
        elif dest.exists() or not _copy_new(templates.shipped_dir / name, dest):
            kept.append(name)
        else:
            click.echo(f"已复制 {name} → {dest}")
    if linked:
        click.echo(f"错误：站点 templates/ 中的这些文件是符号链接，未写入：{'、'.join(linked)}"
                   "（请删除链接后再复制）", err=True)
    if kept:
        click.echo(f"错误：站点已有这些模板，未覆盖：{'、'.join(kept)}（要恢复随程序提供的版本，先删除站点文件）", err=True)
    if linked or kept:
        raise SystemExit(1)


def _inside_site(templates_dir: Path, root: Path) -> None:
    """Refuse a templates/ that is (or passes through) a symlink leading out of the site:
    `templates copy` writes only inside the site directory."""
    resolved, site = templates_dir.resolve(), root.resolve()
    if not resolved.is_relative_to(site):
        raise FileAccess(templates_dir, "复制模板到",
                         f"它是指向站点目录以外（{resolved}）的符号链接，未复制任何模板")


def _copy_new(source: Path, dest: Path) -> bool:
    """Write `source` to `dest` only as a new file, never through a symlink (one made
    between the check and the write included); False when `dest` already exists."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(dest, flags, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        raise FileAccess.from_os_error(exc, dest, "写入模板") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())
    return True


@cli.command()
@pass_ctx
@handle_errors
def check(ctx: Context) -> None:
    """校验站点文件（含 calendar.yaml）；每个问题以 文件:行号: 说明 列出。"""
    problems: list[Problem] = []
    try:
        config = load_config(ctx.site_dir)
    except ConfigError as exc:
        problems = exc.problems
    except RectifyError as exc:
        fail(str(exc))
    loaded: list[Any] = []
    if not problems:

        def files_and_robots() -> None:
            files = load_site_files(config, clock=ctx.clock)
            loaded.append(files)
            _robot_sources(config, files)

        for checker in (files_and_robots,
                        lambda: Templates(config.templates_dir).check()):
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
    demo = loaded[0].org.demo
    for warning in demo_warnings(config, loaded[0].org):
        click.echo(f"警告：{warning}", err=True)
    click.echo("站点文件校验通过，但站点仍是演示数据（见上方警告）：在 org.yaml 改为本校的组织机构之前，"
               "不向校外（上级主管部门）发送任何邮件" if demo else "站点文件校验通过")


def demo_warnings(config: Any, organisation: Any) -> list[str]:
    """What `check` warns of: what org.yaml still holds of the shipped demo, and addresses
    at example domains (mail sent there reaches nobody)."""
    found = [f"{config.org_file}：{t}" for t in organisation.demo]
    example = [a for a in addresses(organisation) if is_example_address(a)]
    settings = [(k, a) for k, a in (("admin_email", config.admin_email), ("mail.from", config.mail.sender))
                if is_example_address(a)]
    if example:
        shown = "、".join(example[:3]) + ("等" if len(example) > 3 else "")
        found.append(f"{config.org_file}：{len(example)} 个邮箱是示例地址（{shown}），发往这些地址的邮件无人收到，"
                     "请换成真实邮箱")
    if settings:
        found.append(f"{config.root / 'rectify.yaml'}：" + "、".join(f"{k} 仍是示例地址 {a}" for k, a in settings))
    return found


def _robot_sources(config: Any, files: Any) -> None:
    """The group robots' webhooks and secrets that org.yaml names in the environment or
    in files: each must be there and be what the platform takes."""
    from adapters.robots import source_problems

    found = source_problems(files.org, config.root, str(config.org_file))
    if found:
        raise ConfigError(found)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def org(ctx: Context, as_json: bool) -> None:
    """列出责任单位和人员。"""
    organisation = load_site_files(load_config(ctx.site_dir), clock=ctx.clock).org
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
@click.option("--mermaid", is_flag=True, help="输出 Mermaid 状态图（可粘贴到支持 Mermaid 的文档中）")
@pass_ctx
@handle_errors
def workflow_show(ctx: Context, name: str, mermaid: bool) -> None:
    """列出流程的状态和事件：每个事件的状态变化、须填写的字段、条件和可执行的角色。"""
    workflows = load_site_files(load_config(ctx.site_dir), clock=ctx.clock).workflows
    wf = workflows.get_or_fail(name)
    if mermaid:
        click.echo(wf.mermaid())
    else:
        show_workflow(wf)


@cli.group()
def db() -> None:
    """数据库维护。"""


@db.command("upgrade")
@pass_ctx
@handle_errors
def db_upgrade(ctx: Context) -> None:
    """创建或升级数据库结构到最新版本。"""
    config = load_config(ctx.site_dir)
    engine = database.open_engine(config.database_url, must_exist=False)
    try:
        database.upgrade(engine)
        click.echo(f"数据库 {database.describe(config.database_url)} 已是最新结构（{database.current_revision(engine)}）")
    finally:
        engine.dispose()
