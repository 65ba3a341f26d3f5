"""The built wheel holds every tracked module and data file of the four packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge", "storage")


def _tracked_package_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return {name for name in listed if "__pycache__" not in name}


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs the git checkout")
def test_wheel_contains_every_tracked_module_and_data_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("taizhang_bot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        inside = set(archive.namelist())
    tracked = _tracked_package_files()
    assert "knowledge/readers/__init__.py" in tracked
    assert "knowledge/data/fonts/wqy-microhei-subset.ttf" in tracked
    assert sorted(tracked - inside) == []
    entry_points = next(n for n in inside if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "taizhang = bot.cli:main" in archive.read(entry_points).decode()
