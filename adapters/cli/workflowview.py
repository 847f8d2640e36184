"""`rectify workflow show` on a terminal: a workflow's states and events as tables in
Chinese (titles first, the names one types in parentheses), what each event needs and
who may fire it. The Mermaid diagram is `--mermaid`."""

from __future__ import annotations

import re

import click
from rich import box
from rich.table import Table

from adapters.cli.render import console
from engine.model import FIELDS, KINDS
from engine.workflow import ALL_ROLES, Workflow

# What each guard of engine.guards asks, as a condition on who or what.
GUARD_TITLES = {
    "not_responsible": "执行人不能是本事项责任人",
    "not_rectifier": "执行人不能是实施整改的人",
    "not_submitter": "执行人不能是报送人",
    "five_in_place": "须五落实齐全（责任人、整改措施、整改资金、整改时限、应急预案）",
    "interim_controls_in_place": "须有防控措施和专人盯防",
    "actor_in_item_unit": "执行人须属于责任单位（综治办除外）",
}


def _fields(names: tuple[str, ...]) -> str:
    return "、".join(FIELDS[n].title if n in FIELDS else n for n in names)


def _roles(names: tuple[str, ...]) -> str:
    """The roles by their short titles: 综治办, not 综治办（安全管理办公室）."""
    return "、".join("任何相关人员" if r == "any" else re.sub(r"（.*?）", "", ALL_ROLES.get(r, r)) for r in names)


def show_workflow(wf: Workflow) -> None:
    console.print(f"流程“{wf.title}”（{wf.name}，{KINDS.get(wf.kind, wf.kind)}）")
    states = Table(title="状态", box=box.SIMPLE_HEAD)
    states.add_column("状态", no_wrap=True)
    states.add_column("说明")
    for s in wf.states.values():
        note = "起始状态" if s.name == wf.initial else ("终结（已办结）" if s.final else "")
        states.add_row(f"{s.title}（{s.name}）", note)
    console.print(states)
    events = Table(title="事件", box=box.SIMPLE_HEAD, show_lines=True)
    events.add_column("事件", overflow="fold")
    events.add_column("状态变化", overflow="fold")
    events.add_column("填写与条件", overflow="fold", ratio=1)
    events.add_column("谁可以执行", overflow="fold", ratio=1)
    for t in wf.transitions:
        sources = "、".join(wf.states[s].title if s in wf.states else s for s in t.sources)
        dest = wf.states[t.dest].title if t.dest in wf.states else t.dest
        needs = [f"必填：{_fields(t.requires)}"] if t.requires else []
        optional = tuple(n for n in t.may_set if n not in t.requires)
        needs += [f"可填：{_fields(optional)}"] if optional else []
        needs += [GUARD_TITLES.get(g, g) for g in t.guards]
        events.add_row(f"{t.title}\n（{t.event}）", f"{sources} → {dest}", "\n".join(needs) or "—", _roles(t.roles))
    console.print(events)
    if wf.amendments:
        click.echo("流程外修改（rectify amend）：")
    for a in wf.amendments:
        click.echo(f"  {a.title}：可由{_roles(a.roles)}修改" + ("，须写明理由" if a.note_required else ""))
