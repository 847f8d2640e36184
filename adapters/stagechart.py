"""The stage report's chart: 整改率 by unit as a PNG.

`chart_png` draws with matplotlib's Agg canvas on a Figure of its own (never pyplot's
global state) in the Noto Sans CJK SC font shipped by the `mplfonts` package, loaded
from its file: nothing is installed into matplotlib's data directory.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from functools import lru_cache
from pathlib import Path

from engine.reports import StageReport

_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_BAR_COLOR = "#2f6db5"
_LOW_COLOR = "#c0392b"  # units below 60%
_DPI = 100
_WIDTH = 8.0  # inches

# matplotlib keeps caches (fonts, text layout) that are not meant to be shared by
# threads drawing at the same time; a report is drawn rarely, so draw one at a time.
_DRAW_LOCK = threading.Lock()

@lru_cache(maxsize=1)
def _font_path() -> Path:
    """The Noto Sans CJK SC file inside the installed mplfonts package (not imported:
    importing it would pull in its font-management helpers)."""
    spec = importlib.util.find_spec("mplfonts")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "fonts" / _FONT_FILE
        if path.is_file():
            return path
    raise RuntimeError(f"找不到中文字体 {_FONT_FILE}：请安装 mplfonts 包（pip install mplfonts）")


def chart_png(report: StageReport) -> bytes:
    """A horizontal bar chart of 整改率 by unit (units with nothing found left out),
    as PNG; a small image saying so when no unit has any hazard."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import PercentFormatter

    units = [(name, count) for name, count in report.by_unit if count.found > 0]
    title = f"{report.period.title}各单位隐患整改率"
    with _DRAW_LOCK:
        font = FontProperties(fname=str(_font_path()), size=10)
        title_font = FontProperties(fname=str(_font_path()), size=13)
        if not units:
            fig = Figure(figsize=(_WIDTH, 2.0), dpi=_DPI)
            FigureCanvasAgg(fig)
            fig.text(0.5, 0.68, title, ha="center", va="center", fontproperties=title_font)
            fig.text(0.5, 0.35, "本期无隐患数据", ha="center", va="center",
                     fontproperties=font, color="#666666")
        else:
            height = min(2.0 + 0.45 * len(units), 60.0)
            fig = Figure(figsize=(_WIDTH, height), dpi=_DPI, layout="constrained")
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
            rates = [(count.rate or 0.0) * 100 for _, count in units]
            positions = list(range(len(units)))
            colors = [_LOW_COLOR if rate < 60 else _BAR_COLOR for rate in rates]
            ax.barh(positions, rates, color=colors, height=0.6)
            ax.set_yticks(positions, [name for name, _ in units], fontproperties=font)
            ax.invert_yaxis()  # the first unit on top, as in the tables
            ax.set_xlim(0, 100)
            ax.xaxis.set_major_formatter(PercentFormatter(100, decimals=0))
            ax.grid(axis="x", color="#dddddd", linewidth=0.8)
            ax.set_axisbelow(True)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            for y, rate, (_, count) in zip(positions, rates, units, strict=True):
                label = f"{count.rate_text}（{count.closed}/{count.found}）"
                if rate > 70:
                    ax.text(rate - 1, y, label, va="center", ha="right", color="white",
                            fontproperties=font)
                else:
                    ax.text(rate + 1, y, label, va="center", ha="left", color="#222222",
                            fontproperties=font)
            ax.set_title(title, fontproperties=title_font)
        out = io.BytesIO()
        # No "Software" text chunk: the same report gives the same bytes across versions.
        fig.savefig(out, format="png", dpi=_DPI, metadata={"Software": None})
    return out.getvalue()
