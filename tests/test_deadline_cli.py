"""`rectify deadline EXPR --ref … [--count N] [--tz ZONE] --json` as an operator types it:
the machine format (the Chinese one people read is tests/test_cli_view.py's)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from adapters.cli.base import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["deadline", *args, "--json"])
    return result.exit_code, result.stdout, result.stderr


def test_once_prints_the_contract_fields() -> None:
    """The issue's first example, with provisional always present."""
    code, out, _ = run("2020年底前", "--ref", "2020-08-01")
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "once"
    assert data["dues"] == ["2020-12-31"]
    assert data["overdue_at"] == ["2021-01-01T00:00:00+08:00"]
    assert data["provisional"] is False
    assert "start" not in data


def test_recurring_with_count() -> None:
    """The issue's second example: two quarter ends."""
    code, out, _ = run("每季度末", "--ref", "2021-01-01", "--count", "2")
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "recurring" and data["dues"] == ["2021-03-31", "2021-06-30"]
    assert data["overdue_at"] == ["2021-04-01T00:00:00+08:00", "2021-07-01T00:00:00+08:00"]


def test_recurring_lists_four_by_default() -> None:
    """Without --count a recurrence lists its next four dues."""
    _, out, _ = run("每月1日前", "--ref", "2021-01-02")
    assert json.loads(out)["dues"] == ["2021-02-01", "2021-03-01", "2021-04-01", "2021-05-01"]


def test_hours_from_a_reference_time() -> None:
    """--ref with a time: "24小时内" from 09:30 is overdue at 09:30 the next day."""
    _, out, _ = run("24小时内", "--ref", "2021-05-10T09:30")
    data = json.loads(out)
    assert data["overdue_at"] == ["2021-05-11T09:30:00+08:00"] and data["dues"] == ["2021-05-11"]


def test_window_has_a_start() -> None:
    """Windows print their first day."""
    _, out, _ = run("2020年9月至2020年12月", "--ref", "2020-08-01")
    data = json.loads(out)
    assert data["kind"] == "window" and data["start"] == "2020-09-01"
    assert data["dues"] == ["2020-12-31"]


def test_immediate_and_ongoing() -> None:
    """A cell with both is immediate and ongoing, with no dues."""
    _, out, _ = run("立整立改\n长期坚持", "--ref", "2020-08-01")
    data = json.loads(out)
    assert data["kind"] == "immediate" and data["dues"] == [] and data["overdue_at"] == []
    assert data["ongoing"] is True


def test_time_zone_option() -> None:
    """--tz sets the site's zone for the end of the day."""
    _, out, _ = run("2020年底前", "--ref", "2020-08-01", "--tz", "UTC")
    assert json.loads(out)["overdue_at"] == ["2021-01-01T00:00:00+00:00"]


def test_provisional_working_days() -> None:
    """A count into an unpublished year says provisional: true and warns in Chinese."""
    _, out, _ = run("5个工作日内", "--ref", "2026-12-28")
    data = json.loads(out)
    assert data["provisional"] is True and data["dues"] == ["2027-01-05"]
    assert "2027" in data["warnings"][0]


def test_unreadable_expressions_exit_2_naming_the_part() -> None:
    """Exit 2, nothing on stdout, the unreadable part on stderr."""
    for expression, part in [
        ("随便写写", "随便写写"),
        ("13月底前", "13月"),
        ("2月30日前", "2月30日"),
        ("", "为空"),
    ]:
        code, out, err = run(expression, "--ref", "2021-01-01")
        assert code == 2, expression
        assert out == ""
        assert part in err


def test_bad_reference_or_zone_is_a_usage_error() -> None:
    """A malformed --ref or an unknown --tz is refused by the option parser (exit 2)."""
    assert run("3日内", "--ref", "2021-13-01")[0] == 2
    assert run("3日内", "--ref", "2021-01-01", "--tz", "Mars/Olympus")[0] == 2
