"""Accepting evidence by its bytes, what an image says of itself, its thumbnail, and how
a stored file is served (never as a page)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from adapters.evidence.accept import accept, check, read_file, read_upload
from adapters.evidence.serve import serve
from adapters.evidence.stores import DirectoryEvidence
from engine.errors import NotFound
from engine.evidence import Attachment, EvidenceRefused, clean_name, count_after, position_text
from engine.site import EvidenceConfig
from tests import evidencefiles as files

CONFIG = EvidenceConfig()


@pytest.mark.parametrize(("name", "make", "media_type"), [
    ("整改前.jpg", files.jpeg, "image/jpeg"),
    ("截图.png", files.png, "image/png"),
    ("现场.webp", files.webp, "image/webp"),
    ("IMG_0001.HEIC", files.heic, "image/heic"),
    ("整改方案.pdf", files.pdf, "application/pdf"),
])
def test_accepted_types_are_read_from_the_bytes(name: str, make, media_type: str) -> None:  # type: ignore[no-untyped-def]
    data = make()
    got = accept(name, data, CONFIG)
    assert got.attachment.media_type == media_type
    assert got.attachment.sha256 == hashlib.sha256(data).hexdigest() and got.attachment.size == len(data)
    assert got.attachment.name == name and got.data == data
    if media_type == "application/pdf":
        assert got.thumbnail is None and got.attachment.thumbnail is None
    else:
        assert got.thumbnail is not None and got.attachment.thumbnail == hashlib.sha256(got.thumbnail).hexdigest()


def test_a_photo_named_as_something_else_is_taken_for_what_it_is() -> None:
    got = accept("扫描件.pdf", files.png(), CONFIG)
    assert got.attachment.media_type == "image/png"


def test_exif_time_and_position_are_evidence_facts() -> None:
    got = accept("整改后.jpg", files.jpeg(), CONFIG).attachment
    assert got.taken_at == "2021-02-28T10:15:00+08:00"
    assert got.latitude == pytest.approx(31.2304, abs=1e-4) and got.longitude == pytest.approx(121.4737, abs=1e-4)
    assert position_text(got.latitude, got.longitude) == "北纬 31.23040°，东经 121.47370°"
    plain = accept("无信息.jpg", files.jpeg(exif=False), CONFIG).attachment
    assert (plain.taken_at, plain.latitude, plain.longitude) == (None, None, None)


def test_the_thumbnail_is_upright_small_and_carries_no_metadata() -> None:
    # Orientation 6: the camera was turned; the picture is 1200 × 900 as stored, 900 × 1200 upright.
    got = accept("竖拍.jpg", files.jpeg(1200, 900, orientation=6), CONFIG)
    assert (got.attachment.width, got.attachment.height) == (900, 1200)
    assert got.thumbnail is not None
    small = Image.open(io.BytesIO(got.thumbnail))
    assert small.format == "JPEG" and small.size == (360, 480)
    assert dict(small.getexif()) == {} and "icc_profile" not in small.info and "exif" not in small.info
    assert b"rectify-test-camera" not in got.thumbnail and b"GPS" not in got.thumbnail
    transparent = accept("透明.png", files.png(), CONFIG)
    assert transparent.thumbnail is not None
    assert Image.open(io.BytesIO(transparent.thumbnail)).mode == "RGB"


@pytest.mark.parametrize(("name", "data", "why"), [
    ("整改照片.jpg", files.EXE, "Windows 可执行程序"),
    ("现场.svg", files.SVG, "SVG 矢量图可以夹带脚本"),
    ("图标.png", files.SVG_PLAIN, "SVG 矢量图"),
    ("照片.jpg", files.HTML, "网页（HTML）"),
    ("动图.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "不接受 GIF"),
    ("资料.jpg", b"PK\x03\x04" + b"\x00" * 40, "压缩包"),
    ("随便.jpg", b"hello, this is text", "无法识别文件内容"),
    ("空.jpg", b"", "文件是空的"),
    ("脚本.pdf", files.pdf(script=True), "PDF 文件中含有脚本"),
    ("残缺.pdf", files.pdf()[:40], "PDF 文件已损坏或不完整"),
])
def test_refused_files_are_named_with_the_reason(name: str, data: bytes, why: str) -> None:
    with pytest.raises(EvidenceRefused) as refused:
        accept(name, data, CONFIG)
    assert str(refused.value).startswith(f"文件“{name}”不能作为佐证：") and why in str(refused.value)


def test_a_truncated_or_corrupt_photo_is_refused() -> None:
    photo = files.jpeg()
    for broken in (photo[: len(photo) // 2], photo[:200], photo[:600] + b"\x00" * 5000 + photo[-2:]):
        with pytest.raises(EvidenceRefused, match="图片已损坏或不完整"):
            accept("上传中断.jpg", broken, CONFIG)
    image = files.png(alpha=False)
    with pytest.raises(EvidenceRefused, match="图片已损坏或不完整"):
        accept("坏.png", image[:-20] + b"\x00" * 20, CONFIG)


def test_a_decompression_bomb_is_refused() -> None:
    with pytest.raises(EvidenceRefused, match="解压炸弹"):
        accept("炸弹.png", files.png_bomb(), CONFIG)


def test_size_and_count_limits() -> None:
    small = EvidenceConfig(max_mb=0.01, max_files=2)
    with pytest.raises(EvidenceRefused, match=r"文件“大.jpg”不能作为佐证：文件大小 \d+ KB，超过上限 10 KB"):
        accept("大.jpg", files.jpeg(), small)
    two = [accept(n, d, CONFIG).attachment for n, d in (("一.png", files.png()), ("二.png", files.png(10, 10)))]
    assert count_after(0, two, 2) == 2
    with pytest.raises(EvidenceRefused, match="文件“二.png”不能作为佐证：每个事项最多 2 个佐证文件，本事项已有 1 个"):
        count_after(1, two, 2)


def test_check_takes_every_file_or_none_and_keeps_nothing() -> None:
    with pytest.raises(EvidenceRefused, match="病毒.jpg"):
        check(CONFIG, [("好.jpg", files.jpeg()), ("病毒.jpg", files.EXE)])
    [taken] = check(CONFIG, [("好.jpg", files.jpeg())])
    assert taken.data == files.jpeg() and taken.thumbnail is not None
    assert taken.blobs() == {taken.attachment.sha256: files.jpeg(),
                             hashlib.sha256(taken.thumbnail).hexdigest(): taken.thumbnail}
    [document] = check(CONFIG, [("方案.pdf", files.pdf())])
    assert document.blobs() == {document.attachment.sha256: files.pdf()}


def test_read_file_refuses_an_oversized_file_unread(tmp_path: Path) -> None:
    big = tmp_path / "大.jpg"
    big.write_bytes(files.jpeg())
    with pytest.raises(EvidenceRefused, match="超过上限"):
        read_file(big, EvidenceConfig(max_mb=0.001))
    assert read_file(big, CONFIG) == ("大.jpg", files.jpeg())


def test_names_keep_only_their_last_part() -> None:
    assert clean_name("C:\\fakepath\\整改前.jpg") == "整改前.jpg"
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("..") == "未命名文件"
    assert len(clean_name("长" * 500 + ".jpg")) == 200 and clean_name("长" * 500 + ".jpg").endswith(".jpg")


# -- serving ---------------------------------------------------------------------------


def _stored(tmp_path: Path, name: str, data: bytes) -> tuple[DirectoryEvidence, Attachment]:
    store = DirectoryEvidence(tmp_path / "evidence")
    [taken] = check(CONFIG, [(name, data)])
    for blob in taken.blobs().values():
        store.put(blob)
    return store, taken.attachment


def test_a_photo_is_served_inline_as_its_type_never_sniffed(tmp_path: Path) -> None:
    store, photo = _stored(tmp_path, "整改后.jpg", files.jpeg())
    data, content_type, headers = serve(store, photo)
    assert data == files.jpeg() and content_type == "image/jpeg"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "sandbox" in headers["Content-Security-Policy"]
    assert headers["Content-Disposition"].startswith("inline; filename=\"evidence-")
    assert "filename*=UTF-8''%E6%95%B4%E6%94%B9%E5%90%8E.jpg" in headers["Content-Disposition"]


def test_a_thumbnail_is_served_as_a_jpeg(tmp_path: Path) -> None:
    store, photo = _stored(tmp_path, "现场.png", files.png())
    data, content_type, headers = serve(store, photo, thumbnail=True)
    assert content_type == "image/jpeg" and Image.open(io.BytesIO(data)).format == "JPEG"
    assert photo.thumbnail and data == store.get(photo.thumbnail)
    assert "%E7%8E%B0%E5%9C%BA-%E7%BC%A9%E7%95%A5%E5%9B%BE.jpg" in headers["Content-Disposition"]


def test_pdf_and_heic_are_downloads_only(tmp_path: Path) -> None:
    for name, data, content_type in (("方案.pdf", files.pdf(), "application/pdf"),
                                     ("IMG.HEIC", files.heic(), "image/heic")):
        store, file = _stored(tmp_path, name, data)
        _, got_type, headers = serve(store, file)
        assert got_type == content_type and headers["Content-Disposition"].startswith("attachment;")


def test_a_misleading_name_is_downloaded_with_the_real_extension(tmp_path: Path) -> None:
    store, file = _stored(tmp_path, "setup.exe", files.jpeg())
    _, content_type, headers = serve(store, file, inline=False)
    assert content_type == "image/jpeg" and headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''setup.exe.jpg" in headers["Content-Disposition"]


def test_serving_a_file_the_store_lacks_is_not_found(tmp_path: Path) -> None:
    store = DirectoryEvidence(tmp_path / "evidence")
    missing = Attachment(hashlib.sha256(b"gone").hexdigest(), "丢失.jpg", "image/jpeg", 4)
    with pytest.raises(NotFound, match="找不到佐证文件"):
        serve(store, missing)


def test_an_upload_is_read_no_further_than_the_limit() -> None:
    import asyncio

    class Upload:
        def __init__(self, name: str | None, data: bytes) -> None:
            self.filename, self.data = name, data
            self.asked: list[int] = []

        async def read(self, size: int = -1) -> bytes:
            self.asked.append(size)
            return self.data if size < 0 else self.data[:size]

    small = EvidenceConfig(max_mb=0.01)
    big = Upload("大.jpg", files.jpeg())
    with pytest.raises(EvidenceRefused, match="文件“大.jpg”不能作为佐证：文件大小超过上限 10 KB"):
        asyncio.run(read_upload(big, small))
    assert big.asked == [small.max_bytes + 1]
    assert asyncio.run(read_upload(Upload("小.png", files.png(10, 10)), small)) == ("小.png", files.png(10, 10))
    assert asyncio.run(read_upload(Upload(None, b"x"), small)) == ("未命名文件", b"x")


def test_an_image_pillow_cannot_make_a_thumbnail_of_is_refused_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.evidence import accept as accept_mod

    def unsupported(image: Image.Image, px: int = 480) -> bytes:
        raise ValueError("conversion from F to RGB not supported")

    monkeypatch.setattr(accept_mod, "thumbnail", unsupported)
    with pytest.raises(EvidenceRefused, match="文件“浮点.png”不能作为佐证：图片无法转换为缩略图"):
        accept("浮点.png", files.png(), CONFIG)
