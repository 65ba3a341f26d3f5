"""Every ledger template printed by LibreOffice (headless Calc → PDF): A4 landscape, and each page
carries its sheet's whole header row, so no column is cut off onto a page of its own.

CI installs LibreOffice (``.ci/run``); on a developer machine without ``soffice`` the test is
skipped with that reason, and under ``CI`` it fails instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest
from pypdf import PdfReader

from knowledge.ledger_spec import templates
from knowledge.ledger_xlsx import SUMMARY_HEADER, write_export
from storage.db import Database
from storage.ledger_data import ledger_data
from tests.conftest import SHANGHAI
from tests.test_ledger_templates import DOC_000, DOC_001, DOC_002, DOC_003, DOC_004, seed

NOW = datetime(2026, 11, 4, 10, 0, tzinfo=SHANGHAI)
A4_LANDSCAPE = (842, 595)  # points
# (document, unit): one unit's sheet with many rows keeps LibreOffice's run short; 004 prints both 打分表.
EXPORTS = {
    "000": (DOC_000, "法规科"),
    "001": (DOC_001, "法规科"),
    "002": (DOC_002, "法制仲裁科"),
    "003": (DOC_003, "县司法局"),
    "004": (DOC_004, None),
    "generic": (DOC_000, "法规科"),
}


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is missing in CI: .ci/run must install libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) not installed here; CI installs it (.ci/run)")
    return found


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_every_template_prints_on_a4_landscape_without_cut_columns(seeded_copy_url: str, tmp_path: Path) -> None:
    soffice = _soffice()
    seed(seeded_copy_url)
    db = Database(seeded_copy_url)
    books = []
    for template, (document, unit) in EXPORTS.items():
        data = db.call(ledger_data, "2026-10", document, unit)
        out = tmp_path / "xlsx" / f"{template}.xlsx"
        write_export(data, out, NOW, template)
        books.append(out)
    db.dispose()
    # A private profile and the shipped CJK font (fontconfig reads ~/.fonts) so the PDF text is extractable.
    home = tmp_path / "home"
    fonts = home / ".fonts"
    fonts.mkdir(parents=True)
    shutil.copy(Path(str(resources.files("knowledge") / "data" / "fonts" / "wqy-microhei-subset.ttf")), fonts)
    env = {**os.environ, "HOME": str(home)}
    subprocess.run(
        [soffice, f"-env:UserInstallation={(home / 'profile').as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "pdf"), *map(str, books)],
        check=True, env=env, capture_output=True, timeout=240,
    )  # fmt: skip
    summary = [_squash(t) for t in SUMMARY_HEADER]
    for template in EXPORTS:
        pdf = PdfReader(tmp_path / "pdf" / f"{template}.pdf")
        columns = [_squash(c.title) for c in templates()[template].columns]
        assert len(pdf.pages) >= 2, template
        for number, page in enumerate(pdf.pages, 1):
            size = (round(float(page.mediabox.width)), round(float(page.mediabox.height)))
            assert size == A4_LANDSCAPE, (template, number, size)
            text = _squash(page.extract_text())
            complete = all(c in text for c in columns) or all(c in text for c in summary)
            assert complete, f"{template} page {number}: header row incomplete (a column is cut off)"
