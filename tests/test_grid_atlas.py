"""A grid-based TOML (INSEE 200 m cells, ANCT QPV, demand by need) builds a full atlas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from couverture.analysis.diagnostic import diagnose
from couverture.config import load_config
from couverture.errors import CouvertureWarning
from couverture.io.grid import GRID_COLUMNS

X0, Y0 = 890_000.0, 6_240_000.0  # Lambert-93, near Marseille


def write_inputs(folder, nx=3, ny=2, size=1000.0, seed=0):
    """Communes (GPKG), structures (CSV), ZVS (CSV), grid (INSEE CSV), QPV (ANCT GeoJSON)."""
    rng = np.random.default_rng(seed)
    codes = [f"130{i + 1:02d}" for i in range(nx * ny)]
    geoms = [
        box(X0 + (i % nx) * size, Y0 + (i // nx) * size, X0 + (i % nx + 1) * size, Y0 + (i // nx + 1) * size)
        for i in range(nx * ny)
    ]
    communes = gpd.GeoDataFrame(
        {
            "code_insee": codes,
            "nom": [f"Commune {c}" for c in codes],
            "population": rng.integers(500, 3000, len(codes)),
            "epci": ["200054807"] * 3 + ["241300391"] * (len(codes) - 3),
        },
        geometry=geoms,
        crs=2154,
    )
    communes.to_file(folder / "communes.gpkg")
    pts = communes.geometry.iloc[[0, 2, 4]].centroid.to_crs(4326)
    pd.DataFrame(
        {
            "Latitude": pts.y.round(6).to_numpy(),
            "Longitude": pts.x.round(6).to_numpy(),
            "N° agrément": ["CS-1", "EVS-1", "CS-2"],
            "Nom de la structure": ["Centre social A", "EVS B", "Centre social C"],
            "Type": ["Centre social", "Espace de vie sociale", "Centre social"],
            "Code INSEE": [codes[0], codes[2], codes[4]],
        }
    ).to_csv(folder / "structures.csv", sep=";", index=False)
    pd.DataFrame(
        {"structure_id": ["CS-1", "EVS-1", "CS-2"], "communes": [f"{codes[0]}, {codes[1]}", codes[2], codes[4]]}
    ).to_csv(folder / "zvs.csv", sep=";", index=False)
    # grid: every cell of the territory's envelope in EPSG:3035
    env = gpd.GeoSeries([box(*communes.total_bounds)], crs=2154).to_crs(3035).total_bounds
    e = np.arange(np.floor(env[0] / 200) * 200, env[2], 200)
    n = np.arange(np.floor(env[1] / 200) * 200, env[3], 200)
    ee, nn = np.meshgrid(e, n)
    ee, nn = ee.ravel().astype(int), nn.ravel().astype(int)
    t = pd.DataFrame({"idcar_200m": [f"CRS3035RES200mN{y}E{x}" for x, y in zip(ee, nn)]})
    t["idcar_1km"] = [f"CRS3035RES1000mN{y // 1000 * 1000}E{x // 1000 * 1000}" for x, y in zip(ee, nn)]
    t["idcar_nat"] = [f"CRS3035RES2000mN{y // 2000 * 2000}E{x // 2000 * 2000}" for x, y in zip(ee, nn)]
    t["i_est_200"], t["i_est_1km"], t["lcog_geo"] = 0, 0, codes[0]
    for col in GRID_COLUMNS[6:]:
        t[col] = np.round(rng.uniform(0, 6, len(t)), 1)
    t["ind"] = np.round(rng.uniform(1, 60, len(t)), 1)
    t.to_csv(folder / "carreaux_200m_met.csv", index=False)
    qpv = gpd.GeoDataFrame(
        {
            "code_qp": ["QN01301M", "QN01302M"],
            "lib_qp": ["Les Tilleuls", "La Gare"],
            "insee_dep": "13",
            "insee_com": [codes[0], codes[5]],
            "lib_com": ["A", "F"],
            "siren_epci": "200054807",
        },
        geometry=[
            box(X0 + 200, Y0 + 200, X0 + 1000, Y0 + 900),
            box(X0 + 2 * size + 300, Y0 + size + 300, X0 + 3 * size - 300, Y0 + 2 * size - 300),
        ],
        crs=2154,
    ).to_crs(4326)
    qpv.to_file(folder / "qpv.geojson", driver="GeoJSON")
    return communes


TOML = """titre = "Diagnostic sur la grille"
territoire = "Essai grille (fictif)"

[entrees]
communes = "communes.gpkg"
structures = "structures.csv"
zones = "zvs.csv"
unites = "grille"
grille = "carreaux_200m_met.csv"
qpv = "qpv.geojson"
demande = "men_fmp"
demandes = ["ind_0_17", "men_pauv"]

[parametres]
rayon_m = 1200
distance_max_m = 2000
niveaux = ["commune", "epci"]
"""


@pytest.fixture(scope="module")
def grid_case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grille")
    communes = write_inputs(folder)
    (folder / "couverture.toml").write_text(TOML, encoding="utf-8")
    config = load_config(folder / "couverture.toml")
    with pytest.warns(CouvertureWarning, match="hors des communes"):
        territory = config.territory()  # cells of the envelope beyond the communes
    return folder, communes, config, territory


def test_grid_territory_and_diagnostic(grid_case):
    _, communes, config, t = grid_case
    assert config.unites == "grille"
    units = t.communes
    assert units["code_insee"].is_unique and "idcar_200m" in units
    # rescaled exactly to the communes' populations
    assert units.groupby("commune")["population"].sum().to_dict() == dict(
        zip(communes["code_insee"], communes["population"])
    )
    d = diagnose(t, config.params)
    assert d.demande == "men_fmp"
    assert list(d.demandes.index) == ["population", "men_fmp", "ind_0_17", "men_pauv"]
    assert np.isclose(
        d.demandes.loc["ind_0_17", "total"], units[["ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17"]].to_numpy().sum()
    )
    # levels aggregate the cells exactly
    assert d.niveaux["commune"]["population"].to_dict() == dict(zip(communes["code_insee"], communes["population"]))
    assert d.niveaux["epci"]["population"].sum() == communes["population"].sum()
    assert list(d.qpv.index) == ["QN01301M", "QN01302M"]
    assert d.qpv["population"].sum() <= units["population"].sum()
    assert "code_qp" in d.structures.columns
    assert d.structures["commune"].str.startswith("Commune 130").all()


def test_grid_toml_builds_full_atlas(grid_case, tmp_path):
    from couverture.atlas.build import build_atlas

    _, _, config, t = grid_case
    index = build_atlas(t, tmp_path / "atlas", parametres=config.params)
    assert index.exists()
    qpv_page = index.parent / "qpv" / "index.html"
    assert qpv_page.exists()
    text = qpv_page.read_text(encoding="utf-8")
    assert "QN01301M" in text and "Les Tilleuls" in text
    assert "ANCT" in text


def test_exports_have_qpv_and_demands_sheets(grid_case, tmp_path):
    from openpyxl import load_workbook

    from couverture.exports import export_diagnostic

    _, _, config, t = grid_case
    d = diagnose(t, config.params)
    path = export_diagnostic(d, tmp_path / "diagnostic.xlsx")
    wb = load_workbook(path)
    assert {"QPV", "Structures en QPV", "Demandes"} <= set(wb.sheetnames)
    rows = list(wb["QPV"].iter_rows(values_only=True))
    header = next(r for r in rows if r and "Code du quartier" in r)
    assert "Sans structure (Cnaf)" in header
    assert any(r and "QN01301M" in r for r in rows)


def test_many_cells_are_shown_by_commune(grid_case, tmp_path):
    """Above the stated feature count the atlas shows communes, aggregated exactly from the cells."""
    import dataclasses

    from couverture.analysis.units import display_units
    from couverture.atlas.build import build_atlas

    _, communes, config, t = grid_case
    d = diagnose(t, config.params)
    assert d.affichage is None  # a few hundred cells: shown as they are
    shown = display_units(d.unites, max_features=10)
    assert shown["population"].to_dict() == dict(zip(communes["code_insee"], communes["population"]))
    d = dataclasses.replace(d, affichage=shown)
    index = build_atlas(t, tmp_path / "atlas", diagnostic=d)
    pages = [p for p in (index.parent / "communes").glob("*.html") if p.name != "index.html"]
    assert len(pages) == len(communes)
    assert "regroupées en 6 communes" in index.read_text(encoding="utf-8")
    assert "ménages monoparentaux" in (index.parent / "indicateurs" / "accessibilite.html").read_text(encoding="utf-8")
