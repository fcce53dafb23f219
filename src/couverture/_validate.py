"""Validation shared by the loaders and the analysis functions (one place, as in osmnx).

Every check collects problems and raises one :class:`~couverture.errors.InputError`
whose French message names the parameter or file, what was expected and what was found.

- layers: :func:`require_columns`, :func:`require_crs`, :func:`to_crs`,
  :func:`require_unique`, :func:`repair_geometries` (loaders);
  :func:`check_layer`, :func:`align_crs` (analysis functions: GeoDataFrame,
  metric CRS, unique index, columns);
- values: :func:`numeric_column` (population, capacity), :func:`values_and_weights`
  (an indicator and its population weights, for the equity indices and charts);
- analysis parameters: :mod:`couverture.params` (one rule per parameter).

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
from typing import Any, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import CouvertureWarning, InputError, Probleme

log = logging.getLogger(__name__)


def require_columns(frame: pd.DataFrame, columns: Any, name: str) -> None:
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
        raise InputError(f"{name} : colonne(s) manquante(s) : {', '.join(missing)} (colonnes présentes : {present})")


def require_crs(frame: gpd.GeoDataFrame, name: str) -> None:
    """Refuse a layer without CRS (DESIGN: a layer without CRS is refused)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{name} : une table géographique (GeoDataFrame) est attendue, reçu {type(frame).__name__}")
    if frame.crs is None:
        raise InputError(
            f"{name} : la couche n'a pas de système de coordonnées (CRS) ; "
            "indiquez-le (par exemple gdf.set_crs(2154) pour du Lambert-93)"
        )


def to_crs(frame: gpd.GeoDataFrame, crs: Any, name: str) -> gpd.GeoDataFrame:
    """Reproject ``frame`` (and its ``point`` column) to ``crs`` with a logged note."""
    require_crs(frame, name)
    if frame.crs == crs or (crs is not None and frame.crs.equals(crs)):
        return frame
    log.info("%s : reprojection de %s vers %s", name, frame.crs.to_string(), crs)
    out = frame.to_crs(crs)
    if "point" in out.columns and isinstance(out["point"], gpd.GeoSeries):
        out["point"] = out["point"].to_crs(crs)
    return out


def require_unique(frame: pd.DataFrame, column: str, name: str, lines: Any = None) -> None:
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
    merged = np.array([None] * len(repaired), dtype=object)
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
        ids = (
            structures["structure_id"].astype(str).to_numpy()[far] if "structure_id" in structures else far.astype(str)
        )
        shown = ", ".join(ids[:5]) + ("…" if len(ids) > 5 else "")
        warnings.warn(
            f"structures : {len(far)} structure(s) à plus de {limit / 1000:g} km du territoire ({shown}) ; "
            "vérifiez leurs coordonnées (longitude et latitude inversées, autre projection, autre département)",
            CouvertureWarning,
            stacklevel=3,
        )
    return int(len(far))


# --------------------------------------------------------------------------- analysis layers
def _list(values: Any, n: int = 5) -> str:
    values = [str(v) for v in values]
    text = ", ".join(values[:n])
    if len(values) > n:
        text += f"… ({len(values)} au total)"
    return text


def check_layer(gdf: Any, name: str, *, columns: Sequence[str] = (), allow_empty: bool = True) -> None:
    """Refuse a layer that cannot be analysed (one InputError listing every problem).

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer.
    name : str
        Parameter name, used in the message (``"demand"``, ``"structures"``...).
    columns : sequence of str
        Columns that must be present.
    allow_empty : bool
        Whether a layer without rows is accepted.

    Examples
    --------
    >>> check_layer(pd.DataFrame({"a": [1]}), "communes")
    Traceback (most recent call last):
    ...
    couverture.errors.InputError: communes : une GeoDataFrame est attendue, reçu DataFrame
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(Probleme(f"une GeoDataFrame est attendue, reçu {type(gdf).__name__}", fichier=name))
    problems: list[Probleme] = []
    if gdf.crs is None:
        problems.append(
            Probleme(
                "la couche n'a pas de système de coordonnées (CRS) : indiquez-le (par exemple EPSG:2154 en métropole)",
                fichier=name,
            )
        )
    elif gdf.crs.is_geographic:
        problems.append(
            Probleme(
                f"système de coordonnées en degrés ({gdf.crs.to_string()}) : "
                "reprojetez la couche dans un CRS métrique (EPSG:2154 en métropole) "
                "pour mesurer des distances en mètres",
                fichier=name,
            )
        )
    missing = [c for c in columns if c not in gdf.columns]
    for c in missing:
        problems.append(Probleme("colonne absente", fichier=name, colonne=c))
    if not allow_empty and len(gdf) == 0:
        problems.append(Probleme("la couche ne contient aucune ligne", fichier=name))
    if not gdf.index.is_unique:
        dup = gdf.index[gdf.index.duplicated()].unique()
        problems.append(Probleme(f"l'index contient des doublons : {_list(dup)}", fichier=name))
    if problems:
        raise InputError(problems)


def align_crs(gdf: gpd.GeoDataFrame, target: Any, name: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in the CRS ``target`` (a copy, reprojected with a logged note).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(700000, 6600000)], crs=2154)
    >>> align_crs(g, "EPSG:2154", "x").crs.to_epsg()
    2154
    """
    if gdf.crs is None or target is None or gdf.crs == target:
        return gdf
    log.info("%s : reprojection de %s vers %s", name, gdf.crs.to_string(), target)
    return gdf.to_crs(target)


def ids_of(gdf: pd.DataFrame) -> np.ndarray:
    """Identifiers for messages and outputs: ``structure_id``, else ``code_insee``, else the index.

    Examples
    --------
    >>> ids_of(pd.DataFrame({"structure_id": ["s1"]}, index=[7])).tolist()
    ['s1']
    """
    for col in ("structure_id", "code_insee"):
        if col in gdf.columns:
            return gdf[col].astype(str).to_numpy(dtype=object)
    return gdf.index.astype(str).to_numpy(dtype=object)


def numeric_column(df: pd.DataFrame, col: str, name: str) -> np.ndarray:
    """Values of a population or capacity column as float64, refusing bad values.

    Missing, non-numeric, infinite and negative values are refused with one
    InputError naming the rows.

    Examples
    --------
    >>> numeric_column(pd.DataFrame({"population": [10, 0]}), "population", "communes")
    array([10.,  0.])
    >>> numeric_column(pd.DataFrame({"population": [10, -1]}), "population", "communes")
    Traceback (most recent call last):
    ...
    couverture.errors.InputError: communes, colonne « population » : valeur négative pour 1 ligne(s) : 1
    """
    if col not in df.columns:
        raise InputError(Probleme("colonne absente", fichier=name, colonne=col))
    raw = df[col]
    values = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
    ids = ids_of(df)
    problems = []
    bad = np.isnan(values) | np.isinf(values)
    if bad.any():
        problems.append(
            Probleme(
                f"valeur manquante ou non numérique pour {int(bad.sum())} ligne(s) : {_list(ids[bad])}",
                fichier=name,
                colonne=col,
            )
        )
    neg = values < 0
    if neg.any():
        problems.append(
            Probleme(
                f"valeur négative pour {int(neg.sum())} ligne(s) : {_list(ids[neg])}",
                fichier=name,
                colonne=col,
            )
        )
    if problems:
        raise InputError(problems)
    return values


# --------------------------------------------------------------------------- values and weights
def _where(mask: np.ndarray, labels: np.ndarray | None, limit: int = 5) -> str:
    """French list of the first offending positions (or index labels)."""
    pos = np.flatnonzero(mask)
    shown = labels[pos[:limit]] if labels is not None else pos[:limit]
    text = ", ".join(map(str, shown))
    if len(pos) > limit:
        text += f"… (+{len(pos) - limit})"
    kind = "index" if labels is not None else "positions"
    return f"{kind} {text}"


def _to_float(values: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """1-d float64 copy of ``values`` and its index labels (when a Series)."""
    labels = None
    if isinstance(values, (pd.Series, pd.Index)):
        labels = np.asarray(values.index if isinstance(values, pd.Series) else values, dtype=object)
        if isinstance(values, pd.Series) and values.dtype == bool:
            values = values.astype("float64")
        try:
            arr = values.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            raise InputError(
                f"{name} : valeurs non numériques (type {values.dtype}) ; un nombre par unité est attendu"
            ) from None
    else:
        raw = np.asarray(values)
        if raw.ndim == 0:
            raise InputError(f"{name} : une série de valeurs est attendue, reçu un nombre seul")
        try:
            arr = raw.astype("float64")
        except (TypeError, ValueError):
            raise InputError(
                f"{name} : valeurs non numériques (type {raw.dtype}) ; un nombre par unité est attendu"
            ) from None
    if arr.ndim != 1:
        raise InputError(f"{name} : une série à une dimension est attendue, reçu la forme {arr.shape}")
    return arr, labels


def _finite(arr: np.ndarray, labels: Any, name: str) -> None:
    nan = np.isnan(arr)
    if nan.any():
        raise InputError(
            f"{name} : {int(nan.sum())} valeur(s) manquante(s) (NaN) ({_where(nan, labels)}) ; "
            "retirez ces unités ou complétez leurs valeurs avant de calculer l'indice"
        )
    inf = np.isinf(arr)
    if inf.any():
        raise InputError(f"{name} : {int(inf.sum())} valeur(s) infinie(s) ({_where(inf, labels)})")


def aligned_weights(values: Any, weights: Any, name: str = "poids") -> Any:
    """``weights`` in the order of ``values`` when both are Series on the same labels.

    Two Series are matched by index label, as pandas does, never by position:
    the same labels in another order are realigned; different labels are
    refused (a silent positional match would give another index).

    Examples
    --------
    >>> aligned_weights(pd.Series([1, 2], index=["a", "b"]), pd.Series([20, 10], index=["b", "a"])).tolist()
    [10, 20]
    """
    if not (isinstance(values, pd.Series) and isinstance(weights, pd.Series)) or values.index.equals(weights.index):
        return weights
    if values.index.has_duplicates or weights.index.has_duplicates:
        raise InputError(
            f"{name} : valeurs et {name} sont des séries pandas d'index différents, avec des étiquettes répétées : "
            "impossible de les apparier ; passez des séries de même index (ou des tableaux numpy dans le même ordre)"
        )
    missing = values.index.difference(weights.index)
    extra = weights.index.difference(values.index)
    if len(missing) or len(extra):
        shown = ", ".join(map(str, list(missing[:5]))) or "aucune"
        raise InputError(
            f"{name} : l'index des {name} ne correspond pas à celui des valeurs ({len(missing)} étiquette(s) absente(s) : "
            f"{shown} ; {len(extra)} en trop) ; alignez les deux séries (serie.reindex(values.index))"
        )
    return weights.reindex(values.index)


def values_and_weights(
    values: Any,
    weights: Any | None,
    *,
    index: str | None,
    name: str = "valeurs",
    drop_zero_weight: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(x, w)`` float arrays of an indicator and its weights; ``w`` is ones when ``weights`` is None.

    ``index`` names the index computed (for the message about negative values);
    ``None`` allows negative values. Used by the equity indices and the charts.

    Examples
    --------
    >>> values_and_weights([1, 2], [3, 0], index="le Gini")
    (array([1.]), array([3.]))
    >>> values_and_weights([1, -1], None, index="le Gini")
    Traceback (most recent call last):
    ...
    couverture.errors.InputError: valeurs : 1 valeur(s) négative(s) (minimum -1, positions 1) ; le Gini suppose des valeurs positives ou nulles
    """
    x, labels = _to_float(values, name)
    if len(x) == 0:
        raise InputError(f"{name} : aucune valeur (série vide)")
    _finite(x, labels, name)
    if index is not None:
        neg = x < 0
        if neg.any():
            raise InputError(
                f"{name} : {int(neg.sum())} valeur(s) négative(s) (minimum {x.min():g}, "
                f"{_where(neg, labels)}) ; {index} suppose des valeurs positives ou nulles"
            )
    if weights is None:
        return x, np.ones_like(x)
    weights = aligned_weights(values, weights)
    w, wlabels = _to_float(weights, "poids")
    if len(w) != len(x):
        raise InputError(
            f"poids : {len(w)} poids pour {len(x)} valeurs ; une valeur de poids (population) par unité est attendue"
        )
    _finite(w, wlabels, "poids")
    neg = w < 0
    if neg.any():
        raise InputError(
            f"poids : {int(neg.sum())} poids négatif(s) ({_where(neg, wlabels)}) ; "
            "la population d'une unité est positive ou nulle"
        )
    if not (w > 0).any():
        raise InputError("poids : la somme des poids (population) est nulle")
    if drop_zero_weight:
        keep = w > 0
        if not keep.all():
            x, w = x[keep], w[keep]
    return x, w
