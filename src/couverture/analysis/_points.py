"""Shared checks and analysis points for the analysis functions (private).

The checks of the layers and parameters (:func:`check_layer`,
:func:`align_crs`, :func:`numeric_column`) live in :mod:`couverture._validate`
and are re-exported here for the analysis modules; this module keeps the
computational helpers:

- :func:`analysis_points` gives the ``(n, 2)`` coordinates used for distances:
  the ``point`` column when present (mairie), else the geometry itself for
  points, else the representative point of the polygon;
- :func:`join_ids` turns (row, id) pairs into one ``"; "``-joined string per row.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> s = gpd.GeoDataFrame({"structure_id": ["a"]}, geometry=[Point(1, 2)], crs=2154)
>>> analysis_points(s).tolist()
[[1.0, 2.0]]
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import _list, align_crs, check_layer, ids_of, numeric_column
from ..errors import InputError, Probleme

logger = logging.getLogger(__name__)

__all__ = [
    "check_layer",
    "align_crs",
    "analysis_points",
    "numeric_column",
    "filter_types",
    "ids_of",
    "join_ids",
    "join_in_order",
    "valid_geometries",
]


def valid_geometries(geoms: np.ndarray, name: str) -> np.ndarray:
    """Repair invalid polygons with :func:`shapely.make_valid` (logged), keep the others.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> bool(shapely.is_valid(valid_geometries(np.array([bowtie]), "x"))[0])
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        logger.info("%s : %d géométrie(s) invalide(s) réparée(s) (make_valid)", name, int(bad.sum()))
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


def analysis_points(gdf: gpd.GeoDataFrame, name: str = "couche") -> np.ndarray:
    """Coordinates ``(n, 2)`` of each row's analysis point, in the layer's CRS.

    The ``point`` column (mairie, chef-lieu) when the layer has one, row by
    row where it is not missing or empty; otherwise the geometry itself when it
    is a point; otherwise the polygon's representative point (always inside it).

    Raises
    ------
    InputError
        When a row has neither a point nor a geometry.

    Examples
    --------
    >>> from shapely.geometry import box, Point
    >>> g = gpd.GeoDataFrame({"code_insee": ["a", "b"]},
    ...                      geometry=[box(0, 0, 2, 2), box(2, 0, 4, 2)], crs=2154)
    >>> g["point"] = gpd.GeoSeries([Point(0.5, 0.5), None], crs=2154)
    >>> analysis_points(g).tolist()
    [[0.5, 0.5], [3.0, 1.0]]
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if "point" in gdf.columns and gdf.geometry.name != "point":
        pts = gdf["point"]
        if isinstance(pts, gpd.GeoSeries) and pts.crs is not None and gdf.crs is not None and pts.crs != gdf.crs:
            pts = pts.to_crs(gdf.crs)
        pts = np.asarray(gpd.GeoSeries(pts).values, dtype=object)
        usable = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
        chosen = np.where(usable, pts, geoms)
    else:
        chosen = geoms
    missing = shapely.is_missing(chosen) | shapely.is_empty(chosen)
    if missing.any():
        ids = ids_of(gdf)[missing]
        raise InputError(
            Probleme(
                f"{int(missing.sum())} ligne(s) sans géométrie ni point d'analyse : {_list(ids)}",
                fichier=name,
                colonne="geometry",
            )
        )
    is_point = shapely.get_type_id(chosen) == 0
    if not is_point.all():
        chosen = chosen.copy()
        chosen[~is_point] = shapely.point_on_surface(chosen[~is_point])
    xy = shapely.get_coordinates(chosen)
    if len(xy) != len(gdf):  # pragma: no cover - defensive, points have one vertex
        raise InputError(Probleme("points d'analyse illisibles", fichier=name))
    return xy


def integer_if_whole(values: np.ndarray) -> np.ndarray:
    """int64 copy when every value is a whole number (exact sums), else the floats.

    Examples
    --------
    >>> integer_if_whole(np.array([1.0, 2.0])).dtype
    dtype('int64')
    >>> integer_if_whole(np.array([1.5])).dtype
    dtype('float64')
    """
    if len(values) == 0 or (np.all(np.mod(values, 1) == 0) and np.all(np.abs(values) < 2**53)):
        return values.astype(np.int64)
    return values


def filter_types(supply: gpd.GeoDataFrame, types: Any, name: str = "structures") -> gpd.GeoDataFrame:
    """Rows of ``supply`` whose ``type`` is in ``types`` (``"CS"``, ``"EVS"`` or a list).

    ``types=None`` keeps every row.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"type": ["CS", "EVS"]}, geometry=[Point(0, 0)] * 2, crs=2154)
    >>> len(filter_types(s, "EVS")), len(filter_types(s, ["CS", "EVS"]))
    (1, 2)
    """
    if types is None:
        return supply
    if "type" not in supply.columns:
        raise InputError(Probleme("filtre par type demandé mais la colonne est absente", fichier=name, colonne="type"))
    wanted = [types] if isinstance(types, str) else list(types)
    wanted = [str(t).strip().upper() for t in wanted]
    known = {"CS", "EVS"}
    unknown = [t for t in wanted if t not in known]
    present = set(supply["type"].astype(str).str.strip().str.upper())
    unknown = [t for t in unknown if t not in present]
    if unknown:
        raise InputError(
            Probleme(
                f"type de structure inconnu : {_list(unknown)} (attendu : CS, EVS)",
                fichier=name,
                colonne="type",
            )
        )
    keep = supply["type"].astype(str).str.strip().str.upper().isin(wanted).to_numpy()
    return supply.loc[keep]


def join_ids(rows: np.ndarray, ids: np.ndarray, n: int, sep: str = "; ") -> np.ndarray:
    """One string per row ``0..n-1``: the sorted unique ``ids`` paired with it, joined.

    Rows without any pair get ``""``. Vectorised: one sort, then a split of the
    sorted id array at row boundaries.

    Examples
    --------
    >>> join_ids(np.array([1, 0, 1, 1]), np.array(["b", "a", "a", "b"]), 3).tolist()
    ['a', 'a; b', '']
    """
    out = np.full(n, "", dtype=object)
    if len(rows) == 0:
        return out
    rows = np.asarray(rows, dtype=np.intp)
    ids = np.asarray(ids).astype(str)
    order = np.lexsort((ids, rows))
    rows, ids = rows[order], ids[order]
    keep = np.r_[True, (rows[1:] != rows[:-1]) | (ids[1:] != ids[:-1])]
    return join_in_order(rows[keep], ids[keep], n, sep)


def join_in_order(rows: np.ndarray, strings: np.ndarray, n: int, sep: str = "; ") -> np.ndarray:
    """One string per row ``0..n-1``: its ``strings`` joined in the given order.

    ``rows`` must be grouped (equal rows adjacent); rows without any string
    get ``""``. Vectorised with :func:`numpy.add.reduceat` on object arrays.

    Examples
    --------
    >>> join_in_order(np.array([0, 0, 2]), np.array(["b", "a", "c"]), 3).tolist()
    ['b; a', '', 'c']
    """
    out = np.full(n, "", dtype=object)
    if len(rows) == 0:
        return out
    rows = np.asarray(rows)
    strings = np.asarray(strings).astype(str).astype(object)
    start = np.r_[True, rows[1:] != rows[:-1]]
    strings[~start] = sep + strings[~start]  # element-wise str concatenation
    starts = np.flatnonzero(start)
    out[rows[starts]] = np.add.reduceat(strings, starts)
    return out


#: Label of the group of units whose level value is missing.
NON_RENSEIGNE = "(non renseigné)"
#: Label of the single group when no level is given.
ENSEMBLE = "Ensemble"


def group_codes(df: pd.DataFrame, by: Any, name: str, extra: pd.DataFrame | None = None) -> Any:
    """Group code of each row of ``df`` and the group labels (sorted).

    Parameters
    ----------
    df : DataFrame
        The units.
    by : None, str or Series
        ``None``: one group (``"Ensemble"``); a column name of ``df`` (or of
        ``extra``, a frame on the same index); or a Series on ``df``'s index
        (a user's mapping, such as territoires d'action sociale). Missing
        values form the group ``"(non renseigné)"`` so that no unit is lost.

    Returns
    -------
    codes : ndarray of intp
    labels : pandas.Index, named after the level

    Examples
    --------
    >>> codes, labels = group_codes(pd.DataFrame({"epci": ["b", "a", None]}), "epci", "communes")
    >>> codes.tolist(), labels.tolist()
    ([1, 0, 2], ['a', 'b', '(non renseigné)'])
    """
    if by is None:
        return np.zeros(len(df), dtype=np.intp), pd.Index([ENSEMBLE], name="niveau")
    if isinstance(by, str):
        if by in df.columns:
            values = df[by]
        elif extra is not None and by in extra.columns:
            values = extra[by].reindex(df.index)
        else:
            raise InputError(Probleme("colonne de niveau absente", fichier=name, colonne=by))
        level = by
    elif isinstance(by, pd.Series):
        values = by.reindex(df.index) if by.index.is_unique else None
        if values is None:
            raise InputError(Probleme("by : l'index de la série contient des doublons", fichier="by"))
        level = by.name if by.name is not None else "niveau"
    else:
        raise InputError(
            Probleme(
                f"by : un nom de colonne, une série ou None est attendu, reçu {type(by).__name__}",
                fichier="by",
            )
        )
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    labels = list(uniques)
    codes = np.asarray(codes, dtype=np.intp)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(NON_RENSEIGNE)
    return codes, pd.Index(labels, name=level, dtype=object)
