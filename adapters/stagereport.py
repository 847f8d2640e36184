"""The stage report (阶段整治情况) as an email: the texts with the chart
(adapters.stagechart) and the workbook (adapters.stagebook), produced from the ledger
and queued for the report's recipients.

`periodic` is the daemon's once-per-period work: for each report owed
(engine.reports.owed_reports) it produces and queues it on its own, so one that fails is
logged, told to the site's administrator once and retried at later ticks, while the
other reports and the tick's reminders go on. A period that ended before the site's
first record (`in_use`) is owed no report: a new site mails no empty report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog

from adapters.alerts import admin_alert
from adapters.templates import Rendered, Templates
from engine.mail import Attachment, InlineImage
from engine.policy import StageReportSpec
from engine.reports import Period, StageReport, compile_report, owed_reports, report_recipients
from engine.scheduler import Composed
from engine.text import clean

if TYPE_CHECKING:
    from adapters.wiring import App

log = structlog.get_logger()

CHART_CID = "chart-rate@rectify"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- the email -----------------------------------------------------------------------


def render_email(
    templates: Templates, report: StageReport, tz: ZoneInfo
) -> tuple[Rendered, InlineImage, Attachment]:
    """The texts (showing the chart by `cid:`), the chart and the workbook of one report."""
    # Imported here: openpyxl and the chart are needed once a quarter, not by every command.
    from adapters.stagebook import workbook_bytes
    from adapters.stagechart import chart_png

    rendered = templates.stage_report(report, tz, chart_cid=CHART_CID)
    chart = InlineImage(CHART_CID, chart_png(report), "image/png", f"整改率-{report.period.key}.png")
    workbook = Attachment(
        f"阶段整治情况-{report.period.key}.xlsx", workbook_bytes(report, tz), XLSX_MIME
    )
    return rendered, chart, workbook


# -- producing and sending -------------------------------------------------------------


def produce(app: App, period: Period, at: datetime) -> StageReport:
    """The period's report from the site's ledger."""
    org = app.site.org
    return compile_report(app.service, period, organisation=app.organisation,
                          unit_order=list(org.units), produced_at=at)


def compose(templates: Templates, report: StageReport, tz: ZoneInfo,
            recipients: Sequence[tuple[str, str, str]]) -> list[Composed]:
    """One message per recipient, each carrying the chart and the workbook."""
    rendered, chart, workbook = render_email(templates, report, tz)
    return [Composed(name, email, rendered.subject, rendered.text, rendered.html, (),
                     attachments=(workbook,), inline_images=(chart,))
            for _role, name, email in recipients]


def queue(app: App, templates: Templates, spec: StageReportSpec, period: Period, at: datetime) -> int:
    """Produce and queue `spec`'s report for `period` unless it was sent already; the
    number of messages queued (0 when another daemon, or an earlier tick, sent it)."""
    outbox = app.outbox
    if outbox.stage_report_sent(spec.name, period.key) is not None:
        return 0
    recipients = report_recipients(spec, app.site.org)
    if "higher_authority" in spec.send_to and not app.site.org.configured:
        log.warning("higher_authority_withheld", report=spec.name, period=period.key,
                    reason="org.yaml 仍是演示数据，不向上级主管部门发送")
    if not recipients:
        log.warning("stage_report_without_recipients", report=spec.name, period=period.key)
    report = produce(app, period, at)
    composed = compose(templates, report, app.config.timezone, recipients)
    if not outbox.add_stage_report(spec.name, period.key, at, [r[2] for r in recipients], composed):
        return 0
    log.info("stage_report_queued", report=spec.name, period=period.key, recipients=len(composed))
    return len(composed)


def periodic(app: App) -> Callable[[datetime], int]:
    """The scheduler's once-per-period work: each report of the rules whose period ended.

    Each report is produced on its own: one that fails (whatever raises) is logged with
    its name and period and left unsent, so the next tick tries it again; the site's
    administrator is told once per report and period, and its recovery is logged."""
    # (report, period) failing since an earlier tick -> whether the administrator was told
    failing: dict[tuple[str, str], bool] = {}
    # (report, period) of a period the site was not in use yet: not owed, not asked again.
    unused: set[tuple[str, str]] = set()

    def run(at: datetime) -> int:
        queued = 0
        owed: set[tuple[str, str]] = set()
        for spec, period in owed_reports(app.service.policies.current, at, app.config.timezone):
            key = (spec.name, period.key)
            owed.add(key)
            if key in unused:
                continue
            try:
                if not _owed(app, spec, period, unused):
                    continue
                queued += queue(app, app.templates, spec, period, at)
            except Exception as exc:  # noqa: BLE001 - one report must not stop the tick
                error = clean(f"{type(exc).__name__}: {exc}")[:500]
                log.error("stage_report_failed", report=spec.name, period=period.key, error=error, exc_info=True)
                if not failing.get(key):
                    failing[key] = _alert(app, spec, period, error, at)
                continue
            if failing.pop(key, None) is not None:
                log.info("stage_report_recovered", report=spec.name, period=period.key)
        for key in failing.keys() - owed:  # a period no longer owed (the next one began)
            del failing[key]
        unused.intersection_update(owed)
        return queued

    return run


def in_use(app: App, period: Period) -> bool:
    """Whether the site was in use by the end of `period`: its ledger holds a row from
    before then. A period that ended before the site's first record is owed no report."""
    return app.store.recorded_before(period.end_instant(app.config.timezone))


def _owed(app: App, spec: StageReportSpec, period: Period, unused: set[tuple[str, str]]) -> bool:
    """Whether the daemon still owes `spec`'s report of `period` as far as the site's use
    goes (sent or not is queue's to tell); a period before the site's first record is
    remembered as not owed, and logged once."""
    if app.outbox.stage_report_sent(spec.name, period.key) is not None or in_use(app, period):
        return True
    unused.add((spec.name, period.key))
    log.info("stage_report_not_owed", report=spec.name, period=period.key,
             reason="站点在本期结束前尚未登记任何事项")
    return False


def _alert(app: App, spec: StageReportSpec, period: Period, error: str, at: datetime) -> bool:
    """Queue the administrator's alert about a failing report (the tick delivers it);
    whether that is done (False: try again at the next failure)."""
    message = admin_alert(
        app.config, f"阶段报告“{spec.name}”（{period.title}）未能生成，将自动重试", (error,), at,
        happened="未能生成阶段报告",
        advice=("提醒和督办邮件照常发送，不受影响。系统会在之后每一轮自动重试，问题排除后报告即生成并发送；\n"
                f"也可运行 rectify stage-report --period {period.key} 查看。"))
    if message is None:
        return True
    try:
        app.outbox.add_message(message, at)
    except Exception as exc:  # noqa: BLE001 - e.g. the database is unreachable
        log.error("admin_alert_failed", error=str(exc))
        return False
    return True
