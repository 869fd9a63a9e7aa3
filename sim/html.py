"""Self-contained HTML reports: one file with its styles and figures inline (SVG), links only
to the run's own files beside it, readable offline and printable.

Pages are Jinja2 templates under ``sim/templates/`` extending ``base.html``, with
autoescaping on: scenario titles, party names and DUIS reasons are text, never markup.
"""

from __future__ import annotations

from importlib.metadata import version

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure

from sim.plotting import figure_bytes

_ENV = Environment(loader=PackageLoader("sim", "templates"), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def inline_svg(figure: Figure, label: str) -> Markup:
    """``figure`` as an ``<svg>`` element to put in the page, with ``label`` for screen readers."""
    text = figure_bytes(figure, "svg").decode()
    element = text[text.index("<svg"):]
    return Markup(element.replace("<svg", f'<svg role="img" aria-label="{Markup.escape(label)}"', 1))


def render(template: str, **context: object) -> str:
    """The page ``template`` filled with ``context``."""
    return _ENV.get_template(template).render(version=version("hansim"), **context)
