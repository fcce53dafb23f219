"""Planning scenarios: where to open new structures, and how to attach the zones blanches.

Two tools for the *schéma départemental*:

- :func:`best_sites` chooses ``k`` sites among candidates (every unit's
  analysis point by default) for new structures:

  - ``objective="coverage"`` — *maximal covering location problem* (MCLP,
    Church & ReVelle 1974): maximise the population newly brought within
    ``radius`` of a structure; population already within ``radius`` of an
    existing structure does not count;
  - ``objective="p-median"`` — minimise the population-weighted distance to
    the nearest open structure, the existing ones being already open
    (Hakimi 1964; ReVelle & Swain 1970).

  ``method="greedy"`` (default) is fast and carries the classical
  guarantee (see :func:`best_sites`); for the p-median it is followed by
  default by a vertex-substitution local search (Teitz & Bart 1968) from a
  few greedy starts, vectorised over all ``k × m`` swaps of a pass
  (``improve=False``: plain greedy); ``method="exact"`` solves the integer
  programme with :func:`scipy.optimize.milp` (HiGHS) for small instances.
  The distances are straight lines (metres, metric CRS), pairs within the
  radius found with :class:`scipy.spatial.cKDTree`; the greedy iterations are
  sparse matrix–vector products, the only Python loop being over the ``k``
  picks.

- :func:`propose_attachments` proposes, for each unit outside every zone de
  vie sociale (ZVS), an attachment to the nearest structure whose zone is
  contiguous, within a distance and a population cap, or flags the unit as
  needing a new structure.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> demand = gpd.GeoDataFrame(
...     {"code_insee": ["01001", "01002", "01003"], "population": [100, 40, 70]},
...     geometry=[Point(0, 0), Point(1000, 0), Point(9000, 0)], crs=2154)
>>> sites = best_sites(demand, k=2, radius=1500)
>>> sites[["code_insee", "population_ajoutee", "population_couverte"]].values.tolist()
[['01001', 140, 140], ['01003', 70, 210]]
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from .._validate import warn_short_distance
from ..errors import CouvertureWarning, InputError, Probleme
from ._costs import CostTable, euclidean_pairs, exact_distance, inflated, nearest_cost, nearest_euclidean
from ._points import align_crs, analysis_points, check_layer, integer_if_whole, numeric_column

logger = logging.getLogger(__name__)

__all__ = ["best_sites", "propose_attachments", "GARANTIE_GLOUTON"]

#: Approximation guarantee of the greedy solver: ``1 - 1/e``.
GARANTIE_GLOUTON = 1.0 - 1.0 / math.e

_OBJECTIVES = {
    "coverage": "coverage",
    "couverture": "coverage",
    "mclp": "coverage",
    "p-median": "p-median",
    "pmedian": "p-median",
    "p-mediane": "p-median",
    "p-médiane": "p-median",
}
_METHODS = {"greedy": "greedy", "glouton": "greedy", "exact": "exact", "exacte": "exact"}

#: Largest number of demand–candidate pairs of a p-median without existing
#: structures nor ``max_distance`` (every pair is needed).
MAX_DENSE_PAIRS = 30_000_000


# --------------------------------------------------------------------------- checks
def _positive(value: Any, name: str, *, allow_inf: bool = False, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = np.isfinite(v) or (allow_inf and v == np.inf)
    ok = ok and (v > 0 or (allow_zero and v == 0))
    if not ok:
        raise InputError(Probleme(f"une distance positive en mètres est attendue, reçu {value!r}", fichier=name))
    return v


def _choice(value: Any, table: dict[str, str], name: str, expected: str) -> str:
    key = table.get(str(value).strip().lower()) if isinstance(value, str) else None
    if key is None:
        raise InputError(Probleme(f"valeur inconnue : « {value} » (attendu : {expected})", fichier=name))
    return key


def _check_k(k: Any, n_candidates: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(
            Probleme(f"un nombre entier de sites supérieur ou égal à 1 est attendu, reçu {k!r}", fichier="k")
        )
    if k > n_candidates:
        raise InputError(Probleme(f"k = {k} dépasse le nombre de sites candidats ({n_candidates})", fichier="k"))
    return int(k)


# --------------------------------------------------------------------------- pairs
def _pairs_within(a_xy: np.ndarray, b_xy: np.ndarray, radius: float):
    """(row of a, row of b, distance) of every pair with exact distance ``<= radius``."""
    return euclidean_pairs(a_xy, b_xy, radius)


def _nearest(a_xy: np.ndarray, b_xy: np.ndarray) -> np.ndarray:
    """Distance from each row of a to the nearest row of b (inf when b is empty)."""
    if len(b_xy) == 0:
        return np.full(len(a_xy), np.inf)
    return nearest_euclidean(a_xy, b_xy)[0]


def _pairs_below(dem_xy: np.ndarray, cand_xy: np.ndarray, limit: np.ndarray) -> Any:
    """Pairs (i, j, d) with ``d < limit[i]`` (finite limits), from ball queries."""
    if len(dem_xy) == 0 or len(cand_xy) == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0)
    lists = cKDTree(cand_xy).query_ball_point(dem_xy, r=inflated(limit), return_sorted=False)
    lengths = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
    if lengths.sum() == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0)
    j = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.intp, count=int(lengths.sum()))
    i = np.repeat(np.arange(len(dem_xy), dtype=np.intp), lengths)
    d = exact_distance(dem_xy[i], cand_xy[j])
    keep = d < limit[i]
    return i[keep], j[keep], d[keep]


def _sorted_by_column(i: Any, j: Any, d: Any, m: int) -> Any:
    """Pairs sorted by candidate (then demand row) and the column pointer."""
    order = np.lexsort((i, j))
    i, j, d = i[order], j[order], d[order]
    indptr = np.searchsorted(j, np.arange(m + 1))
    return i, j, d, indptr


def _top_sum(gains: np.ndarray, k: int) -> float:
    """Sum of the ``k`` largest positive values."""
    pos = gains[gains > 0]
    if len(pos) > k:
        pos = np.partition(pos, len(pos) - k)[-k:]
    return float(pos.sum())


# --------------------------------------------------------------------------- solvers
class _Problem:
    """A facility-location instance in the *savings* form shared by both objectives.

    ``f(S) = sum_i max(0, max_{j in S} v_ij)`` with

    - coverage: ``v_ij = w_i`` when candidate ``j`` is within the radius of
      ``i`` and ``i`` is not yet within the radius of an existing structure;
    - p-median: ``v_ij = w_i (c_i - d_ij)`` where ``c_i`` is the distance to
      the nearest existing structure (capped at ``max_distance``; a constant
      larger than every distance when there is neither).

    ``f`` is monotone submodular in both cases.
    """

    def __init__(self, objective, w, m, i, j, d, base):
        self.objective = objective
        self.w = w
        self.m = m
        self.n = len(w)
        self.base = base  # coverage: bool "already covered"; p-median: c_i
        self.i, self.j, self.d, self.indptr = _sorted_by_column(i, j, d, m)
        if objective == "coverage":
            # csr (m x n): row j lists the demand rows within the radius of candidate j
            self.at = sparse.csr_matrix((np.ones(len(self.i)), self.i, self.indptr), shape=(m, self.n))

    def savings(self) -> np.ndarray:
        """``v_ij`` of every pair (same order as ``self.i``, ``self.j``)."""
        if self.objective == "coverage":
            return np.where(self.base[self.i], 0.0, self.w[self.i])
        return self.w[self.i] * np.maximum(self.base[self.i] - self.d, 0.0)

    def start(self) -> np.ndarray:
        if self.objective == "coverage":
            return np.where(self.base, 0.0, self.w)  # residual weight
        return self.base.astype(np.float64).copy()  # current distance c_i

    def gains(self, state: np.ndarray) -> np.ndarray:
        if self.objective == "coverage":
            return self.at @ state  # one sparse matrix-vector product
        sav = self.w[self.i] * np.maximum(state[self.i] - self.d, 0.0)
        return np.bincount(self.j, weights=sav, minlength=self.m)

    def pick(self, state: np.ndarray, j: int) -> None:
        sl = slice(self.indptr[j], self.indptr[j + 1])
        rows = self.i[sl]
        if self.objective == "coverage":
            state[rows] = 0.0
        else:
            state[rows] = np.minimum(state[rows], self.d[sl])


def _greedy(problem: _Problem, k: int, allowed: np.ndarray | None = None, first: int | None = None) -> Any:
    """Greedy picks, their marginal gains and an a posteriori bound on the optimum.

    At every step the site with the largest marginal gain is added; ties go to
    the first candidate (``np.argmax``). The bound ``f(S_t) + sum of the k
    largest marginal gains`` holds for any step ``t`` of a monotone submodular
    maximisation (Minoux 1978; Leskovec et al. 2007); the smallest is kept.
    ``first``: the first pick is this candidate instead (a start of the swap
    search).
    """
    state = problem.start()
    chosen: list[int] = []
    gains_out: list[float] = []
    value = 0.0
    bound = math.inf
    for _ in range(k + 1):  # the last pass only updates the bound
        gains = problem.gains(state)
        if allowed is not None:
            gains = np.where(allowed, gains, -np.inf)
        if chosen:
            gains[chosen] = -np.inf  # already open (matters for a forced first pick)
        bound = min(bound, value + _top_sum(gains, k))
        if len(chosen) == k:
            break
        j = int(np.argmax(gains)) if first is None or chosen else int(first)
        g = float(gains[j])
        if not g > 0:
            break
        chosen.append(j)
        gains_out.append(g)
        value += g
        problem.pick(state, j)
    return chosen, gains_out, value, bound


def _best_two(problem: _Problem, v: np.ndarray, chosen: list[int]) -> Any:
    """Best and second-best savings of every demand row among the chosen sites.

    Returns ``b1`` (best saving, 0 when no chosen site saves anything),
    ``f1`` (position in ``chosen`` of the site giving it, -1 when none; ties
    go to the earlier position) and ``b2`` (second best, 0 when none).
    """
    n = problem.n
    b1, b2 = np.zeros(n), np.zeros(n)
    f1 = np.full(n, -1, dtype=np.intp)
    ptr = problem.indptr
    parts = [np.arange(ptr[c], ptr[c + 1]) for c in chosen]  # the k sites only
    idx = np.concatenate(parts) if parts else np.empty(0, np.intp)
    pos = np.repeat(np.arange(len(chosen)), [ptr[c + 1] - ptr[c] for c in chosen])
    sav = v[idx]
    keep = sav > 0
    rows, pos, sav = problem.i[idx][keep], pos[keep], sav[keep]
    if len(rows) == 0:
        return b1, f1, b2
    order = np.lexsort((pos, -sav, rows))  # per row: largest saving, then first position
    rows, pos, sav = rows[order], pos[order], sav[order]
    head = np.r_[True, rows[1:] != rows[:-1]]
    b1[rows[head]], f1[rows[head]] = sav[head], pos[head]
    second = np.r_[False, head[:-1]] & ~head  # second entry of each row
    b2[rows[second]] = sav[second]
    return b1, f1, b2


def _swap(problem: _Problem, chosen: list[int], *, max_passes: int | None = None) -> Any:
    """Vertex substitution (Teitz & Bart 1968) from ``chosen``: best improving swap until none.

    Works on the savings form ``f(S) = sum_i max(0, max_{j in S} v_ij)``. With
    ``b1_i``/``b2_i`` the best and second-best savings of row ``i`` among the
    open sites and ``f1_i`` the site giving ``b1_i``, the value of
    ``S - r + j`` is ``f(S) - loss_r + G_j + C_rj`` where

    - ``loss_r = sum_{i: f1_i = r} (b1_i - b2_i)`` (closing ``r``),
    - ``G_j = sum_i max(0, v_ij - b1_i)`` (the greedy gain of ``j``),
    - ``C_rj = sum_{i: f1_i = r} [max(0, v_ij - b2_i) - max(0, v_ij - b1_i)]``
      (rows of ``r`` fall back on ``b2`` once ``r`` is closed).

    Every pass evaluates the ``k x m`` swaps at once (bincounts over the
    pairs) and applies the best one; ties go to the earliest position in
    ``chosen``, then the first candidate. A swap is kept only when it raises
    ``f`` by more than a relative 1e-12, so the search ends.
    Returns the new list (a swapped-in site takes the position of the site it
    replaces), its value ``f``, the number of swaps and of passes.
    """
    chosen = list(chosen)
    k, m = len(chosen), problem.m
    if k == 0 or k >= m:
        return chosen, None, 0, 0
    v = problem.savings()
    pi, pj = problem.i, problem.j
    if max_passes is None:
        max_passes = 50 * k + 50
    swaps = passes = 0
    while passes < max_passes:
        passes += 1
        b1, f1, b2 = _best_two(problem, v, chosen)
        value = float(b1.sum())
        g_pair = np.maximum(v - b1[pi], 0.0)
        gain_in = np.bincount(pj, weights=g_pair, minlength=m)
        loss = np.bincount(f1[f1 >= 0], weights=(b1 - b2)[f1 >= 0], minlength=k)
        owner = f1[pi]
        sel = np.flatnonzero((owner >= 0) & (v > b2[pi]))
        corr = np.maximum(v[sel] - b2[pi[sel]], 0.0) - g_pair[sel]
        c = np.bincount(owner[sel] * m + pj[sel], weights=corr, minlength=k * m).reshape(k, m)
        delta = gain_in[None, :] + c - loss[:, None]
        delta[:, chosen] = -np.inf
        best = int(np.argmax(delta))  # row-major: first position, then first candidate
        r, j = divmod(best, m)
        if not delta[r, j] > 1e-12 * max(value, 1.0):
            break
        chosen[r] = j
        swaps += 1
        value = None  # type: ignore[assignment]  # marks "stopped by the swap loop"
    if value is None:  # pragma: no cover - stopped by max_passes
        value = float(_best_two(problem, v, chosen)[0].sum())
        logger.warning("best_sites : recherche par échanges arrêtée après %d passes", passes)
    return chosen, value, swaps, passes


def _milp(problem: _Problem, k: int, time_limit: float) -> Any:
    """Optimal set of at most ``k`` sites (HiGHS through scipy.optimize.milp)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    p = problem
    if p.objective == "coverage":
        unc = ~p.base & (p.w > 0)
        keep = unc[p.i]
    else:
        keep = (p.w[p.i] > 0) & (p.d < p.base[p.i])
    pi, pj, pd_ = p.i[keep], p.j[keep], p.d[keep]
    cols = np.unique(pj)
    if len(cols) == 0:
        return [], "optimal", 0.0
    if len(cols) <= k:
        return cols.tolist(), "optimal", 0.0
    cpos = np.searchsorted(cols, pj)
    nc = len(cols)
    if p.objective == "coverage":
        rows, rpos = np.unique(pi, return_inverse=True)
        nr = len(rows)
        # variables: x (nc candidates), y (nr demand rows); maximise sum w y
        cost = np.r_[np.zeros(nc), -p.w[rows]]
        a_cov = sparse.coo_matrix((-np.ones(len(pi)), (rpos, cpos)), shape=(nr, nc))
        a = sparse.vstack(
            [
                sparse.hstack([a_cov, sparse.identity(nr)]),  # y_i - sum_j a_ij x_j <= 0
                sparse.hstack([sparse.csr_matrix(np.ones((1, nc))), sparse.csr_matrix((1, nr))]),
            ]
        ).tocsr()
        ub = np.r_[np.zeros(nr), k]
        integrality = np.r_[np.ones(nc), np.zeros(nr)]
    else:
        rows, rpos = np.unique(pi, return_inverse=True)
        nr, npairs = len(rows), len(pi)
        sav = p.w[pi] * (p.base[pi] - pd_)
        # variables: x (nc candidates), z (npairs assignments); maximise sum sav z
        cost = np.r_[np.zeros(nc), -sav]
        ar = np.arange(npairs)
        assign = sparse.coo_matrix((np.ones(npairs), (rpos, ar)), shape=(nr, npairs))
        link = sparse.hstack(
            [sparse.coo_matrix((-np.ones(npairs), (ar, cpos)), shape=(npairs, nc)), sparse.identity(npairs)]
        )  # z_ij - x_j <= 0
        a = sparse.vstack(
            [
                sparse.hstack([sparse.csr_matrix((nr, nc)), assign]),  # sum_j z_ij <= 1
                link,
                sparse.hstack([sparse.csr_matrix(np.ones((1, nc))), sparse.csr_matrix((1, npairs))]),
            ]
        ).tocsr()
        ub = np.r_[np.ones(nr), np.zeros(npairs), k]
        integrality = np.r_[np.ones(nc), np.zeros(npairs)]
    res = milp(
        cost,
        constraints=LinearConstraint(a, -np.inf, ub),
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": float(time_limit), "mip_rel_gap": 0.0, "disp": False},
    )
    if res.x is None:
        return None, res.message, None
    status = "optimal" if res.status == 0 else "limite de temps"
    gap = getattr(res, "mip_gap", None)
    chosen = cols[res.x[:nc] > 0.5]
    return chosen.tolist(), status, gap


# --------------------------------------------------------------------------- best_sites
def best_sites(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None = None,
    k: int = 5,
    radius: float = 5000.0,
    *,
    objective: Literal["coverage", "p-median"] = "coverage",
    method: Literal["greedy", "exact"] = "greedy",
    existing: gpd.GeoDataFrame | None = None,
    demand_col: str = "population",
    max_distance: float | None = None,
    time_limit: float = 60.0,
    improve: bool | None = None,
    starts: int = 3,
    cost: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Choose ``k`` sites for new structures (maximal covering or p-median).

    Parameters
    ----------
    demand : GeoDataFrame
        Units (communes, IRIS, grid cells) in a metric CRS with a population
        column; distances are measured from their analysis point (``point``
        column, else the representative point).
    candidates : GeoDataFrame, optional
        Candidate sites (points, or polygons whose analysis point is used).
        Default: every unit of ``demand`` (its analysis point).
    k : int, default 5
        Number of new structures (budget).
    radius : float, default 5000
        Metres. ``objective="coverage"``: a unit is covered when a structure
        is at ``<= radius``. For the p-median it is only used to report the
        population brought within reach.
    objective : {"coverage", "p-median"}
        ``"coverage"`` maximises the population newly within ``radius``
        (population already within ``radius`` of an ``existing`` structure
        does not count); ``"p-median"`` minimises the population-weighted
        distance to the nearest open structure, existing ones being open.
    method : {"greedy", "exact"}
        ``"greedy"`` adds at each step the site with the largest marginal
        gain. The covered population (and the p-median's distance *savings*
        with respect to the existing network) is a monotone submodular
        function of the set of sites, so the greedy solution reaches at least
        ``1 - 1/e`` (63.2 %) of the optimum (Nemhauser, Wolsey & Fisher 1978);
        in practice usually more than 95 %, and ``attrs["borne_optimum"]``
        gives a bound on the optimum computed from the run. ``"exact"``
        solves the integer programme with :func:`scipy.optimize.milp`
        (HiGHS, zero optimality gap) — for a few hundred candidates.
        For the p-median the greedy picks are then improved by default by a
        vertex-substitution local search (see ``improve``).
    existing : GeoDataFrame, optional
        Structures already open (points).
    demand_col : str, default "population"
        Population column of ``demand``.
    max_distance : float, optional
        p-median only: distances are capped at this value in the objective
        (``sum w_i min(d_i, max_distance)``), which keeps the problem sparse.
        Without it and without ``existing``, every demand–candidate pair is
        used (refused above 30 million pairs).
    time_limit : float, default 60
        Seconds allowed to the exact solver; past it, the best solution found
        is returned with a :class:`~couverture.errors.CouvertureWarning`.
    improve : bool, optional
        ``method="greedy"`` only: after the greedy picks, run the *vertex
        substitution* local search of Teitz & Bart (1968): every pass
        evaluates all swaps of a chosen site with a non-chosen candidate
        (vectorised: best and second-best open site of each unit, then
        bincounts over the pairs) and applies the best improving one (ties:
        earliest chosen site, then first candidate), until no swap improves
        the objective. The result is never worse than the plain greedy and
        stays reproducible. Default ``None``: on for ``"p-median"``, off for
        ``"coverage"`` (whose greedy is usually optimal already); ``False``
        gives the plain greedy.
    starts : int, default 3
        With ``improve``: number of starts of the swap search. Start 0 is
        the plain greedy; start ``r`` is the greedy forced to begin with the
        ``r``-th best single site (largest gain alone; ties to the first
        candidate). The best local optimum is kept (ties: earliest start).
        On the demo (p-median, no existing structure) the plain greedy
        reaches 94.7 % (k = 5) and 94.2 % (k = 10) of the optimum; swaps
        from the greedy alone 96.4 % and 100 %; with 3 starts 100 % for both.
        Each start costs about one greedy run plus a few passes.
    cost : DataFrame, optional
        Origin–destination cost table (columns ``origin``, ``destination``,
        ``cost``, e.g. minutes from :func:`~couverture.analysis.travel.travel_times`),
        as proximity and 2SFCA take it. The cost between a unit and a
        candidate is the table's entry for the unit and the candidate
        (candidates = the units, the default: destination = the candidate
        unit's ``code_insee`` or index; otherwise its ``structure_id`` or
        index); between a unit and an ``existing`` structure, the entry for
        its ``structure_id`` (the rows left once the candidates are matched).
        A pair absent from the table is unreachable. ``radius`` and
        ``max_distance`` are then in the table's unit; the column
        ``distance_moyenne_m`` becomes ``cout_moyen`` (NaN while a unit is
        reached by no open site), the attrs ``rayon_m`` and
        ``distance_moyenne_initiale_m`` become ``rayon`` and
        ``cout_moyen_initial``, with ``mesure = "cout"`` and ``unite_cout``
        (the table's ``attrs["unite"]``, else ``"minutes"``).

    Returns
    -------
    geopandas.GeoDataFrame
        The chosen sites in order (index ``rang`` from 1), geometry = the
        site's point. Columns:

        - ``candidat``: index label of the site in ``candidates`` (or demand);
        - the candidates' own columns (``code_insee``, ``nom``, a label...), kept
          in their order; a column whose name is one of the result's gets the
          suffix ``_candidat``; when ``candidates`` is not given, only the
          demand units' ``code_insee`` and ``nom``;
        - ``population_ajoutee``: inhabitants brought within ``radius`` by this
          site, after the existing structures and the previous sites;
        - ``population_couverte``: inhabitants within ``radius`` of an existing
          structure or of the sites so far; ``taux_couverture_pct`` (%);
        - ``distance_moyenne_m``: population-weighted mean distance (m) to the
          nearest structure, existing or chosen so far;
        - ``gain``: the objective's marginal gain: inhabitants newly covered
          (coverage); drop of ``sum_i w_i min(d_i, max_distance)`` in
          habitant·m (p-median; NaN for the first site when there is neither
          an existing structure nor ``max_distance``).

        Sites are ordered by the greedy rule (for ``"exact"``, the optimal
        set is ordered the same way). Fewer than ``k`` rows (with a warning)
        when the remaining sites add nothing. ``attrs``: ``objectif``,
        ``methode``, ``rayon_m``, ``population_totale``,
        ``population_deja_couverte``, ``distance_moyenne_initiale_m``
        (before the new sites; NaN without existing structures); ``valeur_objectif`` (coverage:
        inhabitants newly covered; p-median: ``sum_i w_i min(d_i,
        max_distance)`` after the new sites, habitant·m); ``borne_optimum``
        (greedy: upper bound of the best coverage, lower bound of the best
        p-median value, from the run) and ``ecart_max_pct`` (largest
        possible distance to the optimum, %); ``statut`` (exact:
        ``"optimal"`` or ``"limite de temps"``); greedy: ``echanges``
        (``True`` when the swap search ran), ``nb_echanges`` (swaps applied),
        ``passes_echanges`` (passes, i.e. evaluations of every swap, summed
        over the starts), ``departs`` (starts run), ``depart_retenu`` (the
        start kept, 0 = plain greedy) and ``valeur_objectif_glouton`` (the objective after the plain greedy,
        before the swaps; same unit as ``valeur_objectif``). After swaps the
        sites are ordered by the greedy rule restricted to the final set.

    Raises
    ------
    InputError
        Layers without CRS or in degrees, missing population, bad ``k``,
        radius, objective or method.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"population": [10, 10, 30]},
    ...     geometry=[Point(0, 0), Point(2000, 0), Point(10000, 0)], crs=2154)
    >>> best_sites(d, k=1, radius=2000)["population_ajoutee"].tolist()
    [30]
    >>> s = best_sites(d, k=1, radius=2000, objective="p-median", method="exact")
    >>> s["candidat"].tolist(), s["distance_moyenne_m"].round().tolist()
    ([2], [3600.0])

    Two pairs of towns 10 km apart: the plain greedy first opens the site in
    the middle, the swap search replaces it.

    >>> towns = gpd.GeoDataFrame({"population": [10, 10, 10, 10]},
    ...     geometry=[Point(0, 0), Point(0, 100), Point(10000, 0), Point(10000, 100)], crs=2154)
    >>> sites = gpd.GeoDataFrame(geometry=[Point(0, 50), Point(5000, 50), Point(10000, 50)], crs=2154)
    >>> best_sites(towns, sites, k=2, objective="p-median", improve=False)["candidat"].tolist()
    [1, 0]
    >>> s = best_sites(towns, sites, k=2, objective="p-median")
    >>> s["candidat"].tolist(), s.attrs["nb_echanges"]
    ([0, 2], 1)
    """
    objective = _choice(objective, _OBJECTIVES, "objective", "coverage ou p-median")  # type: ignore[assignment]
    method = _choice(method, _METHODS, "method", "greedy ou exact")  # type: ignore[assignment]
    check_layer(demand, "demand", columns=[demand_col])
    radius = _positive(radius, "radius", allow_zero=True)
    if max_distance is not None:
        max_distance = _positive(max_distance, "max_distance")
    improve = _check_search(objective, improve, starts)
    candidates, cand_name, existing = _site_layers(demand, candidates, existing)
    k = _check_k(k, len(candidates))
    w = numeric_column(demand, demand_col, "demand")
    if cost is not None:
        return _best_sites_on_costs(
            demand,
            candidates,
            existing,
            cost,
            w,
            k,
            radius,
            objective,
            method,
            max_distance,
            time_limit,
            improve,
            starts,
        )
    dem_xy = analysis_points(demand, "demand")
    cand_xy = analysis_points(candidates, cand_name)
    warn_short_distance(radius, "radius", dem_xy)
    if max_distance is not None:
        warn_short_distance(max_distance, "max_distance", dem_xy)
    ex_xy = analysis_points(existing, "existing") if existing is not None and len(existing) else np.empty((0, 2))
    # covered by the existing network (same pair rule as the candidates)
    ei, _, _ = _pairs_within(dem_xy, ex_xy, radius)
    covered0 = np.zeros(len(dem_xy), dtype=bool)
    covered0[ei] = True
    problem = _build_problem(objective, w, dem_xy, cand_xy, ex_xy, radius, max_distance, covered0)
    attrs: dict = {}
    bound = greedy_value = np.nan
    if method == "greedy":
        chosen, gains, value, bound = _greedy(problem, k)
        logger.info("best_sites (glouton) : gain %.6g, borne du gain optimal %.6g", value, bound)
        greedy_value = value
        if improve and len(chosen) == k:  # fewer sites: the greedy is already optimal
            chosen, gains, value = _improve_by_swaps(problem, k, chosen, gains, value, starts, attrs)
        else:
            attrs.update(
                {"echanges": bool(improve), "nb_echanges": 0, "passes_echanges": 0, "departs": 0, "depart_retenu": 0}
            )
    else:
        chosen, gains, value = _solve_exact(problem, k, time_limit, attrs)
    if len(chosen) < k:
        warnings.warn(
            f"best_sites : seuls {len(chosen)} site(s) sur {k} améliorent l'objectif ; les autres n'apporteraient rien",
            CouvertureWarning,
            stacklevel=2,
        )
    _objective_attrs(
        attrs,
        problem,
        objective,
        method,
        w,
        value,
        bound,
        greedy_value,
        has_base=len(ex_xy) > 0 or max_distance is not None,
    )
    return _report(
        demand,
        candidates,
        dem_xy,
        cand_xy,
        ex_xy,
        w,
        covered0,
        chosen,
        gains,
        radius,
        objective,
        method,
        max_distance,
        attrs,
    )


def _cost_tables(cost: Any, demand: Any, candidates: Any, existing: Any) -> tuple[CostTable, CostTable | None]:
    """The candidates' and the existing structures' rows of one cost table."""
    if not isinstance(cost, pd.DataFrame):
        raise InputError(
            Probleme(
                "une table (DataFrame) avec les colonnes origin, destination, cost "
                f"est attendue, reçu {type(cost).__name__}",
                fichier="cost",
            )
        )
    key = "code_insee" if candidates is demand else "structure_id"
    cand = CostTable(cost, demand, candidates, supply_key=key)
    if existing is None or not len(existing):
        return cand, None
    rest = np.setdiff1d(np.arange(len(cost)), cand.rows)
    if not len(rest):
        raise InputError(
            Probleme(
                "la table de coûts ne donne aucun coût vers les structures existantes (destination : structure_id)",
                fichier="cost",
            )
        )
    return cand, CostTable(cost.iloc[rest], demand, existing)


def _nearest_of(table: CostTable | None, n: int) -> np.ndarray:
    """Cost to the nearest supply row of the table (inf when none, or no table)."""
    if table is None:
        return np.full(n, np.inf)
    d = nearest_cost(table)[0]
    return np.where(np.isnan(d), np.inf, d)


def _cost_problem(objective, w, cand, ex, radius, max_distance, covered0) -> Any:
    """The (unit, candidate) problem on a cost table; ``finite_base``: every unit has a base cost."""
    m = cand.n_supply
    if objective == "coverage":
        i, j, c = cand.within(radius)
        problem = _Problem("coverage", w, m, i, j, c, covered0)
        problem.finite_base = True
        return problem
    base = _nearest_of(ex, len(w))
    if max_distance is not None:
        base = np.minimum(base, max_distance)
    keep = cand.c < base[cand.i]
    i, j, c = cand.i[keep], cand.j[keep], cand.c[keep]
    finite = np.isfinite(base)
    if not finite.all():  # units with no existing structure nor cap: a constant above every cost
        big = 2.0 * (float(c.max()) if len(c) else 0.0) + 1.0
        base = np.where(finite, base, big)
    problem = _Problem("p-median", w, m, i, j, c, base)
    problem.finite_base = bool(finite.all())
    return problem


def _best_sites_on_costs(
    demand, candidates, existing, cost, w, k, radius, objective, method, max_distance, time_limit, improve, starts
) -> gpd.GeoDataFrame:
    """:func:`best_sites` on a cost table (``cost=``)."""
    cand, ex = _cost_tables(cost, demand, candidates, existing)
    n = len(w)
    covered0 = np.zeros(n, dtype=bool)
    if ex is not None:
        covered0[ex.within(radius)[0]] = True
    problem = _cost_problem(objective, w, cand, ex, radius, max_distance, covered0)
    attrs: dict = {}
    bound = greedy_value = np.nan
    if method == "greedy":
        chosen, gains, value, bound = _greedy(problem, k)
        greedy_value = value
        if improve and len(chosen) == k:
            chosen, gains, value = _improve_by_swaps(problem, k, chosen, gains, value, starts, attrs)
        else:
            attrs.update(
                {"echanges": bool(improve), "nb_echanges": 0, "passes_echanges": 0, "departs": 0, "depart_retenu": 0}
            )
    else:
        chosen, gains, value = _solve_exact(problem, k, time_limit, attrs)
    if len(chosen) < k:
        warnings.warn(
            f"best_sites : seuls {len(chosen)} site(s) sur {k} améliorent l'objectif ; les autres n'apporteraient rien",
            CouvertureWarning,
            stacklevel=3,
        )
    _objective_attrs(attrs, problem, objective, method, w, value, bound, greedy_value, has_base=problem.finite_base)
    chosen_arr = np.asarray(chosen, dtype=np.intp)
    rank = np.full(cand.n_supply, -1, dtype=np.intp)
    rank[chosen_arr] = np.arange(len(chosen_arr))
    ri, rj, _ = cand.within(radius)
    sel = rank[rj] >= 0

    def dist_of(t: int) -> np.ndarray:
        d = np.full(n, np.inf)
        on = cand.j == chosen_arr[t]
        d[cand.i[on]] = cand.c[on]
        return d

    costs = (ri[sel], rank[rj[sel]], _nearest_of(ex, n), dist_of)
    dem_xy = analysis_points(demand, "demand")
    cand_xy = analysis_points(candidates, "demand" if candidates is demand else "candidates")
    gdf = _report(
        demand,
        candidates,
        dem_xy,
        cand_xy,
        np.empty((0, 2)),
        w,
        covered0,
        chosen,
        gains,
        radius,
        objective,
        method,
        max_distance,
        attrs,
        costs,
    )
    unit = str(cost.attrs.get("unite", "minutes"))
    gdf = gdf.rename(columns={"distance_moyenne_m": "cout_moyen"})
    a = gdf.attrs
    a["rayon"] = a.pop("rayon_m")
    a["cout_moyen_initial"] = a.pop("distance_moyenne_initiale_m")
    a.update({"mesure": "cout", "unite_cout": unit})
    u = a["unites"]
    u.pop("distance_moyenne_m", None)
    u["cout_moyen"] = f"{unit} (pondéré par la population)"
    if objective != "coverage":
        u["gain"] = u["valeur_objectif"] = f"habitants × {unit}"
    return gdf


def _check_search(objective: str, improve: Any, starts: Any) -> bool:
    """The swap-search options of :func:`best_sites` (``improve`` default: True for the p-median)."""
    if improve is None:
        improve = objective == "p-median"
    elif not isinstance(improve, (bool, np.bool_)):
        raise InputError(Probleme(f"True ou False attendu, reçu {improve!r}", fichier="improve"))
    if isinstance(starts, bool) or not isinstance(starts, (int, np.integer)) or starts < 1:
        raise InputError(
            Probleme(
                f"un nombre entier de départs supérieur ou égal à 1 est attendu, reçu {starts!r}", fichier="starts"
            )
        )
    return bool(improve)


def _site_layers(demand: gpd.GeoDataFrame, candidates: Any, existing: Any) -> tuple[Any, str, Any]:
    """Candidates (default: the demand units), their name in messages, and the existing structures."""
    if candidates is None:
        candidates, cand_name = demand, "demand"
    else:
        check_layer(candidates, "candidates")
        candidates = align_crs(candidates, demand.crs, "candidates")
        cand_name = "candidates"
    if len(candidates) == 0:
        raise InputError(Probleme("aucun site candidat", fichier="candidates"))
    if existing is not None:
        check_layer(existing, "existing")
        existing = align_crs(existing, demand.crs, "existing")
    return candidates, cand_name, existing


def _build_problem(
    objective: str,
    w: np.ndarray,
    dem_xy: np.ndarray,
    cand_xy: np.ndarray,
    ex_xy: np.ndarray,
    radius: float,
    max_distance: float | None,
    covered0: np.ndarray,
) -> Any:
    """The sparse (unit, candidate) problem of the objective."""
    n, m = len(dem_xy), len(cand_xy)
    if objective == "coverage":
        i, j, d = _pairs_within(dem_xy, cand_xy, radius)
        return _Problem("coverage", w, m, i, j, d, covered0)
    base = _nearest(dem_xy, ex_xy)
    if max_distance is not None:
        base = np.minimum(base, max_distance)
    if np.isfinite(base).all():
        i, j, d = _pairs_below(dem_xy, cand_xy, base)
    else:  # no existing structure and no cap: every pair
        if n * m > MAX_DENSE_PAIRS:
            raise InputError(
                Probleme(
                    f"p-médiane sans structure existante ni distance maximale : {n} × {m} "
                    "couples à évaluer, c'est trop ; indiquez existing= ou max_distance=",
                    fichier="max_distance",
                )
            )
        i, j = np.divmod(np.arange(n * m, dtype=np.intp), m)
        d = np.hypot(*(dem_xy[i] - cand_xy[j]).T)
        big = 2.0 * (float(d.max()) if len(d) else 0.0) + 1.0
        base = np.where(np.isfinite(base), base, big)
    return _Problem("p-median", w, m, i, j, d, base)


def _improve_by_swaps(
    problem: Any, k: int, chosen: Any, gains: Any, value: float, starts: int, attrs: dict
) -> tuple[Any, Any, float]:
    """Swap search from the greedy set and from a few other greedy starts; the best set, ordered."""
    attrs.update({"echanges": True, "nb_echanges": 0, "passes_echanges": 0, "departs": 0, "depart_retenu": 0})
    m = problem.m
    first_gains = problem.gains(problem.start())
    order = np.argsort(-first_gains, kind="stable")
    firsts = [None] + [int(c) for c in order[1:starts] if first_gains[c] > 0]
    best = None
    total_passes = 0
    for r, first in enumerate(firsts):  # a few starts
        start = chosen if first is None else _greedy(problem, k, first=first)[0]
        if len(start) < k:  # pragma: no cover - nothing more to gain
            continue
        swapped, v_r, n_swaps, n_passes = _swap(problem, start)
        total_passes += n_passes
        if v_r is not None and (best is None or v_r > best[1] + 1e-12 * max(abs(best[1]), 1.0)):
            best = (swapped, v_r, n_swaps, r)
    attrs.update({"passes_echanges": total_passes, "departs": len(firsts)})
    if best is not None and (best[2] or best[3]):
        attrs.update({"nb_echanges": best[2], "depart_retenu": best[3]})
        allowed = np.zeros(m, dtype=bool)
        allowed[best[0]] = True
        chosen, gains, value, _ = _greedy(problem, k, allowed)  # order the final set
    logger.info(
        "best_sites (échanges) : %d départ(s), %d échange(s), %d passe(s), gain %.6g",
        len(firsts),
        attrs["nb_echanges"],
        total_passes,
        value,
    )
    return chosen, gains, value


def _solve_exact(problem: Any, k: int, time_limit: float, attrs: dict) -> tuple[Any, Any, float]:
    """The MILP solution (HiGHS), ordered; the greedy one, with a warning, when none is found."""
    chosen, status, gap = _milp(problem, k, time_limit)
    if chosen is None:  # pragma: no cover - HiGHS found nothing in the time allowed
        warnings.warn(
            f"best_sites : le solveur exact n'a pas trouvé de solution ({status}) ; solution gloutonne renvoyée",
            CouvertureWarning,
            stacklevel=3,
        )
        chosen, gains, value, _ = _greedy(problem, k)
        status = "glouton (repli)"
    else:
        if status != "optimal":
            warnings.warn(
                f"best_sites : limite de temps atteinte ({time_limit:g} s), solution non "
                f"prouvée optimale (écart relatif {gap if gap is not None else float('nan'):.2%})",
                CouvertureWarning,
                stacklevel=3,
            )
        allowed = np.zeros(problem.m, dtype=bool)
        allowed[chosen] = True
        chosen, gains, value, _ = _greedy(problem, k, allowed)  # order the optimal set
    attrs["statut"] = status
    return chosen, gains, value


def _objective_attrs(
    attrs: dict,
    problem: Any,
    objective: str,
    method: str,
    w: np.ndarray,
    value: float,
    bound: float,
    greedy_value: float,
    has_base: bool,
) -> None:
    """Objective value, bound on the optimum and gap, in the objective's own unit."""
    if objective == "coverage":
        attrs["valeur_objectif"] = value
        attrs["borne_optimum"] = bound
        attrs["ecart_max_pct"] = 100.0 * (bound - value) / bound if bound > 0 else 0.0
    else:
        # the objective minimised: sum_i w_i min(d_i, max_distance), habitant x metre
        base_total = float(np.dot(w, problem.base)) if has_base else np.nan
        cost = base_total - value if has_base else np.nan
        lower = base_total - bound if has_base else np.nan
        attrs["valeur_objectif"] = cost
        attrs["borne_optimum"] = lower
        attrs["ecart_max_pct"] = 100.0 * (cost - lower) / lower if lower > 0 else np.nan
    if method == "greedy":
        if objective == "coverage":
            attrs["valeur_objectif_glouton"] = greedy_value
        else:
            # sum_i w_i min(d_i, cap): exact also without a network (c_i = a constant above every d)
            attrs["valeur_objectif_glouton"] = float(np.dot(w, problem.base)) - greedy_value
    else:
        attrs["borne_optimum"] = attrs["valeur_objectif"]
        attrs["ecart_max_pct"] = 0.0 if attrs["statut"] == "optimal" else np.nan


def _report(
    demand: Any,
    candidates: Any,
    dem_xy: Any,
    cand_xy: Any,
    ex_xy: Any,
    w: Any,
    covered0: Any,
    chosen: Any,
    gains: Any,
    radius: Any,
    objective: Any,
    method: Any,
    max_distance: Any,
    attrs: Any,
    costs: Any = None,
) -> gpd.GeoDataFrame:
    """The chosen sites with what each one adds (independent of the solver's bookkeeping).

    ``costs``: None (straight lines) or ``(si, sj, dist0, dist_of)``: the
    (unit, rank) pairs within the radius, the cost to the nearest existing
    structure and ``dist_of(t)``, the cost of every unit to the ``t``-th site.
    """
    chosen = np.asarray(chosen, dtype=np.intp)
    site_xy = cand_xy[chosen]
    total = float(w.sum())
    # population brought within the radius, site after site
    if costs is None:
        si, sj, _ = _pairs_within(dem_xy, site_xy, radius)
    else:
        si, sj = costs[0], costs[1]
    first = np.full(len(dem_xy), len(chosen), dtype=np.intp)  # rank of the first site reaching i
    np.minimum.at(first, si, sj)
    first[covered0] = -1
    added = np.bincount(first[first >= 0], weights=w[first >= 0], minlength=len(chosen) + 1)[: len(chosen)]
    already = float(w[covered0].sum())
    # population-weighted distance to the nearest structure, site after site (O(n) per site)
    cap = np.inf if max_distance is None else max_distance
    dist = _nearest(dem_xy, ex_xy) if costs is None else costs[2]
    weighted = np.empty(len(chosen) + 1)  # sum w_i min(d_i, cap), before and after each site
    capped = np.minimum(dist, cap)
    weighted[0] = float(np.dot(w, capped)) if np.isfinite(capped).all() else np.nan
    means = np.empty(len(chosen))
    mean0 = float(np.dot(w, dist) / total) if total > 0 and np.isfinite(dist).all() else np.nan
    for t in range(len(chosen)):  # the k picks only
        to_site = np.hypot(*(dem_xy - site_xy[t]).T) if costs is None else costs[3](t)
        dist = np.minimum(dist, to_site)
        means[t] = float(np.dot(w, dist) / total) if total > 0 else np.nan
        weighted[t + 1] = float(np.dot(w, np.minimum(dist, cap)))
    if costs is not None:  # a unit reached by no open site: no mean cost (never in straight lines)
        means[~np.isfinite(means)] = np.nan
        weighted[~np.isfinite(weighted)] = np.nan

    whole = bool(np.all(np.mod(w, 1) == 0))
    out = pd.DataFrame(index=pd.RangeIndex(1, len(chosen) + 1, name="rang"))
    out["candidat"] = candidates.index.to_numpy()[chosen] if len(chosen) else []
    # the candidates' own columns (all of them when given; code and name of the demand units otherwise)
    own = [
        c
        for c in candidates.columns
        if c != candidates.geometry.name and not isinstance(candidates[c].dtype, gpd.array.GeometryDtype)
    ]
    if candidates is demand:
        own = [c for c in ("code_insee", "nom") if c in own]
    reserved = {
        "candidat",
        "population_ajoutee",
        "population_couverte",
        "taux_couverture_pct",
        "distance_moyenne_m",
        "gain",
        "geometry",
    }
    for col in own:
        name = f"{col}_candidat" if col in reserved else col
        out[name] = candidates[col].to_numpy()[chosen] if len(chosen) else []
    cum = already + np.cumsum(added)
    out["population_ajoutee"] = added.round().astype(np.int64) if whole else added
    out["population_couverte"] = cum.round().astype(np.int64) if whole else cum
    out["taux_couverture_pct"] = 100.0 * cum / total if total > 0 else np.nan
    out["distance_moyenne_m"] = means
    if objective == "coverage":
        g = np.asarray(gains, dtype=np.float64)
        out["gain"] = g.round().astype(np.int64) if whole else g
    else:
        out["gain"] = weighted[:-1] - weighted[1:]  # NaN for the first site without a network
    gdf = gpd.GeoDataFrame(out, geometry=shapely.points(site_xy) if len(chosen) else [], crs=demand.crs)
    gdf.attrs.update(attrs)
    gdf.attrs.update(
        {
            "objectif": objective,
            "methode": method,
            "rayon_m": radius,
            "k": int(len(chosen)),
            "population_totale": int(round(total)) if whole else total,
            "population_deja_couverte": int(round(already)) if whole else already,
            "distance_moyenne_initiale_m": mean0,
            "unites": {
                "population_ajoutee": "habitants",
                "population_couverte": "habitants",
                "taux_couverture_pct": "% de la population",
                "distance_moyenne_m": "mètres (à vol d'oiseau, pondérée par la population)",
                "gain": "habitants" if objective == "coverage" else "habitants × mètres",
                "valeur_objectif": "habitants" if objective == "coverage" else "habitants × mètres",
            },
        }
    )
    if objective == "p-median" and len(chosen) and not np.isfinite(gdf.attrs["valeur_objectif"]):
        gdf.attrs["valeur_objectif"] = weighted[-1]
    return gdf


# --------------------------------------------------------------------------- ZVS proposals
def _km(x: float) -> str:
    return f"{x / 1000:.1f}".replace(".", ",") + " km"


def _km_array(x: np.ndarray) -> np.ndarray:
    """``"3,2 km"`` for each distance in metres (object array, vectorised)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return np.empty(0, dtype=object)
    text = np.char.replace(np.char.mod("%.1f", x / 1000), ".", ",")
    return text.astype(object) + " km"


def _coverage_table(units: Any, zones: Any, coverage: Any) -> pd.DataFrame:
    if coverage is None:
        from .coverage import zone_coverage

        return zone_coverage(units, zones)
    if not isinstance(coverage, pd.DataFrame) or not {"couvert", "structures"} <= set(coverage.columns):
        raise InputError(
            Probleme(
                "le résultat de zone_coverage (colonnes couvert, structures) est attendu",
                fichier="coverage",
            )
        )
    if not coverage.index.is_unique or not units.index.isin(coverage.index).all():
        raise InputError(
            Probleme(
                "coverage ne porte pas sur les mêmes unités (index différents) : "
                "calculez-le avec zone_coverage(units, zones)",
                fichier="coverage",
            )
        )
    return coverage.reindex(units.index)


def propose_attachments(
    units: gpd.GeoDataFrame,
    structures: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    coverage: pd.DataFrame | None = None,
    *,
    max_distance: float | None = 10_000.0,
    population_cap: float | None = None,
    tolerance: float = 50.0,
    demand_col: str = "population",
) -> gpd.GeoDataFrame:
    """Propose a structure for each unit outside every ZVS, or flag it for a new one.

    Each uncovered unit is attached to the *nearest* structure (from the
    unit's analysis point to the structure's point) among those

    - whose zone is contiguous with the unit (zone polygon within
      ``tolerance`` metres of the unit's polygon — the generalised contours
      leave slivers, so touching alone is too strict), or with a unit
      already attached to it in an earlier step (zones grow step by step);
    - at ``<= max_distance`` metres;
    - whose zone stays at or under ``population_cap`` inhabitants with the
      unit added (its current population is that of the units it covers).

    Steps: every unattached unit picks its nearest eligible structure; a
    structure accepts its candidates nearest first while the cap holds; the
    zones grow and the next step starts, until nothing changes. A unit left
    without an eligible structure is flagged ``"nouvelle structure"`` with
    the reason.

    Parameters
    ----------
    units : GeoDataFrame
        Units (polygons) with ``code_insee``, ``nom`` and the population.
    structures : GeoDataFrame
        Structures (points) with ``structure_id``.
    zones : GeoDataFrame
        ZVS with ``structure_id`` and polygons.
    coverage : DataFrame, optional
        Result of :func:`~couverture.analysis.coverage.zone_coverage` on
        ``units`` (columns ``couvert`` and ``structures``); computed with the
        default rule when omitted.
    max_distance : float or None, default 10 000
        Metres; ``None``: no limit.
    population_cap : float, optional
        Largest population of a zone after attachment; ``None``: no cap.
    tolerance : float, default 50
        Contiguity tolerance in metres.
    demand_col : str, default "population"
        Population column.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per uncovered unit (units' index and order), geometry = the
        unit's polygon (a map layer; ``.drop(columns="geometry")`` gives the
        table). Columns: ``code_insee``, ``nom``, ``population``,
        ``proposition`` (``"rattachement"`` or ``"nouvelle structure"``),
        ``structure_id`` (proposed structure; empty for a new structure),
        ``distance_m`` (to the proposed structure; for a new structure, to
        the nearest structure, for information), ``raison`` (French),
        ``population_zone_apres`` (inhabitants of the enlarged zone after
        every proposed attachment) and ``etape`` (1: contiguous with the
        current zone; 2 and more: with a unit attached at an earlier step;
        0 for a new structure).

    Examples
    --------
    >>> from shapely.geometry import box, Point
    >>> u = gpd.GeoDataFrame({"code_insee": ["01001", "01002", "01003"], "nom": ["A", "B", "C"],
    ...                       "population": [100, 20, 30]},
    ...     geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(9000, 0, 10000, 1000)],
    ...     crs=2154)
    >>> s = gpd.GeoDataFrame({"structure_id": ["CS1"]}, geometry=[Point(500, 500)], crs=2154)
    >>> z = gpd.GeoDataFrame({"structure_id": ["CS1"]}, geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> p = propose_attachments(u, s, z, max_distance=5000)
    >>> p[["code_insee", "proposition", "structure_id", "distance_m"]].values.tolist()
    [['01002', 'rattachement', 'CS1', 1000.0], ['01003', 'nouvelle structure', None, 9000.0]]
    """
    check_layer(units, "units", columns=[demand_col])
    check_layer(structures, "structures", columns=["structure_id"])
    check_layer(zones, "zones", columns=["structure_id"])
    structures = align_crs(structures, units.crs, "structures")
    zones = align_crs(zones, units.crs, "zones")
    if max_distance is None:
        max_distance = math.inf
    max_distance = _positive(max_distance, "max_distance", allow_inf=True)
    tolerance = _positive(tolerance, "tolerance", allow_zero=True)
    cap = math.inf if population_cap is None else population_cap
    try:
        cap = float(cap)
    except (TypeError, ValueError):
        cap = float("nan")
    if not cap > 0:
        raise InputError(
            Probleme(f"un nombre d'habitants positif est attendu, reçu {population_cap!r}", fichier="population_cap")
        )
    cov = _coverage_table(units, zones, coverage)
    pop = numeric_column(units, demand_col, "units")
    sid = structures["structure_id"].astype(str).to_numpy(dtype=object)
    sid_index = pd.Index(sid)
    if not sid_index.is_unique:
        raise InputError(Probleme("identifiants de structures en double", fichier="structures", colonne="structure_id"))
    s_xy = analysis_points(structures, "structures") if len(structures) else np.empty((0, 2))
    n_s = len(structures)

    # current population of each structure's zone (units it covers)
    lists = cov["structures"].fillna("").astype(str).str.split("; ").explode()
    lists = lists[lists.astype(bool).to_numpy()]
    li = units.index.get_indexer(lists.index)
    ls = sid_index.get_indexer(lists.to_numpy(dtype=object))
    ok = ls >= 0
    zone_pop = np.bincount(ls[ok], weights=pop[li[ok]], minlength=n_s)
    remaining = cap - zone_pop

    couvert = cov["couvert"].fillna(False).astype(bool).to_numpy()
    rows = np.flatnonzero(~couvert)
    nu = len(rows)
    u_geoms = np.asarray(units.geometry.values, dtype=object)[rows]
    u_xy = analysis_points(units, "units")[rows]
    u_pop = pop[rows]

    # contiguity: unit -> structure through its zone polygon
    z_geoms = np.asarray(zones.geometry.values, dtype=object)
    z_s = sid_index.get_indexer(zones["structure_id"].astype(str).to_numpy(dtype=object))
    if len(z_geoms) and nu:
        a, b = shapely.STRtree(z_geoms).query(u_geoms, predicate="dwithin", distance=tolerance)
        a, b = a[z_s[b] >= 0], z_s[b[z_s[b] >= 0]]
    else:
        a, b = np.empty(0, np.intp), np.empty(0, np.intp)
    pair_u, pair_s = a.astype(np.intp), b.astype(np.intp)
    # contiguity between uncovered units (for zones growing step by step)
    if nu:
        ua, ub = shapely.STRtree(u_geoms).query(u_geoms, predicate="dwithin", distance=tolerance)
        adj = ua != ub
        ua, ub = ua[adj], ub[adj]
    else:
        ua = ub = np.empty(0, np.intp)

    assigned = np.full(nu, -1, dtype=np.intp)
    step = np.zeros(nu, dtype=np.intp)
    dist_to = np.full(nu, np.nan)
    t = 0
    seen_u, seen_s = pair_u, pair_s
    while True:  # steps (zones growing), not rows
        t += 1
        if len(pair_u):
            key = np.unique(np.c_[pair_u, pair_s], axis=0)
            pair_u, pair_s = key[:, 0], key[:, 1]
        d = np.hypot(*(u_xy[pair_u] - s_xy[pair_s]).T) if len(pair_u) else np.empty(0)
        ok = (assigned[pair_u] < 0) & (d <= max_distance) & (u_pop[pair_u] <= remaining[pair_s])
        if not ok.any():
            break
        cu, cs, cd = pair_u[ok], pair_s[ok], d[ok]
        order = np.lexsort((cs, cd, cu))  # per unit: nearest, then first structure
        cu, cs, cd = cu[order], cs[order], cd[order]
        first = np.r_[True, cu[1:] != cu[:-1]]
        cu, cs, cd = cu[first], cs[first], cd[first]
        order = np.lexsort((cu, cd, cs))  # per structure: nearest units first
        cu, cs, cd = cu[order], cs[order], cd[order]
        cum = np.cumsum(u_pop[cu])
        start = np.r_[True, cs[1:] != cs[:-1]]
        offset = np.maximum.accumulate(np.where(start, cum - u_pop[cu], 0.0))
        accept = (cum - offset) <= remaining[cs]
        cu, cs, cd = cu[accept], cs[accept], cd[accept]
        assigned[cu] = cs
        step[cu] = t
        dist_to[cu] = cd
        np.subtract.at(remaining, cs, u_pop[cu])
        # units next to a newly attached unit become contiguous with its structure
        grow = np.isin(ub, cu) & (assigned[ua] < 0)
        pair_u = np.r_[pair_u, ua[grow]]
        pair_s = np.r_[pair_s, assigned[ub[grow]]]
        seen_u, seen_s = pair_u, pair_s

    # reasons for the units left without a structure
    left = assigned < 0
    has_pair = np.zeros(nu, dtype=bool)
    has_pair[seen_u] = True
    d_seen = np.hypot(*(u_xy[seen_u] - s_xy[seen_s]).T) if len(seen_u) else np.empty(0)
    near_contig = np.full(nu, np.inf)
    np.minimum.at(near_contig, seen_u, d_seen)
    d_any = _nearest(u_xy, s_xy)
    nearest_any = np.full(nu, -1, dtype=np.intp)
    if n_s and nu:
        _, nearest_any = cKDTree(s_xy).query(u_xy, k=1)

    prop = np.where(left, "nouvelle structure", "rattachement").astype(object)
    structure_out = np.full(nu, None, dtype=object)
    structure_out[~left] = sid[assigned[~left]]
    distance = np.where(left, d_any, dist_to)
    distance = np.where(np.isfinite(distance), distance, np.nan)
    zone_after = np.full(nu, np.nan)
    final_pop = (
        (cap - remaining)
        if math.isfinite(cap)
        else zone_pop + np.bincount(assigned[~left], weights=u_pop[~left], minlength=n_s)
    )
    zone_after[~left] = final_pop[assigned[~left]]

    raison = np.full(nu, "", dtype=object)
    maxd = "sans limite" if math.isinf(max_distance) else _km(max_distance)
    att = ~left
    if att.any():
        base = np.where(
            step[att] == 1,
            "ZVS de " + structure_out[att] + " contiguë",
            "contiguë à la ZVS agrandie de "
            + structure_out[att]
            + " (étape "
            + step[att].astype(str).astype(object)
            + ")",
        )
        raison[att] = base + ", structure à " + _km_array(distance[att])
    if left.any() and n_s:
        near_txt = " ; structure la plus proche : " + sid[nearest_any] + " à " + _km_array(d_any)
    else:
        near_txt = np.full(nu, " ; aucune structure", dtype=object)
    no_contig = left & ~has_pair
    too_far = left & has_pair & (near_contig > max_distance)
    capped = left & has_pair & ~too_far
    raison[no_contig] = f"aucune ZVS contiguë (à {tolerance:g} m près)" + near_txt[no_contig]
    raison[too_far] = "structure contiguë la plus proche à " + _km_array(near_contig[too_far]) + f" (au-delà de {maxd})"
    cap_txt = f"{cap:,.0f}".replace(",", "\u202f") if math.isfinite(cap) else ""
    raison[capped] = f"plafond de population ({cap_txt} hab.) atteint par les zones contiguës"

    out = pd.DataFrame(index=units.index[rows])
    for col in ("code_insee", "nom"):
        out[col] = units[col].to_numpy()[rows] if col in units.columns else None
    out["population"] = integer_if_whole(u_pop)
    out["proposition"] = pd.Series(prop, index=out.index, dtype=object)
    out["structure_id"] = pd.Series(structure_out, index=out.index, dtype=object)
    out["distance_m"] = distance
    out["raison"] = pd.Series(raison, index=out.index, dtype=object)
    out["population_zone_apres"] = zone_after
    out["etape"] = np.where(left, 0, step).astype(np.int64)
    gdf = gpd.GeoDataFrame(out, geometry=list(u_geoms), crs=units.crs)
    gdf.attrs["unites"] = {
        "population": "habitants",
        "distance_m": "mètres (à vol d'oiseau)",
        "population_zone_apres": "habitants",
    }
    gdf.attrs.update({"max_distance_m": max_distance, "population_cap": cap, "tolerance_m": tolerance})
    return gdf
