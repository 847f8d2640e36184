"""The SQL behind 我的待办: open items in a person's scope, filtered and paged in the
database (never loaded whole), overdue first, then by the time left.

Ordering is by the stored overdue instant (`items.overdue_at`, indexed with the state):
an item overdue longest comes first, then the ones closest to their deadline, then
those without a deadline. A paused item (its clock stopped in a `pause_in` state) is
ordered by its overdue instant before the pause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, false, func, or_, select

from adapters.schema import items
from adapters.sqlstore import SqlStore
from engine.access import Scope
from engine.model import Item

PAGE = 20
MAX_SEARCH = 100


@dataclass(frozen=True)
class Filters:
    state: str = ""
    unit: str = ""
    category: str = ""
    level: str = ""
    q: str = ""
    page: int = 1

    def query_string(self, **changes: Any) -> str:
        from urllib.parse import urlencode

        values = {"state": self.state, "unit": self.unit, "category": self.category, "level": self.level,
                  "q": self.q, "page": self.page, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})


@dataclass
class Page:
    items: list[Item] = field(default_factory=list)
    total: int = 0
    page: int = 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE))


def _open_states(open_by_workflow: Mapping[str, frozenset[str]], finals: Mapping[str, frozenset[str]]) -> Any:
    """Items in a state that is not final in their workflow. A state name open in every
    workflow that has it is matched by name alone (one IN over the state index); only a
    name final in one workflow and open in another needs its workflow."""
    everywhere = set().union(*open_by_workflow.values()) if open_by_workflow else set()
    mixed = everywhere & set().union(*finals.values()) if finals else set()
    plain = sorted(everywhere - mixed)
    terms: list[Any] = [items.c.state.in_(plain)] if plain else []
    terms += [and_(items.c.workflow == wf, items.c.state.in_(sorted(states & mixed)))
              for wf, states in sorted(open_by_workflow.items()) if states & mixed]
    return or_(*terms) if terms else false()


def _scoped(scope: Scope) -> Any:
    if scope.everything:
        return None
    return or_(items.c.unit.in_(sorted(scope.units)), items.c.responsible == scope.person,
               items.c.reporter == scope.person)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


Workflows = Mapping[str, tuple[frozenset[str], frozenset[str]]]  # workflow -> (open states, final states)


def conditions(scope: Scope, workflows: Workflows, f: Filters) -> list[Any]:
    where = [_open_states({w: o for w, (o, _) in workflows.items()}, {w: c for w, (_, c) in workflows.items()})]
    scoped = _scoped(scope)
    if scoped is not None:
        where.append(scoped)
    if f.state:
        where.append(items.c.state == f.state)
    if f.unit:
        where.append(items.c.unit == f.unit)
    if f.category:
        where.append(items.c.category == f.category)
    if f.level:
        where.append(items.c.level == f.level)
    if f.q:
        pattern = _like(f.q[:MAX_SEARCH])
        where.append(or_(items.c.title.like(pattern, escape="\\"), items.c.location.like(pattern, escape="\\")))
    return where


def awaiting(store: SqlStore, scope: Scope, states: Mapping[str, frozenset[str]], limit: int) -> Page:
    """Items in scope waiting in one of their workflow's `states` (workflow -> states: where
    an item waits for its verification), longest waiting first, at most `limit`; with how
    many there are in all."""
    terms = [and_(items.c.workflow == wf, items.c.state.in_(sorted(names)))
             for wf, names in sorted(states.items()) if names]
    where = [or_(*terms) if terms else false()]
    scoped = _scoped(scope)
    if scoped is not None:
        where.append(scoped)
    first = select(items).where(*where).order_by(items.c.entered_at, items.c.id).limit(limit)
    with store.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(items).where(*where)).scalar_one())
        rows = list(conn.execute(first))
    return Page([SqlStore.item_from_row(r) for r in rows], total, 1)


def todo(store: SqlStore, scope: Scope, workflows: Workflows, f: Filters) -> Page:
    """One page of the person's open items and how many there are in all. The page's
    ids are sorted first (narrow rows), then its twenty rows are read."""
    where = conditions(scope, workflows, f)
    page = max(1, f.page)
    ids = (select(items.c.id).where(*where)
           .order_by(items.c.overdue_at.is_(None), items.c.overdue_at, items.c.id)
           .limit(PAGE).offset((page - 1) * PAGE))
    with store.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(items).where(*where)).scalar_one())
        order = [int(r[0]) for r in conn.execute(ids)]
        rows = {int(r.id): r for r in conn.execute(select(items).where(items.c.id.in_(order)))} if order else {}
    return Page([SqlStore.item_from_row(rows[i]) for i in order if i in rows], total, page)
