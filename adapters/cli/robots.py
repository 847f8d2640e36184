"""`rectify robot-sink`: a local stand-in for the WeCom and DingTalk webhooks, writing what
it receives as files (the demo's `make run` starts it)."""

from __future__ import annotations

import click

from adapters.cli.base import Context, cli, handle_errors

pass_ctx = click.make_pass_decorator(Context)


@cli.command("robot-sink")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8090, type=click.IntRange(1, 65535), show_default=True, help="监听端口")
@click.option("--dir", "directory", default="robots", show_default=True, help="收到的消息写入站点下的这个目录")
@pass_ctx
@handle_errors
def robot_sink(ctx: Context, host: str, port: int, directory: str) -> None:
    """在本机模拟企业微信、钉钉群机器人的 webhook（用于试用和演示）：把收到的每条消息写成 .md 文件；
    按 org.yaml 中机器人的加签密钥校验钉钉签名。按 Ctrl-C 停止。"""
    from adapters.robotsink import RobotSink, group_names, known_secrets, serve
    from adapters.sitefiles import load_config, load_org

    config = load_config(ctx.site_dir)
    org = load_org(config.org_file)
    target = config.root / directory
    sink = RobotSink(target, known_secrets(org, config.root), config.timezone, group_names(org, config.root))
    try:
        server = serve(sink, host, port)
    except OSError as exc:
        raise click.ClickException(f"无法监听 {host}:{port}：{exc.strerror or exc}") from None
    click.echo(f"群机器人模拟服务：http://{host}:{port}（收到的消息写入 {target}/*.md，按 Ctrl-C 停止）", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
