"""`rectify deadline EXPR`: read a Chinese deadline expression and print it as JSON.

    rectify deadline 2020年底前 --ref 2020-08-01
    {"kind": "once", "dues": ["2020-12-31"], "overdue_at": ["2021-01-01T00:00:00+08:00"], …}

Working days follow the site's calendar (calendar.yaml: years the package does not know
yet, the school's own days) when there is a site: --site, $RECTIFY_SITE, or the current
directory if it is one, and "开学前", "学期末", "每学期" are read against its terms;
elsewhere the package's calendar alone (and term words are refused). Anything the
engine cannot read with certainty exits 2 with the unreadable part on stderr.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

import click

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.render import in_range
from engine.deadline import parse_deadline, zone_of
from engine.ports import Clock


def _zone(name: str) -> tzinfo:
    try:
        return zone_of(name)
    except ValueError as exc:
        raise click.BadParameter(f"未知时区：{name}", param_hint="--tz") from exc


def _reference(text: str | None, zone: tzinfo, clock: Clock) -> datetime:
    """--ref as a date or a date and time in the site's zone; now when not given."""
    if text is None:
        return clock.now().astimezone(zone)
    try:
        when = datetime.fromisoformat(text) if "T" in text or " " in text else None
        if when is None:
            when = datetime.combine(date.fromisoformat(text), time(0))
    except ValueError as exc:
        raise click.BadParameter(
            f"应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM：{text}", param_hint="--ref"
        ) from exc
    return in_range(when if when.tzinfo else when.replace(tzinfo=zone), zone, "--ref", text)


@cli.command("deadline")
@click.argument("expression")
@click.option("--ref", "--at", "ref", metavar="YYYY-MM-DD[THH:MM]", help="参考时间（默认：现在）")
@click.option(
    "--count", type=click.IntRange(min=1), default=4, show_default=True, help="周期性期限列出几次"
)
@click.option("--tz", "tz", help="时区（默认：站点的时区，无站点时 Asia/Shanghai）")
@click.pass_obj
@handle_errors
def deadline_command(ctx: Context, expression: str, ref: str | None, count: int, tz: str | None) -> None:
    """解析期限表述（如“2020年底前”“5个工作日内”“每季度末”），输出 JSON。
    有站点时按站点日历（calendar.yaml）计算工作日，“开学前”“学期末”“每学期”等按其中的学期计算；
    跨入尚无节假日安排的年份时标记 provisional。"""
    config, calendar = ctx.site_calendar()
    zone = _zone(tz) if tz else (config.timezone if config else _zone("Asia/Shanghai"))
    result = parse_deadline(expression, _reference(ref, zone, ctx.clock), zone, calendar=calendar.workcal, count=count)
    echo_json(result.to_json())
