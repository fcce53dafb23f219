"""Coverage of the quartiers prioritaires (QPV): population in a ZVS, within reach, structures.

A unit (200 m cell or cell part, IRIS, commune) belongs to the QPV that
contains its analysis point (the ``point`` column, else its representative
point); a point on the boundary of two QPV goes to the first one in the
layer's order, so every inhabitant is counted in at most one QPV. On the
200 m grid this places each cell's inhabitants in the quartier where the
cell's centre lies; on communes it is far too coarse (a commune's whole
population would land in the QPV containing its mairie) — use the grid or
IRIS for QPV indicators.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> q = gpd.GeoDataFrame({"code_qp": ["QN01301M"]}, geometry=[box(0, 0, 10, 10)],
...                      crs=2154).set_index("code_qp", drop=False)
>>> u = gpd.GeoDataFrame({"population": [100, 30, 7]},
...     geometry=[Point(2, 2), Point(8, 8), Point(50, 50)], crs=2154)
>>> s = gpd.GeoDataFrame({"structure_id": ["CS1"]}, geometry=[Point(60, 50)], crs=2154)
>>> r = qpv_coverage(q, u, s, max_distance=70)
>>> r[["population", "population_a_portee", "n_structures", "sans_structure"]].values.tolist()
[[130, 30, 0, True]]
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ._points import (
    align_crs,
    analysis_points,
    check_layer,
    integer_if_whole,
    numeric_column,
)

logger = logging.getLogger(__name__)

__all__ = ["qpv_coverage", "qpv_of_points", "qpv_structure_share", "structures_in_qpv"]

#: Label of the units outside every QPV.
HORS_QPV = "(hors QPV)"


def qpv_of_points(qpv: gpd.GeoDataFrame, xy: np.ndarray) -> np.ndarray:
    """Row of the QPV containing each point (``-1`` outside every QPV).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> q = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=2154)
    >>> qpv_of_points(q, np.array([[0.5, 0.5], [1.0, 0.5], [5.0, 5.0]])).tolist()
    [0, 0, -1]
    """
    out = np.full(len(xy), -1, dtype=np.intp)
    if len(qpv) == 0 or len(xy) == 0:
        return out
    tree = shapely.STRtree(np.asarray(qpv.geometry.values))
    pi, qi = tree.query(shapely.points(xy), predicate="intersects")
    order = np.lexsort((qi, pi))
    pi, qi = pi[order], qi[order]
    if len(pi) == 0:
        return out
    first = np.r_[True, pi[1:] != pi[:-1]]
    out[pi[first]] = qi[first]
    return out


def structures_in_qpv(structures: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame) -> pd.Series:
    """Code of the QPV each structure is located in (``None`` outside), on structures' index.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> q = gpd.GeoDataFrame({"code_qp": ["QN01301M"]}, geometry=[box(0, 0, 1, 1)], crs=2154)
    >>> s = gpd.GeoDataFrame(geometry=[Point(0.5, 0.5), Point(3, 3)], crs=2154)
    >>> structures_in_qpv(s, q).tolist()
    ['QN01301M', None]
    """
    check_layer(structures, "structures")
    structures = align_crs(structures, qpv.crs, "structures")
    rows = qpv_of_points(qpv, analysis_points(structures, "structures"))
    codes = _codes(qpv)
    out = np.where(rows >= 0, codes[np.maximum(rows, 0)], None).astype(object)
    return pd.Series(out, index=structures.index.copy(), name="code_qp", dtype=object)


def _codes(qpv: pd.DataFrame) -> np.ndarray:
    if "code_qp" in qpv.columns:
        return qpv["code_qp"].astype(str).to_numpy(dtype=object)
    return qpv.index.astype(str).to_numpy(dtype=object)


def qpv_structure_share(structures: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame) -> pd.DataFrame:
    """Structures located in a QPV, by type and in all (as SENACS reports it).

    Returns
    -------
    pandas.DataFrame
        Index ``type`` (``CS``, ``EVS`` when structures have a ``type``, then
        ``Ensemble``); columns ``n_structures``, ``n_en_qpv``,
        ``part_en_qpv_pct`` (% of the structures, NaN without structure).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> q = gpd.GeoDataFrame({"code_qp": ["QN01301M"]}, geometry=[box(0, 0, 1, 1)], crs=2154)
    >>> s = gpd.GeoDataFrame({"type": ["CS", "EVS", "CS"]},
    ...     geometry=[Point(0.5, 0.5), Point(3, 3), Point(9, 9)], crs=2154)
    >>> qpv_structure_share(s, q)["n_en_qpv"].tolist()
    [1, 0, 1]
    """
    inside = structures_in_qpv(structures, qpv).notna().to_numpy()
    groups: list[tuple[str, np.ndarray]] = []
    if "type" in structures.columns:
        types = structures["type"].astype(str).str.strip().str.upper().to_numpy()
        groups += [(t, types == t) for t in ("CS", "EVS")]
    groups.append(("Ensemble", np.ones(len(structures), dtype=bool)))
    rows = []
    for label, mask in groups:
        n, k = int(mask.sum()), int((mask & inside).sum())
        rows.append((label, n, k, 100.0 * k / n if n else np.nan))
    out = pd.DataFrame(rows, columns=["type", "n_structures", "n_en_qpv", "part_en_qpv_pct"])
    out = out.set_index("type")
    out.attrs["unites"] = {"part_en_qpv_pct": "% des structures"}
    return out


def _zone_mask(units_xy: np.ndarray, zones: gpd.GeoDataFrame | None, crs) -> np.ndarray | None:
    """Units whose analysis point lies in at least one ZVS (None when no zones)."""
    if zones is None:
        return None
    zones = align_crs(zones, crs, "zones")
    tree = shapely.STRtree(np.asarray(zones.geometry.values))
    pi, _ = tree.query(shapely.points(units_xy), predicate="intersects")
    mask = np.zeros(len(units_xy), dtype=bool)
    mask[pi] = True
    return mask


def qpv_coverage(
    qpv: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    structures: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame | None = None,
    max_distance: float = 1000.0,
    distance: pd.Series | None = None,
    demand_col: str = "population",
) -> pd.DataFrame:
    """One row per QPV: its population, the part in a ZVS and within reach, its structures.

    Parameters
    ----------
    qpv : GeoDataFrame
        Quartiers (:func:`couverture.read_qpv`), polygons.
    units : GeoDataFrame
        Analysis units with a population (or need) column: 200 m cells, IRIS.
    structures : GeoDataFrame
        Structures (points).
    zones : GeoDataFrame, optional
        ZVS; without them ``population_zvs`` is NaN (n.d.).
    max_distance : float, default 1000
        Reach, in metres from the unit's point to the nearest structure (or in
        the unit of ``distance``).
    distance : Series, optional
        Distance or travel cost from each unit to its nearest structure, on
        units' index (e.g. :func:`nearest_distance` with a cost table);
        default: straight-line distance.
    demand_col : str
        Population-like column of units (``"population"``, ``"men_fmp"``...).

    Returns
    -------
    pandas.DataFrame
        Index ``code_qp`` (the layer's order), columns ``nom_qp`` (when
        known), ``population`` (of ``demand_col``), ``n_unites``,
        ``population_zvs`` (in a ZVS, by analysis point), ``part_zvs_pct``,
        ``population_a_portee`` (nearest structure within ``max_distance``),
        ``part_a_portee_pct``, ``n_structures`` (located inside the QPV),
        ``n_structures_a_portee`` (within ``max_distance`` of its boundary,
        inside included), ``sans_structure`` (none inside: the Cnaf
        indicator), ``sans_structure_a_portee`` (none inside nor within
        reach).
    """
    check_layer(qpv, "qpv")
    check_layer(units, "units")
    check_layer(structures, "structures")
    units = align_crs(units, qpv.crs, "units")
    structures = align_crs(structures, qpv.crs, "structures")
    k = len(qpv)
    u_xy = analysis_points(units, "units")
    pop = integer_if_whole(numeric_column(units, demand_col, "units"))
    where = qpv_of_points(qpv, u_xy)
    inq = where >= 0

    def sums(mask):
        out = np.zeros(k, dtype=pop.dtype)
        np.add.at(out, where[inq & mask], pop[inq & mask])
        return out

    s_xy = analysis_points(structures, "structures") if len(structures) else np.empty((0, 2))
    if distance is not None:
        d = pd.to_numeric(distance.reindex(units.index), errors="coerce").to_numpy(np.float64)
    elif len(s_xy):
        d, _ = cKDTree(s_xy).query(u_xy)
    else:
        d = np.full(len(units), np.inf)
    out = pd.DataFrame(index=pd.Index(_codes(qpv), name="code_qp"))
    if "nom_qp" in qpv.columns:
        out["nom_qp"] = qpv["nom_qp"].to_numpy(dtype=object)
    out["population"] = sums(np.ones(len(units), dtype=bool))
    out["n_unites"] = np.bincount(where[inq], minlength=k).astype(np.int64)
    total = out["population"].to_numpy(np.float64)

    def pct(v):
        return np.divide(100.0 * v, total, out=np.full(k, np.nan), where=total > 0)

    zmask = _zone_mask(u_xy, zones, qpv.crs)
    if zmask is None:
        out["population_zvs"] = np.nan
    else:
        out["population_zvs"] = sums(zmask)
    out["part_zvs_pct"] = pct(out["population_zvs"].to_numpy(np.float64))
    out["population_a_portee"] = sums(d <= max_distance)
    out["part_a_portee_pct"] = pct(out["population_a_portee"].to_numpy(np.float64))
    s_in = qpv_of_points(qpv, s_xy)
    out["n_structures"] = np.bincount(s_in[s_in >= 0], minlength=k).astype(np.int64)
    if len(s_xy):
        tree = shapely.STRtree(shapely.points(s_xy))
        qi, _ = tree.query(np.asarray(qpv.geometry.values), predicate="dwithin", distance=float(max_distance))
        out["n_structures_a_portee"] = np.bincount(qi, minlength=k).astype(np.int64)
    else:
        out["n_structures_a_portee"] = np.zeros(k, dtype=np.int64)
    out["sans_structure"] = out["n_structures"].to_numpy() == 0
    out["sans_structure_a_portee"] = out["n_structures_a_portee"].to_numpy() == 0
    out.attrs["unites"] = {
        "population": f"habitants ({demand_col})" if demand_col != "population" else "habitants",
        "part_zvs_pct": "% de la population du QPV",
        "part_a_portee_pct": "% de la population du QPV",
    }
    out.attrs["demande"] = demand_col
    out.attrs["max_distance"] = float(max_distance)
    out.attrs["hors_qpv"] = pop[~inq].sum().item() if len(pop) else 0
    return out
