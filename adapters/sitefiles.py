"""Reading a site directory: rectify.yaml (with the `RECTIFY_*` environment overrides),
org.yaml, calendar.yaml, workflows/*.yaml and rules/*.yaml.

The engine parses and builds from text; everything that touches the file system or the
environment for the site's files is here. A file is read at most MAX_FILE_BYTES (and one
byte) deep, so an oversized file is refused without being read whole. (The shipped
defaults that `rectify init` copies live in the sitefiles/ directory next to this module;
adapters/resources.py finds them.)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import Any

from adapters.clock import SystemClock
from adapters.resources import site_file
from adapters.templates import Templates
from engine import org as org_mod
from engine import site as site_mod
from engine import sitecalendar
from engine import workflow as workflow_mod
from engine.errors import ConfigError, Problem
from engine.org import Org
from engine.policy import Policy, policy_from_sources, unit_problems
from engine.ports import Clock
from engine.site import SiteConfig
from engine.sitecalendar import SiteCalendar
from engine.snapshot import Snapshot
from engine.workcal import WORKDAY_END, WorkCalendar
from engine.workflow import Workflow, Workflows
from engine.yamlfile import MAX_FILE_BYTES, too_large

ENV_PREFIX = "RECTIFY_"


def read_text(path: Path) -> str:
    """A site file's text as Path.read_text gives it (UTF-8, newlines translated), refused
    unparsed when larger than MAX_FILE_BYTES: at most that many bytes are ever read,
    whatever the file is. Raises FileNotFoundError, UnicodeDecodeError, OSError as
    reading does."""
    with path.open("rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            try:
                size = os.fstat(f.fileno()).st_size
            except OSError:
                size = len(data)
            raise ConfigError.single(str(path), None, too_large(max(size, len(data))))
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _text(path: Path) -> str:
    """read_text, with a missing, undecodable or unreadable file a ConfigError naming it."""
    try:
        return read_text(path)
    except FileNotFoundError as exc:
        raise ConfigError.single(str(path), None, "文件不存在") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError.single(str(path), None, "文件不是 UTF-8 编码的文本") from exc
    except OSError as exc:
        raise ConfigError.single(str(path), None, f"无法读取：{exc.strerror or exc}") from exc


def environment_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `RECTIFY_*` variables of the environment (or of `environ`)."""
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items() if name.startswith(ENV_PREFIX)}


def load_config(root: Path, environ: Mapping[str, str] | None = None) -> SiteConfig:
    """rectify.yaml in `root`, with the environment's `RECTIFY_*` overrides applied."""
    path = root / site_mod.CONFIG_FILE
    if not path.exists():
        raise ConfigError.single(
            str(path), None, f"这里不是 rectify 站点（缺少 {site_mod.CONFIG_FILE}）；用 rectify init 目录 创建，"
            "或用 --site / RECTIFY_SITE 指明站点目录"
        )
    return site_mod.parse(root, _text(path), str(path), environment_overrides(environ))


def load_org(path: Path) -> Org:
    """org.yaml, with what it still holds of the shipped demo (Org.demo)."""
    org = org_mod.parse(_text(path), str(path))
    org.demo = org_mod.demo_traces(org, shipped_org())
    return org


@functools.cache
def shipped_org() -> Org:
    """The shipped org.yaml (the demo's invented organisation), parsed once."""
    shipped_file = site_file("org.yaml")
    return org_mod.parse(shipped_file.read_text(encoding="utf-8"), str(shipped_file))


def load_calendar(path: Path, workday_end: time = WORKDAY_END) -> SiteCalendar:
    """The site's calendar.yaml; a site without one has an empty calendar (the package's
    arrangements, no terms, no events). `workday_end` is rectify.yaml's
    deadlines.workday_end, which the calendar carries to every deadline read with it."""
    if not path.exists():
        return SiteCalendar(workday_end=workday_end)
    try:
        text = read_text(path)
    except UnicodeDecodeError as exc:
        raise ConfigError.single(str(path), None, "文件不是 UTF-8 编码的文本") from exc
    except OSError as exc:
        raise ConfigError.single(str(path), None, f"无法读取：{exc.strerror or exc}") from exc
    return sitecalendar.loads(text, str(path), workday_end)


def load_workflow(path: Path) -> Workflow:
    return workflow_mod.parse(_text(path), str(path))


def load_workflows(directory: Path) -> Workflows:
    """Every workflows/*.yaml; any problem in any file means nothing is loaded."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError.single(str(directory), None, "目录中没有流程定义文件（*.yaml）")
    result, problems = Workflows(), []
    for path in files:
        try:
            wf = load_workflow(path)
        except ConfigError as exc:
            problems += exc.problems
            continue
        misnamed = workflow_mod.misnamed(path.stem, wf, str(path))
        if misnamed is not None:
            problems.append(misnamed)
        result[wf.name] = wf
    if problems:
        raise ConfigError(problems)
    return result


def read_rule_sources(directory: Path) -> dict[str, str]:
    """The text of every rule file, by file name; refuses a directory with none."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError.single(str(directory), None, "规则目录中没有规则文件（*.yaml）")
    sources: dict[str, str] = {}
    problems: list[Problem] = []
    for path in files:
        try:
            sources[path.name] = read_text(path)
        except ConfigError as exc:
            problems += exc.problems
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            problems.append(Problem(str(path), line, f"文件不是 UTF-8 编码的文本（第 {exc.start + 1} 个字节无法识别）"))
        except OSError as exc:
            problems.append(Problem(str(path), None, f"无法读取：{exc.strerror or exc}"))
    if problems:
        raise ConfigError(problems)
    return sources


def load_rules(directory: Path, loaded_at: datetime, known_states: Any = (),
               calendar: WorkCalendar | None = None) -> Policy:
    """The rules in `directory`; term words are checked against `calendar`'s terms when
    given (the site's calendar.yaml), else taken as written."""
    return policy_from_sources(directory, read_rule_sources(directory), loaded_at, known_states, calendar)


def load_site_files(config: SiteConfig, rules_dir: Path | None = None, clock: Clock | None = None) -> Snapshot:
    """The site's snapshot: org.yaml, calendar.yaml, workflows/, rules/ and templates/,
    with every problem in any file reported at once; the rules are stamped as loaded at
    the clock's now (the system clock's unless given)."""
    problems: list[Problem] = []
    org = workflows = rules = calendar = None
    try:
        org = load_org(config.org_file)
    except ConfigError as exc:
        problems += exc.problems
    try:
        calendar = load_calendar(config.calendar_file, config.workday_end)
    except ConfigError as exc:
        problems += exc.problems
    try:
        workflows = load_workflows(config.workflows_dir)
    except ConfigError as exc:
        problems += exc.problems
    states = sorted({s for wf in (workflows or {}).values() for s in wf.states})
    try:
        # Term words ("开学前", "每学期") are checked against the site's terms; with a
        # broken calendar.yaml (already reported) they are taken as written.
        rules = load_rules(rules_dir or config.rules_dir, (clock or SystemClock()).now(), states,
                           calendar.workcal if calendar is not None else None)
    except ConfigError as exc:
        problems += exc.problems
    if org is not None and rules is not None:
        problems += unit_problems(rules, org.unit_names())
    if org is not None and calendar is not None:
        problems += org.campus_problems(str(config.org_file), calendar.campuses)
    if problems or org is None or workflows is None or rules is None or calendar is None:
        raise ConfigError(problems)
    return Snapshot(org, workflows, rules, calendar, config.timezone, Templates(config.templates_dir))
