"""Where the data shipped with couverture lives (wheel or source checkout)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path


def user_cache_dir(*parts: str, environ: Mapping[str, str] | None = None) -> Path:
    """The user's cache folder of couverture: ``$XDG_CACHE_HOME/couverture/...`` (else ``~/.cache``).

    Examples
    --------
    >>> user_cache_dir("geocodage", environ={"XDG_CACHE_HOME": "/tmp/c"}).as_posix()
    '/tmp/c/couverture/geocodage'
    """
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "couverture", *parts)


def data_path(*parts: str) -> Path:
    """Path of a bundled data file: ``data_path("communes", "communes-13.geojson")``.

    In an installed wheel the data sit in ``couverture/_data``; in a source
    checkout (editable install) they are read from the repository's ``data/``.

    Examples
    --------
    >>> data_path("communes").name
    'communes'
    """
    packaged = Path(str(resources.files("couverture"))) / "_data"
    if packaged.is_dir():
        return packaged.joinpath(*parts)
    return Path(__file__).resolve().parents[2].joinpath("data", *parts)
