"""couverture.atlas: the HTML atlas of a territory, a static site that works offline.

:func:`build_atlas` (also ``couverture.build_atlas`` and ``couverture atlas``
on the command line) writes the pages, the shared data files, the printable
maps and the downloads; see :mod:`couverture.atlas.build`.
"""

from .build import build_atlas

__all__ = ["build_atlas"]
