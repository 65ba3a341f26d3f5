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


def _source_files(*paths: str) -> set[str]:
    """Files git tracks or would track (new, not ignored) under ``paths``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return {name for name in listed if (ROOT / name).is_file()}


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs the git checkout")
def test_wheel_holds_exactly_the_package_sources_and_data_files(tmp_path: Path) -> None:
    # Build from a clean copy: an in-tree build/ folder could smuggle stale modules into the wheel.
    source = tmp_path / "src"
    for name in _source_files("pyproject.toml", "README.md", *PACKAGES):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("taizhang_bot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        inside = {name for name in archive.namelist() if ".dist-info/" not in name}
    expected = _source_files(*PACKAGES)
    assert "knowledge/readers/__init__.py" in expected
    assert "knowledge/data/fonts/wqy-microhei-subset.ttf" in expected
    assert sorted(expected - inside) == []  # nothing missing
    assert sorted(inside - expected) == []  # nothing stale or stray
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        assert "taizhang = bot.cli:main" in archive.read(entry_points).decode()
