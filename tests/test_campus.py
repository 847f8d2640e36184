"""Units on a campus (org.yaml `campus`) count their items' deadlines with that campus's
terms and local days from calendar.yaml; the other units with the site-wide calendar.

These tests place 机电工程学院 on 东校区 (the demo org.yaml has the line commented out),
whose first term of 2026-2027 ends on 15 January 2027 in the demo calendar.yaml, a week
before the site's (22 January)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.service import NewItem
from tests.conftest import Cli
from tests.smtpserver import Server
from tests.test_provisional import FOUND, Harness, running

EAST_TERM = '{name: "2026-2027学年第一学期", campus: "东校区", start: "2026-08-31", end: "2027-01-15"}'


def _on_east_campus(site: Path) -> None:
    org = site / "org.yaml"
    text = org.read_text(encoding="utf-8")
    assert '    # campus: "东校区"' in text
    org.write_text(text.replace('    # campus: "东校区"', '    campus: "东校区"', 1), encoding="utf-8")


@pytest.fixture
def harness(memory_site: Path, serve: Callable[..., Server]) -> Iterator[Harness]:
    """test_provisional's daemon (on a MemoryStore) on a fresh site."""
    with running(memory_site, serve(), _on_east_campus) as h:
        assert EAST_TERM in (h.site / "calendar.yaml").read_text(encoding="utf-8")
        yield h


def _report(h: Harness, unit: str, deadline: str) -> int:
    h.clock.set(FOUND)
    item = h.service.report(NewItem(title=f"{unit}实训室电闸外露", category="消防", unit=unit,
                                  reporter="郭晓明", deadline=deadline))
    assert item.id is not None
    return item.id


def test_a_campus_units_term_deadline_follows_its_campus_terms(harness: Harness) -> None:
    h = harness
    east, main = _report(h, "机电工程学院", "寒假前"), _report(h, "保卫处", "寒假前")
    assert h.app.store.get(east).due.isoformat() == "2027-01-15"
    assert h.app.store.get(main).due.isoformat() == "2027-01-22"
    # 东校区 ends its term a day later: only its unit's item moves, told and recorded.
    path = h.site / "calendar.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(EAST_TERM, EAST_TERM.replace("01-15", "01-16")),
                    encoding="utf-8")
    assert h.daemon.reload("test")
    assert h.app.store.get(east).due.isoformat() == "2027-01-16"
    assert h.app.store.get(main).due.isoformat() == "2027-01-22"
    assert h.show(east)["history"][-1]["event"] == "calendar_update"


def test_a_campus_day_off_counts_only_for_its_units(harness: Harness) -> None:
    """3 working days from Thursday 24 December: 25, 28 and 29 December; 东校区 is off on
    the 28th, so its unit's item is due a day later."""
    h = harness
    path = h.site / "calendar.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "\nlocal:\n", '\nlocal:\n  - {days: "2026-12-28", off: "东校区停电检修", campus: "东校区"}\n', 1),
        encoding="utf-8")
    assert h.daemon.reload("test")
    east, main = _report(h, "机电工程学院", "3个工作日内"), _report(h, "保卫处", "3个工作日内")
    assert h.app.store.get(east).due.isoformat() == "2026-12-30"
    assert h.app.store.get(main).due.isoformat() == "2026-12-29"


def test_a_unit_on_an_unknown_campus_is_named_with_its_line(run: Cli) -> None:
    org = run.site / "org.yaml"
    text = org.read_text(encoding="utf-8")
    org.write_text(text.replace('    # campus: "东校区"', '    campus: "西校区"', 1), encoding="utf-8")
    err = run("check", code=1).stderr
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"机电工程学院"' in t)
    assert f"org.yaml:{line}: 单位“机电工程学院”的校区“西校区”不在 calendar.yaml 的 campuses 中（已有：本部、东校区）" in err
