"""Evidence as a real browser gets it: a photo that also holds a page (a JPEG with HTML
and script after its end) is shown as an image and its script never runs; a PDF is a
download, never opened in the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.evidence.accept import check
from adapters.evidence.serve import serve
from adapters.evidence.stores import DirectoryEvidence
from engine.evidence import Attachment
from engine.site import EvidenceConfig
from tests import evidencefiles as files

pytestmark = [pytest.mark.browser, pytest.mark.slow]

POLYGLOT = files.jpeg(400, 300) + b"<html><body><script>document.title='pwned';fetch('/pwned')</script></body></html>"


def _app(store: DirectoryEvidence, kept: dict[str, Attachment], hits: list[str]) -> Starlette:
    async def evidence(request: Request) -> Response:
        data, content_type, headers = serve(store, kept[request.path_params["sha"]],
                                            thumbnail=request.query_params.get("thumb") == "1")
        return Response(data, media_type=content_type, headers=headers)

    async def pwned(request: Request) -> Response:
        hits.append(request.url.path)
        return Response("")

    return Starlette(routes=[Route("/evidence/{sha}", evidence), Route("/pwned", pwned)])


def test_a_photo_holding_a_page_is_shown_as_an_image_and_its_script_never_runs(
        phone: Any, live_server: Callable[[Any], str], tmp_path: Path) -> None:
    store = DirectoryEvidence(tmp_path / "evidence")
    taken = check(EvidenceConfig(), [("现场.jpg", POLYGLOT), ("方案.pdf", files.pdf())])
    for blob in (b for t in taken for b in t.blobs().values()):
        store.put(blob)
    [photo, pdf] = [t.attachment for t in taken]
    hits: list[str] = []
    url = live_server(_app(store, {photo.sha256: photo, pdf.sha256: pdf}, hits))
    response = phone.goto(f"{url}/evidence/{photo.sha256}")
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert phone.evaluate("document.contentType") == "image/jpeg"
    assert phone.evaluate("document.images.length") == 1
    assert phone.evaluate("document.images[0].naturalWidth") == 400
    assert phone.title() != "pwned" and hits == []
    thumb = phone.goto(f"{url}/evidence/{photo.sha256}?thumb=1")
    assert thumb.headers["content-type"] == "image/jpeg" and phone.evaluate("document.images[0].naturalWidth") == 400
    with phone.expect_download() as download:
        try:
            phone.goto(f"{url}/evidence/{pdf.sha256}")
        except Exception as exc:  # noqa: BLE001 - Chromium aborts a navigation that becomes a download
            assert "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc)
    assert download.value.suggested_filename == "方案.pdf"
    assert Path(download.value.path()).read_bytes() == files.pdf()
    assert hits == []
