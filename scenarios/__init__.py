"""The bundled scenario files (YAML data, no code).

A package only so that the files travel inside the wheel and are found through
:mod:`importlib.resources` wherever hansim is installed, never through the source tree.
"""

from importlib import resources
from pathlib import Path

FOLDER = Path(str(resources.files(__name__)))
