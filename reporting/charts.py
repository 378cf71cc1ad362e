"""PNG charts of progress against target (matplotlib, no display needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from reporting.indicators import IndicatorResult


def by_commune(result: IndicatorResult, *, limit: int = 25) -> bytes:
    """Horizontal bars: each commune's value, the target as a line; missing communes left out."""
    ratio = result.definition.is_ratio
    rows = sorted(((c.name.removeprefix("Xã ").removeprefix("Phường "), c.value(ratio))
                   for c in result.by_commune if c.value(ratio) is not None), key=lambda r: r[1] or 0)[-limit:]
    height = max(2.5, 0.3 * len(rows) + 1.5)
    fig, ax = plt.subplots(figsize=(7, height), dpi=100)
    if rows:
        names, values = zip(*rows, strict=True)
        ax.barh(names, values, color="#4c9a2a")
    else:
        ax.text(0.5, 0.5, "Chưa có xã nào báo cáo", ha="center", va="center", transform=ax.transAxes)
    if result.target is not None:
        ax.axvline(result.target, color="#c0392b", linestyle="--", label=f"Mục tiêu {result.target:g}")
        ax.legend(loc="lower right")
    ax.set_xlabel(result.definition.unit)
    ax.set_title(f"{result.definition.title}\n{result.communes_reporting}/{result.communes_total} xã có báo cáo",
                 fontsize=10)
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
            ax.annotate(f"{value:.1f}", (label, value), textcoords="offset points", xytext=(0, 6), ha="center")
    if target is not None:
        ax.axhline(target, color="#c0392b", linestyle="--", label=f"Mục tiêu {target:g}")
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
