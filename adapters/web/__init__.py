"""The web workbench (`rectify web`): Starlette, Jinja2 pages in Chinese, htmx.

`build(app)` is the ASGI application of a site; see adapters/web/app.py for requests,
adapters/web/auth.py for logins and sessions, adapters/web/routes.py for the pages."""

from adapters.web.app import build

__all__ = ["build"]
