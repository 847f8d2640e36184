"""The dashboard's chart as server-rendered SVG: per unit, a bar of 整改率 and (for the
quarter the instant is in) a bar of the overdue ratio, with Chinese labels.

No JavaScript and no font files: text uses a generic family with CJK fallbacks the
phone or desktop has. Every text and attribute is escaped (a unit named `<script>` is
drawn as those characters). The drawing has a viewBox and no fixed size, so it scales
to its container (a 390 px phone included). Given `link`, each bar and number links to
the items behind it (engine.dashboard.Selection → URL, the web's to choose).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from engine.dashboard import Figure, PeriodView, Selection, UnitRate

FONT = ("system-ui, -apple-system, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', "
        "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', sans-serif")
WIDTH = 390
LABEL_WIDTH = 112  # unit names, left
BAR_LEFT = LABEL_WIDTH + 6
BAR_WIDTH = WIDTH - BAR_LEFT - 96  # room for "100.0%（12/12）" on the right
ROW = 40
HEAD = 58
RATE_COLOR = "#2f6db5"
LOW_COLOR = "#c0392b"  # 整改率 under 60%, as the stage report's chart
OVERDUE_COLOR = "#e67e22"
NAME_CHARS = 8

Link = Callable[[Selection], str]


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def _linked(body: str, figure: Figure | None, link: Link | None) -> str:
    if link is None or figure is None:
        return body
    return f'<a href="{_text(link(figure.selection))}">{body}</a>'


def _bar(y: float, ratio: float | None, color: str, label: str, figure: Figure | None, link: Link | None,
         what: str) -> str:
    length = round(BAR_WIDTH * (ratio or 0.0), 1)
    parts = [f'<rect x="{BAR_LEFT}" y="{y}" width="{BAR_WIDTH}" height="12" fill="#eeeeee"/>',
             f'<rect x="{BAR_LEFT}" y="{y}" width="{length}" height="12" fill="{color}">'
             f"<title>{_text(what)}：{_text(label)}</title></rect>",
             f'<text x="{BAR_LEFT + BAR_WIDTH + 4}" y="{y + 10}" font-size="11" fill="#222222">{_text(label)}</text>']
    return _linked("".join(parts), figure, link)


def _row(index: int, unit: UnitRate, link: Link | None) -> str:
    top = HEAD + index * ROW
    rate = unit.rate
    rate_label = f"{_percent(rate)}（{unit.count.closed}/{unit.count.found}）"
    parts = [f'<text x="{LABEL_WIDTH}" y="{top + 16}" font-size="12" text-anchor="end" fill="#222222">'
             f"<title>{_text(unit.title)}</title>{_text(_short(unit.title))}</text>",
             _bar(top + 5, rate, LOW_COLOR if rate is not None and rate < 0.6 else RATE_COLOR, rate_label,
                  unit.closed, link, f"{unit.title}整改率")]
    if unit.open is not None and unit.overdue is not None:
        ratio = unit.overdue_ratio
        label = f"{_percent(ratio)}（{unit.overdue.value}/{unit.open.value}）"
        parts.append(_bar(top + 21, ratio, OVERDUE_COLOR, label, unit.overdue, link, f"{unit.title}逾期率"))
    return "".join(parts)


def _legend(current: bool) -> str:
    items = [(RATE_COLOR, "整改率（累计整改/累计发现）")]
    if current:
        items.append((OVERDUE_COLOR, "逾期率（逾期/在办）"))
    out, x = [], 8
    for color, label in items:
        out.append(f'<rect x="{x}" y="34" width="10" height="10" fill="{color}"/>'
                   f'<text x="{x + 14}" y="43" font-size="11" fill="#444444">{_text(label)}</text>')
        x += 180
    return "".join(out)


def unit_chart(view: PeriodView, *, link: Link | None = None) -> str:
    """The period's units as an SVG document (text), units with nothing found left out."""
    title = f"{view.label}各单位隐患整改情况"
    units = [u for u in view.units if u.count.found > 0]
    if not units:
        height = HEAD + 30
        body = (f'<text x="{WIDTH / 2}" y="{HEAD + 8}" font-size="13" text-anchor="middle" fill="#666666">'
                f"{'本期无隐患数据' if view.counted else '该期间尚无事项记录'}</text>")
    else:
        height = HEAD + ROW * len(units) + 8
        body = _legend(units[0].open is not None) + "".join(_row(i, u, link) for i, u in enumerate(units))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'role="img" aria-label="{_text(title)}" font-family="{_text(FONT)}">'
            f"<title>{_text(title)}</title>"
            f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>'
            f'<text x="8" y="20" font-size="14" font-weight="bold" fill="#222222">{_text(title)}</text>'
            f"{body}</svg>")
