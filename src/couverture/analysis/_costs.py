"""Demand–supply pairs and their distance or cost (private).

Every distance used by :mod:`~couverture.analysis.proximity` and
:mod:`~couverture.analysis.fca` comes from here, so the Euclidean default and a
user-supplied origin–destination cost table behave the same way:

- Euclidean (default): straight-line distance in metres between analysis
  points in the metric CRS, with :class:`scipy.spatial.cKDTree`;
- ``cost=`` table: a long DataFrame with columns ``origin`` (the unit's
  ``code_insee``, or the demand index), ``destination`` (``structure_id``, or
  the supply index) and ``cost`` (minutes, metres...). French column names
  ``origine`` and ``cout`` are accepted too. A pair absent from the table is
  unreachable.

A pair is *within* a limit when its distance or cost is ``<=`` the limit.
Every Euclidean distance, the ones reported and the ones compared with a
limit, is :func:`exact_distance` (``np.hypot``): the k-d tree only *finds*
candidate pairs, with a slightly inflated radius, and the exact distance then
decides. So a pair at a distance the library reported is always within that
limit (the tree's own squared-sum distance can differ from ``np.hypot`` by one
unit in the last place, which used to drop about one tie in five).

Examples
--------
>>> dem = np.array([[0.0, 0.0], [10.0, 0.0]])
>>> sup = np.array([[3.0, 4.0]])
>>> i, j, d = euclidean_pairs(dem, sup, 5.0)
>>> i.tolist(), j.tolist(), d.tolist()
([0], [0], [5.0])
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..codes import normalize_insee
from ..errors import InputError, Probleme
from ._points import align_crs, analysis_points, check_layer, filter_types, numeric_column

logger = logging.getLogger(__name__)

_ALIASES = {
    "origine": "origin",
    "dest": "destination",
    "cout": "cost",
    "coût": "cost",
}

__all__ = [
    "exact_distance",
    "inflated",
    "euclidean_pairs",
    "nearest_euclidean",
    "CostTable",
    "pairs_within",
    "nearest_cost",
    "prepare_inputs",
    "Types",
]

#: Structure types filter: ``"CS"``, ``"EVS"``, a list of them, or None (all).
Types = str | Sequence[str] | None


def exact_distance(a_xy: np.ndarray, b_xy: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean distance, the one distance the library reports and compares.

    Examples
    --------
    >>> exact_distance(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])).tolist()
    [5.0]
    """
    a_xy = np.asarray(a_xy, dtype=np.float64).reshape(-1, 2)
    b_xy = np.asarray(b_xy, dtype=np.float64).reshape(-1, 2)
    return np.hypot(a_xy[:, 0] - b_xy[:, 0], a_xy[:, 1] - b_xy[:, 1])


def inflated(radius):
    """A search radius a little larger than ``radius`` (k-d tree candidates only).

    The margin (a millionth of a millimetre per kilometre, plus a nanometre)
    far exceeds the few ulps by which the tree's distance can differ from
    :func:`exact_distance`; the exact distance then filters.

    Examples
    --------
    >>> bool(inflated(1000.0) > 1000.0)
    True
    """
    return np.asarray(radius, dtype=np.float64) * (1.0 + 1e-9) + 1e-9


def euclidean_pairs(
    dem_xy: np.ndarray, sup_xy: np.ndarray, max_distance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (demand row, supply row, distance) with distance ``<= max_distance``.

    Pairs within a relative 1e-9 of the limit are decided (and their distance
    reported) by :func:`exact_distance`, compared with ``<=``; farther inside,
    the tree's distance is used (it differs from ``np.hypot`` by at most a few
    ulps, which changes no decision). In the k-d tree's order (deterministic
    for the same input). Zero distances are kept.

    Examples
    --------
    >>> i, j, d = euclidean_pairs(np.array([[0.0, 0.0]]), np.array([[0.0, 0.0], [9.0, 0.0]]), 1.0)
    >>> i.tolist(), j.tolist(), d.tolist()
    ([0], [0], [0.0])
    """
    if len(dem_xy) == 0 or len(sup_xy) == 0 or max_distance < 0:
        return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.float64)
    if np.isinf(max_distance):  # every pair
        i, j = np.divmod(np.arange(len(dem_xy) * len(sup_xy), dtype=np.intp), len(sup_xy))
        return i, j, exact_distance(dem_xy[i], sup_xy[j])
    t_dem = cKDTree(dem_xy)
    t_sup = cKDTree(sup_xy)
    res = t_dem.sparse_distance_matrix(t_sup, float(inflated(max_distance)), output_type="ndarray")
    i, j, d = res["i"].astype(np.intp), res["j"].astype(np.intp), res["v"].astype(np.float64)
    # the exact distance decides (and is reported) where the tree's could disagree: near the limit
    near = d > max_distance * (1.0 - 1e-9) - 1e-9
    if near.any():
        d[near] = exact_distance(dem_xy[i[near]], sup_xy[j[near]])
        keep = d <= max_distance
        i, j, d = i[keep], j[keep], d[keep]
    return i, j, d


def nearest_euclidean(dem_xy: np.ndarray, sup_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance to and row of the nearest supply point (``nan``/``-1`` when no supply).

    Among tied supply points the row is whichever the k-d tree meets first
    (deterministic for the same input). The distance is
    :func:`exact_distance` to that row, so it agrees with every threshold test.

    Examples
    --------
    >>> d, j = nearest_euclidean(np.array([[0.0, 0.0]]), np.array([[3.0, 0.0], [-2.0, 0.0]]))
    >>> d.tolist(), j.tolist()
    ([2.0], [1])
    """
    n = len(dem_xy)
    if len(sup_xy) == 0:
        return np.full(n, np.nan), np.full(n, -1, dtype=np.intp)
    if n == 0:
        return np.empty(0), np.empty(0, dtype=np.intp)
    _, j = cKDTree(sup_xy).query(dem_xy, k=1)
    j = np.asarray(j, dtype=np.intp)
    return exact_distance(dem_xy, sup_xy[j]), j


class CostTable:
    """A user's origin–destination cost table, resolved to demand and supply rows.

    Parameters
    ----------
    cost : DataFrame
        Columns ``origin``, ``destination``, ``cost`` (aliases ``origine``,
        ``cout``/``coût``, ``dest``).
    demand, supply : DataFrame
        The layers the rows refer to. Origins are matched to demand's
        ``code_insee`` (normalised INSEE codes) or to its index, whichever
        matches more rows; destinations to supply's ``structure_id`` or index.
    supply_key : str, default "structure_id"
        Column of ``supply`` the destinations name (``"code_insee"``: the
        supply rows are units, codes normalised like the origins).

    Attributes
    ----------
    i, j, c : ndarray
        Demand row, supply row and cost of every usable pair (rows whose origin
        or destination is not in the layers are left out, with a logged note).

    Raises
    ------
    InputError
        Missing columns, missing/negative/non-numeric costs, a pair given
        twice, or a table that matches no demand unit or no structure.

    Examples
    --------
    >>> dem = pd.DataFrame({"code_insee": ["01001", "01002"]})
    >>> sup = pd.DataFrame({"structure_id": ["S1"]})
    >>> t = CostTable(pd.DataFrame({"origin": [1001], "destination": ["S1"], "cost": [12.5]}),
    ...               dem, sup)
    >>> t.i.tolist(), t.j.tolist(), t.c.tolist()
    ([0], [0], [12.5])
    """

    def __init__(
        self, cost: pd.DataFrame, demand: pd.DataFrame, supply: pd.DataFrame, *, supply_key: str = "structure_id"
    ):
        if not isinstance(cost, pd.DataFrame):
            raise InputError(
                Probleme(
                    "une table (DataFrame) avec les colonnes origin, destination, cost "
                    f"est attendue, reçu {type(cost).__name__}",
                    fichier="cost",
                )
            )
        table = cost.rename(columns={k: v for k, v in _ALIASES.items() if k in cost.columns})
        missing = [c for c in ("origin", "destination", "cost") if c not in table.columns]
        if missing:
            raise InputError([Probleme("colonne absente", fichier="cost", colonne=c) for c in missing])
        values = pd.to_numeric(table["cost"], errors="coerce").astype("float64").to_numpy()
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            lines = (np.flatnonzero(bad) + 2).tolist()
            raise InputError(
                Probleme(
                    f"coût manquant, non numérique ou négatif pour {int(bad.sum())} ligne(s) "
                    f"(lignes {', '.join(map(str, lines[:5]))}{'…' if len(lines) > 5 else ''})",
                    fichier="cost",
                    colonne="cost",
                )
            )
        i = self._positions(table["origin"], demand, "code_insee", "demand", "origin")
        j = self._positions(table["destination"], supply, supply_key, "supply", "destination")
        keep = (i >= 0) & (j >= 0)
        if len(table) and not keep.any():
            raise InputError(
                Probleme(
                    "aucune ligne de la table ne relie une unité de la demande à une structure "
                    "(origin : code_insee ou index des communes ; destination : structure_id "
                    "ou index des structures)",
                    fichier="cost",
                )
            )
        if (~keep).any():
            logger.info(
                "table de coûts : %d ligne(s) hors des couches étudiées ignorée(s)",
                int((~keep).sum()),
            )
        i, j, c, rows = i[keep], j[keep], values[keep], np.flatnonzero(keep)
        order = np.lexsort((j, i))
        i, j, c, rows = i[order], j[order], c[order], rows[order]
        dup = (np.diff(i) == 0) & (np.diff(j) == 0)
        if dup.any():
            raise InputError(
                Probleme(
                    f"{int(dup.sum())} couple(s) origine–destination en double (un seul coût par couple est attendu)",
                    fichier="cost",
                )
            )
        self.i, self.j, self.c = i, j, c
        self.rows = rows  # positions in ``cost`` of the pairs kept
        self.n_demand, self.n_supply = len(demand), len(supply)

    @staticmethod
    def _positions(values: pd.Series, layer: pd.DataFrame, col: str, name: str, what: str) -> Any:
        """Row positions in ``layer`` of ``values`` (-1 when absent)."""
        candidates = []
        if col in layer.columns and layer[col].notna().all() and layer[col].is_unique:
            if col == "code_insee":  # both sides normalised: 1001 and "01001" match
                keys = pd.Index(normalize_insee(layer[col].reset_index(drop=True)).astype(str))
                vals = normalize_insee(values.reset_index(drop=True)).astype(str)
            else:
                keys = pd.Index(layer[col].astype(str).to_numpy(dtype=object))
                vals = values.astype(str)
            candidates.append(keys.get_indexer(vals.to_numpy(dtype=object)))
        idx = layer.index
        try:
            pos = idx.get_indexer(values.to_numpy())
        except (TypeError, ValueError):  # pragma: no cover - exotic index
            pos = np.full(len(values), -1)
        candidates.append(pos)
        if idx.dtype == object or pd.api.types.is_string_dtype(idx.dtype):
            candidates.append(pd.Index(idx.astype(str)).get_indexer(values.astype(str).to_numpy(dtype=object)))
        best = max(candidates, key=lambda p: int((p >= 0).sum()))
        return np.asarray(best, dtype=np.intp)

    def within(self, max_cost: float) -> Any:
        """Pairs with cost ``<= max_cost`` (all pairs when ``max_cost`` is None)."""
        if max_cost is None:
            return self.i, self.j, self.c
        keep = self.c <= max_cost
        return self.i[keep], self.j[keep], self.c[keep]

    def subset_supply(self, rows: np.ndarray) -> CostTable:
        """The table restricted to the supply rows ``rows`` (renumbered 0..len(rows)-1)."""
        new = object.__new__(CostTable)
        remap = np.full(self.n_supply, -1, dtype=np.intp)
        remap[rows] = np.arange(len(rows))
        jj = remap[self.j]
        keep = jj >= 0
        new.i, new.j, new.c = self.i[keep], jj[keep], self.c[keep]
        new.rows = self.rows[keep] if hasattr(self, "rows") else None
        new.n_demand, new.n_supply = self.n_demand, len(rows)
        return new


def pairs_within(dem_xy: Any, sup_xy: Any, max_distance: Any, cost: CostTable | None = None) -> Any:
    """(demand row, supply row, distance or cost) of every pair within ``max_distance``.

    Examples
    --------
    >>> i, j, d = pairs_within(np.zeros((1, 2)), np.array([[1.0, 0.0]]), 1.0)
    >>> d.tolist()
    [1.0]
    """
    if cost is not None:
        return cost.within(max_distance)
    return euclidean_pairs(dem_xy, sup_xy, max_distance)


def nearest_cost(cost: CostTable) -> tuple[np.ndarray, np.ndarray]:
    """Smallest cost per demand row and the supply row reaching it (``nan``/``-1`` if none).

    Ties are broken by the lowest supply row.

    Examples
    --------
    >>> t = object.__new__(CostTable)
    >>> t.i, t.j, t.c = np.array([0, 0]), np.array([0, 1]), np.array([5.0, 3.0])
    >>> t.n_demand, t.n_supply = 2, 2
    >>> d, j = nearest_cost(t)
    >>> d.tolist(), j.tolist()
    ([3.0, nan], [1, -1])
    """
    n = cost.n_demand
    d = np.full(n, np.nan)
    j = np.full(n, -1, dtype=np.intp)
    if len(cost.i) == 0:
        return d, j
    order = np.lexsort((cost.j, cost.c, cost.i))
    ii = cost.i[order]
    first = np.r_[True, ii[1:] != ii[:-1]]
    sel = order[first]
    d[cost.i[sel]] = cost.c[sel]
    j[cost.i[sel]] = cost.j[sel]
    return d, j


def prepare_inputs(demand, supply, *, cost, types, demand_col=None):
    """Checked inputs of a proximity computation.

    Checks both layers, reprojects supply to demand's CRS, filters supply by
    ``types``, reads the analysis points, resolves the cost table and reads
    the population column (when ``demand_col`` is given).

    Returns
    -------
    dem_xy, supply, sup_xy, table, weights
        Demand coordinates, filtered supply, its coordinates, the
        :class:`CostTable` (or None) and the demand values (or None).
    """
    check_layer(demand, "demand")
    check_layer(supply, "supply")
    supply = align_crs(supply, demand.crs, "supply")
    supply = filter_types(supply, types, "supply")
    dem_xy = analysis_points(demand, "demand")
    sup_xy = analysis_points(supply, "supply")
    table = None
    if cost is not None and not isinstance(cost, pd.DataFrame):
        raise InputError(
            Probleme(
                "une table (DataFrame) avec les colonnes origin, destination, cost "
                f"est attendue, reçu {type(cost).__name__}",
                fichier="cost",
            )
        )
    if cost is not None and len(supply) and len(demand):
        table = CostTable(cost, demand, supply)
    weights = numeric_column(demand, demand_col, "demand") if demand_col else None
    return dem_xy, supply, sup_xy, table, weights
