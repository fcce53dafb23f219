"""Class breaks, colour-blind-safe palettes and French legend labels.

Breaks always come from :mod:`mapclassify`; this module only chooses the
scheme from a French or English name, picks the colours and writes the legend
labels in French (narrow no-break spaces, decimal comma, ``≤ 2 km``).

Examples
--------
>>> c = Classification([1, 2, 3, 4, 10, 20, 30, 40], "quantiles", k=4)
>>> c.bins.tolist(), c.counts.tolist()
([2.75, 7.0, 22.5, 40.0], [2, 2, 2, 2])
>>> [label.replace(NNBSP, " ") for label in c.labels(unit="km", decimals=1)]
['≤ 2,8 km', '2,8 – 7,0 km', '7,0 – 22,5 km', '> 22,5 km']
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ._format import NNBSP, auto_decimals, format_number

__all__ = [
    "Classification",
    "classify",
    "palette",
    "SCHEMES",
    "SEQUENTIAL_PALETTES",
    "DIVERGING_PALETTES",
    "MISSING_COLOR",
    "NNBSP",
]

log = logging.getLogger(__name__)

#: French and English scheme names -> mapclassify scheme.
SCHEMES: dict[str, str] = {
    "quantiles": "quantiles",
    "quantile": "quantiles",
    "jenks": "fisher_jenks",
    "fisher_jenks": "fisher_jenks",
    "fisherjenks": "fisher_jenks",
    "natural_breaks": "fisher_jenks",
    "seuils_naturels": "fisher_jenks",
    "equal_interval": "equal_interval",
    "equalinterval": "equal_interval",
    "intervalles_egaux": "equal_interval",
    "std_mean": "std_mean",
    "stdmean": "std_mean",
    "ecart_type": "std_mean",
    "manual": "user_defined",
    "manuel": "user_defined",
    "user_defined": "user_defined",
    "userdefined": "user_defined",
}

#: ColorBrewer sequential palettes (colour-blind safe), lightest first.
SEQUENTIAL_PALETTES = (
    "YlGnBu",
    "PuBu",
    "YlOrRd",
    "OrRd",
    "BuPu",
    "GnBu",
    "PuBuGn",
    "YlGn",
    "Blues",
    "Greens",
    "Purples",
    "Oranges",
)
#: ColorBrewer diverging palettes (colour-blind safe).
DIVERGING_PALETTES = ("RdBu", "PuOr", "BrBG", "PRGn", "RdYlBu")
#: Colour of units without a value.
MISSING_COLOR = "#d9d9d9"

#: Above this many values, Fisher-Jenks breaks are computed on a quantile sample of this size
#: (the exact algorithm is quadratic in pure Python).
JENKS_MAX_N = 1000


def _scheme_name(scheme: str) -> str:
    key = str(scheme).strip().lower().replace("-", "_").replace(" ", "_")
    key = key.replace("é", "e").replace("è", "e")
    if key not in SCHEMES:
        raise InputError(
            f"méthode de discrétisation inconnue : « {scheme} » ; méthodes possibles : "
            "quantiles, jenks (seuils naturels), intervalles_egaux, ecart_type, manuel"
        )
    return SCHEMES[key]


def palette(name: str | None = None, k: int = 5, *, reverse: bool = False, diverging: bool = False) -> list[str]:
    """``k`` colours (hex) sampled from a ColorBrewer colormap of matplotlib.

    Parameters
    ----------
    name : str, optional
        A matplotlib colormap name; default ``"YlGnBu"`` (sequential) or
        ``"RdBu"`` (diverging). The ColorBrewer ones in
        :data:`SEQUENTIAL_PALETTES` and :data:`DIVERGING_PALETTES` are
        colour-blind safe.
    k : int
        Number of classes.
    reverse : bool
        Reverse the order (darkest first).
    diverging : bool
        Sample the whole range symmetrically (diverging palettes); sequential
        palettes skip their near-white end, which would vanish on a white page.

    Examples
    --------
    >>> palette("YlGnBu", 3)
    ['#eef8b3', '#37acc3', '#13266f']
    >>> len(palette("RdBu", 5, diverging=True))
    5
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    if name is None:
        name = "RdBu" if diverging else "YlGnBu"
    if name not in colormaps:
        raise InputError(
            f"palette inconnue : « {name} » ; palettes conseillées (lisibles par les daltoniens) : "
            + ", ".join(SEQUENTIAL_PALETTES + DIVERGING_PALETTES)
        )
    if k < 1:
        raise InputError(f"nombre de classes invalide : {k} (au moins 1)")
    cmap = colormaps[name]
    if diverging or name in DIVERGING_PALETTES:
        pos = np.linspace(0.08, 0.92, k) if k > 1 else np.array([0.5])
    else:
        pos = np.linspace(0.12, 0.95, k) if k > 1 else np.array([0.6])
    colours = [to_hex(cmap(float(p))) for p in pos]
    return colours[::-1] if reverse else colours


_palette = palette


class Classification:
    """Values cut into classes with :mod:`mapclassify`, with colours and French labels.

    Parameters
    ----------
    values : array-like
        The values (NaN or None for missing ones, kept apart in grey).
    scheme : str, default "quantiles"
        ``quantiles``, ``jenks`` (Fisher-Jenks natural breaks; on more than
        1 000 values, computed on a 1 000-value quantile sample), ``intervalles_egaux``
        (``equal_interval``), ``ecart_type`` (``std_mean``: mean ± 1 and 2
        standard deviations) or ``manuel`` (``manual``, with ``bins``).
    k : int, default 5
        Number of classes (ignored by ``ecart_type`` and ``manuel``).
    bins : sequence of float, optional
        Upper bounds of the classes for ``manuel``; the maximum is added when
        it lies above the last bound.
    palette : str, optional
        Matplotlib colormap name; default ``YlGnBu``, ``RdBu`` for ``ecart_type``.
    reverse : bool, default False
        Reverse the palette.

    Attributes
    ----------
    bins : numpy.ndarray
        Upper bound of each class (mapclassify's ``bins``).
    counts : numpy.ndarray
        Number of values in each class.
    yb : numpy.ndarray
        Class of each input value, ``-1`` for a missing value.
    k : int
        Number of classes actually formed (quantiles on tied values may give fewer).
    n_missing : int
        Number of missing values.
    colors : list of str
        Hex colour of each class.
    classifier : mapclassify classifier
        The underlying mapclassify object.

    Examples
    --------
    >>> c = Classification([0.5, 1.5, 2.5, None], "manuel", bins=[1, 2])
    >>> c.bins.tolist(), c.counts.tolist(), c.yb.tolist(), c.n_missing
    ([1.0, 2.0, 2.5], [1, 1, 1], [0, 1, 2, -1], 1)
    >>> c.value_colors()[-1]
    '#d9d9d9'
    """

    def __init__(
        self,
        values: Any,
        scheme: str = "quantiles",
        k: int = 5,
        *,
        bins: Sequence[float] | None = None,
        palette: str | None = None,
        reverse: bool = False,
    ) -> None:
        import mapclassify

        self.scheme = _scheme_name(scheme)
        raw = pd.Series(values) if not isinstance(values, pd.Series) else values
        numeric = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & numeric.isna()
        if bad.any():
            sample = ", ".join(map(repr, raw[bad].astype(str).unique()[:3]))
            raise InputError(f"valeurs non numériques impossibles à classer : {sample}")
        self.values = numeric.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(self.values)
        self.n_missing = int((~finite).sum())
        y = self.values[finite]
        if y.size == 0:
            raise InputError("aucune valeur numérique à classer (toutes les valeurs sont manquantes)")
        if int(k) < 1:
            raise InputError(f"nombre de classes invalide : {k} (au moins 1)")

        with warnings.catch_warnings():
            # mapclassify warns when ties give fewer classes (handled: k is read back) and
            # when numba is missing (the pure Python Fisher-Jenks is used on small samples)
            warnings.filterwarnings("ignore", message=".*(Numba|unique values|Not enough).*", category=UserWarning)
            if self.scheme == "user_defined":
                if bins is None or len(bins) == 0:
                    raise InputError("discrétisation manuelle : indiquez les bornes des classes (bins=[...])")
                b = np.asarray(bins, dtype=float)
                if not np.all(np.isfinite(b)) or np.any(np.diff(b) <= 0):
                    raise InputError(
                        f"discrétisation manuelle : les bornes doivent être croissantes, reçu {list(bins)}"
                    )
                self.classifier = mapclassify.classify(y, "user_defined", bins=b)
            elif self.scheme == "fisher_jenks" and y.size > JENKS_MAX_N:
                sample = np.quantile(y, np.linspace(0.0, 1.0, JENKS_MAX_N))
                fj = mapclassify.classify(sample, "fisher_jenks", k=int(k))
                self.classifier = mapclassify.classify(y, "user_defined", bins=fj.bins[:-1])
            else:
                self.classifier = mapclassify.classify(y, self.scheme, k=int(k))

        self.bins = np.asarray(self.classifier.bins, dtype=float)
        self.k = int(len(self.bins))
        self.counts = np.asarray(self.classifier.counts, dtype=int)
        self.yb = np.full(self.values.shape, -1, dtype=int)
        self.yb[finite] = np.asarray(self.classifier.yb, dtype=int)
        self.min = float(y.min())
        self.max = float(y.max())
        if self.k < int(k) and self.scheme not in ("user_defined", "std_mean"):
            log.info("%s : %d classes formées au lieu de %d (valeurs égales)", self.scheme, self.k, k)
        self.palette_name = palette or ("RdBu" if self.scheme == "std_mean" else "YlGnBu")
        self.colors: list[str] = _palette(
            self.palette_name, self.k, reverse=reverse, diverging=self.scheme == "std_mean"
        )

    # ------------------------------------------------------------------ output
    def value_colors(self, missing_color: str = MISSING_COLOR) -> list[str]:
        """Hex colour of each input value (``missing_color`` for missing ones)."""
        table = np.array([*self.colors, missing_color], dtype=object)
        return table[self.yb].tolist()  # yb == -1 picks the last entry

    def decimals(self) -> int:
        """Decimals needed to print the bounds distinctly."""
        return auto_decimals([self.min, *self.bins])

    def labels(self, unit: str | None = None, *, decimals: int | None = None, counts: bool = False) -> list[str]:
        """French legend label of each class: ``≤ 2 km``, ``2 – 5 km``, ``> 5 km``.

        Classes are mapclassify's: the first holds values up to its bound, the
        next ones values above the previous bound and up to their own.

        Parameters
        ----------
        unit : str, optional
            Unit written after the numbers (``"km"``, ``"%"``, ``"hab."``).
        decimals : int, optional
            Digits after the decimal comma; by default the fewest that keep
            the bounds distinct.
        counts : bool, default False
            Append the number of units in each class: ``≤ 2 km (12)``.

        Examples
        --------
        >>> c = Classification([1, 2, 3, 4], "intervalles_egaux", k=2)
        >>> [s.replace(NNBSP, " ") for s in c.labels(unit="%", decimals=1, counts=True)]
        ['≤ 2,5 % (2)', '> 2,5 % (2)']
        """
        d = self.decimals() if decimals is None else int(decimals)
        u = f"{NNBSP}{unit}" if unit else ""
        f = [format_number(b, d) for b in self.bins]
        if self.is_integer():
            out = self._integer_labels(u)
        elif self.k == 1:
            out = [f"{format_number(self.min, d)}{NNBSP}–{NNBSP}{f[0]}{u}"]
        else:
            out = [f"≤{NNBSP}{f[0]}{u}"]
            out += [f"{f[i - 1]}{NNBSP}–{NNBSP}{f[i]}{u}" for i in range(1, self.k - 1)]
            out.append(f">{NNBSP}{f[-2]}{u}")
        if counts:
            out = [f"{label} ({format_number(n)})" for label, n in zip(out, self.counts)]
        return out

    def is_integer(self) -> bool:
        """True for small counts (whole values up to 50, whole bounds): labels then list integers.

        ``0``, ``1``, ``2 à 3``, ``4 ou plus`` reads better than ``≤ 0``,
        ``0 – 1``... for a number of zones or structures; populations and
        other large whole numbers keep the usual bounds.

        Examples
        --------
        >>> Classification([0, 1, 2, 5], "manuel", bins=[0, 1, 2]).labels(unit="zones")
        ['0\u202fzones', '1\u202fzones', '2\u202fzones', '3 ou plus\u202fzones']
        """
        finite = self.values[np.isfinite(self.values)]
        bounds = self.bins[:-1]
        small = finite.size > 0 and finite.min() >= 0 and finite.max() <= 50
        return bool(small and np.all(finite == np.round(finite)) and np.all(bounds == np.round(bounds)))

    def _integer_labels(self, u: str) -> list[str]:
        # labels depend on the bounds only (counts start at 0), so two maps sharing
        # their classes share their legend
        lows = [0] + [int(b) + 1 for b in self.bins[:-1]]
        highs = [int(b) for b in self.bins]
        out = []
        for i, (lo, hi) in enumerate(zip(lows, highs)):
            if i == self.k - 1 and self.k > 1:
                out.append(f"{format_number(lo)} ou plus{u}")
            elif lo >= hi:
                out.append(f"{format_number(hi)}{u}")
            else:
                out.append(f"{format_number(lo)} à {format_number(hi)}{u}")
        return out

    def missing_label(self, counts: bool = False) -> str:
        """Legend label of the missing values (``Donnée manquante``)."""
        text = "Donnée manquante"
        return f"{text} ({format_number(self.n_missing)})" if counts else text

    def legend(self, unit: str | None = None, *, decimals: int | None = None) -> pd.DataFrame:
        """One row per class: ``couleur``, ``libelle``, ``borne_sup``, ``effectif``.

        Examples
        --------
        >>> Classification([1, 2, 3, 4], "manuel", bins=[2]).legend()["effectif"].tolist()
        [2, 2]
        """
        return pd.DataFrame(
            {
                "couleur": self.colors,
                "libelle": self.labels(unit, decimals=decimals),
                "borne_sup": self.bins,
                "effectif": self.counts,
            }
        )

    def __repr__(self) -> str:
        rows = [f"Classification {self.scheme} ({self.k} classes, {self.n_missing} manquantes)"]
        for label, n in zip(self.labels(), self.counts):
            rows.append(f"  {label.replace(NNBSP, ' ')} : {n}")
        return "\n".join(rows)


def classify(
    values: Any,
    scheme: str = "quantiles",
    k: int = 5,
    *,
    bins: Sequence[float] | None = None,
    palette: str | None = None,
    reverse: bool = False,
) -> Classification:
    """Classify ``values``: shortcut for :class:`Classification`.

    Examples
    --------
    >>> classify([1, 1, 2, 8, 9], "jenks", k=2).bins.tolist()
    [2.0, 9.0]
    """
    return Classification(values, scheme, k, bins=bins, palette=palette, reverse=reverse)
