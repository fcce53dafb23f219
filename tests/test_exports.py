"""Tests of couverture.exports: XLSX, CSV folder and GeoPackage exports of a diagnostic."""

from __future__ import annotations

import csv
import hashlib
import zipfile

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely import Point, box

from couverture.analysis.diagnostic import diagnose
from couverture.config import Parametres
from couverture.errors import InputError
from couverture.exports import LEVEL_LABELS, HEADERS, export_diagnostic
from couverture.territory import Territory


@pytest.fixture(scope="module")
def demo_diag(demo):
    return diagnose(demo)


@pytest.fixture(scope="module")
def toy():
    """Three communes of the Ain (codes with a leading zero), two structures, one zone."""
    communes = gpd.GeoDataFrame(
        {
            "code_insee": ["01001", "01002", "01004"],
            "nom": ["A", "B", "C"],
            "population": [1000, 500, 250],
            "epci": ["200029999", "200029999", "240100883"],
            "epci_nom": ["CC un", "CC un", "CC deux"],
        },
        geometry=[box(850000, 6550000, 852000, 6552000), box(852000, 6550000, 854000, 6552000), box(854000, 6550000, 856000, 6552000)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["007", "=1+1"],
            "nom": ['=HYPERLINK("http://example.invalid")', "EVS du Pont"],
            "type": ["CS", "EVS"],
            "code_insee": ["01001", "01004"],
        },
        geometry=[Point(851000, 6551000), Point(855500, 6551000)],
        crs=2154,
    )
    zones = gpd.GeoDataFrame({"structure_id": ["007"]}, geometry=[box(850000, 6550000, 852000, 6552000)], crs=2154)
    t = Territory(communes, structures, zones, name="Essai", sources={"structures": "fichier essai, 2025"})
    return diagnose(t, Parametres(rayon_m=3000, titre="Titre d'essai", sous_titre="Sous-titre"))


def sheet(wb, name) -> tuple[list[str], list[tuple]]:
    rows = list(wb[name].iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def column(wb, name, header) -> list:
    head, rows = sheet(wb, name)
    k = head.index(header)
    return [r[k] for r in rows]


# ----------------------------------------------------------------------------- XLSX


@pytest.fixture(scope="module")
def demo_xlsx(demo_diag, tmp_path_factory):
    path = export_diagnostic(demo_diag, tmp_path_factory.mktemp("x") / "diagnostic.xlsx")
    return path, openpyxl.load_workbook(path)


def test_xlsx_sheets(demo_xlsx, demo_diag):
    path, wb = demo_xlsx
    assert path.name == "diagnostic.xlsx"
    expected = ["Lisez-moi", "Chiffres clés", "Unités", "Structures", "Zones (ZVS)", "Zones blanches"]
    expected += [f"Niveau {LEVEL_LABELS[k]}" for k in demo_diag.niveaux]
    expected += ["Équité", "Évolution", "Rapport de chargement"]
    assert wb.sheetnames == expected


def test_evolution_and_scenario_sheets(tmp_path, demo):
    import openpyxl

    from couverture.analysis.diagnostic import diagnose
    from couverture.config import Parametres

    d = diagnose(demo, Parametres(scenario_k=2))
    wb = openpyxl.load_workbook(export_diagnostic(d, tmp_path / "d.xlsx"))
    assert {"Évolution", "Scénario", "Scénario avant-après"} <= set(wb.sheetnames)
    assert column(wb, "Scénario", "Code INSEE") == d.scenarios["code_insee"].tolist()
    years = column(wb, "Évolution", "Année (situation au 31 décembre)")
    assert years == d.evolution["annee"].tolist()


def test_xlsx_unit_figures_match_the_diagnostic(demo_xlsx, demo_diag):
    _, wb = demo_xlsx
    u = demo_diag.unites
    assert column(wb, "Unités", "Code INSEE") == u["code_insee"].tolist()
    assert column(wb, "Unités", "Population (habitants)") == u["population"].tolist()
    # a workbook keeps 15 significant digits, as Excel does
    np.testing.assert_allclose(column(wb, "Unités", "Distance à la structure la plus proche (m)"), u["distance_m"].to_numpy(), rtol=1e-14)
    np.testing.assert_allclose(column(wb, "Unités", "Accessibilité 2SFCA (structures pour 10 000 habitants)"), u["acces_2sfca"].to_numpy(), rtol=1e-14)
    assert column(wb, "Unités", HEADERS["couvert"]) == u["couvert"].tolist()
    assert column(wb, "Unités", HEADERS["n_zones"]) == u["n_zones"].tolist()
    assert column(wb, "Unités", "À moins de 5 km d'une structure") == u["dans_rayon"].tolist()
    # no geometry and no duplicated km columns in the sheet
    head, _ = sheet(wb, "Unités")
    assert "geometry" not in head and "point" not in head
    assert HEADERS["distance_km"] not in head


def test_xlsx_other_tables_match(demo_xlsx, demo_diag):
    _, wb = demo_xlsx
    s = demo_diag.structures
    assert column(wb, "Structures", "Identifiant") == s["structure_id"].tolist()
    assert column(wb, "Structures", "Population de la ZVS (habitants)") == s["population_zvs"].tolist()
    assert column(wb, "Structures", "Population à moins de 5 km de la structure (habitants)") == s["population_rayon"].tolist()
    np.testing.assert_allclose(column(wb, "Structures", "X (m)"), s.geometry.x.to_numpy(), atol=0.051)
    zb = demo_diag.zones_blanches
    assert column(wb, "Zones blanches", "Population (habitants)") == zb["population"].tolist()
    assert column(wb, "Zones blanches", "Rang (1 = la plus peuplée)") == list(zb.index)
    epci = demo_diag.niveaux["epci"]
    assert column(wb, "Niveau EPCI", "EPCI (SIREN)") == [str(v) for v in epci.index]
    assert column(wb, "Niveau EPCI", "Population (habitants)") == epci["population"].tolist()
    np.testing.assert_allclose(
        column(wb, "Niveau EPCI", "Taux de couverture par les ZVS (% de la population)"), epci["taux_couverture_pct"].to_numpy(), rtol=1e-14
    )
    key = demo_diag.chiffres_cles
    assert column(wb, "Chiffres clés", "Indicateur") == list(key.index)
    np.testing.assert_allclose([float(v) for v in column(wb, "Chiffres clés", "Valeur")], key["valeur"].to_numpy(dtype=float), rtol=1e-14)
    eq = demo_diag.equite
    values = [v if v is not None else np.nan for v in column(wb, "Équité", "Ensemble")]
    np.testing.assert_allclose(values, eq["Ensemble"].to_numpy(dtype=float), rtol=1e-14)


def test_xlsx_codes_are_text(demo_xlsx):
    _, wb = demo_xlsx
    for name, header in [("Unités", "Code INSEE"), ("Unités", "EPCI (SIREN)"), ("Structures", "Identifiant"), ("Niveau EPCI", "EPCI (SIREN)")]:
        ws = wb[name]
        head = [c.value for c in ws[1]]
        k = head.index(header) + 1
        cells = [ws.cell(row=r, column=k) for r in range(2, ws.max_row + 1)]
        assert all(c.data_type == "s" and c.number_format == "@" for c in cells), (name, header)


def test_xlsx_lisez_moi(demo_xlsx, demo_diag):
    _, wb = demo_xlsx
    rows = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(values_only=True) if r[0]}
    assert "FICTIVES" in rows["AVERTISSEMENT"]
    communes = rows["Communes (contours, populations)"]
    assert communes.startswith("Populations : INSEE, population municipale, millésime 2023, en vigueur au 1er janvier 2026")
    assert "IGN" in communes and "Licence Ouverte" in communes
    assert rows["Rayon de proximité (m)"] == 5000
    assert rows["Distance maximale de l'accessibilité 2SFCA (m)"] == 10000
    assert rows["Lignes acceptées avec une hypothèse (avertissements)"] == 2
    assert rows["Territoire"] == demo_diag.territory.name


def test_xlsx_leading_zeros_formulas_and_parameters(toy, tmp_path):
    wb = openpyxl.load_workbook(export_diagnostic(toy, tmp_path / "toy.xlsx"))
    assert column(wb, "Unités", "Code INSEE") == ["01001", "01002", "01004"]
    assert column(wb, "Structures", "Identifiant") == ["007", "=1+1"]
    ws = wb["Structures"]
    assert ws["B2"].value.startswith("=HYPERLINK") and ws["B2"].data_type == "s"  # text, never a formula
    assert ws["A3"].data_type == "s"
    assert column(wb, "Unités", "À moins de 3 km d'une structure") == [True, True, True]
    assert column(wb, "Niveau EPCI", "Nom de l'EPCI") == ["CC un", "CC deux"]
    assert column(wb, "Zones (ZVS)", "Nom de la structure") == ['=HYPERLINK("http://example.invalid")']
    rows = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(values_only=True) if r[0]}
    assert "AVERTISSEMENT" not in rows
    assert rows["Rayon de proximité (m)"] == 3000
    assert rows["Structures (CS, EVS)"] == "fichier essai, 2025"
    assert wb["Lisez-moi"]["A1"].value == "Titre d'essai" and wb["Lisez-moi"]["A2"].value == "Sous-titre"


def test_xlsx_is_reproducible_and_atomic(toy, tmp_path):
    a = export_diagnostic(toy, tmp_path / "a.xlsx").read_bytes()
    target = tmp_path / "b.xlsx"
    target.write_bytes(b"old content")
    export_diagnostic(toy, target)
    assert target.read_bytes() == a
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx"]  # no temporary file left
    with zipfile.ZipFile(target) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


# ----------------------------------------------------------------------------- CSV folder


def test_csv_folder(toy, tmp_path):
    folder = export_diagnostic(toy, tmp_path / "diagnostic.csv")
    assert folder == tmp_path / "diagnostic" and folder.is_dir()
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        ["lisez-moi.txt", "chiffres-cles.csv", "unites.csv", "structures.csv", "zones.csv", "zones-blanches.csv",
         "niveau-epci.csv", "niveau-departement.csv", "equite.csv", "rapport.csv"]
    )
    raw = (folder / "unites.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    head = rows[0]
    assert head[0] == "Code INSEE" and [r[0] for r in rows[1:]] == ["01001", "01002", "01004"]
    dist = [r[head.index("Distance à la structure la plus proche (m)")] for r in rows[1:]]
    expected = toy.unites["distance_m"].to_numpy()
    assert [float(v.replace(",", ".")) for v in dist] == expected.tolist()
    assert [r[head.index(HEADERS["couvert"])] for r in rows[1:]] == ["oui", "non", "non"]
    # same bytes again, replacing the previous export
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    export_diagnostic(toy, tmp_path / "diagnostic.csv")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diagnostic"]


def test_csv_refuses_to_replace_a_foreign_folder(toy, tmp_path):
    (tmp_path / "diagnostic").mkdir()
    (tmp_path / "diagnostic" / "mes-notes.txt").write_text("à garder")
    with pytest.raises(InputError, match="ne contient pas un export de couverture"):
        export_diagnostic(toy, tmp_path / "diagnostic.csv")
    assert (tmp_path / "diagnostic" / "mes-notes.txt").read_text() == "à garder"


# ----------------------------------------------------------------------------- GeoPackage


def test_gpkg_layers_and_values(demo_diag, tmp_path):
    path = export_diagnostic(demo_diag, tmp_path / "diagnostic.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert layers["unites"] in {"MultiPolygon", "Polygon"}
    assert layers["structures"] == "Point"
    assert layers["zones"] in {"MultiPolygon", "Polygon"}
    assert layers["zones_blanches"] in {"MultiPolygon", "Polygon"}
    for table in ("lisez_moi", "chiffres_cles", "niveau_epci", "niveau_departement", "equite", "rapport"):
        assert layers[table] is None
    u = gpd.read_file(path, layer="unites")
    assert u.crs.to_epsg() == 2154
    assert u["code_insee"].tolist() == demo_diag.unites["code_insee"].tolist()
    np.testing.assert_array_equal(u["distance_m"].to_numpy(), demo_diag.unites["distance_m"].to_numpy())
    assert u["couvert"].tolist() == demo_diag.unites["couvert"].tolist()
    s = gpd.read_file(path, layer="structures")
    assert s["structure_id"].tolist() == demo_diag.structures["structure_id"].tolist()
    np.testing.assert_allclose(s.geometry.x.to_numpy(), demo_diag.structures.geometry.x.to_numpy())
    readme = pyogrio.read_dataframe(path, layer="lisez_moi")
    assert readme["valeur"].str.contains("FICTIVES").any()


def test_gpkg_is_reproducible(toy, tmp_path):
    a = export_diagnostic(toy, tmp_path / "a.gpkg")
    b = export_diagnostic(toy, tmp_path / "b.gpkg")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg", "b.gpkg"]
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None  # global GDAL state restored


# ----------------------------------------------------------------------------- errors


def test_unknown_format_and_directory(toy, tmp_path):
    with pytest.raises(InputError, match=r"format d'export non reconnu : « d\.pdf »"):
        export_diagnostic(toy, tmp_path / "d.pdf")
    (tmp_path / "x.xlsx").mkdir()
    with pytest.raises(InputError, match="est un dossier"):
        export_diagnostic(toy, tmp_path / "x.xlsx")


def test_format_argument_overrides_suffix(toy, tmp_path):
    out = export_diagnostic(toy, tmp_path / "export", format="csv")
    assert out == tmp_path / "export" and (out / "unites.csv").exists()
    frame = pd.read_csv(out / "chiffres-cles.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert frame["Indicateur"].tolist() == list(toy.chiffres_cles.index)


def test_declared_population_and_gap_are_exported(toy, tmp_path):
    """The structure's declared « zone de compétence » population sits beside the ZVS one, with the gap."""
    t = toy.territory
    s = t.structures.copy()
    s["population_declaree"] = [1200.0, np.nan]
    d = diagnose(Territory(t.communes, s, t.zones, name="Essai"), Parametres(rayon_m=3000))
    wb = openpyxl.load_workbook(export_diagnostic(d, tmp_path / "d.xlsx"))
    zvs = column(wb, "Structures", HEADERS["population_zvs"])
    declared = column(wb, "Structures", HEADERS["population_declaree"])
    gap = column(wb, "Structures", HEADERS["ecart_population_declaree"])
    assert zvs[0] == 1000 and declared[0] == 1200 and gap[0] == 1200 - zvs[0]
    assert declared[1] in (None, "") and gap[1] in (None, "")
