"""Photos and PDFs on the workbench: taken from the 随手拍 form and from event forms
(checked on their bytes by adapters/evidence/accept.py; kept in the site's evidence
store and recorded in the event's ledger row by the service, only when it writes the
event), shown on the item page
grouped by the event that brought them, and served only to those who may see the item
(adapters/evidence/serve.py: nosniff, sandboxed, never HTML or SVG inline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from adapters.evidence.accept import check, read_upload
from adapters.evidence.serve import serve
from engine.evidence import (
    Accepted,
    Attachment,
    EvidenceGroup,
    EvidenceRefused,
    grouped,
    position_text,
    size_text,
)
from engine.model import Item
from engine.site import EvidenceConfig

# The form field that carries files, and how many one form may carry at once.
FIELD = "photos"
FILES_PER_FORM = 6


def body_limit(config: EvidenceConfig, form_bytes: int) -> int:
    """The largest request body a form with files may have: its fields and FILES_PER_FORM
    files of `evidence.max_mb` each (a larger request is refused before it is read)."""
    return form_bytes + FILES_PER_FORM * (config.max_bytes + 4096)


async def read_files(request: Request, form: FormData, config: EvidenceConfig) -> list[tuple[str, bytes]]:
    """The files of the form's FIELD as (name, bytes), each read at most one byte past
    the limit; an empty file input (no name, no bytes) is no file. Kept on
    request.state.uploads for the handler."""
    from adapters.web.app import WebError

    uploads = [u for u in form.getlist(FIELD) if isinstance(u, UploadFile)]
    if len(uploads) > FILES_PER_FORM:
        raise WebError(413, "文件过多", f"一次最多上传 {FILES_PER_FORM} 个文件，未做任何修改")
    files = []
    for upload in uploads:
        try:
            name, data = await read_upload(upload, config)
        except EvidenceRefused as exc:
            raise WebError(413, "文件过大", f"{exc}；未做任何修改") from None
        if data or upload.filename:
            files.append((name, data))
    request.state.uploads = files
    return files


def evidence(ctx: Any) -> list[Accepted]:
    """The uploaded files checked (all of them, before any is taken), nothing kept: the
    files to pass to the service, which keeps them once the event is decided allowed. A
    refused file is a Chinese 415 page and nothing is recorded."""
    from adapters.web.app import WebError

    files: list[tuple[str, bytes]] = getattr(ctx.request.state, "uploads", [])
    try:
        return check(ctx.app.config.evidence, files)
    except EvidenceRefused as exc:
        raise WebError(415, "文件不能作为佐证", f"{exc}；未做任何修改，请换一个文件后重新提交") from None


@dataclass(frozen=True)
class Shown:
    """One file as the page shows it."""

    id: int
    name: str
    type_title: str
    size: str
    image: bool
    inline: bool
    pixels: str
    taken_at: str
    position: str


@dataclass(frozen=True)
class Group:
    title: str
    who: str
    at: str
    files: list[Shown]
    before: bool


def _shown(file_id: int, a: Attachment) -> Shown:
    pixels = f"{a.width}×{a.height}" if a.width and a.height else ""
    return Shown(file_id, a.name, a.type_title, size_text(a.size), a.is_image, a.thumbnail is not None, pixels,
                 (a.taken_at or "").replace("T", " "), position_text(a.latitude, a.longitude) or "")


def groups(ctx: Any, item: Item) -> list[Group]:
    """The item's files by the event that brought them, each titled as the workflow
    titles the event (the report's are 整改前 photos)."""
    app = ctx.app
    stored = app.store.attachments(item.id or 0)
    if not stored:
        return []
    wf = app.service.workflows.get_or_fail(item.workflow)
    titles = {t.event: t.title for t in wf.transitions} | {"report": "上报", "amend": "修改"}
    tz: ZoneInfo = app.config.timezone
    shown = []
    for g in grouped(stored, app.store.history(item.id or 0)):
        shown.append(_group(g, titles, tz))
    return shown


def _group(g: EvidenceGroup, titles: dict[str, str], tz: ZoneInfo) -> Group:
    title = titles.get(g.event or "", g.event or "") if g.seq is not None else "事项附件"
    at = g.at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if g.at else ""
    return Group(title, g.actor or "", at, [_shown(f.id, f.attachment) for f in g.files],
                 before=g.event == "report")


def section(ctx: Any, item: Item) -> Markup:
    """The item page's 佐证材料 section ("" when the item has no files)."""
    found = groups(ctx, item)
    if not found:
        return Markup("")
    html = ctx.web.templates.get_template("_attachments.html").render(item=item, groups=found)
    return Markup(html)


def file_page(ctx: Any) -> Response:
    """A file (or with ?thumb=1 its thumbnail) of an item this person may see; any other
    file id is the same 404 as a missing one."""
    from adapters.web.app import WebError
    from adapters.web.routes import visible_item

    item = visible_item(ctx)
    file_id = int(ctx.request.path_params["file_id"])
    found = next((f for f in ctx.app.store.attachments(item.id or 0) if f.id == file_id), None)
    if found is None:
        raise WebError(404, "找不到文件", "找不到这个文件，或您无权查看")
    thumb = ctx.request.query_params.get("thumb") == "1"
    download = ctx.request.query_params.get("download") == "1"
    data, content_type, headers = serve(ctx.app.evidence, found.attachment, thumbnail=thumb, inline=not download)
    return Response(data, media_type=content_type, headers=headers)


def limit_text(limit: int, multipart: bool, config: EvidenceConfig) -> str:
    """The request limit as the refusal names it."""
    if multipart:
        return f"{size_text(limit)}（每个文件不超过 {size_text(config.max_bytes)}，一次最多 {FILES_PER_FORM} 个）"
    return f"{limit // 1024} KB"
