"""PNG charts of progress against target (matplotlib, no display needed)."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from reporting.indicators import IndicatorResult
from reporting.numbers import format_number
from reporting.progress import Tracked, figure, when_time

GREEN, RED, BLUE, GREY = "#4c9a2a", "#c0392b", "#2e86c1", "#7f8c8d"


def _short(name: str) -> str:
    return name.removeprefix("Xã ").removeprefix("Phường ")


def by_commune(result: IndicatorResult, *, path_now: float | None = None) -> bytes:
    """Horizontal bars: EVERY commune with a value, highest on top (the chart grows with the
    province), the ones below the path (``path_now``) in red, the path and the target as lines;
    communes without a value are counted in the title (missing is not zero)."""
    ratio = result.definition.is_ratio
    rows = sorted(((_short(c.name), v) for c in result.by_commune if (v := c.value(ratio)) is not None),
                  key=lambda r: r[1])
    missing = len(result.by_commune) - len(rows)
    height = max(2.8, 0.2 * len(rows) + 1.8)
    fig, ax = plt.subplots(figsize=(7, height), dpi=100)
    tolerance = 1.0 if result.definition.unit == "%" else 0.01 * abs(result.target or 0.0)
    if rows:
        names, values = zip(*rows, strict=True)
        colours = [RED if path_now is not None and v < path_now - tolerance else GREEN for v in values]
        ax.barh(range(len(rows)), values, color=colours, height=0.75)
        for i, v in enumerate(values):  # the figure at the end of each bar (a real 0 reads «0»)
            ax.text(v, i, f" {_vn(v)}", va="center", fontsize=6 if len(rows) > 30 else 8)
        ax.set_yticks(range(len(rows)), [f"{n} ▼" if c == RED else n for n, c in zip(names, colours, strict=True)],
                      fontsize=7 if len(rows) > 30 else 9)
        for tick, colour in zip(ax.get_yticklabels(), colours, strict=True):
            tick.set_color(colour if colour == RED else "black")
        ax.set_ylim(-0.6, len(rows) - 0.4)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "Chưa có xã nào có số liệu", ha="center", va="center", transform=ax.transAxes)
    if path_now is not None:
        ax.axvline(path_now, color=BLUE, linestyle=":",
                   label=f"Lộ trình kỳ này {figure(path_now, result.definition.unit)}")
    if result.target is not None:
        ax.axvline(result.target, color=RED, linestyle="--",
                   label=f"Mục tiêu {figure(result.target, result.definition.unit)}")
    if path_now is not None or result.target is not None:
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)  # the lowest bars are the shortest
    ax.set_xlabel(result.definition.unit)
    ax.xaxis.set_ticks_position("both")
    ax.tick_params(axis="x", labeltop=True)
    subtitle = f"{len(rows)}/{result.communes_total} xã có số liệu"
    if missing:
        subtitle += f", {missing} xã chưa có"
    if path_now is not None:
        below = sum(1 for _, v in rows if v < path_now - tolerance)
        subtitle += f"; {below} xã dưới lộ trình (▼, màu đỏ)"
    ax.set_title(f"{result.definition.title}\n{subtitle}", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _vn(value: float) -> str:
    return format_number(round(value, 1))


def on_track(title: str, unit: str, points: list[tuple[float, str, float]],
             path: list[tuple[float, float]], target: float | None, target_year: int | None) -> bytes:
    """The province value over time (``points``: time in years, label, value), the path to the
    target as a dashed line through its knots, and the target year's target as a red mark."""
    fig, ax = plt.subplots(figsize=(7, 3.8), dpi=100)
    if path:
        ax.plot([t for t, _ in path], [v for _, v in path], color=GREY, linestyle="--", label="Lộ trình")
    if points:
        ax.plot([t for t, _, _ in points], [v for _, _, v in points], marker="o", color=BLUE, label="Thực hiện")
        for t, _, v in points:
            ax.annotate(_vn(v), (t, v), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    else:
        ax.text(0.5, 0.5, "Chưa có số liệu", ha="center", va="center", transform=ax.transAxes)
    if target is not None and target_year is not None:
        ax.plot([target_year], [target], marker="*", markersize=14, color=RED, linestyle="none",
                label=f"Mục tiêu {figure(target, unit)} năm {target_year}")
    times = [t for t, _, _ in points] + [t for t, _ in path] + ([target_year] if target_year else [])
    if times:
        first, last = math.floor(min(times)), math.ceil(max(times))
        ax.set_xticks(range(first, last + 1), [str(y) for y in range(first, last + 1)])
    ax.set_ylabel(unit)
    if unit == "%":
        ax.set_ylim(0, max([105.0] + [v * 1.1 for _, _, v in points]))
    else:
        ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _png(fig)


def over_periods(title: str, unit: str, points: list[tuple[str, float | None]], target: float | None) -> bytes:
    """The province value period by period, with the target."""
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    labels = [p for p, _ in points]
    values = [v for _, v in points]
    ax.plot(labels, [v if v is not None else float("nan") for v in values], marker="o", color="#2e86c1")
    for label, value in points:
        if value is not None:
            ax.annotate(_vn(value), (label, value), textcoords="offset points", xytext=(0, 6), ha="center")
    if target is not None:
        ax.axhline(target, color="#c0392b", linestyle="--", label=f"Mục tiêu {figure(target, unit)}")
        ax.legend(loc="upper left")
    ax.set_ylabel(unit)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _png(fig: object) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return buffer.getvalue()


def progress(tracked: Tracked) -> bytes:
    """The line chart of one indicator: its values per year (and half-year), the path, the target."""
    a = tracked.assessment
    points = [(when_time(p.period), p.period.name, p.value) for p in tracked.points if p.value is not None]
    path = list(a.path.knots) if a.path else []
    target_year = a.target_year if a.status != "no_target" else None
    headline = a.summary or a.gap_text
    title = f"{a.title}\n{headline[0].upper()}{headline[1:]}"
    return on_track(title, a.unit, points, path, a.target if target_year else None, target_year)
