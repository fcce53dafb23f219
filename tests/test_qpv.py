"""Tests of the QPV reader and of the QPV indicators against a brute-force overlay."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from couverture.analysis.qpv import (
    qpv_coverage,
    qpv_of_points,
    qpv_structure_share,
    structures_in_qpv,
)
from couverture.errors import InputError
from couverture.io.grid import cells_from_ids, read_grid
from couverture.io.qpv import read_qpv


def anct_layer(n=6, seed=0) -> gpd.GeoDataFrame:
    """QPV in the ANCT 2024 schema (WGS84 GeoJSON properties), not overlapping."""
    rng = np.random.default_rng(seed)
    x0, y0 = 890_000, 6_245_000  # Lambert-93, Marseille
    geoms = []
    for i in range(n):
        cx, cy = x0 + (i % 3) * 3000, y0 + (i // 3) * 3000
        w, h = rng.uniform(600, 1400, 2)
        geoms.append(box(cx, cy, cx + w, cy + h))
    gdf = gpd.GeoDataFrame(
        {
            "code_qp": [f"QN013{i:02d}M" for i in range(n)],
            "lib_qp": [f"Quartier {i}" for i in range(n)],
            "insee_dep": "13",
            "lib_dep": "Bouches-du-Rhône",
            "insee_com": "13055",
            "lib_com": "Marseille",
            "siren_epci": "200054807",
        },
        geometry=geoms,
        crs=2154,
    ).to_crs(4326)
    return gdf


def test_read_qpv_geojson(tmp_path):
    p = tmp_path / "QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"
    anct_layer().to_file(p, driver="GeoJSON")
    q = read_qpv(p)
    assert q.index.name == "code_qp" and q.index.is_unique
    assert q.crs.to_epsg() == 2154
    assert list(q.columns[:6]) == ["code_qp", "nom_qp", "code_insee", "nom_commune", "departement", "epci"]
    assert q.loc["QN01300M", "nom_qp"] == "Quartier 0"


def test_read_qpv_refuses_missing_code(tmp_path):
    raw = anct_layer().drop(columns="code_qp")
    with pytest.raises(InputError, match="code_qp"):
        read_qpv(raw)
    bad = anct_layer()
    bad.loc[2, "code_qp"] = ""
    with pytest.raises(InputError, match="lignes 4"):
        read_qpv(bad)


def random_case(seed):
    rng = np.random.default_rng(seed)
    q = read_qpv(anct_layer(seed=seed))
    xmin, ymin, xmax, ymax = q.total_bounds
    n = 400
    xy = np.c_[rng.uniform(xmin - 1000, xmax + 1000, n), rng.uniform(ymin - 1000, ymax + 1000, n)]
    units = gpd.GeoDataFrame(
        {"population": rng.integers(0, 50, n), "men_fmp": rng.uniform(0, 5, n)},
        geometry=[box(x - 50, y - 50, x + 50, y + 50) for x, y in xy],
        crs=2154,
    )
    units["point"] = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=2154)
    m = 12
    sxy = np.c_[rng.uniform(xmin, xmax, m), rng.uniform(ymin, ymax, m)]
    structures = gpd.GeoDataFrame(
        {"structure_id": [f"S{i}" for i in range(m)], "type": rng.choice(["CS", "EVS"], m)},
        geometry=gpd.points_from_xy(sxy[:, 0], sxy[:, 1]),
        crs=2154,
    )
    zones = gpd.GeoDataFrame(
        {"structure_id": structures["structure_id"]}, geometry=structures.buffer(900).values, crs=2154
    ).iloc[::2]
    return q, units, structures, zones, xy, sxy


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_qpv_coverage_equals_brute_force(seed):
    q, units, structures, zones, xy, sxy = random_case(seed)
    r = qpv_coverage(q, units, structures, zones=zones, max_distance=800)
    pts = [Point(p) for p in xy]
    dist = np.sqrt(((xy[:, None, :] - sxy[None, :, :]) ** 2).sum(-1)).min(1)
    in_zone = np.array([any(z.covers(p) for z in zones.geometry) for p in pts])
    for code, poly in zip(q.index, q.geometry):
        inside = np.array([poly.covers(p) for p in pts])
        pop = units["population"].to_numpy()
        assert r.loc[code, "population"] == pop[inside].sum()
        assert r.loc[code, "population_zvs"] == pop[inside & in_zone].sum()
        assert r.loc[code, "population_a_portee"] == pop[inside & (dist <= 800)].sum()
        n_in = sum(poly.covers(Point(p)) for p in sxy)
        n_near = sum(poly.distance(Point(p)) <= 800 for p in sxy)
        assert r.loc[code, "n_structures"] == n_in
        assert r.loc[code, "n_structures_a_portee"] == n_near
        assert r.loc[code, "sans_structure"] == (n_in == 0)
        assert r.loc[code, "sans_structure_a_portee"] == (n_near == 0)
    # each inhabitant in at most one QPV; the rest is outside
    assert r["population"].sum() + r.attrs["hors_qpv"] == units["population"].sum()


def test_qpv_coverage_other_demand_and_no_zones():
    q, units, structures, _, _, _ = random_case(4)
    r = qpv_coverage(q, units, structures, demand_col="men_fmp")
    assert r["population_zvs"].isna().all()  # n.d. without zones, never 0
    where = qpv_of_points(q, np.c_[units["point"].x, units["point"].y])
    exp = pd.Series(units["men_fmp"].to_numpy()).groupby(where).sum()
    for i, code in enumerate(q.index):
        assert np.isclose(r.loc[code, "population"], exp.get(i, 0.0))
    assert r.attrs["demande"] == "men_fmp"


def test_structures_share_senacs():
    q, _, structures, _, _, sxy = random_case(5)
    inq = structures_in_qpv(structures, q)
    brute = [next((c for c, g in zip(q.index, q.geometry) if g.covers(Point(p))), None) for p in sxy]
    assert inq.tolist() == brute
    share = qpv_structure_share(structures, q)
    assert share.loc["Ensemble", "n_en_qpv"] == sum(b is not None for b in brute)
    assert share.loc["Ensemble", "n_structures"] == len(structures)
    assert share.loc[["CS", "EVS"], "n_en_qpv"].sum() == share.loc["Ensemble", "n_en_qpv"]


def test_grid_cells_in_qpv():
    """The 200 m grid read from the INSEE identifiers feeds qpv_coverage."""
    ids = [f"CRS3035RES200mN{2_270_000 + 200 * j}E{3_926_000 + 200 * i}" for i in range(5) for j in range(5)]
    t = pd.DataFrame({"idcar_200m": ids, "ind": np.arange(25, dtype=float)})
    g = read_grid(t)
    cells = gpd.GeoSeries(cells_from_ids(ids), crs=3035).to_crs(2154)
    qpoly = cells.iloc[[0, 1, 5, 6]].union_all().buffer(-1)
    q = read_qpv(gpd.GeoDataFrame({"code_qp": ["QN01301M"]}, geometry=[qpoly], crs=2154))
    s = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[cells.iloc[24].centroid], crs=2154)
    r = qpv_coverage(q, g, s, max_distance=10)
    assert r.loc["QN01301M", "population"] == 0 + 1 + 5 + 6
    assert r.loc["QN01301M", "sans_structure"]
