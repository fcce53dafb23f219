"""Tests of couverture.maps.travel (drive-time area maps)."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import LineString, Point

from couverture import maps
from couverture.analysis.travel import drive_time_areas
from couverture.io.network import road_network


def _areas():
    roads = gpd.GeoDataFrame(
        {"v": [60.0, 60.0]},
        geometry=[
            LineString([(850000, 6250000), (870000, 6250000)]),
            LineString([(850000, 6250000), (850000, 6270000)]),
        ],
        crs=2154,
    )
    roads.attrs["source"] = "routes<script>.gpkg"
    net = road_network(roads, speed_col="v", cache_dir=None)
    s = gpd.GeoDataFrame({"structure_id": ["CS1"]}, geometry=[Point(850000, 6250000)], crs=2154)
    return drive_time_areas(net, s, [5, 10]), s


def test_static_map_legend_and_sources():
    areas, s = _areas()
    fig = maps.drive_time_map(areas, structures=s, title="Temps d'accès")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["≤ 5 min", "≤ 10 min"]
    assert any("minutes en voiture" in t.get_text() for t in fig.texts)


def test_folium_layer_escapes_and_names_bands():
    areas, s = _areas()
    html = maps.drive_time_folium(areas, structures=s).get_root().render()
    assert "5 min" in html and "10 min" in html and "CS1" in html
    assert "routes<script>" not in html and "routes&lt;script&gt;.gpkg" in html
