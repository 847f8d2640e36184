"""The browser harness itself: a real Chromium on a phone uploads a real JPEG through a
form to a real ASGI server (a minimal Starlette app made here), and the page fits the
phone's width. The web workbench's browser tests use the same fixtures."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests import evidencefiles as files
from tests.browser import PHONE_WIDTH, horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ font-family: sans-serif; margin: 16px; }} button {{ min-height: 48px; width: 100%; }}
.wide {{ width: 600px; height: 20px; background: #ccc; }} .hash {{ overflow-wrap: anywhere; }}</style></head>
<body>{body}</body></html>"""


def _upload_app(received: dict[str, bytes]) -> Starlette:
    async def form(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE.format(title="上传整改照片", body="""
<h1>上传整改照片</h1>
<form method="post" action="/upload" enctype="multipart/form-data">
  <label>照片 <input type="file" name="photo" accept="image/*" capture="environment"></label>
  <button type="submit">提交</button>
</form>"""))

    async def upload(request: Request) -> HTMLResponse:
        data = await request.form()
        photo: Any = data["photo"]
        content = await photo.read()
        received[photo.filename] = content
        return HTMLResponse(PAGE.format(title="已收到", body=(
            f"<p id='got'>已收到“{html.escape(photo.filename)}”，{len(content)} 字节</p>"
            f"<p id='sha' class='hash'>{hashlib.sha256(content).hexdigest()}</p>")))

    async def wide(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE.format(title="过宽的页面", body="<div class='wide'></div>"))

    return Starlette(routes=[Route("/", form), Route("/upload", upload, methods=["POST"]), Route("/wide", wide)])


def test_a_phone_uploads_a_photo_through_a_real_server(
        phone: Any, live_server: Callable[[Any], str], screenshot: Callable[[Any, str], Path]) -> None:
    received: dict[str, bytes] = {}
    url = live_server(_upload_app(received))
    photo = files.jpeg(1600, 1200)
    phone.goto(url + "/")
    assert phone.evaluate("navigator.language") == "zh-CN"
    assert phone.evaluate("window.devicePixelRatio") == 3 and phone.evaluate("'ontouchstart' in window")
    assert horizontal_overflow(phone) <= 0
    phone.set_input_files("input[name=photo]", files=[
        {"name": "整改前.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    phone.get_by_role("button", name="提交").tap()
    phone.wait_for_url(url + "/upload")
    assert phone.locator("#got").inner_text() == f"已收到“整改前.jpg”，{len(photo)} 字节"
    assert received == {"整改前.jpg": photo}
    assert phone.locator("#sha").inner_text() == hashlib.sha256(photo).hexdigest()
    shot = screenshot(phone, "harness-upload")
    with Image.open(shot) as image:  # 3× density: 390 CSS pixels are 1170 device pixels
        assert image.width == PHONE_WIDTH * 3
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_the_width_check_sees_a_page_too_wide_for_a_phone(phone: Any, live_server: Callable[[Any], str]) -> None:
    url = live_server(_upload_app({}))
    phone.goto(url + "/wide")
    assert horizontal_overflow(phone) > 0
    assert phone.evaluate("document.documentElement.scrollWidth") > PHONE_WIDTH
