"""Emails to the site's administrator (rectify.yaml `admin_email`): a refused edit of the
site's files, a stage report that could not be produced. Rendered with the site's
`admin_alert` template, or the shipped one when the site's is broken (a broken template
must not stop the alert about itself)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from adapters.templates import Templates
from engine.errors import ConfigError
from engine.notices import AdminAlert
from engine.scheduler import Composed

log = structlog.get_logger("rectify.alerts")


def admin_alert(config: Any, title: str, problems: tuple[str, ...], at: datetime,
                **wording: str) -> Composed | None:
    """The alert as a message for the outbox; None (with a warning logged) when the site
    names no administrator. `wording`: AdminAlert's `happened` and `advice`."""
    if not config.admin_email:
        log.warning("no_admin_email", hint="rectify.yaml 未设置 admin_email，无法通知管理员")
        return None
    alert = AdminAlert(config.name, config.admin_email, title, problems, at, config.timezone, **wording)
    try:
        rendered = Templates(config.templates_dir).admin_alert(alert)
    except ConfigError:
        rendered = Templates(None).admin_alert(alert)
    # The administrator fixes the site: told at once, office hours or not.
    return Composed("系统管理员", config.admin_email, rendered.subject, rendered.text, rendered.html, (),
                    urgent=True)
