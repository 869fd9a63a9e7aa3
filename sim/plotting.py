"""Figures as files: PNG or SVG bytes that are the same for the same figure, and the axis
formats a report needs (thousands separators, pounds sterling).

Every plot in hansim is built as a :class:`matplotlib.figure.Figure` (what the Python API
hands back) and turned into bytes here, so that the CLI, the HTML reports and the API
agree. Matplotlib stamps PNGs with its version and SVGs with a date and random ids; both
are switched off, so the same run gives the same bytes.

Matplotlib is imported when a figure is made, not with this module: the command line
reads :data:`FORMATS` for its options, and a refused input file must not wait seconds
for a plotting library it never uses.
"""

from __future__ import annotations

import io
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Plot file formats hansim writes on request (``--plot-format``).
FORMATS = ("png", "svg")
DPI = 110


def _matplotlib() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, on a server or in CI
    return matplotlib


def figure_bytes(figure: Figure, fmt: str = "png") -> bytes:
    """``figure`` as PNG or SVG bytes, deterministic (no timestamps, fixed SVG ids)."""
    if fmt not in FORMATS:
        raise ValueError(f"plot format {fmt!r} is not one of {', '.join(FORMATS)}")
    matplotlib = _matplotlib()
    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    with matplotlib.rc_context({"svg.hashsalt": "hansim", "svg.fonttype": "none"}):
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot's registry: nothing to close, nothing leaks in a notebook loop."""
    _matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def thousands(value: float, _pos: object = None) -> str:
    """``1,234,567``; small values keep one decimal (``0.5``)."""
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.1f}"


def pounds(value: float, _pos: object = None) -> str:
    """``£1.2m``, ``£350k``, ``£250``: sterling as a report writes it."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e9:
        return f"{sign}£{value / 1e9:,.3g}bn"
    if value >= 1e6:
        return f"{sign}£{value / 1e6:,.3g}m"
    if value >= 1e4:
        return f"{sign}£{value / 1e3:,.3g}k"
    return f"{sign}£{value:,.0f}"
