"""The root `rectify` group, the shared context and how errors reach the user."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import structlog

from adapters.cli import clicktext
from adapters.clock import SystemClock
from engine.errors import FileAccess, RectifyError
from engine.ports import Clock

if TYPE_CHECKING:
    from adapters.wiring import App

F = TypeVar("F", bound=Callable[..., Any])
log = structlog.get_logger("rectify.cli")
clicktext.install()  # before any command is declared: click reads some texts then


class Context:
    """What every command needs, built once and only when asked for."""

    def __init__(self, site_dir: Path, explicit: bool = True, clock: Clock | None = None) -> None:
        self.site_dir = site_dir
        self.explicit = explicit  # named by --site or RECTIFY_SITE, not just the current directory
        self.clock: Clock = clock or SystemClock()
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            from adapters.wiring import open_app

            self._app = open_app(self.site_dir, self.clock)
        return self._app

    def site_calendar(self) -> tuple[Any, Any]:
        """(SiteConfig, SiteCalendar) without opening the database. Outside any site, when
        none was named, (None, an empty calendar): the package's arrangements only."""
        from adapters.sitefiles import load_calendar, load_config
        from engine import site as site_mod
        from engine import sitecalendar

        if self.explicit or (self.site_dir / site_mod.CONFIG_FILE).exists():
            config = load_config(self.site_dir)
            return config, load_calendar(config.calendar_file, config.workday_end)
        return None, sitecalendar.SiteCalendar()

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def site_from(option: str | None) -> Path:
    """--site, else RECTIFY_SITE, else the current directory."""
    return Path(option or os.environ.get("RECTIFY_SITE") or ".").resolve()


class _ChineseHelp:
    """The short help of a command in a list: its first sentence, cut by terminal width."""

    short_help: str | None
    help: str | None

    def get_short_help_str(self, limit: int = 45) -> str:
        text = self.short_help or self.help or ""
        return clicktext.short_help(text, limit) if text else ""


class RectifyCommand(_ChineseHelp, click.Command):
    """A command whose usage line reads in Chinese: `[选项]`, the arguments' Chinese names."""

    context_class = clicktext.Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)
        clicktext.name_params(self.params)


class RectifyGroup(_ChineseHelp, click.Group):
    """The root group and every group under it: commands and groups of its own classes,
    and click's usage errors said in Chinese (clicktext.Shown)."""

    context_class = clicktext.Context
    command_class = RectifyCommand
    group_class = type  # subgroups are RectifyGroups

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)
        clicktext.name_params(self.params)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except (clicktext.Shown, click.exceptions.NoArgsIsHelpError):
            raise
        except click.ClickException as exc:
            raise clicktext.Shown(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (clicktext.Shown, click.exceptions.NoArgsIsHelpError):
            raise
        except click.ClickException as exc:
            raise clicktext.Shown(exc) from exc


@click.group(cls=RectifyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--site", "site", metavar="DIR", help="站点目录（默认：$RECTIFY_SITE 或当前目录）")
@click.version_option(package_name="rectify")
@click.pass_context
def cli(ctx: click.Context, site: str | None) -> None:
    """rectify：校园安全隐患排查整治流程引擎。"""
    from adapters.logs import configure

    configure()
    obj = Context(site_from(site), explicit=bool(site or os.environ.get("RECTIFY_SITE")))
    ctx.obj = obj
    ctx.call_on_close(obj.close)


def fail(message: str, code: int = 1) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn deliberate errors into a Chinese message on stderr and their exit code, and,
    as a last resort, anything else into one short Chinese line (exit code 1) with the
    traceback in the log. Every failure a user can cause has its own message: reaching
    the last resort is a bug to fix, not a way to report one."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RectifyError as exc:
            fail(str(exc), exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # usage errors and deliberate exits are click's to report
        except Exception as exc:  # noqa: BLE001 - the last resort: never a traceback on screen
            command = click.get_current_context(silent=True)
            log.error("internal_error", command=command.command_path if command else fn.__name__,
                      error=f"{type(exc).__name__}: {exc}"[:2000], exc_info=True)
            fail(f"内部错误：命令未能完成（{type(exc).__name__}），详情已写入日志；请把日志交给系统管理员")

    return wrapper  # type: ignore[return-value]


def existing_directory(directory: Path, action: str, target: Path | None = None) -> None:
    """Refuse before any work when the directory a command writes into is missing or is
    not a directory: which one, in Chinese."""
    shown = target or directory
    if not directory.exists():
        raise FileAccess(shown, action, f"目录 {directory} 不存在，请先创建它或换一个目录")
    if not directory.is_dir():
        raise FileAccess(shown, action, f"{directory} 不是目录")


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
