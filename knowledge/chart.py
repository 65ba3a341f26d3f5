"""The progress picture: completion by unit for a period, and the trend over recent months.

Chinese labels use the font shipped in ``knowledge/data/fonts`` (matplotlib would silently
draw empty boxes with its default font); a glyph missing from it makes matplotlib warn,
which the tests turn into a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

MAX_UNITS = 30


class UnitCounts(Protocol):
    """A unit's counts (the ledger's per-unit summary)."""

    @property
    def unit(self) -> str: ...
    @property
    def reported(self) -> int: ...
    @property
    def completed(self) -> int: ...
    @property
    def missing(self) -> list[str]: ...


@lru_cache(maxsize=1)
def chinese_font_family() -> str:
    """Register the shipped CJK font with matplotlib; returns its family name."""
    from matplotlib import font_manager

    path = Path(str(resources.files("knowledge") / "data" / "fonts" / "wqy-microhei-subset.ttf"))
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


def completion_chart(
    units: Sequence[UnitCounts], period: str, path: Path, trend: list[tuple[str, float]] | None = None
) -> None:
    """Horizontal bars of 已完成 / 未完成 / 未报送 per unit (most missing first), plus a trend line."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    family = chinese_font_family()
    shown = sorted(units, key=lambda u: (-len(u.missing), u.unit))[:MAX_UNITS]
    with pyplot.rc_context({"font.family": family, "axes.unicode_minus": False}):
        history = trend or []
        has_history = len(history) > 1 and any(value for _, value in history[:-1])
        rows = 2 if has_history else 1
        height = max(3.0, 0.35 * len(shown) + 1.5)
        ratios = [height, 3.0][:rows]
        figure, axes = pyplot.subplots(
            rows, 1, figsize=(10, sum(ratios)), squeeze=False, gridspec_kw={"height_ratios": ratios}
        )
        bars = axes[0][0]
        names = [u.unit for u in shown][::-1]
        done = [u.completed for u in shown][::-1]
        progressing = [u.reported - u.completed for u in shown][::-1]
        missing = [len(u.missing) for u in shown][::-1]
        bars.barh(names, done, color="#2e7d32", label="已完成")
        bars.barh(names, progressing, left=done, color="#f9a825", label="未完成（推进中）")
        bars.barh(names, missing, left=[d + p for d, p in zip(done, progressing, strict=True)], color="#c62828",
                  label="未报送")  # fmt: skip
        year, month = period.split("-")
        bars.set_title(f"{year}年{int(month)}月 各单位报送情况（指标数）")
        bars.legend(loc="lower right")
        if has_history:
            line = axes[1][0]
            labels = [f"{int(p[5:])}月" for p, _ in history]
            line.plot(labels, [value * 100 for _, value in history], marker="o", color="#1565c0")
            line.set_ylim(0, 100)
            line.set_ylabel("报送率（%）")
            line.set_title("近几个月报送率")
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=120)
        pyplot.close(figure)
