"""Validation shared by the loaders and the analysis functions (one place, as in osmnx).

Every check collects problems and raises one :class:`~couverture.errors.InputError`
whose French message names the parameter or file, what was expected and what was found.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import Point
>>> g = gpd.GeoDataFrame({"code_insee": ["13001"]}, geometry=[Point(0, 0)], crs=2154)
>>> require_columns(g, ["code_insee"], "communes")
>>> require_crs(g, "communes")
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import CouvertureWarning, InputError

log = logging.getLogger(__name__)


def require_columns(frame: pd.DataFrame, columns, name: str) -> None:
    """Raise InputError when ``frame`` lacks any of ``columns``.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "structures")
    Traceback (most recent call last):
    ...
    couverture.errors.InputError: structures : colonne(s) manquante(s) : b (colonnes présentes : a)
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns)) or "aucune"
        raise InputError(
            f"{name} : colonne(s) manquante(s) : {', '.join(missing)} (colonnes présentes : {present})"
        )


def require_crs(frame: gpd.GeoDataFrame, name: str) -> None:
    """Refuse a layer without CRS (DESIGN: a layer without CRS is refused)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{name} : une table géographique (GeoDataFrame) est attendue, reçu {type(frame).__name__}")
    if frame.crs is None:
        raise InputError(
            f"{name} : la couche n'a pas de système de coordonnées (CRS) ; "
            "indiquez-le (par exemple gdf.set_crs(2154) pour du Lambert-93)"
        )


def to_crs(frame: gpd.GeoDataFrame, crs, name: str) -> gpd.GeoDataFrame:
    """Reproject ``frame`` (and its ``point`` column) to ``crs`` with a logged note."""
    require_crs(frame, name)
    if frame.crs == crs or (crs is not None and frame.crs.equals(crs)):
        return frame
    log.info("%s : reprojection de %s vers %s", name, frame.crs.to_string(), crs)
    out = frame.to_crs(crs)
    if "point" in out.columns and isinstance(out["point"], gpd.GeoSeries):
        out["point"] = out["point"].to_crs(crs)
    return out


def require_unique(frame: pd.DataFrame, column: str, name: str, lines=None) -> None:
    """Raise InputError listing every duplicated identifier with its lines."""
    dup = frame[column].duplicated(keep=False) & frame[column].notna()
    if dup.any():
        from .errors import Probleme

        rows = np.flatnonzero(dup.to_numpy())
        probs = [
            Probleme(
                f"identifiant en double : « {frame[column].iloc[i]} »",
                fichier=name,
                ligne=None if lines is None else int(lines[i]),
                colonne=column,
            )
            for i in rows
        ]
        raise InputError(probs)


def repair_geometries(frame: gpd.GeoDataFrame, name: str) -> tuple[gpd.GeoDataFrame, int]:
    """Repair invalid geometries with ``shapely.make_valid`` and count them.

    Keeps only the polygonal part of the repaired geometry. Returns the frame
    (a copy when something changed) and the number of repaired geometries.

    Examples
    --------
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> g = gpd.GeoDataFrame(geometry=[bowtie], crs=2154)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fixed, n = repair_geometries(g, "test")
    >>> n, bool(fixed.geometry.is_valid.all()), round(float(fixed.area.sum()), 2)
    (1, True, 0.5)
    """
    geoms = frame.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    n = int(invalid.sum())
    if not n:
        return frame, 0
    fixed = geoms.copy()
    repaired = shapely.make_valid(geoms[invalid])
    # keep polygonal parts only (make_valid may return collections with lines)
    parts, index = shapely.get_parts(repaired, return_index=True)
    poly = np.isin(shapely.get_type_id(parts), [3, 6])
    merged = np.array(
        [None] * len(repaired), dtype=object
    )
    if poly.any():
        keep_idx = index[poly]
        # one multipolygon per repaired geometry that kept a polygonal part
        groups, dense = np.unique(keep_idx, return_inverse=True)
        merged[groups] = shapely.multipolygons(parts[poly], indices=dense)
    fixed[invalid] = merged
    out = frame.copy()
    out[frame.geometry.name] = gpd.GeoSeries(fixed, index=frame.index, crs=frame.crs)
    warnings.warn(
        f"{name} : {n} géométrie(s) invalide(s) réparée(s) (shapely.make_valid)",
        CouvertureWarning,
        stacklevel=3,
    )
    return out, n


#: Below this many metres a distance parameter is probably kilometres typed for metres.
SHORT_DISTANCE_M = 100.0
#: ... when the layer spans at least this many metres (a toy example of a few metres is left alone).
_WIDE_EXTENT_M = 10_000.0


def warn_short_distance(value: float, name: str, xy: np.ndarray | None = None) -> bool:
    """Warn when a distance parameter (metres) is under 100 m on a territory kilometres wide.

    Parameters
    ----------
    value : float
        The distance in metres (0 and infinity are left alone).
    name : str
        The parameter as the caller wrote it (``radius``, ``max_distance``).
    xy : ndarray, optional
        (n, 2) points of the layer the distance applies to; without them the
        warning is given for any value under 100 m.

    Returns
    -------
    bool
        True when a warning was given.

    Examples
    --------
    >>> import numpy as np
    >>> warn_short_distance(5, "radius", np.array([[0.0, 0.0], [9.0, 9.0]]))  # a toy of 9 m: no warning
    False
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_short_distance(5, "radius", np.array([[0.0, 0.0], [50000.0, 0.0]]))
    True
    >>> "radius = 5" in str(w[0].message)
    True
    """
    v = float(value)
    if not (0 < v < SHORT_DISTANCE_M):
        return False
    if xy is not None and len(xy):
        span = float(np.max(np.ptp(np.asarray(xy, dtype=float), axis=0)))
        if span < _WIDE_EXTENT_M:
            return False
    text = f"{v:g}".replace(".", ",")
    warnings.warn(
        f"{name} = {text} : moins de {SHORT_DISTANCE_M:g} m ; les distances sont en mètres "
        f"(5 km s'écrivent 5000) : vérifiez {name}",
        CouvertureWarning,
        stacklevel=3,
    )
    return True


#: Structures farther than this from the communes' bounding box are probably misplaced.
FAR_OUTSIDE_M = 20_000.0


def warn_far_structures(structures: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, limit: float = FAR_OUTSIDE_M) -> int:
    """Warn about structures more than ``limit`` metres outside the communes' bounding box.

    Both layers in the same metric CRS. Returns the number of such structures.

    Examples
    --------
    >>> from shapely import Point, box
    >>> c = gpd.GeoDataFrame({"code_insee": ["13001"]}, geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> s = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[Point(500, 500)], crs=2154)
    >>> warn_far_structures(s, c)
    0
    """
    if not len(structures) or not len(communes):
        return 0
    frame = shapely.box(*communes.total_bounds)
    dist = shapely.distance(np.asarray(structures.geometry.array), frame)
    far = np.flatnonzero(np.nan_to_num(dist, nan=0.0) > limit)
    if len(far):
        ids = structures["structure_id"].astype(str).to_numpy()[far] if "structure_id" in structures else far.astype(str)
        shown = ", ".join(ids[:5]) + ("…" if len(ids) > 5 else "")
        warnings.warn(
            f"structures : {len(far)} structure(s) à plus de {limit / 1000:g} km du territoire ({shown}) ; "
            "vérifiez leurs coordonnées (longitude et latitude inversées, autre projection, autre département)",
            CouvertureWarning,
            stacklevel=3,
        )
    return int(len(far))
