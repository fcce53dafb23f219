"""Equity indicators: how evenly an indicator is shared among the population.

Every index takes the values of an indicator per unit (distance to the nearest
structure in metres, 2SFCA accessibility, coverage 0/1...) and, optionally,
weights. With ``weights`` (normally the units' population) each unit counts
for its inhabitants, i.e. the result is exactly the index computed on the data
where each unit is repeated ``weight`` times (``np.repeat(values, weights)``
for integer weights). Without weights each unit counts once.

Definitions (``w`` weights, ``W = sum(w)``, ``mu = sum(w x) / W``):

- **Gini**: mean absolute difference over twice the mean,
  ``G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu)``. This is the
  "population" form divided by ``n`` (not ``n - 1``), the same number as
  PySAL ``inequality.gini.Gini``: 0 for perfect equality, ``(n - 1) / n``
  when one of ``n`` equal-weight units holds everything. Computed from the
  sorted values and a cumulative sum of the weights.
- **Theil T**: ``T = sum_i (w_i / W) (x_i / mu) ln(x_i / mu)`` with the
  convention ``0 ln 0 = 0`` (a unit at zero contributes nothing; PySAL adds a
  tiny number instead, which gives the same value to ~1e-300). 0 for equality,
  ``ln n`` when one of ``n`` equal-weight units holds everything.
- **Atkinson** with inequality aversion ``epsilon >= 0``:
  ``A = 1 - EDE / mu`` with the equally-distributed equivalent
  ``EDE = (sum_i (w_i / W) x_i^(1 - epsilon))^(1 / (1 - epsilon))``
  (geometric mean when ``epsilon = 1``). When some unit has the value 0 and
  ``epsilon >= 1``, the EDE (social welfare) is 0 and the index is **1**
  (maximal inequality); with ``epsilon < 1`` zeros are fine.
- **Coefficient of variation**: population standard deviation (divided by
  ``W``, ``ddof = 0``) over the mean.
- **Hoover** (Robin Hood) index: ``H = sum_i w_i |x_i - mu| / (2 W mu)``, the
  share of the total that would have to move for everyone to get the mean.
- **Interdecile ratio D9/D1** with weighted quantiles defined by the inverted
  cumulative distribution: the quantile ``p`` is the smallest value ``v`` such
  that the weight of the units with a value ``<= v`` is at least ``p W`` (the
  INSEE convention for deciles; ``numpy.quantile(..., method="inverted_cdf")``).
- **Share below a threshold**: weight of the units with a value ``< threshold``
  (``<=`` with ``inclusive=True``) over ``W``, a fraction in [0, 1].

All indices of relative inequality refuse negative values, missing (NaN) or
infinite values and a zero mean with a French :class:`~couverture.errors.InputError`.
Units with a zero weight are ignored.

Examples
--------
>>> gini([1, 1, 1, 1])
0.0
>>> round(gini([0, 0, 0, 8]), 4)
0.75
>>> round(gini([1, 3], weights=[3, 1]), 4) == round(gini([1, 1, 1, 3]), 4)
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, Probleme

logger = logging.getLogger(__name__)

__all__ = [
    "gini",
    "theil",
    "atkinson",
    "coefficient_variation",
    "hoover",
    "ratio_deciles",
    "share_below",
    "weighted_quantile",
    "lorenz",
    "theil_decomposition",
    "TheilDecomposition",
    "equity_report",
    "LIBELLES",
]

#: Row labels of :func:`equity_report` (key -> French label shown to users).
LIBELLES: dict[str, str] = {
    "n_unites": "Nombre d'unités",
    "population": "Population",
    "moyenne": "Moyenne",
    "gini": "Gini",
    "theil": "Theil",
    "atkinson": "Atkinson (ε = {epsilon})",
    "cv": "Coefficient de variation",
    "hoover": "Indice de Hoover",
    "d9_d1": "Rapport interdécile D9/D1",
    "sous_seuil": "Part de la population sous le seuil",
    "part_inter": "Part de l'inégalité entre groupes (Theil)",
}

#: Column of :func:`equity_report` holding the figures of the whole territory.
ENSEMBLE = "Ensemble"
#: Group of the units whose group value is missing.
NON_RENSEIGNE = "(non renseigné)"

ArrayLike = Any  # list, numpy array, pandas Series


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


# one validator for the whole package: the checks of values and weights live in ``_validate``
from .._validate import aligned_weights as _aligned_weights  # noqa: E402
from .._validate import values_and_weights as _prepare  # noqa: E402  (kept name, used below)


def _mean_or_raise(x: np.ndarray, w: np.ndarray, index: str, name: str = "valeurs") -> float:
    mu = float(np.dot(w, x) / w.sum())
    if mu == 0.0:
        raise InputError(
            f"{name} : toutes les valeurs (des unités de poids non nul) sont nulles ; "
            f"{index} suppose une moyenne non nulle"
        )
    return mu


# ---------------------------------------------------------------------------
# kernels: validated, non-negative x, positive w; NaN when the mean is 0
# ---------------------------------------------------------------------------


def _gini_k(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cw = np.cumsum(ws)
    total_w = cw[-1]
    wx = ws * xs
    total_wx = wx.sum()
    if total_wx == 0:
        return np.nan
    # sum_i sum_j w_i w_j |x_i - x_j| = 2 sum_i w_i x_i (2 C_i - w_i - W)
    return float(np.dot(wx, 2.0 * cw - ws - total_w) / (total_w * total_wx))


def _theil_k(x: np.ndarray, w: np.ndarray) -> float:
    total_w = w.sum()
    mu = np.dot(w, x) / total_w
    if mu == 0:
        return np.nan
    r = x / mu
    pos = r > 0
    term = np.zeros_like(r)
    term[pos] = r[pos] * np.log(r[pos])
    return float(np.dot(w, term) / total_w)


def _atkinson_k(x: np.ndarray, w: np.ndarray, epsilon: float) -> float:
    total_w = w.sum()
    mu = np.dot(w, x) / total_w
    if mu == 0:
        return np.nan
    if epsilon == 0:
        return 0.0
    r = x / mu
    if epsilon >= 1 and (r == 0).any():
        return 1.0  # zero welfare (EDE = 0)
    if epsilon == 1:
        ede = np.exp(np.dot(w, np.log(r)) / total_w)
    else:
        ede = (np.dot(w, r ** (1.0 - epsilon)) / total_w) ** (1.0 / (1.0 - epsilon))
    return float(1.0 - ede)


def _cv_k(x: np.ndarray, w: np.ndarray) -> float:
    total_w = w.sum()
    mu = np.dot(w, x) / total_w
    if mu == 0:
        return np.nan
    var = np.dot(w, (x - mu) ** 2) / total_w
    return float(np.sqrt(var) / mu)


def _hoover_k(x: np.ndarray, w: np.ndarray) -> float:
    total_w = w.sum()
    mu = np.dot(w, x) / total_w
    if mu == 0:
        return np.nan
    return float(np.dot(w, np.abs(x - mu)) / (2.0 * total_w * mu))


def _quantile_k(x: np.ndarray, w: np.ndarray, q: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cdf = np.cumsum(ws)
    cdf = cdf / cdf[-1]
    idx = np.searchsorted(cdf, q, side="left")
    return xs[np.minimum(idx, len(xs) - 1)]


def _ratio_k(x: np.ndarray, w: np.ndarray) -> float:
    d1, d9 = _quantile_k(x, w, np.array([0.1, 0.9]))
    if d1 == 0:
        return np.inf if d9 > 0 else np.nan
    return float(d9 / d1)


def _share_below_k(x: np.ndarray, w: np.ndarray, threshold: float, inclusive: bool) -> float:
    below = x <= threshold if inclusive else x < threshold
    return float(w[below].sum() / w.sum())


# ---------------------------------------------------------------------------
# public indices
# ---------------------------------------------------------------------------


def gini(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Gini index (population-weighted when ``weights`` are given).

    ``G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu)``: 0 when every unit has
    the same value, ``(n - 1) / n`` when one of ``n`` units holds everything
    (the form with ``n``, as PySAL ``inequality.gini.Gini``).

    Parameters
    ----------
    values : array-like
        Non-negative values of the indicator, one per unit.
    weights : array-like, optional
        Non-negative weights (population) of the units.

    Returns
    -------
    float

    Raises
    ------
    InputError
        Negative, missing or infinite values, all values zero, weights of
        another length, negative or all zero.

    Examples
    --------
    >>> gini([1, 3])
    0.25
    >>> gini([0, 0, 0, 10])
    0.75
    >>> gini([1, 3], weights=[3, 1])
    0.25
    """
    x, w = _prepare(values, weights, index="l'indice de Gini")
    _mean_or_raise(x, w, "l'indice de Gini")
    return _gini_k(x, w)


def theil(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Theil T index (population-weighted when ``weights`` are given).

    ``T = sum_i (w_i / W) (x_i / mu) ln(x_i / mu)``, with ``0 ln 0 = 0``: a unit
    at zero contributes nothing. 0 for perfect equality, ``ln n`` when one of
    ``n`` equal-weight units holds everything.

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit.
    weights : array-like, optional
        Non-negative weights (population).

    Returns
    -------
    float

    Examples
    --------
    >>> theil([2, 2, 2])
    0.0
    >>> import math
    >>> math.isclose(theil([0, 0, 5]), math.log(3))
    True
    """
    x, w = _prepare(values, weights, index="l'indice de Theil")
    _mean_or_raise(x, w, "l'indice de Theil")
    return _theil_k(x, w)


def atkinson(values: ArrayLike, epsilon: float = 0.5, weights: ArrayLike | None = None) -> float:
    """Atkinson index with inequality aversion ``epsilon``.

    ``A = 1 - EDE / mu`` where the equally-distributed equivalent is the
    power mean of order ``1 - epsilon`` (the geometric mean for
    ``epsilon = 1``). ``epsilon = 0`` gives 0 (no aversion).

    Zeros: with ``epsilon < 1`` they are ordinary values; with
    ``epsilon >= 1`` a single unit at 0 (with a positive weight) makes the
    social welfare 0 and the index **1** (maximal inequality). PySAL
    ``inequality.atkinson`` refuses zeros instead.

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit.
    epsilon : float, default 0.5
        Inequality aversion, ``>= 0``.
    weights : array-like, optional
        Non-negative weights (population).

    Returns
    -------
    float

    Examples
    --------
    >>> round(atkinson([10, 20, 30, 40, 50]), 5)
    0.06315
    >>> atkinson([0, 1, 2], epsilon=1)
    1.0
    >>> atkinson([4, 4], epsilon=2)
    0.0
    """
    try:
        eps = float(epsilon)
    except (TypeError, ValueError):
        raise InputError(f"epsilon : un nombre positif ou nul est attendu, reçu {epsilon!r}") from None
    if not np.isfinite(eps) or eps < 0:
        raise InputError(f"epsilon : l'aversion à l'inégalité doit être positive ou nulle, reçu {epsilon!r}")
    x, w = _prepare(values, weights, index="l'indice d'Atkinson")
    _mean_or_raise(x, w, "l'indice d'Atkinson")
    return _atkinson_k(x, w, eps)


def coefficient_variation(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Coefficient of variation: standard deviation over the mean.

    The standard deviation is the population one (divided by the total
    weight, ``ddof = 0``), so the weighted result equals the unweighted one
    on the data expanded by integer weights.

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit.
    weights : array-like, optional
        Non-negative weights (population).

    Returns
    -------
    float

    Examples
    --------
    >>> coefficient_variation([1, 3])
    0.5
    >>> coefficient_variation([5, 5, 5])
    0.0
    """
    x, w = _prepare(values, weights, index="le coefficient de variation")
    _mean_or_raise(x, w, "le coefficient de variation")
    return _cv_k(x, w)


def hoover(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Hoover (Robin Hood) index: share of the total to move to reach equality.

    ``H = sum_i w_i |x_i - mu| / (2 W mu)``, equal to half the sum of the
    absolute gaps between each unit's share of the total and its share of the
    population. 0 for equality, ``(n - 1) / n`` when one of ``n`` units holds
    everything.

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit.
    weights : array-like, optional
        Non-negative weights (population).

    Returns
    -------
    float

    Examples
    --------
    >>> hoover([1, 3])
    0.25
    >>> hoover([0, 0, 0, 4])
    0.75
    """
    x, w = _prepare(values, weights, index="l'indice de Hoover")
    _mean_or_raise(x, w, "l'indice de Hoover")
    return _hoover_k(x, w)


def weighted_quantile(
    values: ArrayLike, q: float | Sequence[float], weights: ArrayLike | None = None
) -> float | np.ndarray:
    """Weighted quantile(s) by the inverted cumulative distribution.

    The quantile ``p`` is the smallest value ``v`` such that the units with a
    value ``<= v`` weigh at least ``p`` times the total weight; without
    weights it is ``numpy.quantile(values, p, method="inverted_cdf")``.

    Parameters
    ----------
    values : array-like
        Values, one per unit (negative values allowed).
    q : float or sequence of float
        Probabilities in [0, 1].
    weights : array-like, optional
        Non-negative weights (population).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> weighted_quantile([1, 2, 3, 4], 0.5)
    2.0
    >>> weighted_quantile([1, 2, 3, 4], [0.1, 0.9], weights=[1, 1, 1, 7]).tolist()
    [1.0, 4.0]
    """
    qa = np.asarray(q, dtype="float64")
    if np.isnan(qa).any() or (qa < 0).any() or (qa > 1).any():
        raise InputError(f"q : des probabilités entre 0 et 1 sont attendues, reçu {q!r}")
    x, w = _prepare(values, weights, index=None)
    out = _quantile_k(x, w, np.atleast_1d(qa))
    return float(out[0]) if qa.ndim == 0 else out


def ratio_deciles(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Interdecile ratio D9/D1 with weighted deciles (inverted cumulative distribution).

    D1 (resp. D9) is the smallest value such that at least 10 % (resp. 90 %)
    of the population has a value lower or equal (see
    :func:`weighted_quantile`). When D1 is 0 the ratio is ``inf`` (``nan``
    when D9 is 0 too).

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit.
    weights : array-like, optional
        Non-negative weights (population).

    Returns
    -------
    float

    Examples
    --------
    >>> ratio_deciles(range(1, 11))
    9.0
    >>> ratio_deciles([0, 1, 2])
    inf
    """
    x, w = _prepare(values, weights, index="le rapport interdécile")
    _mean_or_raise(x, w, "le rapport interdécile")
    return _ratio_k(x, w)


def share_below(
    values: ArrayLike,
    threshold: float,
    weights: ArrayLike | None = None,
    *,
    inclusive: bool = False,
) -> float:
    """Share of the population (or of the units) with a value below ``threshold``.

    Parameters
    ----------
    values : array-like
        Values, one per unit (negative values allowed).
    threshold : float
        Units with a value ``< threshold`` count (``<=`` when ``inclusive``).
    weights : array-like, optional
        Non-negative weights (population).
    inclusive : bool, default False

    Returns
    -------
    float
        A fraction in [0, 1].

    Examples
    --------
    >>> share_below([1, 2, 3, 4], 3, weights=[10, 20, 30, 40])
    0.3
    >>> share_below([1, 2, 3, 4], 3, weights=[10, 20, 30, 40], inclusive=True)
    0.6
    """
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise InputError(f"seuil : un nombre est attendu, reçu {threshold!r}") from None
    if np.isnan(t):
        raise InputError("seuil : un nombre est attendu, reçu NaN")
    x, w = _prepare(values, weights, index=None)
    return _share_below_k(x, w, t, inclusive)


def lorenz(values: ArrayLike, weights: ArrayLike | None = None) -> pd.DataFrame:
    """Points of the Lorenz curve, from (0, 0) to (1, 1).

    Units are sorted by increasing value; each point gives the cumulative
    share of the population (``part_population``) and the cumulative share of
    the total value (``part_valeur``) up to and including that unit. Twice the
    area between the equality line and this piecewise-linear curve is the
    :func:`gini` index.

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit (not all zero).
    weights : array-like, optional
        Non-negative weights (population); zero-weight units are dropped.

    Returns
    -------
    DataFrame
        ``n + 1`` rows, columns ``part_population`` and ``part_valeur``;
        ``attrs["gini"]`` is the :func:`gini` index and ``attrs["pondere"]``
        says whether weights were given (for :func:`couverture.maps.plot_lorenz`).

    Examples
    --------
    >>> curve = lorenz([3, 1])
    >>> curve.values.tolist(), curve.attrs["gini"]
    ([[0.0, 0.0], [0.5, 0.25], [1.0, 1.0]], 0.25)
    """
    x, w = _prepare(values, weights, index="la courbe de Lorenz")
    _mean_or_raise(x, w, "la courbe de Lorenz")
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cw = np.cumsum(ws)
    cwx = np.cumsum(ws * xs)
    curve = pd.DataFrame(
        {
            "part_population": np.r_[0.0, cw / cw[-1]],
            "part_valeur": np.r_[0.0, cwx / cwx[-1]],
        }
    )
    curve.attrs["gini"] = _gini_k(x, w)
    curve.attrs["pondere"] = weights is not None
    return curve


# ---------------------------------------------------------------------------
# Theil decomposition
# ---------------------------------------------------------------------------


def _group_codes(groups: ArrayLike, n: int, name: str = "groupes") -> tuple[np.ndarray, pd.Index]:
    """Integer code per unit and sorted group labels; missing -> "(non renseigné)"."""
    if isinstance(groups, (pd.Series, pd.Index)):
        g = groups
    else:
        g = np.asarray(groups, dtype=object)
        if g.ndim != 1:
            raise InputError(f"{name} : une série à une dimension est attendue")
    if len(g) != n:
        raise InputError(f"{name} : {len(g)} groupes pour {n} valeurs ; un groupe par unité est attendu")
    codes, uniques = pd.factorize(g, sort=True, use_na_sentinel=True)
    labels = list(uniques)
    codes = np.asarray(codes, dtype=np.intp)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(NON_RENSEIGNE)
    level = groups.name if isinstance(groups, pd.Series) and groups.name is not None else "groupe"
    return codes, pd.Index(labels, name=level, dtype=object)


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil T split into a between-group and a within-group part.

    Attributes
    ----------
    total : float
        Theil T of all units (``between + within``).
    between : float
        Theil T of the group means: ``sum_g s_g ln(mu_g / mu)``.
    within : float
        ``sum_g s_g T_g``, the Theil of each group weighted by its share of
        the total value ``s_g``.
    share_between : float
        ``between / total`` (a fraction; NaN when ``total`` is 0).
    groups : DataFrame
        One row per group (index: group labels, sorted): ``n_unites``,
        ``poids`` (population, or number of units without weights),
        ``part_population``, ``moyenne``, ``part_valeur`` (``s_g``),
        ``theil_intra`` (``T_g``, NaN when the group's mean is 0),
        ``contribution_inter`` (``s_g ln(mu_g / mu)``, negative for groups
        below the mean), ``contribution_intra`` (``s_g T_g``),
        ``contribution`` (their sum; the column sums to ``total``) and
        ``part_contribution`` (``contribution / total``).
    """

    total: float
    between: float
    within: float
    share_between: float
    groups: pd.DataFrame

    @property
    def share_within(self) -> float:
        """``within / total`` (NaN when ``total`` is 0)."""
        return 1.0 - self.share_between

    def __str__(self) -> str:
        def pct(v: float) -> str:
            return "n.d." if np.isnan(v) else f"{100 * v:.1f} %".replace(".", ",")

        return (
            f"Theil total {self.total:.4f} : {pct(self.share_between)} entre groupes, "
            f"{pct(self.share_within)} à l'intérieur des groupes".replace(".", ",")
        )


def theil_decomposition(values: ArrayLike, groups: ArrayLike, weights: ArrayLike | None = None) -> TheilDecomposition:
    """Decompose Theil T into inequality between groups and within groups.

    ``T = sum_g s_g ln(mu_g / mu) + sum_g s_g T_g`` where ``s_g`` is the
    group's share of the total value, ``mu_g`` its (weighted) mean and
    ``T_g`` its own Theil index. Without weights ``between`` and ``within``
    are PySAL ``inequality.theil.TheilD``'s ``bg`` and ``wg``.

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit.
    groups : array-like
        Group of each unit (EPCI...). Missing labels form the group
        ``"(non renseigné)"``.
    weights : array-like, optional
        Non-negative weights (population).

    Returns
    -------
    TheilDecomposition

    Examples
    --------
    >>> d = theil_decomposition([1, 1, 3, 3], ["a", "a", "b", "b"])
    >>> d.within, d.share_between
    (0.0, 1.0)
    >>> d.groups["moyenne"].tolist()
    [1.0, 3.0]
    """
    x, w = _prepare(values, weights, index="l'indice de Theil", drop_zero_weight=False)
    codes, labels = _group_codes(_aligned_weights(values, groups, "groupes"), len(x))
    keep = w > 0
    x, w, codes_k = x[keep], w[keep], codes[keep]
    mu = _mean_or_raise(x, w, "l'indice de Theil")
    k = len(labels)
    total_w = w.sum()
    n_g = np.bincount(codes, minlength=k)
    w_g = np.bincount(codes_k, weights=w, minlength=k)
    wx_g = np.bincount(codes_k, weights=w * x, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu_g = wx_g / w_g  # NaN for a group without weight
        s_g = wx_g / (total_w * mu)
        r = x / mu_g[codes_k]
    term = np.zeros_like(x)
    pos = r > 0
    term[pos] = r[pos] * np.log(r[pos])
    with np.errstate(invalid="ignore", divide="ignore"):
        t_g = np.bincount(codes_k, weights=w * term, minlength=k) / w_g
        t_g[~(mu_g > 0)] = np.nan
        inter = np.where(s_g > 0, s_g * np.log(mu_g / mu), 0.0)
    intra = np.where(s_g > 0, s_g * np.nan_to_num(t_g), 0.0)
    between = float(inter.sum())
    within = float(intra.sum())
    total = between + within
    contribution = inter + intra
    with np.errstate(invalid="ignore", divide="ignore"):
        part = contribution / total if total > 0 else np.full(k, np.nan)
    table = pd.DataFrame(
        {
            "n_unites": n_g.astype(np.int64),
            "poids": w_g,
            "part_population": w_g / total_w,
            "moyenne": mu_g,
            "part_valeur": s_g,
            "theil_intra": t_g,
            "contribution_inter": inter,
            "contribution_intra": intra,
            "contribution": contribution,
            "part_contribution": part,
        },
        index=labels,
    )
    share = between / total if total > 0 else np.nan
    return TheilDecomposition(total=total, between=between, within=within, share_between=share, groups=table)


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def _fr(v: float) -> str:
    """Short French number (decimal comma), for labels."""
    text = f"{v:g}"
    return text.replace(".", ",")


def _guess_unit(name: str) -> str:
    low = name.lower()
    for suffix, unit in (("_km", "km"), ("_m", "m"), ("_pct", "%"), ("_min", "min")):
        if low.endswith(suffix):
            return unit
    return ""


def _column(frame: pd.DataFrame, spec: Any, what: str, kind: str) -> tuple[pd.Series, str]:
    """A column of ``frame`` given by name, Series (aligned on the index) or array."""
    if isinstance(spec, str):
        if spec not in frame.columns:
            present = ", ".join(map(str, frame.columns)) or "aucune"
            raise InputError(
                Probleme(
                    f"{what} : colonne absente (colonnes présentes : {present})",
                    fichier="unités",
                    colonne=spec,
                )
            )
        return frame[spec], spec
    if isinstance(spec, pd.Series):
        name = str(spec.name) if spec.name is not None else kind
        if spec.index.equals(frame.index):
            return spec, name
        if not spec.index.is_unique:
            raise InputError(f"{what} : l'index de la série contient des doublons")
        missing = ~frame.index.isin(spec.index)
        if missing.any():
            raise InputError(
                f"{what} : la série n'est pas alignée sur les unités "
                f"({int(missing.sum())} unité(s) sans valeur, par exemple "
                f"{', '.join(map(str, frame.index[missing][:5]))})"
            )
        return spec.reindex(frame.index), name
    arr = np.asarray(spec)
    if arr.ndim != 1 or len(arr) != len(frame):
        raise InputError(
            f"{what} : {len(arr) if arr.ndim == 1 else arr.shape} valeurs pour {len(frame)} unités ; "
            "une valeur par unité est attendue"
        )
    return pd.Series(arr, index=frame.index, name=kind), kind


def equity_report(
    data: Any,
    indicator: str | ArrayLike | None = None,
    *,
    by: str | ArrayLike | None = None,
    weights: str | ArrayLike | None = "population",
    epsilon: float = 0.5,
    threshold: float | None = None,
    inclusive: bool = False,
    unit: str | None = None,
    group_labels: str | Mapping[Hashable, str] | None = None,
) -> pd.DataFrame:
    """Table of the equity indices of one indicator, overall and per group.

    Parameters
    ----------
    data : Territory, DataFrame or array-like
        A Territory-like object (its ``.communes`` are used), a
        (Geo)DataFrame of units, or directly the values of the indicator.
    indicator : str, Series or array-like
        Column of ``data`` (``"distance_m"``, ``"acces_2sfca"``,
        ``"couvert"``...), or a Series on its index, or an array in its order.
        Ignored (may be omitted) when ``data`` holds the values.
    by : str, Series or array-like, optional
        Groups (a column name such as ``"epci"``, or values per unit): one
        more column per group, plus the share of the Theil index due to
        differences between groups. Missing labels form the group
        ``"(non renseigné)"``.
    weights : str, Series, array-like or None, default "population"
        Weight of each unit: a column name, values per unit, or ``None`` for
        unweighted indices. When ``data`` holds the values, pass an array or
        ``None``.
    epsilon : float, default 0.5
        Inequality aversion of the Atkinson index.
    threshold : float, optional
        Adds the row "Part de la population sous le seuil": the percentage of
        the population with a value ``< threshold`` (``<=`` with
        ``inclusive=True``), in the indicator's unit.
    inclusive : bool, default False
    unit : str, optional
        Unit of the indicator (``"m"``...); guessed from a column name ending
        in ``_m``, ``_km``, ``_pct`` or ``_min`` otherwise.
    group_labels : str or mapping, optional
        Names for the group columns: a column of ``data`` (e.g.
        ``"epci_nom"`` with ``by="epci"``; the first value of each group is
        used) or a mapping {group: name}. Groups without a name keep their
        code.

    Returns
    -------
    DataFrame
        Index ``indice`` (French labels, see :data:`LIBELLES`): "Nombre
        d'unités", "Population" (when weighted), "Moyenne" (weighted),
        "Gini", "Theil", "Atkinson (ε = 0,5)", "Coefficient de variation",
        "Indice de Hoover", "Rapport interdécile D9/D1", then "Part de la
        population sous le seuil" (when ``threshold`` is given, in %) and
        "Part de l'inégalité entre groupes (Theil)" (when ``by`` is given, in
        %, in the "Ensemble" column only). Columns: ``unite`` (unit of each
        row), ``Ensemble`` (all units), then one column per group (sorted
        labels). An index that is not defined for a group (mean 0, D1 = 0) is
        NaN and explained in ``attrs["remarques"]`` (this holds for the
        "Ensemble" column too: unlike the index functions, the report does not
        refuse an indicator that is 0 everywhere); ``attrs`` also holds
        ``indicateur``, ``unite``, ``ponderation``, ``epsilon``, ``seuil``
        and ``par``.

    Raises
    ------
    InputError
        Missing column, negative, missing or infinite values, bad weights.

    Examples
    --------
    >>> units = pd.DataFrame({
    ...     "distance_m": [0.0, 1000.0, 3000.0, 3000.0],
    ...     "population": [100, 100, 100, 100],
    ...     "epci": ["A", "A", "B", "B"],
    ... })
    >>> rep = equity_report(units, "distance_m", by="epci", threshold=2000)
    >>> rep.columns.tolist()
    ['unite', 'Ensemble', 'A', 'B']
    >>> float(rep.loc["Gini", "B"])
    0.0
    >>> float(rep.loc["Part de la population sous le seuil", "Ensemble"])
    50.0
    >>> rep.loc["Moyenne", "unite"]
    'm'
    """
    frame, values, name, wser, gser, level = _report_inputs(data, indicator, weights, by)
    x, w = _prepare(values, wser, index="le rapport d'équité", name=name, drop_zero_weight=False)
    eps, thr = _report_options(epsilon, threshold)
    weighted = wser is not None
    if unit is None:
        unit = _guess_unit(name)
    names = _group_names(group_labels, frame, gser)
    if gser is None:
        codes = np.zeros(len(x), dtype=np.intp)
        labels: list[Hashable] = []
    else:
        codes, idx = _group_codes(gser, len(x), "par (groupes)")
        labels = list(idx)

    rows = (
        ["n_unites"]
        + (["population"] if weighted else [])
        + [
            "moyenne",
            "gini",
            "theil",
            "atkinson",
            "cv",
            "hoover",
            "d9_d1",
        ]
    )
    if threshold is not None:
        rows.append("sous_seuil")
    if gser is not None:
        rows.append("part_inter")
    remarques: list[str] = []

    def figures(xs: np.ndarray, ws: np.ndarray, where: str) -> dict[str, float]:
        return _figures(xs, ws, where, eps, thr, inclusive, remarques)

    columns = {ENSEMBLE: figures(x, w, ENSEMBLE)}
    if gser is not None:
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
        for k, label in enumerate(labels):  # one iteration per group, not per unit
            sel = order[bounds[k] : bounds[k + 1]]
            shown = str(names.get(label, label))
            if shown in columns or shown == "unite":  # two groups with the same name
                shown = f"{shown} ({label})"
            columns[shown] = figures(x[sel], w[sel], f"groupe {shown}")
        if columns[ENSEMBLE].get("moyenne", 0.0) > 0:
            dec = theil_decomposition(x, codes, w)
            columns[ENSEMBLE]["part_inter"] = 100.0 * dec.share_between

    table = pd.DataFrame(
        {col: [figs.get(r, np.nan) for r in rows] for col, figs in columns.items()},
        index=pd.Index([LIBELLES[r].format(epsilon=_fr(eps)) for r in rows], name="indice"),
        dtype="float64",
    )
    units_of = _units_of(unit, weighted)
    table.insert(0, "unite", pd.Series([units_of[r] for r in rows], index=table.index, dtype=object))
    table.attrs = {
        "indicateur": name,
        "unite": unit,
        "ponderation": (weights if isinstance(weights, str) else "poids fournis") if weighted else None,
        "epsilon": eps,
        "seuil": thr,
        "par": None if level is None else str(level),
        "remarques": remarques,
    }
    logger.debug("equity_report %s: %d unités, %d groupes", name, len(x), len(labels))
    return table


def _report_inputs(data: Any, indicator: Any, weights: Any, by: Any) -> tuple[Any, Any, str, Any, Any, Any]:
    """(frame, values, name, weights, groups, level) of :func:`equity_report`, from a table or arrays."""
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        frame = getattr(data, "communes", data)
    if isinstance(frame, pd.DataFrame):
        if indicator is None:
            raise InputError("indicateur : indiquez la colonne de l'indicateur (par exemple « distance_m »)")
        values, name = _column(frame, indicator, "indicateur", "indicateur")
        if isinstance(weights, str) and weights not in frame.columns:
            raise InputError(
                Probleme(
                    "poids : colonne absente ; passez weights=None pour des indices non pondérés",
                    fichier="unités",
                    colonne=weights,
                )
            )
        wser = None if weights is None else _column(frame, weights, "poids", "poids")[0]
        gser = None if by is None else _column(frame, by, "par (groupes)", "groupe")[0]
        level = by if isinstance(by, str) else (gser.name if gser is not None else None)
    else:
        values = frame if isinstance(frame, pd.Series) else np.asarray(frame)
        name = (
            str(indicator)
            if isinstance(indicator, str)
            else (str(frame.name) if isinstance(frame, pd.Series) and frame.name is not None else "indicateur")
        )
        if isinstance(weights, str):
            raise InputError(
                f"poids : « {weights} » désigne une colonne, mais les données ne sont pas une table ; "
                "passez les poids en tableau ou weights=None"
            )
        wser, gser = weights, by
        level = getattr(by, "name", None)

    return frame, values, name, wser, gser, level


def _report_options(epsilon: Any, threshold: Any) -> tuple[float, float | None]:
    """Checked inequality aversion and threshold (None when not asked)."""
    thr: float | None = None
    try:
        eps = float(epsilon)
    except (TypeError, ValueError):
        eps = np.nan
    if not np.isfinite(eps) or eps < 0:
        raise InputError(f"epsilon : l'aversion à l'inégalité doit être positive ou nulle, reçu {epsilon!r}")
    if threshold is not None:
        try:
            thr = float(threshold)
        except (TypeError, ValueError):
            thr = np.nan
        if np.isnan(thr):
            raise InputError(f"seuil : un nombre est attendu, reçu {threshold!r}")
    return eps, thr


def _group_names(group_labels: Any, frame: Any, gser: Any) -> Mapping[Hashable, str]:
    """Shown name of each group (its code when no label is given)."""
    names: Mapping[Hashable, str] = {}
    if group_labels is not None:
        if isinstance(group_labels, str):
            if not isinstance(frame, pd.DataFrame) or gser is None:
                raise InputError("group_labels : une colonne n'est utilisable qu'avec une table et by=")
            lab = _column(frame, group_labels, "group_labels", "group_labels")[0]
            pairs = pd.DataFrame({"g": gser.to_numpy(), "n": lab.to_numpy()}).dropna()
            names = pairs.drop_duplicates("g").set_index("g")["n"].astype(str).to_dict()
        else:
            names = dict(group_labels)

    return names


def _units_of(unit: str, weighted: bool) -> dict[str, str]:
    return {
        "n_unites": "unités",
        "population": "habitants",
        "moyenne": unit,
        "gini": "indice de 0 (égalité) à 1",
        "theil": "indice ≥ 0 (0 = égalité)",
        "atkinson": "indice de 0 (égalité) à 1",
        "cv": "écart-type / moyenne",
        "hoover": "part du total à redistribuer, de 0 à 1",
        "d9_d1": "rapport",
        "sous_seuil": "% de la population" if weighted else "% des unités",
        "part_inter": "% du Theil total",
    }


def _figures(
    xs: np.ndarray, ws: np.ndarray, where: str, eps: float, thr: float | None, inclusive: bool, remarques: list[str]
) -> dict[str, float]:
    """Every index of one group (units of zero weight left out); what cannot be computed is noted."""
    n = len(xs)
    keep = ws > 0
    xs, ws = xs[keep], ws[keep]
    out = {"n_unites": float(n), "population": float(ws.sum())}
    if len(xs) == 0:
        remarques.append(f"{where} : population nulle, indices non définis")
        return out
    mu = float(np.dot(ws, xs) / ws.sum())
    out["moyenne"] = mu
    if thr is not None:
        out["sous_seuil"] = 100.0 * _share_below_k(xs, ws, thr, inclusive)
    if mu == 0:
        remarques.append(f"{where} : toutes les valeurs sont nulles, indices d'inégalité non définis")
        return out
    out["gini"] = _gini_k(xs, ws)
    out["theil"] = _theil_k(xs, ws)
    out["atkinson"] = _atkinson_k(xs, ws, eps)
    out["cv"] = _cv_k(xs, ws)
    out["hoover"] = _hoover_k(xs, ws)
    ratio = _ratio_k(xs, ws)
    if not np.isfinite(ratio):
        remarques.append(f"{where} : premier décile D1 nul, rapport D9/D1 non défini")
        ratio = np.nan
    out["d9_d1"] = ratio
    return out
