"""Commands that run and watch the scheduler: daemon, tick, status, outbox."""

from __future__ import annotations

import signal
import socket
import sys
import threading
from datetime import datetime
from typing import Any

import click
import structlog
from rich.table import Table

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.render import console, parse_time
from engine.deadline.dates import cn_date
from engine.errors import Unreachable
from engine.ledgerview import local_minute
from engine.scheduler import TickSummary

log = structlog.get_logger("rectify.daemon")

pass_ctx = click.make_pass_decorator(Context)


@cli.command(short_help="在前台运行调度守护进程：定时发送提醒和督办邮件。")
@pass_ctx
@handle_errors
def daemon(ctx: Context) -> None:
    """在前台运行调度守护进程（适合 systemd）：定时检查到期事项并发送提醒和督办邮件。
    SIGHUP 或修改 rules/、workflows/、templates/、org.yaml、calendar.yaml 时重新加载；SIGTERM 完成当前一轮后退出。"""
    from adapters.daemon import Daemon

    app = _open_when_reachable(ctx)
    if app is None:
        return  # asked to stop while waiting for the database
    config = app.config
    tz = config.timezone
    where = config.mail.outbox_dir if config.mail.transport == "file" else f"{config.mail.host}:{config.mail.port}"

    def tell(summary: TickSummary) -> None:
        # People watching a terminal (make run) see what each tick did; services have the log.
        if sys.stderr.isatty() and (summary.sent or summary.dead or summary.retried or summary.opened
                                    or summary.robot_sent or summary.robot_dead):
            click.echo(f"{summary.at.astimezone(tz):%H:%M:%S} 发出 {summary.sent} 封邮件 → {where}"
                       + (f"，待重试 {summary.retried} 封" if summary.retried else "")
                       + (f"，死信 {summary.dead} 封" if summary.dead else "")
                       + (f"，群机器人消息 {summary.robot_sent} 条" if summary.robot_sent else "")
                       + (f"（死信 {summary.robot_dead} 条）" if summary.robot_dead else "")
                       + (f"，新报送任务 {summary.opened} 项" if summary.opened else ""), err=True)

    runner = Daemon(ctx.site_dir, app=app, on_tick=tell)
    ctx._app = None  # the daemon closes it
    runner.lock_database()  # a second daemon on a SQLite database stops here
    click.echo(f"rectify 守护进程启动：站点“{config.name}”，规则版本 {app.site.rules.version}，"
               f"每 {config.scheduler.tick_seconds:g} 秒检查一次；邮件{'写入' if config.mail.transport == 'file' else '发往'} {where}",
               err=True)
    if not app.site.org.configured:
        click.echo("注意：org.yaml 仍是演示数据（rectify check 列出详情），在改为本校的组织机构之前，"
                   "不向上级主管部门发送任何邮件", err=True)
        log.warning("site_not_configured", traces=list(app.site.org.demo))
    runner.run()


# Waiting for the database at start: 1, 2, 4 … seconds, then every minute.
FIRST_WAIT, LONGEST_WAIT = 1.0, 60.0


def _open_when_reachable(ctx: Context) -> Any:
    """The site's App once its database answers. A server that is down or still
    starting (the daemon came up first after a reboot) is waited for, with a log line
    per attempt, until it answers or SIGTERM/SIGINT; any other problem fails at once."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    wait, attempt = FIRST_WAIT, 0
    while True:
        try:
            return ctx.app
        except Unreachable as exc:
            attempt += 1
            log.warning("database_unreachable", error=str(exc), attempt=attempt, retry_in=wait,
                        hint=f"数据库暂时无法连接，{wait:g} 秒后重试（第 {attempt} 次）")
        if stop.wait(wait):
            log.info("daemon_stopped_waiting_for_database", attempts=attempt)
            return None
        wait = min(wait * 2, LONGEST_WAIT)


@cli.command()
@click.option("--at", "at", help="按此时间执行一轮（默认：现在），用于手工补发和测试")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def tick(ctx: Context, at: str | None, as_json: bool) -> None:
    """立即执行一轮调度：生成到期的提醒和升级、合并为邮件并发送。"""
    from adapters.daemon import Daemon

    app = ctx.app
    when = parse_time(at, app.config.timezone, "--at") if at else None
    # Ticks by hand share one heartbeat row per host, not one per process.
    runner = Daemon(ctx.site_dir, app=app, name=f"{socket.gethostname()}:rectify-tick")
    try:
        summary = runner.tick(when)
    finally:
        runner.leadership.close()
    if summary is None:
        raise click.ClickException("本轮调度失败，详见日志")
    if as_json:
        echo_json(summary.to_json())
        return
    backfilled = f"（其中补建停机期间错过的 {summary.backfilled} 项）" if summary.backfilled else ""
    held = "" if summary.office_open else "；现在不是办公时间，非紧急的通知等待办公时间再发送（rectify status 查看）"
    click.echo(f"{summary.at.astimezone(app.config.timezone):%Y-%m-%d %H:%M}：生成报送任务 {summary.opened} 项{backfilled}，阶段报告邮件 {summary.stage_reports} 封，"
               f"处理到期事项 {summary.items} 项，新增通知 {summary.queued} 条，合成邮件 {summary.composed} 封，"
                f"发出 {summary.sent} 封，待重试 {summary.retried} 封，转死信 {summary.dead} 封{held}"
                + (f"；群机器人消息发出 {summary.robot_sent} 条，待重试 {summary.robot_retried} 条，转死信 {summary.robot_dead} 条"
                   if summary.robot_sent or summary.robot_retried or summary.robot_dead else ""))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def status(ctx: Context, as_json: bool) -> None:
    """守护进程的运行状况：上次调度、到期事项、待发邮件、死信、规则版本。"""
    app = ctx.app
    tz = app.config.timezone
    now = app.service.clock.now()
    data = app.outbox.status(now)
    data["policy_version"] = app.site.rules.version
    data["office_hours"] = _office_hours(app, now, data)
    beats = data.pop("daemons")
    last = beats[0] if beats else None
    data["stale"] = None  # unknown until a tick has run
    if last is not None and last["last_tick_at"] is not None:
        age = (now - last["last_tick_at"]).total_seconds()
        data["stale"] = age > 3 * app.config.scheduler.tick_seconds
    data["daemons"] = [{k: (v.astimezone(tz).isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}
                       for d in beats]
    last = data["daemons"][0] if beats else None
    data["last_tick_at"] = last["last_tick_at"] if last else None
    stale = data["stale"]
    if as_json:
        echo_json(data)
        return
    click.echo(f"规则版本（rules/）：{data['policy_version']}")
    if last:
        click.echo(f"上次调度：{local_minute(beats[0]['last_tick_at'], tz) or '尚未完成'}（{last['name']}，"
                   f"用时 {last['last_tick_seconds'] or 0:.2f} 秒，"
                   f"规则版本 {last['policy_version']}）" + ("  ⚠ 已超过三个周期未调度，守护进程可能未运行" if stale else ""))
        if last["last_error"]:
            click.echo(f"上次调度出错：{last['last_error']}")
    else:
        click.echo("尚未执行过调度（rectify daemon 或 rectify tick）")
    click.echo(f"已到期待处理事项：{data['items_due']} 项；待合成通知：{data['unsent_notifications']} 条")
    click.echo(f"待发邮件：{data['pending']} 封；已发：{data['sent']} 封；死信：{data['dead']} 封"
               + ("（rectify outbox 查看，rectify outbox retry 重试）" if data["dead"] else ""))
    click.echo(_office_line(data["office_hours"]))


def _office_hours(app: Any, now: datetime, counts: dict[str, Any]) -> dict[str, Any]:
    """What waits for office hours now: how many notifications (for how many
    recipients) and messages, and when they go out (None while office hours are on)."""
    office, tz = app.config.office_hours, app.config.timezone
    is_open = office.is_open(now, app.service.tz, app.service.calendar)
    opens = None if is_open else office.opens_at(now, app.service.tz, app.service.calendar)
    waiting = not is_open
    return {"hours": office.describe(), "open": is_open,
            "opens_at": opens.astimezone(tz).isoformat() if opens else None,
            "waiting_notifications": counts["held_notifications"] if waiting else 0,
            "waiting_recipients": counts["held_recipients"] if waiting else 0,
            "waiting_messages": counts["held_messages"] if waiting else 0}


def _office_line(office: dict[str, Any]) -> str:
    """The office-hours state in one Chinese line, for `status` and `outbox`."""
    hours = office["hours"]
    if office["open"]:
        return f"办公时间（{hours}）：现在是办公时间，到期的提醒和督办随每轮调度发出"
    opens = datetime.fromisoformat(office["opens_at"]) if office["opens_at"] else None
    when = f"将于 {cn_date(opens.date())} {opens:%H:%M} 起发送" if opens else "日历中一年内没有办公时间，不会发送"
    notes, recipients, mails = (office["waiting_notifications"], office["waiting_recipients"],
                                office["waiting_messages"])
    if not (notes or mails):
        return f"办公时间（{hours}）：现在不是办公时间，没有等待发送的通知；标为紧急（urgent）的事项仍立即发送"
    parts = ([f"通知 {notes} 条（将合成发给 {recipients} 位收件人的汇总邮件）"] if notes else []) + \
        ([f"邮件 {mails} 封"] if mails else [])
    return f"等待办公时间（{hours}）：{'、'.join(parts)}，{when}；标为紧急（urgent）的事项仍立即发送"


_PLATFORMS = {"wecom": "企业微信", "dingtalk": "钉钉"}


def _message_json(row: Any, tz: Any) -> dict[str, Any]:
    channel = getattr(row, "channel", "mail") or "mail"
    robot = getattr(row, "robot", None) or {}
    to = (f"{row.recipient_name}（{_PLATFORMS.get(str(robot.get('kind')), '')}群机器人）" if channel == "robot"
          else f"{row.recipient_name} <{row.recipient_email}>")
    return {"id": row.id, "channel": channel, "to": to, "subject": row.subject,
            "status": row.status, "attempts": row.attempts, "last_error": row.last_error,
            "created_at": row.created_at.astimezone(tz).isoformat(),
            "next_attempt_at": row.next_attempt_at.astimezone(tz).isoformat(),
            "sent_at": row.sent_at.astimezone(tz).isoformat() if row.sent_at else None,
            "notifications": row.notifications}


@cli.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="也列出已发送的邮件")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handle_errors
def outbox(click_ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """列出待发的邮件和群机器人消息，以及死信（发送失败、不再自动重试的）。"""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx: Context = click_ctx.obj
    app = ctx.app
    tz = app.config.timezone
    statuses = ("pending", "dead", "sent") if show_all else ("pending", "dead")
    now = app.service.clock.now()
    office = _office_hours(app, now, app.outbox.status(now))
    rows = [_message_json(r, tz) | {"waiting_for_office_hours": r.status == "pending" and not r.urgent
                                    and not office["open"]} for r in app.outbox.list_messages(statuses)]
    if as_json:
        echo_json(rows)
        return
    click.echo(_office_line(office))
    if not rows:
        click.echo("没有待发的邮件、群机器人消息或死信")
        return
    names = {"pending": "待发", "dead": "死信", "sent": "已发"}
    table = Table()
    for title in ("编号", "状态", "收件人", "主题", "尝试", "最后错误"):
        table.add_column(title)
    for r in rows:
        status = "待发（等待办公时间）" if r["waiting_for_office_hours"] else names[r["status"]]
        table.add_row(str(r["id"]), status, r["to"], r["subject"], str(r["attempts"]),
                      r["last_error"] or "")
    console.print(table)


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@pass_ctx
@handle_errors
def outbox_retry(ctx: Context, ids: tuple[int, ...]) -> None:
    """把死信（全部，或指定编号）放回待发队列，下一轮调度时重新发送。"""
    app = ctx.app
    count = app.outbox.retry_dead(list(ids) or None, app.service.clock.now())
    click.echo(f"已放回待发队列 {count} 封" if count else "没有可重试的死信")
