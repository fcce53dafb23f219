"""Tests of the INSEE Filosofi 200 m grid reader (files in the published schema)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from couverture.errors import CouvertureWarning, InputError
from couverture.io.grid import (
    GRID_COLUMNS,
    cells_from_ids,
    largest_remainder,
    read_grid,
)

# south-west corners of a 4 x 3 block of cells in EPSG:3035 (Marseille area)
E0, N0 = 3_926_000, 2_270_000


def grid_table(nx=4, ny=3, seed=0, upper=False) -> pd.DataFrame:
    """A Filosofi 2019 table (all published columns) for nx * ny cells."""
    rng = np.random.default_rng(seed)
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
    east = E0 + 200 * ix.ravel()
    north = N0 + 200 * iy.ravel()
    n = east.size
    t = pd.DataFrame({"idcar_200m": [f"CRS3035RES200mN{y}E{x}" for x, y in zip(east, north)]})
    t["idcar_1km"] = [f"CRS3035RES1000mN{y // 1000 * 1000}E{x // 1000 * 1000}" for x, y in zip(east, north)]
    t["idcar_nat"] = [f"CRS3035RES2000mN{y // 2000 * 2000}E{x // 2000 * 2000}" for x, y in zip(east, north)]
    t["i_est_200"] = 0
    t["i_est_1km"] = 1
    t["lcog_geo"] = "13055"
    for col in GRID_COLUMNS[6:]:
        t[col] = np.round(rng.uniform(0, 40, n), 1)
    t["ind"] = np.round(rng.uniform(1, 120, n), 1)
    if upper:  # Filosofi 2017 spelling
        t.columns = [c.capitalize() for c in t.columns]
    return t


def test_cells_from_ids_sw_corner_and_size():
    cell = cells_from_ids(["CRS3035RES200mN2029800E4252400"])[0]
    assert cell.bounds == (4252400.0, 2029800.0, 4252600.0, 2030000.0)
    assert cell.area == 40_000


def test_bad_identifier_names_line_and_column():
    t = grid_table()
    t.loc[2, "idcar_200m"] = "N2029800E4252400"
    with pytest.raises(InputError, match=r"ligne.*4.*idcar_200m|idcar_200m.*4"):
        read_grid(t)


def test_missing_ind_refused():
    t = grid_table().drop(columns="ind")
    with pytest.raises(InputError, match="ind"):
        read_grid(t)


def test_csv_without_geometry_builds_cells(tmp_path):
    t = grid_table()
    p = tmp_path / "carreaux_200m_met.csv"
    t.to_csv(p, index=False)
    g = read_grid(p)
    assert g.crs.to_epsg() == 2154
    assert len(g) == len(t)
    # back in EPSG:3035 the squares are the identifier's squares
    back = g.geometry.to_crs(3035)
    expected = cells_from_ids(t["idcar_200m"])
    assert np.allclose(shapely.area(back.values), 40_000, rtol=1e-6)
    assert shapely.equals_exact(shapely.normalize(back.values), shapely.normalize(expected), tolerance=1e-3).all()
    assert g["population"].tolist() == t["ind"].tolist()
    assert (g["code_insee"] == "13055").all()
    for col in GRID_COLUMNS:
        assert col in g.columns
    assert g.index.name == "id_unite" and g.index.is_unique


def test_gpkg_and_2017_capitalised_and_semicolon(tmp_path):
    t = grid_table(upper=True)
    gdf = gpd.GeoDataFrame(t, geometry=cells_from_ids(t["Idcar_200m"]), crs=3035)
    p = tmp_path / "Filosofi2017_carreaux_200m_met.gpkg"
    gdf.to_file(p)
    g = read_grid(p)
    assert "idcar_200m" in g.columns and "men_fmp" in g.columns
    assert np.isclose(g["population"].sum(), t["Ind"].sum())
    c = tmp_path / "grid.csv"
    t.to_csv(c, sep=";", index=False)
    assert np.isclose(read_grid(c)["population"].sum(), t["Ind"].sum())


def test_parquet_plain(tmp_path):
    t = grid_table()
    p = tmp_path / "g.parquet"
    t.to_parquet(p)
    assert len(read_grid(p)) == len(t)


def communes_split():
    """Two communes in EPSG:3035 splitting the block at x = E0 + 300 (through a column)."""
    return gpd.GeoDataFrame(
        {"code_insee": ["13001", "13002"], "population": [500, 301]},
        geometry=[box(E0 - 1000, N0 - 1000, E0 + 300, N0 + 2000), box(E0 + 300, N0 - 1000, E0 + 2000, N0 + 2000)],
        crs=3035,
    )


def test_split_by_area_share_conserves_counts():
    t = grid_table()
    c = communes_split()
    g = read_grid(t, c, rescale=False)
    # column x = E0+200 .. E0+400 is cut in halves: 3 cells -> 6 parts
    assert len(g) == len(t) + 3
    assert np.isclose(g["population"].sum(), t["ind"].sum())
    for col in ("men_fmp", "ind_0_3", "men_pauv", "ind_snv"):
        assert np.isclose(g[col].sum(), t[col].sum())
    parts = g[g["part_carreau"] < 1]
    assert np.allclose(parts["part_carreau"], 0.5)
    assert parts.groupby("idcar_200m")["part_carreau"].sum().round(12).eq(1).all()
    # each part inside its commune
    cg = c.set_index("code_insee").geometry.to_crs(g.crs)
    assert all(cg[code].buffer(1e-6).covers(geom) for code, geom in zip(g["code_insee"], g.geometry))
    assert g.index.is_unique and g.crs == c.crs
    e = g.attrs["ecarts"]
    assert np.isclose(e["population_grille"].sum(), t["ind"].sum())


def test_rescale_exact_commune_totals():
    t = grid_table(seed=3)
    c = communes_split()
    g = read_grid(t, c)  # rescaled by default
    assert g["population"].dtype == np.int64
    got = g.groupby("code_insee")["population"].sum()
    assert got.to_dict() == dict(zip(c["code_insee"], c["population"]))
    assert g.attrs["recale"]


def test_commune_without_cells_and_cells_outside_reported():
    t = grid_table()
    c = communes_split()
    extra = gpd.GeoDataFrame({"code_insee": ["13003"], "population": [40]}, geometry=[box(0, 0, 10, 10)], crs=3035)
    left = c.iloc[[0]]
    with pytest.warns(CouvertureWarning, match="hors des communes"):
        g = read_grid(t, left, rescale=False)
    assert set(g["code_insee"]) == {"13001"}
    with pytest.warns(CouvertureWarning, match="sans carreau"):
        read_grid(t, pd.concat([c, extra]))


def test_largest_remainder_sums_exactly():
    rng = np.random.default_rng(1)
    v = rng.uniform(0, 10, 1000)
    groups = rng.integers(0, 17, 1000)
    targets = rng.integers(0, 5000, 17)
    out = largest_remainder(v, groups, targets)
    assert (np.bincount(groups, weights=out, minlength=17) == targets).all()
    # each integer within 1 of the proportional value
    sums = np.bincount(groups, weights=v, minlength=17)
    raw = v * targets[groups] / sums[groups]
    assert (np.abs(out - raw) < 1).all()
