"""The web workbench: `rectify web` serves it, `rectify web link PERSON` prints a login link."""

from __future__ import annotations

import click

from adapters.cli.base import Context, cli, handle_errors

pass_ctx = click.make_pass_decorator(Context)


def listen_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@cli.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8080, type=click.IntRange(1, 65535), show_default=True, help="监听端口")
@click.pass_context
def web(click_ctx: click.Context, host: str, port: int) -> None:
    """运行网页工作台（手机和电脑浏览器均可使用）；rectify web link 姓名 生成登录链接。"""
    click_ctx.meta["web_listen"] = listen_url(host, port)
    if click_ctx.invoked_subcommand is None:
        _serve(click_ctx.obj, host, port)


@handle_errors
def _serve(ctx: Context, host: str, port: int) -> None:
    import threading

    import uvicorn

    from adapters.web import build
    from adapters.web.reload import watch_site

    app = ctx.app
    asgi = build(app, app.config.web.base_url or listen_url(host, port))
    click.echo(f"网页工作台：{app.config.web.base_url or listen_url(host, port)}"
               f"（监听 {listen_url(host, port)}，按 Ctrl-C 停止）")
    stop = threading.Event()
    watch_site(app, stop)
    try:
        uvicorn.run(asgi, host=host, port=port, log_level="warning", proxy_headers=True)
    finally:
        stop.set()


@web.command("link")
@click.argument("person")
@click.option("--item", "item_id", type=int, help="登录后直接打开此事项")
@click.pass_context
def link(click_ctx: click.Context, person: str, item_id: int | None) -> None:
    """为 org.yaml 中的人员生成一次性登录链接（web.link_days 天内有效，只能使用一次）。"""
    _link(click_ctx.obj, person, item_id, click_ctx.meta.get("web_listen", listen_url("127.0.0.1", 8080)))


@handle_errors
def _link(ctx: Context, person: str, item_id: int | None, listen: str) -> None:
    from adapters.web.login import operator_link

    app = ctx.app
    if item_id is not None:
        app.store.get(item_id)
    url = operator_link(app, person, app.service.clock.now(), app.config.web.base_url or listen,
                        f"/items/{item_id}" if item_id is not None else "/")
    click.echo(url)
