"""Coverage of the units by the zones de vie sociale (ZVS), and the zones blanches.

A zone *covers* a unit (commune, IRIS...) in one of three ways, chosen with
``method=``:

- ``"surface"`` (default): the part of the unit's area inside the zone is at
  least ``min_share`` (default 0.5, i.e. half of the commune). The half-area
  rule does not depend on the polygons tiling perfectly: a zone dissolved from
  communes that leaves slivers or overlaps of a few metres with its neighbours
  still covers each of its communes (share close to 1) and not its neighbours
  (share close to 0);
- ``"point"``: the zone contains the unit's analysis point (``point`` column,
  mairie, else the representative point); a point on the zone's boundary counts;
- ``"liste"``: the unit's code is in the zone's ``communes`` list (exact
  membership, when the zones were built from a commune table).

The unit–zone pairs come from one STRtree query and one vectorised
intersection: several zones can overlap, and a zone can cover nothing;
nothing is dissolved.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> communes = gpd.GeoDataFrame(
...     {"code_insee": ["01001", "01002", "01003"], "population": [100, 50, 10]},
...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=2154)
>>> zones = gpd.GeoDataFrame({"structure_id": ["CS1", "EVS1"]},
...     geometry=[box(0, 0, 1.6, 1), box(0.5, 0, 1.2, 1)], crs=2154)
>>> cov = zone_coverage(communes, zones)
>>> cov[["n_zones", "couvert", "structures"]].values.tolist()
[[2, True, 'CS1; EVS1'], [1, True, 'CS1'], [0, False, '']]
>>> coverage_summary(communes, cov)[["population", "population_couverte",
...                                  "population_non_couverte"]].values.tolist()
[[160, 150, 10]]
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..codes import normalize_insee
from ..errors import InputError, Probleme
from ._points import (
    align_crs,
    analysis_points,
    check_layer,
    filter_types,
    group_codes,
    ids_of,
    integer_if_whole,
    join_in_order,
    numeric_column,
    valid_geometries,
)

logger = logging.getLogger(__name__)

__all__ = ["zone_coverage", "coverage_summary", "zones_blanches"]

_METHODS = {"surface": "surface", "point": "point", "liste": "liste", "communes": "liste"}


def _unit_keys(communes: pd.DataFrame) -> pd.Index:
    """Codes by which zones' ``communes`` lists refer to units."""
    if "code_insee" in communes.columns:
        return pd.Index(normalize_insee(communes["code_insee"].reset_index(drop=True)).astype(str))
    return pd.Index(communes.index.astype(str))


def _list_pairs(communes: pd.DataFrame, zones: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(unit row, zone row) from the zones' ``communes`` lists (unknown codes logged)."""
    lists = zones["communes"].reset_index(drop=True)
    exploded = lists.explode().dropna()
    if len(exploded) == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    zi = exploded.index.to_numpy(dtype=np.intp)
    codes = normalize_insee(exploded.astype(str).reset_index(drop=True)).astype(str)
    keys = _unit_keys(communes)
    if not keys.is_unique:
        raise InputError(
            Probleme(
                "codes des unités en double : les listes de communes sont ambiguës",
                fichier="communes",
                colonne="code_insee",
            )
        )
    ui = keys.get_indexer(codes.to_numpy(dtype=object))
    unknown = ui < 0
    if unknown.any():
        logger.info(
            "zones : %d code(s) de commune des listes absents des unités (ignorés)",
            int(unknown.sum()),
        )
    pairs = np.unique(np.c_[ui[~unknown], zi[~unknown]], axis=0)
    return pairs[:, 0].astype(np.intp), pairs[:, 1].astype(np.intp)


def _join_zone_ids(ui: np.ndarray, zi: np.ndarray, zone_ids: np.ndarray, n: int) -> np.ndarray:
    """``"; "``-joined sorted unique structure ids per unit (as :func:`join_ids`).

    The ids are ranked once per zone (not once per pair), then the pairs are
    sorted on integers.
    """
    if len(ui) == 0:
        return np.full(n, "", dtype=object)
    labels, rank = np.unique(np.asarray(zone_ids).astype(str), return_inverse=True)
    keys = rank.ravel()[zi]
    order = np.lexsort((keys, ui))
    rows, keys = ui[order], keys[order]
    keep = np.r_[True, (rows[1:] != rows[:-1]) | (keys[1:] != keys[:-1])]
    return join_in_order(rows[keep], labels[keys[keep]], n)


def _point_geometries(units: gpd.GeoDataFrame) -> np.ndarray:
    """Analysis points as shapely points, reusing the layer's own point objects when it has them."""
    if "point" in units.columns and units.geometry.name != "point":
        pts = units["point"]
        same_crs = not isinstance(pts, gpd.GeoSeries) or pts.crs is None or pts.crs == units.crs
        arr = np.asarray(gpd.GeoSeries(pts).values, dtype=object) if same_crs else None
        if arr is not None and (shapely.get_type_id(arr) == 0).all() and not shapely.is_empty(arr).any():
            return arr
    geoms = np.asarray(units.geometry.values, dtype=object)
    if "point" not in units.columns and (shapely.get_type_id(geoms) == 0).all() and not shapely.is_empty(geoms).any():
        return geoms
    return shapely.points(analysis_points(units, "communes"))


def _points_in_zones(units: gpd.GeoDataFrame, zone_geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit row, zone row) where the zone contains the unit's analysis point (boundary included).

    Candidates by bounding box from one STRtree on the zones (no predicate),
    then the exact test on the prepared zones with
    :func:`shapely.intersects_xy` (no predicate evaluated point by point on
    unprepared polygons, no point geometry rebuilt when the layer has them).
    """
    pts = _point_geometries(units)
    if len(pts) == 0 or len(zone_geoms) == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    xy = shapely.get_coordinates(pts)
    pi, zi = shapely.STRtree(zone_geoms).query(pts)
    shapely.prepare(zone_geoms)
    ok = shapely.intersects_xy(zone_geoms[zi], xy[pi, 0], xy[pi, 1])
    return pi[ok], zi[ok]


def zone_coverage(
    communes: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    min_share: float = 0.5,
    method: Literal["surface", "point", "liste"] = "surface",
    details: bool = True,
) -> pd.DataFrame:
    """How many zones (ZVS) cover each unit, and which structures they belong to.

    Parameters
    ----------
    communes : GeoDataFrame
        Units (polygons) in a metric CRS, with an optional ``point`` column.
    zones : GeoDataFrame
        Zones de vie sociale: ``structure_id`` and a polygon each (several may
        overlap, some may cover nothing); optional ``communes`` column holding
        the list of unit codes each zone was built from.
    min_share : float, default 0.5
        A zone covers a unit by area when ``intersection area / unit area >=
        min_share`` (0 < min_share <= 1). 0.5: the zone holds at least half of
        the unit.
    method : {"surface", "point", "liste"}
        Rule deciding ``n_zones``, ``couvert`` and ``structures`` (see the
        module docstring). ``"liste"`` (alias ``"communes"``) needs the zones'
        ``communes`` column.
    details : bool, default True
        Also report the counts by the other rules (``n_zones_surface``,
        ``part_max``, ``n_zones_point``, ``n_zones_liste``). ``False`` computes
        only the chosen rule: with ``method="point"`` this skips the
        intersections, by far the slowest part.

    Returns
    -------
    pandas.DataFrame
        On communes' index:

        - ``n_zones`` (int): zones covering the unit by the chosen method;
        - ``couvert`` (bool): ``n_zones >= 1``;
        - ``structures`` (str): ``"; "``-joined sorted ``structure_id`` of
          those zones (``""`` when none);
        - ``n_zones_surface`` (int): zones holding at least ``min_share`` of
          the unit's area;
        - ``part_max`` (float, 0–1): largest share of the unit's area inside a
          single zone;
        - ``n_zones_point`` (int): zones containing the analysis point;
        - ``n_zones_liste`` (int): zones listing the unit (only when the zones
          have a ``communes`` column).

        With ``details=False`` only the chosen rule's count column follows
        the first three.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> c = gpd.GeoDataFrame({"population": [10, 20]},
    ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=2154)
    >>> z = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[box(0, 0, 1.25, 1)], crs=2154)
    >>> cov = zone_coverage(c, z)
    >>> cov["n_zones"].tolist(), cov["part_max"].tolist(), cov["n_zones_point"].tolist()
    ([1, 0], [1.0, 0.25], [1, 0])
    """
    check_layer(communes, "communes")
    check_layer(zones, "zones")
    key = _METHODS.get(str(method).strip().lower()) if isinstance(method, str) else None
    if key is None:
        raise InputError(
            Probleme(
                f"méthode inconnue : « {method} » (attendu : surface, point ou liste)",
                fichier="method",
            )
        )
    try:
        min_share = float(min_share)
    except (TypeError, ValueError):
        min_share = float("nan")
    if not (0 < min_share <= 1):
        raise InputError(
            Probleme(
                f"min_share doit être compris entre 0 (exclu) et 1, reçu {min_share!r}",
                fichier="min_share",
            )
        )
    if key == "liste" and "communes" not in zones.columns:
        raise InputError(
            Probleme(
                "la méthode « liste » demande la liste des communes de chaque zone",
                fichier="zones",
                colonne="communes",
            )
        )
    zones = align_crs(zones, communes.crs, "zones")
    n = len(communes)
    zone_geoms = valid_geometries(np.asarray(zones.geometry.values), "zones")
    zone_ids = ids_of(zones)

    chosen: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    out = pd.DataFrame(index=communes.index.copy())
    area_cols: dict[str, np.ndarray] = {}
    if key == "surface" or details:
        # by area share: STRtree pairs, one vectorised intersection (units
        # lying wholly inside a zone are not intersected: their share is 1)
        unit_geoms = valid_geometries(np.asarray(communes.geometry.values), "communes")
        ui, zi = shapely.STRtree(zone_geoms).query(unit_geoms, predicate="intersects")
        unit_area = shapely.area(unit_geoms)
        shapely.prepare(zone_geoms)  # each zone prepared once for all its units
        inside = shapely.covers(zone_geoms[zi], unit_geoms[ui])
        inter = unit_area[ui].copy()
        part = ~inside
        inter[part] = shapely.area(shapely.intersection(unit_geoms[ui[part]], zone_geoms[zi[part]]))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(unit_area[ui] > 0, inter / unit_area[ui], 0.0)
        share = np.minimum(share, 1.0)
        part_max = np.zeros(n)
        np.maximum.at(part_max, ui, share)
        by_area = share >= min_share
        chosen["surface"] = (ui[by_area], zi[by_area])
        area_cols["part_max"] = part_max
    if key == "point" or details:
        # by analysis point (a point on a zone's boundary is inside)
        chosen["point"] = _points_in_zones(communes, zone_geoms)
    if "communes" in zones.columns and (key == "liste" or details):
        chosen["liste"] = _list_pairs(communes, zones)

    c_ui, c_zi = chosen[key]
    out["n_zones"] = np.bincount(c_ui, minlength=n).astype(np.int64)
    out["couvert"] = out["n_zones"].to_numpy() > 0
    structures = _join_zone_ids(c_ui, c_zi, zone_ids, n)
    out["structures"] = pd.Series(structures, index=out.index, dtype=object)
    if "surface" in chosen:
        out["n_zones_surface"] = np.bincount(chosen["surface"][0], minlength=n).astype(np.int64)
        out["part_max"] = area_cols["part_max"]
    if "point" in chosen:
        out["n_zones_point"] = np.bincount(chosen["point"][0], minlength=n).astype(np.int64)
    if "liste" in chosen:
        out["n_zones_liste"] = np.bincount(chosen["liste"][0], minlength=n).astype(np.int64)
    out.attrs["methode"] = key
    out.attrs["min_share"] = min_share
    out.attrs["unites"] = {
        "part_max": "part de la surface de l'unité (0 à 1)",
        "n_zones": "nombre de zones de vie sociale",
    }
    return out


def _coverage_for(communes: Any, coverage: Any) -> pd.DataFrame:
    """``coverage`` aligned on communes' index (computed when zones are given)."""
    if isinstance(coverage, gpd.GeoDataFrame) and "n_zones" not in coverage.columns:
        return zone_coverage(communes, coverage)
    if not isinstance(coverage, pd.DataFrame) or "n_zones" not in coverage.columns:
        raise InputError(
            Probleme(
                "le résultat de zone_coverage (colonnes n_zones, couvert) ou les zones sont attendus",
                fichier="coverage",
            )
        )
    if not coverage.index.is_unique or not communes.index.isin(coverage.index).all():
        raise InputError(
            Probleme(
                "coverage ne porte pas sur les mêmes unités que communes (index différents) : "
                "calculez-le avec zone_coverage(communes, zones)",
                fichier="coverage",
            )
        )
    return coverage.reindex(communes.index)


def coverage_summary(
    communes: gpd.GeoDataFrame | pd.DataFrame,
    coverage: pd.DataFrame,
    *,
    by: str | pd.Series | None = None,
    demand_col: str = "population",
) -> pd.DataFrame:
    """Population covered once, several times (overlaps) and not at all (zones blanches).

    Parameters
    ----------
    communes : DataFrame
        Units with a population column (and the ``by`` column if any).
    coverage : DataFrame
        Result of :func:`zone_coverage` on the same units (or the zones
        GeoDataFrame, then covered with the default rule).
    by : str or Series, optional
        Level to break the totals down by (``"epci"``, a column of communes, or
        a Series on communes' index); ``None``: one row ``"Ensemble"``. Units
        with a missing level form a group ``"(non renseigné)"``.
    demand_col : str
        Population column.

    Returns
    -------
    pandas.DataFrame
        One row per level value, columns (inhabitants unless stated):
        ``population``, ``population_couverte``,
        ``population_couverte_une_fois``, ``population_couverte_plusieurs_fois``
        (overlaps), ``population_non_couverte`` (zones blanches),
        ``taux_couverture_pct`` (%), ``n_unites``, ``n_unites_non_couvertes``.
        ``population_couverte + population_non_couverte == population``
        exactly at every level (whole-number populations are summed as
        integers).

    Examples
    --------
    >>> c = pd.DataFrame({"population": [100, 50, 10], "epci": ["e1", "e1", "e2"]})
    >>> cov = pd.DataFrame({"n_zones": [2, 1, 0], "couvert": [True, True, False]})
    >>> coverage_summary(c, cov, by="epci")[["population_couverte_plusieurs_fois",
    ...                                      "population_non_couverte"]].values.tolist()
    [[100, 0], [0, 10]]
    """
    if not isinstance(communes, pd.DataFrame):
        raise InputError(
            Probleme(f"une table des unités est attendue, reçu {type(communes).__name__}", fichier="communes")
        )
    if not communes.index.is_unique:
        raise InputError(Probleme("l'index contient des doublons", fichier="communes"))
    cov = _coverage_for(communes, coverage)
    pop = integer_if_whole(numeric_column(communes, demand_col, "communes"))
    codes, labels = group_codes(communes, by, "communes")
    k = len(labels)
    nz = cov["n_zones"].to_numpy()
    nz = np.where(pd.isna(nz), 0, nz).astype(np.int64)

    def total(mask):
        sums = np.zeros(k, dtype=pop.dtype)
        np.add.at(sums, codes[mask], pop[mask])
        return sums

    out = pd.DataFrame(index=labels)
    out["population"] = total(np.ones(len(pop), dtype=bool))
    out["population_couverte"] = total(nz >= 1)
    out["population_couverte_une_fois"] = total(nz == 1)
    out["population_couverte_plusieurs_fois"] = total(nz >= 2)
    out["population_non_couverte"] = total(nz == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["taux_couverture_pct"] = np.where(
            out["population"] > 0, 100.0 * out["population_couverte"] / out["population"], np.nan
        )
    out["n_unites"] = np.bincount(codes, minlength=k).astype(np.int64)
    out["n_unites_non_couvertes"] = np.bincount(codes[nz == 0], minlength=k).astype(np.int64)
    out.attrs["unites"] = {c: "habitants" for c in out.columns if c.startswith("population")}
    out.attrs["unites"]["taux_couverture_pct"] = "% de la population"
    return out


def zones_blanches(
    communes: gpd.GeoDataFrame,
    coverage: pd.DataFrame,
    structures: gpd.GeoDataFrame | None,
    *,
    tolerance: float = 50.0,
    demand_col: str = "population",
    types: str | list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Contiguous uncovered units merged into zones blanches, ranked by population.

    Two uncovered units are contiguous when their polygons are within
    ``tolerance`` metres of each other (``dwithin``): real commune polygons
    leave small gaps and overlaps, so touching alone would split zones that
    are contiguous on the ground.

    Parameters
    ----------
    communes : GeoDataFrame
        Units (polygons) with ``code_insee``, ``nom`` (optional) and a
        population column.
    coverage : DataFrame
        Result of :func:`zone_coverage` on the same units (its ``couvert``
        column), or the zones GeoDataFrame.
    structures : GeoDataFrame or None
        Structures (points) for the distance to the nearest one.
    tolerance : float, default 50
        Adjacency tolerance in metres.
    demand_col : str
        Population column.
    types : str or list of str, optional
        Only these structure types count for the nearest distance.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per zone blanche, index ``rang`` from 1 (largest population
        first; ties by area then by first code), columns ``population``
        (inhabitants), ``surface_km2``, ``n_communes``, ``codes_insee`` and
        ``noms`` (``"; "``-joined, by code), ``distance_structure_m``
        (metres from the zone's polygon to the nearest structure, 0 when one
        lies inside, NaN when there is none), ``structure_proche`` and the
        merged ``geometry``.

    Examples
    --------
    >>> from shapely.geometry import box, Point
    >>> c = gpd.GeoDataFrame({"code_insee": ["01001", "01002", "01003"],
    ...                       "nom": ["A", "B", "C"], "population": [5, 7, 100]},
    ...     geometry=[box(0, 0, 1000, 1000), box(1010, 0, 2000, 1000),
    ...               box(5000, 0, 6000, 1000)], crs=2154)
    >>> cov = pd.DataFrame({"n_zones": [0, 0, 0], "couvert": [False] * 3})
    >>> s = gpd.GeoDataFrame({"structure_id": ["S"]}, geometry=[Point(3000, 500)], crs=2154)
    >>> zb = zones_blanches(c, cov, s)
    >>> zb[["population", "codes_insee", "distance_structure_m"]].values.tolist()
    [[100, '01003', 2000.0], [12, '01001; 01002', 1000.0]]
    """
    check_layer(communes, "communes")
    try:
        tolerance = float(tolerance)
    except (TypeError, ValueError):
        tolerance = float("nan")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise InputError(
            Probleme(f"tolérance positive ou nulle attendue (mètres), reçu {tolerance!r}", fichier="tolerance")
        )
    cov = _coverage_for(communes, coverage)
    if "couvert" in cov.columns:
        couvert = cov["couvert"].fillna(False).astype(bool).to_numpy()
    else:
        couvert = cov["n_zones"].fillna(0).to_numpy() > 0
    pop = integer_if_whole(numeric_column(communes, demand_col, "communes"))
    rows = np.flatnonzero(~couvert)
    geoms = valid_geometries(np.asarray(communes.geometry.values)[rows], "communes")
    codes = (
        communes["code_insee"].astype(str).to_numpy(dtype=object)[rows]
        if "code_insee" in communes.columns
        else communes.index.astype(str).to_numpy(dtype=object)[rows]
    )
    names = communes["nom"].astype(str).to_numpy(dtype=object)[rows] if "nom" in communes else None
    columns = ["population", "surface_km2", "n_communes", "codes_insee"]
    columns += ["noms"] if names is not None else []
    columns += ["distance_structure_m", "structure_proche"]
    if len(rows) == 0:
        empty = gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=communes.crs)
        empty.index = pd.RangeIndex(1, 1, name="rang")
        return empty

    # contiguity graph within the tolerance, then connected components
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=tolerance)
    k = len(rows)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(k, k))
    n_comp, comp = connected_components(graph, directed=False)

    order = np.lexsort((codes.astype(str), comp))  # by component, then by code
    comp_s = comp[order]
    first = np.r_[True, comp_s[1:] != comp_s[:-1]]
    agg = pd.DataFrame(index=pd.RangeIndex(n_comp))
    agg["population"] = np.bincount(comp, weights=pop[rows], minlength=n_comp)
    if np.issubdtype(pop.dtype, np.integer):
        agg["population"] = agg["population"].round().astype(np.int64)
    agg["surface_km2"] = np.bincount(comp, weights=shapely.area(geoms), minlength=n_comp) / 1e6
    agg["n_communes"] = np.bincount(comp, minlength=n_comp).astype(np.int64)
    agg["codes_insee"] = join_in_order(comp_s, codes[order], n_comp)
    if names is not None:
        agg["noms"] = join_in_order(comp_s, names[order], n_comp)
    merged = (
        gpd.GeoDataFrame({"comp": comp}, geometry=list(geoms), crs=communes.crs)
        .dissolve(by="comp", sort=True)
        .geometry.reindex(agg.index)
    )

    # distance to the nearest structure
    agg["distance_structure_m"] = np.nan
    agg["structure_proche"] = None
    if structures is not None:
        check_layer(structures, "structures")
        structures = filter_types(align_crs(structures, communes.crs, "structures"), types)
        if len(structures):
            s_pts = shapely.points(analysis_points(structures, "structures"))
            s_tree = shapely.STRtree(s_pts)
            (zi, si), dist = s_tree.query_nearest(np.asarray(merged.values), return_distance=True, all_matches=False)
            agg.loc[zi, "distance_structure_m"] = dist
            agg.loc[zi, "structure_proche"] = ids_of(structures)[si]
    agg["structure_proche"] = agg["structure_proche"].astype(object)

    agg["_first"] = pd.Series(codes[order][first], index=comp_s[first]).astype(str)
    order = agg.sort_values(
        ["population", "surface_km2", "_first"], ascending=[False, False, True], kind="stable"
    ).index
    agg = agg.drop(columns="_first")
    out = gpd.GeoDataFrame(agg.loc[order, columns], geometry=merged.loc[order].values, crs=communes.crs)
    out.index = pd.RangeIndex(1, len(out) + 1, name="rang")
    out.attrs["unites"] = {
        "population": "habitants",
        "surface_km2": "km²",
        "distance_structure_m": "mètres (à vol d'oiseau, depuis le bord de la zone)",
    }
    out.attrs["tolerance_m"] = tolerance
    return out
