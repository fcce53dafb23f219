"""Indicators aggregated to any level present in the data.

A level is a column of the units (``epci``, ``arrondissement``,
``departement``), a user's grouping given as a Series on the units' index
(territoires d'action sociale, bassins de vie...), or the whole territory
(``by=None``). Populations are summed, never averaged, so that covered and
uncovered inhabitants add up to the population exactly at every level;
distances are averaged with the population as weight.

Examples
--------
>>> import pandas as pd
>>> units = pd.DataFrame({"population": [100, 50, 10], "epci": ["e1", "e1", "e2"]})
>>> ind = pd.DataFrame({"couvert": [True, False, False], "distance_m": [0.0, 12000.0, 3000.0]})
>>> agg = aggregate(units, ind, "epci")
>>> agg[["population", "population_couverte", "population_sans_structure_10km"]].values.tolist()
[[150, 100, 50], [10, 0, 0]]
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..codes import normalize_insee
from ..errors import InputError, Probleme
from ._points import (
    ENSEMBLE,
    align_crs,
    analysis_points,
    group_codes,
    integer_if_whole,
    numeric_column,
)

logger = logging.getLogger(__name__)

__all__ = ["aggregate", "weighted_median"]


def weighted_median(values: Any, weights: Any, codes: Any = None, n_groups: int | None = None) -> np.ndarray:
    """Population-weighted (lower) median per group, ignoring NaN values.

    The median is the smallest value ``v`` such that at least half of the
    group's weight has a value ``<= v``. Groups without weight get NaN.

    Parameters
    ----------
    values, weights : array-like
        Same length; weights non-negative.
    codes : array-like of int, optional
        Group of each value (0..n_groups-1); one group when omitted.
    n_groups : int, optional

    Examples
    --------
    >>> weighted_median([1.0, 3.0, 10.0], [1, 1, 1]).tolist()
    [3.0]
    >>> weighted_median([1.0, 3.0], [5, 5]).tolist()
    [1.0]
    >>> weighted_median([1.0, 3.0, 5.0, 7.0], [1, 9, 1, 1], [0, 0, 1, 1], 3).tolist()
    [3.0, 5.0, nan]
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights)
    g = np.zeros(len(v), dtype=np.intp) if codes is None else np.asarray(codes, dtype=np.intp)
    k = (int(g.max()) + 1 if len(g) else 1) if n_groups is None else n_groups
    out = np.full(k, np.nan)
    keep = ~np.isnan(v) & (w > 0)
    v, w, g = v[keep], w[keep], g[keep]
    if len(v) == 0:
        return out
    order = np.lexsort((v, g))
    v, w, g = v[order], w[order], g[order]
    cum = np.cumsum(w)
    start = np.r_[True, g[1:] != g[:-1]]
    # cumulative weight within the group: subtract what came before the group
    group_before = np.zeros(k, dtype=cum.dtype)
    group_before[g[start]] = (cum - w)[start]
    within = cum - group_before[g]
    totals = np.zeros(k, dtype=cum.dtype)
    np.add.at(totals, g, w)
    reached = 2 * within >= totals[g]
    first = np.flatnonzero(reached)
    gg, pos = np.unique(g[first], return_index=True)
    out[gg] = v[first[pos]]
    return out


def _structure_units(units: pd.DataFrame, structures: gpd.GeoDataFrame) -> np.ndarray:
    """Row of the unit holding each structure (-1 when outside every unit).

    By ``code_insee`` first (the commune of the address), then, for the
    structures whose code is not a unit (a PLM commune analysed by
    arrondissement, IRIS units...), by the unit polygon containing its point.
    """
    pos = np.full(len(structures), -1, dtype=np.intp)
    if "code_insee" in units.columns and "code_insee" in structures.columns:
        keys = pd.Index(normalize_insee(units["code_insee"].reset_index(drop=True)).astype(str))
        if keys.is_unique:
            codes = normalize_insee(structures["code_insee"].reset_index(drop=True)).astype(str)
            pos = keys.get_indexer(codes.to_numpy(dtype=object)).astype(np.intp)
    todo = np.flatnonzero(pos < 0)
    if (
        len(todo)
        and isinstance(units, gpd.GeoDataFrame)
        and isinstance(structures, gpd.GeoDataFrame)
        and units.crs is not None
        and structures.crs is not None
    ):
        sub = align_crs(structures.iloc[todo], units.crs, "structures")
        pts = shapely.points(analysis_points(sub, "structures"))
        tree = shapely.STRtree(np.asarray(units.geometry.values))
        si, ui = tree.query(pts, predicate="intersects")
        if len(si):
            # a point on a shared border: the first unit
            first = np.r_[True, si[1:] != si[:-1]]
            pos[todo[si[first]]] = ui[first]
    outside = int((pos < 0).sum())
    if outside:
        logger.info("%d structure(s) hors des unités étudiées (non comptées)", outside)
    return pos


def _label(radius: float, metric: bool) -> str:
    if metric and radius % 1000 == 0:
        return f"{radius / 1000:g}km"
    if metric:
        return f"{radius:g}m"
    return f"{radius:g}"


def aggregate(
    units: pd.DataFrame,
    indicators: pd.DataFrame | pd.Series | Mapping[str, pd.Series] | None = None,
    by: str | pd.Series | None = None,
    *,
    structures: pd.DataFrame | None = None,
    demand_col: str = "population",
    radius: float = 10_000,
    distance_col: str = "distance_m",
    covered_col: str = "couvert",
    mean_cols: Sequence[str] | None = None,
    total: bool = False,
) -> pd.DataFrame:
    """Aggregate per-unit indicators to a level (EPCI, territoire, département).

    Parameters
    ----------
    units : DataFrame
        Units with a population column (and the level column).
    indicators : DataFrame, Series or dict of Series, optional
        Per-unit indicators on the units' index, e.g. :func:`zone_coverage`'s
        result (``couvert``) joined with :func:`nearest_distance`'s
        (``distance_m``) and :func:`two_step_fca`'s. Columns of ``units``
        are used when a column is not in ``indicators``.
    by : str or Series, optional
        Level: a column of ``units`` (or ``indicators``), a Series on units'
        index, or ``None`` for the whole territory (one row ``"Ensemble"``).
        Units with a missing level form the group ``"(non renseigné)"``.
    structures : DataFrame, optional
        Structures, to count them per level: placed in the unit of their
        ``code_insee``, else in the unit polygon containing their point.
    demand_col : str
        Population column of ``units``.
    radius : float, default 10 000
        For ``population_sans_structure_<X>km``: inhabitants whose distance
        (``distance_col``) to the nearest structure is more than ``radius``
        (or who reach none).
    distance_col : str, default "distance_m"
        Distance (metres) or cost column among the indicators.
    covered_col : str, default "couvert"
        Boolean coverage column among the indicators.
    mean_cols : sequence of str, optional
        Other indicator columns to average with the population as weight
        (e.g. ``"accessibilite_2sfca"``) -> ``<col>_moyenne_ponderee``.
    total : bool, default False
        Append a row ``"Ensemble"`` computed over all units.

    Returns
    -------
    pandas.DataFrame
        One row per level value (sorted), with the columns whose inputs are
        available:

        - ``population`` (inhabitants), ``n_unites``;
        - ``population_couverte``, ``population_non_couverte`` (their sum is
          ``population`` exactly), ``taux_couverture_pct`` (% of population);
        - ``population_sans_structure_<X>km``, ``part_sans_structure_<X>km_pct``,
          ``population_sans_structure_accessible`` (no structure reachable),
          ``distance_moyenne_m`` and ``distance_mediane_m`` (weighted by
          population, over the units that reach a structure; with a cost
          column ``<col>_moyen`` / ``<col>_median``);
        - ``n_structures`` (and ``n_structures_cs``, ``n_structures_evs``
          when structures have a ``type``), ``structures_pour_10000_hab``;
        - ``<col>_moyenne_ponderee`` for ``mean_cols``.

        ``attrs["unites"]`` gives each column's unit.

    Examples
    --------
    >>> units = pd.DataFrame({"code_insee": ["01001", "01002", "01003"],
    ...                       "population": [6000, 3000, 1000], "epci": ["e1", "e1", "e2"]})
    >>> s = pd.DataFrame({"structure_id": ["S1", "S2"], "code_insee": ["01001", "01003"]})
    >>> ind = pd.DataFrame({"distance_m": [0.0, 4000.0, 0.0]})
    >>> aggregate(units, ind, "epci", structures=s)[
    ...     ["n_structures", "structures_pour_10000_hab", "distance_moyenne_m"]
    ... ].values.tolist()
    [[1.0, 1.1111111111111112, 1333.3333333333333], [1.0, 10.0, 0.0]]
    """
    ind = _indicator_frame(units, indicators)
    try:
        radius = float(radius)
    except (TypeError, ValueError):
        radius = float("nan")
    if not (radius >= 0):
        raise InputError(Probleme("rayon positif ou nul attendu", fichier="radius"))

    if total and by is not None:
        parts = aggregate(
            units,
            ind,
            by,
            structures=structures,
            demand_col=demand_col,
            radius=radius,
            distance_col=distance_col,
            covered_col=covered_col,
            mean_cols=mean_cols,
        )
        whole = aggregate(
            units,
            ind,
            None,
            structures=structures,
            demand_col=demand_col,
            radius=radius,
            distance_col=distance_col,
            covered_col=covered_col,
            mean_cols=mean_cols,
        )
        out = pd.concat([parts, whole])
        out.index.name = parts.index.name
        out.attrs = parts.attrs
        return out

    def column(name: str) -> pd.Series | None:
        if name in ind.columns:
            return ind[name]
        if name in units.columns:
            return units[name]
        return None

    g = _Groups(
        integer_if_whole(numeric_column(units, demand_col, "units")), *group_codes(units, by, "units", extra=ind)
    )
    out = pd.DataFrame(index=g.labels)
    out["population"] = g.sums(g.pop)
    out["n_unites"] = np.bincount(g.codes, minlength=g.k).astype(np.int64)
    units_attr: dict[str, str] = {"population": "habitants"}
    g.total_pop = out["population"].to_numpy().astype(np.float64)
    covered = column(covered_col)
    if covered is not None:
        _coverage_columns(out, units_attr, g, covered)
    dist = column(distance_col)
    if dist is not None:
        _distance_columns(out, units_attr, g, dist, distance_col, radius)
    if structures is not None:
        _structure_columns(out, units_attr, g, units, structures)
    for col in mean_cols or ():
        values = column(col)
        if values is None:
            raise InputError(Probleme("colonne absente", fichier="indicators", colonne=col))
        v = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
        out[f"{col}_moyenne_ponderee"] = g.weighted_mean(v)
        units_attr[f"{col}_moyenne_ponderee"] = "moyenne pondérée par la population"
    out.attrs["unites"] = units_attr
    if by is None:
        out.index = pd.Index([ENSEMBLE], name="niveau", dtype=object)
    return out


def _indicator_frame(units: Any, indicators: Any) -> pd.DataFrame:
    """The indicators as a DataFrame on the units' index (units and indicators checked)."""
    if not isinstance(units, pd.DataFrame):
        raise InputError(Probleme(f"une table des unités est attendue, reçu {type(units).__name__}", fichier="units"))
    if not units.index.is_unique:
        raise InputError(Probleme("l'index contient des doublons", fichier="units"))
    if indicators is None:
        ind = pd.DataFrame(index=units.index)
    elif isinstance(indicators, pd.Series):
        ind = indicators.to_frame()
    elif isinstance(indicators, Mapping):
        ind = pd.DataFrame(dict(indicators))
    elif isinstance(indicators, pd.DataFrame):
        ind = indicators
    else:
        raise InputError(
            Probleme(
                f"un DataFrame, une Series ou un dictionnaire de Series est attendu, reçu {type(indicators).__name__}",
                fichier="indicators",
            )
        )
    if len(ind.columns) and (not ind.index.is_unique or not units.index.isin(ind.index).all()):
        raise InputError(
            Probleme(
                "les indicateurs ne portent pas sur les mêmes unités (index différents)",
                fichier="indicators",
            )
        )
    return ind.reindex(units.index)


class _Groups:
    """Group codes of the units, with population-weighted sums, shares and means per group."""

    def __init__(self, pop: np.ndarray, codes: np.ndarray, labels: pd.Index):
        self.pop, self.codes, self.labels, self.k = pop, codes, labels, len(labels)
        self.total_pop = np.zeros(self.k)

    def sums(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is not None:
            values = np.where(mask, values, 0)
        out = np.zeros(self.k, dtype=values.dtype)
        np.add.at(out, self.codes, values)
        return out

    def pct(self, part: np.ndarray) -> np.ndarray:
        return np.divide(100.0 * part, self.total_pop, out=np.full(self.k, np.nan), where=self.total_pop > 0)

    def weighted_mean(self, v: np.ndarray) -> np.ndarray:
        ok = ~np.isnan(v)
        wsum = self.sums(self.pop.astype(np.float64), ok)
        wv = self.sums(np.where(ok, v, 0.0) * self.pop)
        return np.divide(wv, wsum, out=np.full(self.k, np.nan), where=wsum > 0)


def _coverage_columns(out: pd.DataFrame, units_attr: dict[str, str], g: _Groups, covered: pd.Series) -> None:
    cov = covered.fillna(False).astype(bool).to_numpy()
    out["population_couverte"] = g.sums(g.pop, cov)
    out["population_non_couverte"] = g.sums(g.pop, ~cov)
    out["taux_couverture_pct"] = g.pct(out["population_couverte"].to_numpy())
    units_attr.update(
        population_couverte="habitants",
        population_non_couverte="habitants",
        taux_couverture_pct="% de la population",
    )


def _distance_columns(
    out: pd.DataFrame, units_attr: dict[str, str], g: _Groups, dist: pd.Series, distance_col: str, radius: float
) -> None:
    d = pd.to_numeric(dist, errors="coerce").astype("float64").to_numpy()
    metric = distance_col == "distance_m"
    lab = _label(radius, metric)
    far = ~(d <= radius)  # NaN: no structure reachable
    col_far = f"population_sans_structure_{lab}"
    out[col_far] = g.sums(g.pop, far)
    out[f"part_sans_structure_{lab}_pct"] = g.pct(out[col_far].to_numpy())
    out["population_sans_structure_accessible"] = g.sums(g.pop, np.isnan(d))
    mean_name = "distance_moyenne_m" if metric else f"{distance_col}_moyen"
    median_name = "distance_mediane_m" if metric else f"{distance_col}_median"
    out[mean_name] = g.weighted_mean(d)
    out[median_name] = weighted_median(d, g.pop, g.codes, g.k)
    unit = "mètres" if metric else "unité de la table de coûts"
    units_attr.update(
        {
            col_far: f"habitants à plus de {lab} (ou sans structure joignable)",
            f"part_sans_structure_{lab}_pct": "% de la population",
            "population_sans_structure_accessible": "habitants",
            mean_name: f"{unit}, moyenne pondérée par la population",
            median_name: f"{unit}, médiane pondérée par la population",
        }
    )


def _structure_columns(
    out: pd.DataFrame, units_attr: dict[str, str], g: _Groups, units: pd.DataFrame, structures: Any
) -> None:
    if not isinstance(structures, pd.DataFrame):
        raise InputError(
            Probleme(f"une table des structures est attendue, reçu {type(structures).__name__}", fichier="structures")
        )
    where = _structure_units(units, structures)
    inside = where >= 0
    s_codes = g.codes[where[inside]]
    out["n_structures"] = np.bincount(s_codes, minlength=g.k).astype(np.int64)
    if "type" in structures.columns:
        types = structures["type"].astype(str).str.strip().str.upper().to_numpy()[inside]
        for t in ("CS", "EVS"):
            out[f"n_structures_{t.lower()}"] = np.bincount(s_codes[types == t], minlength=g.k).astype(np.int64)
    out["structures_pour_10000_hab"] = np.divide(
        10_000.0 * out["n_structures"].to_numpy(),
        g.total_pop,
        out=np.full(g.k, np.nan),
        where=g.total_pop > 0,
    )
    units_attr["structures_pour_10000_hab"] = "structures pour 10 000 habitants"
