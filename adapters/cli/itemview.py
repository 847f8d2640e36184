"""How `rectify show` and `rectify list` look on a terminal: Chinese labels, times to
the minute in the site's zone, the plan as a short table, the history in the words of
engine.ledgerview (the web's timeline and the 台账's 历史记录 say the same), tables that
fit 80 columns without cutting a date."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from rich import box
from rich.table import Table

from adapters.cli.render import LISTED_CHARS, clip, console, minute
from adapters.present import MAX_SHOWN
from engine.ledgerview import Entry, change_title, value_text
from engine.model import KINDS

# Shown in `show` before the fields in FIELDS order: the item's identity, then its plan.
_NOT_FIELDS = frozenset({"id", "title", "state", "state_title", "workflow", "version", "kind", "plan",
                         "due", "overdue_at", "rule", "policy_version", "paused", "provisional",
                         "provisional_note", "ongoing", "plan_note"})
PLAN_SHOWN = 5  # steps `show` lists; `explain` lists them all
# The order `show` lists an item's fields in (others follow, by name): who and where
# first, then what was done, then who did it.
SHOWN_ORDER = ("category", "level", "unit", "co_units", "responsible", "location", "reporter", "found_at",
               "deadline", "description", "measures", "interim_controls", "watcher", "funds", "contingency_plan",
               "evidence", "progress", "project", "requirement", "list_no", "unit_text", "rectifier", "verifier",
               "verified_at", "approver", "closed_at")


def item_rows(data: dict[str, Any], workflow_title: str, tz: tzinfo) -> list[tuple[str, str]]:
    """(label, value) for what `show` prints about an item: its state, workflow and kind,
    every field that has a value, then its deadline as planned. Flags appear only when
    they say something (暂定); false ones are left out."""
    rows = [("状态", data["state_title"]), ("流程", workflow_title), ("类型", KINDS.get(data["kind"], data["kind"]))]
    names = [n for n in SHOWN_ORDER if n in data] + sorted(n for n in data if n not in SHOWN_ORDER)
    for name in names:
        if name in _NOT_FIELDS or (name == "level" and data["kind"] != "hazard"):
            continue
        text = value_text(name, data[name], tz)
        if text:
            rows.append((change_title(name), text))
    due = data.get("due")
    if due:
        rows.append(("最后期限", due + ("（暂定）" if data.get("provisional") else "")))
    if data.get("overdue_at"):
        rows.append(("逾期时间", minute(data["overdue_at"], tz)))
    if data.get("plan_note"):
        rows.append(("期限说明", data["plan_note"]))
    if data.get("provisional") and data.get("provisional_note"):
        rows.append(("暂定原因", data["provisional_note"]))
    if data.get("rule"):
        rows.append(("适用规则", data["rule"]))
    if data.get("policy_version"):
        rows.append(("规则版本", data["policy_version"]))
    return rows


def show_item(data: dict[str, Any], history: list[Entry], extensions: list[dict[str, Any]],
              workflow_title: str, tz: tzinfo) -> None:
    console.print(f"事项 {data['id']}：{clip(data['title'], LISTED_CHARS)}")
    table = Table(show_header=False)
    table.add_column("字段", style="bold", no_wrap=True)
    table.add_column("值", overflow="fold")
    for label, value in item_rows(data, workflow_title, tz):
        table.add_row(label, clip(value))
    console.print(table)
    _plan(data, tz)
    console.print(history_table(history))
    if extensions:
        console.print(_extensions(extensions, tz))


def _plan(data: dict[str, Any], tz: tzinfo) -> None:
    steps = data.get("plan") or []
    if not steps:
        return
    table = Table(title="今后的提醒与升级", box=box.SIMPLE_HEAD)
    table.add_column("时间", no_wrap=True)
    table.add_column("步骤", no_wrap=True)
    table.add_column("通知对象", overflow="fold")
    for s in steps[:PLAN_SHOWN]:
        table.add_row(minute(s["at"], tz), s["step"], "、".join(s["recipients"]))
    console.print(table)
    if len(steps) > PLAN_SHOWN:
        more = len(steps) - PLAN_SHOWN
        console.print(f"（另有 {more} 条{'以上' if len(steps) >= MAX_SHOWN else ''}；rectify explain {data['id']} 列出全部）")


def history_table(history: list[Entry]) -> Table:
    """The ledger, one row per entry: when, what (the event's title and the move between
    states), who, and the note and changes in words. On the row that created the item
    only its files are listed (its fields are the ones shown above)."""
    table = Table(title="历史记录", box=box.SIMPLE_HEAD)
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("时间", no_wrap=True)
    table.add_column("操作人", overflow="fold", max_width=12)
    table.add_column("事件与变更", overflow="fold", ratio=1)
    for e in history:
        lines = [e.title + (f"：{e.moved}" if e.moved else "")]
        lines += [c.line(e.created) for c in e.changes if not e.created or c.label == "佐证文件"]
        if e.note:
            lines.append(f"备注：{e.note}")
        table.add_row(str(e.seq), e.at, e.actor, "\n".join(clip(line) for line in lines))
    return table


def _extensions(extensions: list[dict[str, Any]], tz: tzinfo) -> Table:
    table = Table(title="延期申请", box=box.SIMPLE_HEAD)
    for title in ("申请", "原期限", "延期至", "理由", "结果"):
        table.add_column(title, overflow="fold")
    for e in extensions:
        asked = f"{e['requested_by']}\n{minute(e['requested_at'], tz)}"
        answer = e["status_title"] + (f"\n{e['answered_by']} {minute(e['answered_at'], tz)}" if e["answered_by"] else "")
        if e.get("answer_note"):
            answer += f"\n{clip(e['answer_note'])}"
        table.add_row(asked, e["old_due"] or "", e["new_due"], clip(e["reason"] or ""), answer)
    return table


# -- list ------------------------------------------------------------------------------


def items_table(rows: list[dict[str, Any]], overdue_view: bool = False) -> Table:
    """Items at 80 columns: titles wrap, dates never do; an overdue item keeps its mark
    (已逾期, or with --overdue the days and the escalation reached)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("编号", no_wrap=True, justify="right")
    table.add_column("标题", overflow="fold", ratio=1, min_width=8)
    table.add_column("类别", overflow="fold", max_width=8)
    table.add_column("等级", no_wrap=True)
    table.add_column("单位", overflow="fold", max_width=10)
    table.add_column("状态", overflow="fold", max_width=10)
    table.add_column("期限", min_width=10, max_width=12)
    if overdue_view:
        table.add_column("督办", overflow="fold", max_width=8)
    for r in rows:
        who = "\n".join(x for x in (r["unit"] or "未指定", r["responsible"]) if x)
        cells = [str(r["id"]), clip(r["title"], LISTED_CHARS), clip(r["category"] or "", LISTED_CHARS),
                 r["level"] if r["kind"] == "hazard" else "", clip(who, LISTED_CHARS), r["state_title"],
                 _due_cell(r, overdue_view)]
        if overdue_view:
            cells.append(r.get("escalation") or "—")
        table.add_row(*cells)
    return table


def _due_cell(r: dict[str, Any], overdue_view: bool) -> str:
    due = r.get("due") or ("长期坚持" if r.get("ongoing") else "未设定")
    if r.get("overdue"):
        return f"{due} " + (f"逾期{r['days_overdue']}天" if overdue_view else "（已逾期）")
    return due
