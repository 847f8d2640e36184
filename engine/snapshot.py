"""One frozen snapshot of a site: everything its files define, built whole, swapped whole.

A reload builds a new Snapshot from the files and, only when every file is good, puts it
behind the one reference (`Service.site`). A tick, a command or a web request reads that
reference once and works on the same snapshot from start to end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from engine.org import Org
from engine.policy import Policy
from engine.sitecalendar import SiteCalendar
from engine.workcal import WorkCalendar
from engine.workflow import Workflows

if TYPE_CHECKING:
    from engine.ports import Renderer


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The site's organisation, workflows, rules, calendar, time zone and templates."""

    org: Org
    workflows: Workflows
    rules: Policy
    calendar: SiteCalendar
    tz: ZoneInfo
    templates: Renderer = field(repr=False)

    @property
    def workcal(self) -> WorkCalendar:
        """The site's working-day calendar (statutory days, 调休, the school's own days)."""
        return self.calendar.workcal

    def calendar_of_unit(self, unit: str | None) -> WorkCalendar:
        """The calendar a unit's deadlines count with: its campus's, else the site's."""
        found = self.org.units.get(unit) if unit else None
        if found is None or found.campus is None:
            return self.calendar.workcal
        return self.calendar.calendar_for(found.campus)

    @cached_property
    def _finals(self) -> dict[str, frozenset[str]]:
        return {name: frozenset(s.name for s in wf.states.values() if s.final)
                for name, wf in self.workflows.items()}

    def final_states(self, workflow: str) -> frozenset[str]:
        """The final states of `workflow` (an unknown workflow is refused, naming it)."""
        found = self._finals.get(workflow)
        if found is None:
            self.workflows.get_or_fail(workflow)
            return frozenset()
        return found
