"""INSEE Filosofi 200 m grid (données carroyées) as units of analysis.

INSEE publishes Filosofi on a grid of 200 m cells in EPSG:3035 (LAEA Europe)
for metropolitan France, as GeoPackage, shapefile or CSV. Column names, as
published:

- **Filosofi 2019** (published 2023, lower case): ``idcar_200m``,
  ``idcar_1km``, ``idcar_nat``, ``i_est_200``, ``i_est_1km``, ``lcog_geo``,
  ``ind``, ``men``, ``men_pauv``, ``men_1ind``, ``men_5ind``, ``men_prop``,
  ``men_fmp``, ``ind_snv``, ``men_surf``, ``men_coll``, ``men_mais``,
  ``log_av45``, ``log_45_70``, ``log_70_90``, ``log_ap90``, ``log_inc``,
  ``log_soc``, ``ind_0_3``, ``ind_4_5``, ``ind_6_10``, ``ind_11_17``,
  ``ind_18_24``, ``ind_25_39``, ``ind_40_54``, ``ind_55_64``, ``ind_65_79``,
  ``ind_80p``, ``ind_inc``;
- **Filosofi 2017** (capitalised: ``Idcar_200m``, ``Ind``, ``Men_fmp``,
  ``Groupe``...): read the same way, names are lower-cased.

The cell identifier encodes the CRS, the resolution and the south-west
corner: ``CRS3035RES200mN2029800E4252400`` is the cell whose lower-left corner
is x = 4 252 400, y = 2 029 800 in EPSG:3035. When the file has no geometry
(CSV, Parquet without geometry) the squares are built from the identifier,
vectorised, then reprojected to the metric CRS (Lambert-93 by default).

Every count column (``ind``, ``men*``, ``log_*``, ``ind_*``, ``ind_snv`` and
``men_surf`` which are sums) is additive: a cell part receives the cell's
counts times its area share. The flags (``i_est_*``) and identifiers are kept
as they are.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"idcar_200m": ["CRS3035RES200mN2029800E4252400"], "ind": [12.5]})
>>> g = read_grid(t)
>>> g.crs.to_epsg(), round(float(g.geometry.area.iloc[0]), -3), float(g["population"].iloc[0])
(2154, 40000.0, 12.5)
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import CouvertureWarning, InputError, Probleme

logger = logging.getLogger(__name__)

__all__ = ["GRID_COLUMNS", "GRID_CRS", "cells_from_ids", "largest_remainder", "read_grid"]

#: CRS of the INSEE grid in metropolitan France.
GRID_CRS = "EPSG:3035"

#: Columns of the Filosofi 2019 200 m grid, in INSEE's order.
GRID_COLUMNS = (
    "idcar_200m",
    "idcar_1km",
    "idcar_nat",
    "i_est_200",
    "i_est_1km",
    "lcog_geo",
    "ind",
    "men",
    "men_pauv",
    "men_1ind",
    "men_5ind",
    "men_prop",
    "men_fmp",
    "ind_snv",
    "men_surf",
    "men_coll",
    "men_mais",
    "log_av45",
    "log_45_70",
    "log_70_90",
    "log_ap90",
    "log_inc",
    "log_soc",
    "ind_0_3",
    "ind_4_5",
    "ind_6_10",
    "ind_11_17",
    "ind_18_24",
    "ind_25_39",
    "ind_40_54",
    "ind_55_64",
    "ind_65_79",
    "ind_80p",
    "ind_inc",
)
_TEXT = {"idcar_200m", "idcar_1km", "idcar_nat", "lcog_geo", "groupe", "depcom"}
_FLAGS = {"i_est_200", "i_est_1km", "i_est_cr", "i_pauv"}
_ID_ALIASES = ("idcar_200m", "idinspire", "id_inspire", "idcar_200")
_GEO_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".zip"}


def _lines(idx) -> str:
    idx = list(idx)
    shown = ", ".join(str(i) for i in idx[:5])
    return shown + (f" et {len(idx) - 5} autre(s)" if len(idx) > 5 else "")


def cells_from_ids(ids, name: str = "grille") -> np.ndarray:
    """Squares (shapely polygons, in the identifier's CRS) from INSPIRE cell identifiers.

    Parameters
    ----------
    ids : array-like of str
        Identifiers such as ``CRS3035RES200mN2029800E4252400`` (north then
        east of the south-west corner, resolution in metres).
    name : str
        File name for messages.

    Returns
    -------
    numpy.ndarray of shapely.Polygon

    Raises
    ------
    InputError
        Naming the lines (header = line 1) whose identifier is unreadable.

    Examples
    --------
    >>> cells_from_ids(["CRS3035RES200mN2029800E4252400"])[0].bounds
    (4252400.0, 2029800.0, 4252600.0, 2030000.0)
    """
    _crs, res, north, east = parse_ids(ids, name)
    return shapely.box(east, north, east + res, north + res)


def parse_ids(ids, name: str = "grille") -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """(CRS, resolution, north, east of the south-west corner) from INSPIRE cell identifiers.

    Vectorised with :func:`pyarrow.compute.extract_regex` (C++), no Python
    loop over the cells.

    Examples
    --------
    >>> crs, res, north, east = parse_ids(["CRS3035RES200mN2029800E4252400"])
    >>> crs, res.tolist(), north.tolist(), east.tolist()
    ('EPSG:3035', [200.0], [2029800.0], [4252400.0])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(np.asarray(ids, dtype=object), type=pa.string(), from_pandas=True)
    arr = pc.utf8_trim_whitespace(arr)
    parts = pc.extract_regex(arr, r"^CRS(?P<crs>\d{4,5})RES(?P<res>\d+)mN(?P<n>\d+)E(?P<e>\d+)$")
    bad = np.asarray(parts.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if bad.any():
        raise InputError(
            Probleme(
                f"identifiant de carreau illisible ({int(bad.sum())} ligne(s), lignes "
                f"{_lines(np.flatnonzero(bad) + 2)}) : attendu par exemple "
                "« CRS3035RES200mN2029800E4252400 »",
                fichier=name,
                colonne="idcar_200m",
            )
        )
    crs = pc.unique(parts.field("crs")).to_pylist()
    if len(crs) > 1:
        raise InputError(
            Probleme(f"plusieurs CRS dans les identifiants : {', '.join(crs)}", fichier=name, colonne="idcar_200m")
        )

    def number(field):
        return pc.cast(parts.field(field), pa.float64()).to_numpy(zero_copy_only=False)

    return f"EPSG:{crs[0]}", number("res"), number("n"), number("e")


def _cells_in(ids, name: str, target) -> tuple[np.ndarray, np.ndarray]:
    """Cell polygons and cell centres in the target CRS, from the identifiers.

    The four corners and the centre of every cell are reprojected in one
    :mod:`pyproj` call; the polygons are built from the coordinate array.
    """
    from pyproj import CRS, Transformer

    crs, res, north, east = parse_ids(ids, name)
    dx = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 0.5])
    dy = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.5])
    x = east[:, None] + res[:, None] * dx
    y = north[:, None] + res[:, None] * dy
    if CRS.from_user_input(crs) != CRS.from_user_input(target):
        x, y = Transformer.from_crs(crs, target, always_xy=True).transform(x, y)
    rings = np.stack([x[:, :5], y[:, :5]], axis=-1)
    return shapely.polygons(rings), shapely.points(x[:, 5], y[:, 5])


def _read(source, layer) -> tuple[pd.DataFrame, str]:
    """The raw table (GeoDataFrame when the file has geometry) and its name."""
    if isinstance(source, pd.DataFrame):
        return source.copy(), str(source.attrs.get("fichier", "grille"))
    path = Path(os.fspath(source))
    name = path.name
    if not path.exists():
        raise InputError(f"fichier introuvable : {name}")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".geoparquet"}:
            try:
                frame = gpd.read_parquet(path)
            except ValueError:  # no geometry metadata: a plain table
                frame = pd.read_parquet(path)
        elif suffix in _GEO_SUFFIXES:
            frame = gpd.read_file(path, layer=layer)
        else:
            with open(path, encoding="utf-8-sig", errors="replace") as f:
                head = f.readline()
            sep = ";" if head.count(";") > head.count(",") else ","
            frame = pd.read_csv(path, sep=sep, dtype={c: str for c in _TEXT}, encoding="utf-8-sig", low_memory=False)
    except InputError:
        raise
    except Exception as exc:  # pyogrio / pyarrow / pandas raise several types
        raise InputError(f"{name} : lecture impossible ({exc})") from exc
    if len(frame) == 0:
        raise InputError(f"{name} : le fichier est vide (aucun carreau)")
    return frame, name


def _normalise(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Lower-case INSEE names, identifier under ``idcar_200m``, counts as numbers."""
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    rename = {c: str(c).strip().lower() for c in frame.columns if c != geom_name}
    frame = frame.rename(columns=rename)
    if "idcar_200m" not in frame.columns:
        alias = next((c for c in _ID_ALIASES if c in frame.columns), None)
        if alias is None:
            raise InputError(
                Probleme(
                    "colonne de l'identifiant du carreau absente (attendu : idcar_200m, "
                    "comme dans les fichiers Filosofi de l'INSEE)",
                    fichier=name,
                    colonne="idcar_200m",
                )
            )
        frame = frame.rename(columns={alias: "idcar_200m"})
    if "ind" not in frame.columns:
        raise InputError(Probleme("colonne du nombre d'individus absente (attendu : ind)", fichier=name, colonne="ind"))
    ids = frame["idcar_200m"].astype("string").str.strip()
    dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if dup.any():
        raise InputError(
            Probleme(
                f"identifiant de carreau en double (lignes {_lines(np.flatnonzero(dup) + 2)})",
                fichier=name,
                colonne="idcar_200m",
            )
        )
    frame["idcar_200m"] = ids.astype(object)
    for col in frame.columns:
        if col == geom_name or col in _TEXT or col in _FLAGS:
            continue
        if col in GRID_COLUMNS or col.startswith(("ind", "men", "log_")):
            values = pd.to_numeric(frame[col], errors="coerce")
            bad = values.isna().to_numpy() & frame[col].notna().to_numpy()
            if col == "ind":
                bad |= frame[col].isna().to_numpy() | (values < 0).to_numpy()
            if bad.any():
                raise InputError(
                    Probleme(
                        f"valeur non numérique ou négative (lignes {_lines(np.flatnonzero(bad) + 2)})",
                        fichier=name,
                        colonne=col,
                    )
                )
            frame[col] = values.astype(np.float64)
    return frame


def _counts(frame: pd.DataFrame) -> list[str]:
    """Additive count columns (split by area share)."""
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return [
        c
        for c in frame.columns
        if c != geom_name and c not in _TEXT and c not in _FLAGS and pd.api.types.is_float_dtype(frame[c])
    ]


def _geometries(frame: pd.DataFrame, name: str, target) -> tuple[np.ndarray, np.ndarray | None]:
    """Cell polygons (and centres when built) in the target CRS: the file's, else the identifier's."""
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().all():
        if frame.crs is None:
            raise InputError(Probleme("la couche n'a pas de système de coordonnées (CRS)", fichier=name))
        geoms = frame.geometry
        return np.asarray(geoms.to_crs(target).values if geoms.crs != target else geoms.values), None
    return _cells_in(frame["idcar_200m"].to_numpy(), name, target)


def largest_remainder(values: np.ndarray, groups: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Integers proportional to ``values`` that sum exactly to ``targets`` in each group.

    Within a group ``g`` each value gets ``floor(v * T_g / sum_g)``; the
    ``T_g - sum(floors)`` missing units go to the largest remainders (ties:
    first row first). A group whose values sum to 0 gets 0 everywhere (its
    target cannot be placed: the caller reports it).

    Examples
    --------
    >>> largest_remainder(np.array([1.0, 1.0, 1.0, 2.0]), np.array([0, 0, 0, 1]),
    ...                   np.array([10, 3])).tolist()
    [4, 3, 3, 3]
    """
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.intp)
    targets = np.asarray(targets, dtype=np.int64)
    k = len(targets)
    sums = np.bincount(groups, weights=values, minlength=k)
    factor = np.divide(targets, sums, out=np.zeros(k), where=sums > 0)
    raw = values * factor[groups]
    base = np.floor(raw).astype(np.int64)
    rem = raw - base
    short = targets - np.bincount(groups, weights=base, minlength=k).round().astype(np.int64)
    short[sums <= 0] = 0
    order = np.lexsort((np.arange(len(values)), -rem, groups))
    g_sorted = groups[order]
    starts = np.searchsorted(g_sorted, np.arange(k))
    rank = np.arange(len(values)) - starts[g_sorted]
    bump = np.zeros(len(values), dtype=np.int64)
    bump[order] = (rank < short[g_sorted]).astype(np.int64)
    return base + bump


def _split(frame: pd.DataFrame, geoms: np.ndarray, communes: gpd.GeoDataFrame, name: str):
    """Cell parts by commune: (row of the cell, commune row, area share, part geometry).

    Rule: a cell lying wholly in one commune stays whole (share 1). A cell
    crossing commune boundaries is cut; each part gets the share
    ``area(cell ∩ commune) / sum of those areas over the communes it meets``:
    the shares of a cell sum to 1, so no inhabitant is lost in the slivers
    and gaps of generalised commune boundaries. A cell meeting no commune is
    dropped and reported.
    """
    c_geoms = np.asarray(communes.geometry.values)
    tree = shapely.STRtree(c_geoms)
    ci, cj = tree.query(geoms, predicate="intersects")
    inside = shapely.contains_properly(c_geoms[cj], geoms[ci])
    n_pairs = np.bincount(ci, minlength=len(geoms))
    whole = inside | (n_pairs[ci] == 1)
    part_geoms = geoms[ci].copy()
    cut = ~whole
    if cut.any():
        part_geoms[cut] = shapely.intersection(geoms[ci[cut]], c_geoms[cj[cut]])
    area = shapely.area(part_geoms)
    # a cell counted inside one commune drops its other (boundary-touching) pairs
    in_one = np.zeros(len(geoms), dtype=bool)
    in_one[ci[inside]] = True
    keep = (area > 0) & (~in_one[ci] | inside)
    ci, cj, part_geoms, area = ci[keep], cj[keep], part_geoms[keep], area[keep]
    total = np.bincount(ci, weights=area, minlength=len(geoms))
    share = area / total[ci]
    return ci, cj, share, part_geoms


def _rescale(out: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, code_col: str, name: str):
    """Rescale ``population`` to the commune populations (largest remainder); report."""
    targets = pd.to_numeric(communes["population"], errors="coerce")
    codes = communes[code_col].astype(str).to_numpy()
    t = targets.fillna(0).round().astype(np.int64).to_numpy()
    g = pd.Index(codes).get_indexer(out["code_insee"].to_numpy())
    grid_sum = np.bincount(g, weights=out["population"].to_numpy(), minlength=len(codes))
    out["population"] = largest_remainder(out["population"].to_numpy(), g, t)
    lost = (grid_sum <= 0) & (t > 0)
    if lost.any():
        warnings.warn(
            f"{name} : {int(lost.sum())} commune(s) sans carreau habité, leur population "
            f"({int(t[lost].sum())} habitants) ne peut pas être placée : "
            f"{', '.join(codes[lost][:5])}",
            CouvertureWarning,
            stacklevel=3,
        )
    return grid_sum


def read_grid(
    path,
    communes: gpd.GeoDataFrame | None = None,
    *,
    crs=None,
    rescale: bool | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read the INSEE Filosofi 200 m grid as units of analysis (one row per cell or cell part).

    Parameters
    ----------
    path : str, path or DataFrame
        GeoPackage / shapefile / GeoParquet with the cell squares, or CSV /
        Parquet with only the identifier (the squares are then built from
        ``idcar_200m``). INSEE's column names, 2019 (lower case) or 2017
        (capitalised) release.
    communes : GeoDataFrame, optional
        Communes (``code_insee``, ``population``, polygons). Cells crossing
        commune boundaries are cut into parts by area share (see
        :func:`_split`); cells outside every commune are dropped (reported).
    crs : optional
        Metric CRS of the result; default the communes' CRS, else EPSG:2154.
    rescale : bool, optional
        Rescale ``population`` to the communes' ``population`` (default: True
        when communes with a population are given). Each commune's cells then
        sum exactly to its population (largest-remainder rounding to whole
        inhabitants); the other INSEE counts keep their Filosofi values.
        ``attrs["ecarts"]`` reports, per commune, the grid total and the
        commune population either way.
    layer : str, optional
        Layer of a multi-layer GeoPackage.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``id_unite`` (``idcar_200m``, or ``idcar_200m:code_insee`` for a
        part), columns ``idcar_200m``, ``code_insee`` (commune: the communes'
        when given, else the first code of ``lcog_geo``, else missing),
        ``population`` (from ``ind``), ``part_carreau`` (area share, 1 for a
        whole cell), every INSEE column, ``point`` (analysis point) and the
        polygon in the metric CRS.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cell = cells_from_ids(["CRS3035RES200mN2029800E4252400"])[0]
    >>> c = gpd.GeoDataFrame({"code_insee": ["13001", "13002"], "population": [7, 5]},
    ...     geometry=[box(0, 0, 4252500, 9e6), box(4252500, 0, 9e6, 9e6)], crs=3035)
    >>> t = pd.DataFrame({"idcar_200m": ["CRS3035RES200mN2029800E4252400"], "ind": [10.0]})
    >>> g = read_grid(t, c)
    >>> g[["code_insee", "part_carreau", "population"]].values.tolist()
    [['13001', 0.5, 7], ['13002', 0.5, 5]]
    """
    frame, name = _read(path, layer)
    frame = _normalise(frame, name)
    if crs is None:
        crs = communes.crs if communes is not None and communes.crs is not None else "EPSG:2154"
    geoms, centres = _geometries(frame, name, crs)
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    table = pd.DataFrame(frame.drop(columns=[geom_name]) if geom_name else frame)
    table = table.reset_index(drop=True)
    counts = _counts(table)
    if "lcog_geo" in table.columns:
        lcog = table["lcog_geo"].astype("string").str.strip().str[:5]
    elif "depcom" in table.columns:
        lcog = table["depcom"].astype("string").str.strip().str.zfill(5)
    else:
        lcog = pd.Series(pd.NA, index=table.index, dtype="string")
    out = table.copy()
    out["code_insee"] = lcog.astype(object).where(lcog.notna(), None)
    out["part_carreau"] = 1.0
    if communes is not None:
        communes = communes.to_crs(crs) if communes.crs != crs else communes
        code_col = "code_insee" if "code_insee" in communes.columns else None
        if code_col is None:
            raise InputError(Probleme("colonne code_insee absente", fichier="communes"))
        ci, cj, share, geoms = _split(table, geoms, communes, name)
        dropped = np.setdiff1d(np.arange(len(table)), ci)
        if len(dropped):
            warnings.warn(
                f"{name} : {len(dropped)} carreau(x) hors des communes données, écarté(s) "
                f"({table['ind'].to_numpy()[dropped].sum():.1f} individus)",
                CouvertureWarning,
                stacklevel=2,
            )
        out = table.iloc[ci].reset_index(drop=True)
        out[counts] = out[counts].to_numpy() * share[:, None]
        out["code_insee"] = communes[code_col].astype(str).to_numpy()[cj]
        out["part_carreau"] = share
    out["population"] = out["ind"].to_numpy(dtype=np.float64)
    ids = out["idcar_200m"].to_numpy(dtype=object)
    multi = pd.Series(ids).duplicated(keep=False).to_numpy()
    index = ids.copy()
    if multi.any():
        index[multi] = ids[multi] + ":" + out["code_insee"].to_numpy(dtype=object)[multi]
    out.index = pd.Index(index, name="id_unite")
    gdf = gpd.GeoDataFrame(out, geometry=geoms, crs=crs)
    whole = gdf["part_carreau"].to_numpy() >= 1.0
    if communes is None and centres is not None:
        pts = centres  # the cell centre, reprojected
    else:
        pts = shapely.centroid(geoms)
    if not whole.all():
        pts[~whole] = shapely.point_on_surface(geoms[~whole])
    gdf["point"] = gpd.GeoSeries(pts, index=gdf.index, crs=crs)
    if rescale is None:
        rescale = communes is not None and "population" in communes.columns
    if communes is not None and "population" in communes.columns:
        codes = communes["code_insee"].astype(str).to_numpy()
        g = pd.Index(codes).get_indexer(gdf["code_insee"].to_numpy())
        grid_sum = np.bincount(g, weights=gdf["population"].to_numpy(), minlength=len(codes))
        if rescale:
            _rescale(gdf, communes, "code_insee", name)
        ecarts = pd.DataFrame(
            {
                "population_grille": grid_sum,
                "population_commune": pd.to_numeric(communes["population"], errors="coerce").to_numpy(),
            },
            index=pd.Index(codes, name="code_insee"),
        )
        ecarts["ecart"] = ecarts["population_grille"] - ecarts["population_commune"]
        gdf.attrs["ecarts"] = ecarts
    elif rescale:
        raise InputError(
            Probleme("le recalage demande les communes et leur population", fichier="communes", colonne="population")
        )
    gdf.attrs["recale"] = bool(rescale)
    gdf.attrs["source"] = "Insee, Filosofi, données carroyées à 200 m"
    gdf.attrs["fichier"] = name
    logger.info("%s : %d carreau(x), %d unité(s)", name, len(table), len(gdf))
    return gdf
