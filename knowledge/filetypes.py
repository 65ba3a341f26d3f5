"""What an uploaded evidence file really is: decided by its content, never by its name.

Each accepted type is recognised by its structure, not only its first bytes:

- PDF: ``%PDF-`` header and an ``%%EOF`` marker near the end (a cut-off upload has none);
- doc/xls/wps/et: an OLE compound file (checked with ``olefile``, the maintained reader of
  that format, which validates the sector tables) holding a ``WordDocument`` stream (Word and
  WPS Writer) or a ``Workbook``/``Book`` stream (Excel and WPS Spreadsheets); the two members
  of a family share one structure, so only there the name picks the label (doc or wps);
- docx/xlsx/ofd/zip: a readable zip archive; ``word/document.xml`` makes a docx,
  ``xl/workbook.xml`` an xlsx, a root ``OFD.xml`` an OFD, anything else a plain zip;
- jpg/png: opened and verified by Pillow (already installed with matplotlib), which checks
  the markers and the PNG chunk checksums without decoding pixels;
- heic: an ISO-BMFF ``ftyp`` box with a HEIF brand, then boxes whose sizes add up to the
  file exactly;
- txt: valid UTF-8 or GB18030 without control characters (tab, CR and LF allowed) and not
  markup or a script in disguise.

Anything else is refused naming what it is (``filetype`` names common binary formats by magic
numbers; a few text formats it cannot see — HTML, SVG, XML, scripts — are named here).
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

from knowledge.errors import Refusal

ALLOWED_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "ofd", "jpg", "png", "heic", "txt", "zip")
MIMES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "wps": "application/vnd.ms-works",
    "et": "application/vnd.ms-excel",
    "ofd": "application/ofd",
    "jpg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "txt": "text/plain",
    "zip": "application/zip",
}
ACCEPTED_HINT = "可上传：PDF、Word、Excel、WPS、OFD、图片（JPG/PNG/HEIC）、TXT、ZIP"

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # control characters except tab, LF, CR
_BINARY_CLAIMS = set(ALLOWED_TYPES) - {"txt"}


def unsupported(detected: str) -> Refusal:
    """The refusal naming what the file really is."""
    return Refusal(f"不支持的文件类型（检测到：{detected}）。{ACCEPTED_HINT}")


def check_complete(name: str, size: int, expected_size: int | None) -> None:
    """Refuse a download whose size differs from Telegram's ``file_size`` (a truncated transfer)."""
    if expected_size and size != expected_size:
        raise Refusal(f"文件“{name}”下载不完整（收到 {size} 字节，应为 {expected_size} 字节），未保存，请重新发送")


def identify(path: Path, original_name: str = "") -> str:
    """One of :data:`ALLOWED_TYPES` for ``path``'s content; raises :class:`Refusal` naming the real type."""
    size = path.stat().st_size
    if size == 0:
        raise Refusal("文件是空的（0 字节），请重新发送")
    suffix = original_name.rpartition(".")[2].lower() if "." in original_name else ""
    with path.open("rb") as handle:
        head = handle.read(8192)
        handle.seek(max(0, size - 2048))
        tail = handle.read()
    if head.startswith(b"%PDF-"):
        if b"%%EOF" not in tail:
            raise Refusal("PDF 文件不完整（缺少结尾标记 %%EOF），请重新导出后发送")
        return "pdf"
    if head.startswith(_OLE_MAGIC):
        return _ole_kind(path, suffix)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _image_kind(path)
    if head[4:8] == b"ftyp":
        return _heic_kind(path, head, size)
    text = _as_text(path)
    if text is None:
        raise unsupported(_describe_binary(head))
    markup = _describe_markup(text)
    if markup:
        raise unsupported(markup)
    if suffix in _BINARY_CLAIMS:
        raise unsupported(f"纯文本，不是 {suffix.upper()} 文件")
    return "txt"


def _ole_kind(path: Path, suffix: str) -> str:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
    except (OSError, ValueError, struct.error) as exc:  # olefile raises OSError for corrupt files
        raise unsupported("损坏的 OLE 复合文档") from exc
    if "worddocument" in streams:
        return suffix if suffix in ("doc", "wps") else "doc"
    if "workbook" in streams or "book" in streams:
        return suffix if suffix in ("xls", "et") else "xls"
    if "powerpoint document" in streams:
        raise unsupported("PowerPoint 演示文稿（.ppt）")
    if "encryptedpackage" in streams:
        raise unsupported("加密的 Office 文件（请去掉密码后再发送）")
    raise unsupported("其他 OLE 复合文档")


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = {name.lstrip("/") for name in archive.namelist()}
            if archive.testzip() is not None:
                raise unsupported("损坏的 ZIP 压缩包")
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise unsupported("损坏的 ZIP 压缩包") from exc
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if any(name.lower() == "ofd.xml" for name in names):
        return "ofd"
    return "zip"


def _image_kind(path: Path) -> str:
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: we never decode pixels
            with Image.open(path) as image:
                image.verify()
                detected = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as exc:
        raise unsupported("损坏的图片") from exc
    if detected == "JPEG":
        return "jpg"
    if detected == "PNG":
        return "png"
    raise unsupported(f"{detected} 图片")


def _heic_kind(path: Path, head: bytes, size: int) -> str:
    brand = head[8:12]
    if brand not in _HEIF_BRANDS:
        raise unsupported(_describe_binary(head))
    offset = 0
    seen: set[bytes] = set()
    with path.open("rb") as handle:
        while offset < size:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                break
            box_size, box_type = struct.unpack(">I4s", header[:8])
            if box_size == 1 and len(header) == 16:
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8 or not box_type.isalnum():
                break
            seen.add(box_type)
            offset += box_size
    if offset != size or b"meta" not in seen:
        raise unsupported("损坏的 HEIC 图片")
    return "heic"


def _as_text(path: Path) -> str | None:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL_RE.search(text):
            return None
        return text
    return None


def _describe_markup(text: str) -> str:
    start = text.lstrip().lower()[:512]
    if start.startswith("#!"):
        return "脚本（" + start.splitlines()[0][:40] + "）"
    if "<svg" in start:
        return "SVG 矢量图"
    if start.startswith(("<!doctype html", "<html", "<head", "<body", "<script")) or "<html" in start:
        return "HTML 网页"
    if start.startswith("<?xml"):
        return "XML 文本"
    return ""


def _describe_binary(head: bytes) -> str:
    import filetype

    if head.startswith(b"\x7fELF"):
        return "可执行程序（ELF）"
    if head.startswith(b"MZ"):
        return "Windows 可执行程序"
    kind = filetype.guess(head)
    if kind is not None:
        return f"{kind.extension.upper()}（{kind.mime}）"
    return "无法识别的二进制数据"
