"""The coordinate system of a geographic file, checked as it is read.

A GeoJSON file has no coordinate system of its own: without a ``crs``
member GDAL reads it as WGS84 degrees (RFC 7946). A file exported in
Lambert-93 without that member would then hold "degrees" of 900 000 and
6 000 000, and every distance, area and map drawn from it would be nonsense.
:func:`check_layer_crs` refuses such a layer with a French message, or reads
it in the system the user names (``crs=2154`` in Python, ``--crs 2154`` on the
command line). A layer that declares no system at all (a Shapefile without
``.prj``) is refused the same way unless a system is named.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import Point
>>> g = gpd.GeoDataFrame(geometry=[Point(893150, 6247600)], crs=4326)
>>> try:
...     check_layer_crs(g, "s.geojson")
... except InputError as exc:
...     print(str(exc)[:75])
s.geojson : pas en WGS84 : coordonnées métriques sans système déclaré (x de
>>> check_layer_crs(g, "s.geojson", crs=2154).crs.to_epsg()
2154
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pyproj

from ..errors import InputError

__all__ = ["CRS_HINT", "check_layer_crs"]

log = logging.getLogger(__name__)

#: How a user names the system of a layer.
CRS_HINT = "indiquez son système : --crs 2154 (Lambert-93) en ligne de commande, crs=2154 en Python"


def _fmt(v: float) -> str:
    return f"{v:,.0f}".replace(",", "\u202f")


def check_layer_crs(frame: gpd.GeoDataFrame, name: str, crs=None) -> gpd.GeoDataFrame:
    """``frame`` with a coordinate system its coordinates can be in.

    Parameters
    ----------
    frame : GeoDataFrame
        A layer as read from a file.
    name : str
        File name, for messages.
    crs : optional
        System named by the user for a layer that declares none (or that GDAL
        took for WGS84 although its coordinates are metres).

    Raises
    ------
    InputError
        Coordinates beyond ±180 / ±90 in a layer read as degrees, or no
        system at all, when ``crs`` is not given.
    """
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        return frame
    geoms = frame.geometry
    with np.errstate(invalid="ignore"):
        b = geoms[~(geoms.isna() | geoms.is_empty)].total_bounds if len(geoms) else np.full(4, np.nan)
    finite = np.isfinite(b).all()
    if frame.crs is None:
        if crs is not None:
            log.info("%s : système de coordonnées %s indiqué par l'utilisateur", name, crs)
            return frame.set_crs(crs)
        raise InputError(
            f"{name} : la couche n'a pas de système de coordonnées (CRS) ; {CRS_HINT} "
            "(gdf.set_crs(4326) pour des degrés WGS84, set_crs(2154) pour du Lambert-93)"
        )
    geographic = pyproj.CRS(frame.crs).is_geographic
    beyond = finite and (max(abs(b[0]), abs(b[2])) > 180 or max(abs(b[1]), abs(b[3])) > 90)
    if geographic and beyond:
        if crs is not None:
            log.info("%s : coordonnées métriques lues dans le système %s indiqué par l'utilisateur", name, crs)
            return frame.set_crs(crs, allow_override=True)
        raise InputError(
            f"{name} : pas en WGS84 : coordonnées métriques sans système déclaré (x de {_fmt(b[0])} à {_fmt(b[2])}, "
            f"y de {_fmt(b[1])} à {_fmt(b[3])}, alors que des degrés sont attendus : longitude -180 à 180, "
            "latitude -90 à 90) ; un GeoJSON sans membre « crs » est lu en degrés WGS84 : reprojetez-le en WGS84 "
            f"ou {CRS_HINT}"
        )
    return frame
