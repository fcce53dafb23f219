"""Quartiers prioritaires de la politique de la ville (QPV), ANCT 2024 layer.

The ANCT publishes the QPV 2024 boundaries (data.gouv.fr, « Quartiers
prioritaires de la politique de la ville (QPV) »; GeoJSON in WGS84, also
GeoPackage / shapefile in Lambert-93) with one feature per quartier and the
columns ``code_qp`` (e.g. ``QN01301M``), ``lib_qp``, ``insee_com``,
``lib_com``, ``insee_dep``, ``lib_dep``, ``siren_epci``... The 2015 layer
(``CODE_QP``, ``NOM_QP``, ``COMMUNE_QP``) is read the same way.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> raw = gpd.GeoDataFrame({"code_qp": ["QN01301M"], "lib_qp": ["Centre"],
...                         "insee_com": ["13001"], "lib_com": ["Aix"]},
...                        geometry=[box(5.44, 43.52, 5.46, 43.53)], crs=4326)
>>> q = read_qpv(raw)
>>> q.index.tolist(), q.crs.to_epsg(), q["nom_qp"].tolist()
(['QN01301M'], 2154, ['Centre'])
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import repair_geometries
from ..errors import InputError, Probleme

logger = logging.getLogger(__name__)

__all__ = ["QPV_SOURCE", "read_qpv"]

QPV_SOURCE = "ANCT, quartiers prioritaires de la politique de la ville 2024"

_ALIASES = {
    "code_qp": ("code_qp", "code_qpv", "code_quartier"),
    "nom_qp": ("lib_qp", "nom_qp", "nom_qpv", "quartier_prioritaire"),
    "code_insee": ("insee_com", "code_insee", "commune_qp", "depcom"),
    "nom_commune": ("lib_com", "nom_com", "noms_des_communes_concernees"),
    "departement": ("insee_dep", "code_dep", "departement"),
    "epci": ("siren_epci", "epci"),
}


def _column(frame: pd.DataFrame, role: str) -> str | None:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    return next((lower[a] for a in _ALIASES[role] if a in lower), None)


def read_qpv(path, *, crs=None, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read the ANCT QPV layer: one row per quartier, indexed by its code.

    Parameters
    ----------
    path : str, path or GeoDataFrame
        GeoJSON / GeoPackage / shapefile / GeoParquet of the QPV.
    crs : optional
        Metric CRS of the result (default EPSG:2154).
    layer : str, optional
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``code_qp``; columns ``code_qp``, ``nom_qp``, ``code_insee``
        (first commune), ``nom_commune``, ``departement``, ``epci`` when
        present (``"; "``-joined when several features share a code, their
        polygons being merged), and the polygon in the metric CRS.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> raw = gpd.GeoDataFrame({"CODE_QP": ["QP013001", "QP013001"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=2154)
    >>> read_qpv(raw).geometry.area.tolist()
    [2.0]
    """
    if isinstance(path, gpd.GeoDataFrame):
        frame, name = path.copy(), str(path.attrs.get("fichier", "qpv"))
    else:
        p = Path(os.fspath(path))
        name = p.name
        if not p.exists():
            raise InputError(f"fichier introuvable : {name}")
        try:
            if p.suffix.lower() in {".parquet", ".geoparquet"}:
                frame = gpd.read_parquet(p)
            else:
                frame = gpd.read_file(p, layer=layer)
        except Exception as exc:  # pyogrio raises several types
            raise InputError(f"{name} : lecture impossible ({exc})") from exc
    if not isinstance(frame, gpd.GeoDataFrame) or len(frame) == 0:
        raise InputError(f"{name} : aucune entité géographique (couche des QPV attendue)")
    if frame.crs is None:
        raise InputError(Probleme("la couche n'a pas de système de coordonnées (CRS)", fichier=name))
    code = _column(frame, "code_qp")
    if code is None:
        raise InputError(
            Probleme(
                "colonne du code du quartier absente (attendu : code_qp, comme dans la couche ANCT)",
                fichier=name,
                colonne="code_qp",
            )
        )
    codes = frame[code].astype("string").str.strip()
    bad = codes.isna() | (codes == "")
    if bad.any():
        lines = ", ".join(str(i + 2) for i in np.flatnonzero(bad.to_numpy())[:5])
        raise InputError(Probleme(f"code du quartier vide (lignes {lines})", fichier=name, colonne=str(code)))
    out = pd.DataFrame({"code_qp": codes.astype(str).to_numpy()})
    for role in ("nom_qp", "code_insee", "nom_commune", "departement", "epci"):
        col = _column(frame, role)
        if col is not None:
            out[role] = frame[col].astype("string").str.strip().astype(object).to_numpy()
    target = crs or "EPSG:2154"
    geoms = frame.geometry.to_crs(target) if frame.crs != target else frame.geometry
    gdf = gpd.GeoDataFrame(out, geometry=np.asarray(geoms.values), crs=target)
    gdf, _ = repair_geometries(gdf, name)
    empty = shapely.is_missing(gdf.geometry.values) | shapely.is_empty(gdf.geometry.values)
    if empty.any():
        lines = ", ".join(str(i + 2) for i in np.flatnonzero(empty)[:5])
        raise InputError(Probleme(f"quartier sans géométrie (lignes {lines})", fichier=name, colonne="geometry"))
    if gdf["code_qp"].duplicated().any():
        logger.info("%s : plusieurs entités pour un même QPV, polygones fusionnés", name)
        agg = {
            c: (lambda s: "; ".join(dict.fromkeys(s.dropna().astype(str))))
            for c in gdf.columns
            if c not in ("code_qp", "geometry")
        }
        gdf = gdf.dissolve(by="code_qp", aggfunc=agg, sort=False).reset_index()
    gdf.index = pd.Index(gdf["code_qp"].to_numpy(), name="code_qp")
    gdf.attrs["source"] = QPV_SOURCE
    gdf.attrs["fichier"] = name
    return gdf
