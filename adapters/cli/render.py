"""How items, ledgers and times look to people (rich tables) and to machines (JSON)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from engine.deadline.dates import instant_in_range
from engine.errors import OutOfRange, RectifyError
from engine.evidence import MEDIA_TYPES, StoredAttachment, position_text, size_text
from engine.importing.cells import parse_instant
from engine.model import Item, LedgerEntry
from engine.workflow import Workflows

if TYPE_CHECKING:
    from adapters.wiring import App

class _Console:
    """rich's Console, made at each print so that it takes the terminal's width then
    (COLUMNS included) rather than the one the process started with. Titles, notes and
    cells are users' text: "[/x]" or ":fire:" in one must print as typed, never be read
    as rich markup or emoji codes."""

    def print(self, *objects: Any) -> None:
        Console(markup=False, emoji=False).print(*objects)


console = _Console()


class BadTime(RectifyError):
    exit_code = 2


def parse_time(text: str, tz: ZoneInfo, option: str) -> datetime:
    """ISO 8601, or a date as an imported sheet writes it (2021/5/10, 2021.5.10,
    2021年5月10日, with or without a time: the importer's reading, engine.importing.cells);
    a time without offset is in the site's zone; a bare date is its start. Refused outside
    the years deadlines are computed in (`in_range`)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            value = parse_instant(text.strip(), tz)
        except ValueError:
            raise BadTime(f"{option} 的时间“{text}”无法识别，请写成 2021-05-10、2021-05-10 09:30、"
                          "2021/5/10 或 2021年5月10日") from None
    return in_range(value.replace(tzinfo=tz) if value.tzinfo is None else value, tz, option, text)


def in_range(value: datetime, tz: tzinfo, option: str, text: str) -> datetime:
    """`value` if its year (as given, in UTC and in the site's zone) is one deadlines are
    computed in, 1900 to 2999; else refused before anything is planned or stored."""
    if not instant_in_range(value, tz):
        raise OutOfRange(f"{option} 的时间", text)
    return value


def instant(text: str | None, app: App, option: str = "--at") -> datetime:
    """An --at style option in the site's zone, or the application's now."""
    return parse_time(text, app.config.timezone, option) if text else app.service.clock.now()


def item_json(item: Item, workflows: Workflows, tz: ZoneInfo) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id, "kind": item.kind, "workflow": item.workflow, "state": item.state,
        "state_title": workflows.state_title(item.workflow, item.state),
        "title": item.title, "category": item.category, "level": item.level, "unit": item.unit,
        "responsible": item.responsible, "location": item.location, "reporter": item.reporter,
        "found_at": item.found_at.astimezone(tz).isoformat(), "deadline": item.deadline,
    }
    for key, value in sorted(item.fields.items()):
        data.setdefault(key, _local(value, tz) if key in TIME_FIELDS else value)
    data["version"] = item.version
    return data


TIME_FIELDS = {"closed_at", "verified_at"}


def _local(value: Any, tz: ZoneInfo) -> Any:
    try:
        return datetime.fromisoformat(value).astimezone(tz).isoformat()
    except (TypeError, ValueError):
        return value


# The most of one text a table shows (`--json` gives it whole): a value stored before
# fields had limits must not hold the terminal for minutes.
SHOWN_CHARS = 1000
LISTED_CHARS = 200


def clip(value: Any, limit: int = SHOWN_CHARS) -> str:
    """`value` as text; a text (what people typed or imported) cut to `limit` characters
    with a note saying so."""
    text = "" if value is None else str(value)
    if not isinstance(value, str) or len(text) <= limit:
        return text
    return f"{text[:limit]}…（共 {len(text):,} 个字符，只显示前 {limit:,} 个；完整内容请用 --json 查看）"


def history_json(entries: list[LedgerEntry], tz: ZoneInfo) -> list[dict[str, Any]]:
    return [e.to_json(tz) for e in entries]


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"“{raw}”应写成 字段=值，例如 --set unit=总务处", param_hint="--set")
        result[key.strip()] = value
    return result


def attachments_json(found: list[StoredAttachment], tz: ZoneInfo) -> list[dict[str, Any]]:
    """An item's attachments as `show --json` gives them: the ledger's record of each file
    (sha256, name, type, size, image facts) with the row it came with and who uploaded it."""
    return [{**a.attachment.record(), "seq": a.seq, "uploaded_by": a.uploaded_by,
             "uploaded_at": a.uploaded_at.astimezone(tz).isoformat()} for a in found]


def show_attachments(files: list[dict[str, Any]], tz: tzinfo) -> None:
    """The item's files as a table with Chinese labels (nothing when there are none): one
    row per file, its facts folded into one column so that a terminal of any width
    shows them."""
    if not files:
        return
    table = Table(title="佐证文件")
    table.add_column("#")
    table.add_column("文件名", overflow="fold")
    table.add_column("详情", overflow="fold")
    for number, f in enumerate(files, start=1):
        facts = [f"类型：{MEDIA_TYPES.get(f['type'], f['type'])}", f"大小：{size_text(f['size'])}"]
        if f.get("width"):
            facts.append(f"尺寸：{f['width']}×{f['height']}")
        if f.get("taken_at"):
            facts.append(f"拍摄时间：{minute(f['taken_at'], tz)}")
        position = position_text(f.get("latitude"), f.get("longitude"))
        if position:
            facts.append(f"拍摄位置：{position}")
        facts.append(f"上传：{f['uploaded_by']}，{minute(f['uploaded_at'], tz)}")
        facts.append("所属：事项本身" if f["seq"] is None else f"所属：历史记录第{f['seq']}条")
        facts.append(f"SHA-256：{f['sha256']}")
        table.add_row(str(number), clip(f["name"], LISTED_CHARS), "\n".join(facts))
    console.print(table)


def minute(iso: str | None, tz: tzinfo) -> str:
    """An ISO instant (as the JSON carries it) to the minute in the site's zone: what
    people read. One without a zone is shown as it is, to the minute; "" for None."""
    if not iso:
        return ""
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return (value.astimezone(tz) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M")
