"""The web workbench (`rectify web`): Starlette, Jinja2 pages in Chinese, htmx.

`build(app)` is the ASGI application of a site; see adapters/web/app.py for requests,
adapters/web/auth.py for logins and sessions, adapters/web/routes.py for the pages,
adapters/web/links.py for the links digests carry (the daemon imports only that)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.wiring import App


def build(app: App, base_url: str | None = None) -> Any:
    from adapters.web.app import build as build_app

    return build_app(app, base_url)
