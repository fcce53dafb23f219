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
from couverture.errors import InputError
from couverture.exports import HEADERS, LEVEL_LABELS, export_diagnostic
from couverture.params import Parameters, Scenario
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
        geometry=[
            box(850000, 6550000, 852000, 6552000),
            box(852000, 6550000, 854000, 6552000),
            box(854000, 6550000, 856000, 6552000),
        ],
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
    return diagnose(t, Parameters(radius=3000, title="Titre d'essai", subtitle="Sous-titre"))


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
    from couverture.params import Parameters, Scenario

    d = diagnose(demo, Parameters(scenario=Scenario(k=2)))
    wb = openpyxl.load_workbook(export_diagnostic(d, tmp_path / "d.xlsx"))
    assert {"Évolution", "Scénario", "Scénario avant-après"} <= set(wb.sheetnames)
    assert column(wb, "Scénario", HEADERS["code_insee"]) == d.scenarios["code_insee"].tolist()
    years = column(wb, "Évolution", HEADERS["annee"])
    assert years == d.evolution["annee"].tolist()


def test_xlsx_unit_figures_match_the_diagnostic(demo_xlsx, demo_diag):
    _, wb = demo_xlsx
    u = demo_diag.unites
    assert column(wb, "Unités", HEADERS["code_insee"]) == u["code_insee"].tolist()
    assert column(wb, "Unités", "Population (habitants)") == u["population"].tolist()
    # a workbook keeps 15 significant digits, as Excel does
    np.testing.assert_allclose(
        column(wb, "Unités", "Distance à la structure la plus proche (m)"), u["distance_m"].to_numpy(), rtol=1e-14
    )
    np.testing.assert_allclose(
        column(wb, "Unités", "Accessibilité 2SFCA (structures pour 10 000 habitants)"),
        u["acces_2sfca"].to_numpy(),
        rtol=1e-14,
    )
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
    assert (
        column(wb, "Structures", "Population à moins de 5 km de la structure (habitants)")
        == s["population_rayon"].tolist()
    )
    np.testing.assert_allclose(column(wb, "Structures", "X (m)"), s.geometry.x.to_numpy(), atol=0.051)
    zb = demo_diag.zones_blanches
    assert column(wb, "Zones blanches", "Population (habitants)") == zb["population"].tolist()
    assert column(wb, "Zones blanches", HEADERS["rang"]) == list(zb.index)
    epci = demo_diag.niveaux["epci"]
    assert column(wb, "Niveau EPCI", HEADERS["epci"]) == [str(v) for v in epci.index]
    assert column(wb, "Niveau EPCI", "Population (habitants)") == epci["population"].tolist()
    np.testing.assert_allclose(
        column(wb, "Niveau EPCI", "Taux de couverture par les ZVS (% de la population)"),
        epci["taux_couverture_pct"].to_numpy(),
        rtol=1e-14,
    )
    key = demo_diag.chiffres_cles
    assert column(wb, "Chiffres clés", "Indicateur") == list(key.index)
    np.testing.assert_allclose(
        [float(v) for v in column(wb, "Chiffres clés", "Valeur")], key["valeur"].to_numpy(dtype=float), rtol=1e-14
    )
    eq = demo_diag.equite
    values = [v if v is not None else np.nan for v in column(wb, "Équité", "Ensemble")]
    np.testing.assert_allclose(values, eq["Ensemble"].to_numpy(dtype=float), rtol=1e-14)


def test_xlsx_codes_are_text(demo_xlsx):
    _, wb = demo_xlsx
    for name, header in [
        ("Unités", HEADERS["code_insee"]),
        ("Unités", HEADERS["epci"]),
        ("Structures", "Identifiant"),
        ("Niveau EPCI", HEADERS["epci"]),
    ]:
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
    assert communes.startswith(
        "Populations : INSEE, population municipale, millésime 2023, en vigueur au 1er janvier 2026"
    )
    assert "IGN" in communes and "Licence Ouverte" in communes
    assert rows["Rayon de proximité (m)"] == 5000
    assert rows["Distance maximale de l'accessibilité 2SFCA (m)"] == 10000
    assert rows["Lignes acceptées avec une hypothèse (avertissements)"] == 2
    assert rows["Territoire"] == demo_diag.territory.name


def test_xlsx_leading_zeros_formulas_and_parameters(toy, tmp_path):
    wb = openpyxl.load_workbook(export_diagnostic(toy, tmp_path / "toy.xlsx"))
    assert column(wb, "Unités", HEADERS["code_insee"]) == ["01001", "01002", "01004"]
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
        [
            "lisez-moi.txt",
            "chiffres-cles.csv",
            "unites.csv",
            "structures.csv",
            "zones.csv",
            "zones-blanches.csv",
            "niveau-epci.csv",
            "niveau-departement.csv",
            "equite.csv",
            "rapport.csv",
        ]
    )
    raw = (folder / "unites.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    head = rows[0]
    assert head[0] == HEADERS["code_insee"] and [r[0] for r in rows[1:]] == ["01001", "01002", "01004"]
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


# ----------------------------------------------------------------------------- analyst-grade headers and cells (issue 12)

from couverture.columns import COLUMNS, ZVS_MISSING_TEXT, header

_RAW = {"candidat", "population_ajoutee", "gain", "commune_plm"}


def _nested(text: str) -> bool:
    depth = 0
    for ch in str(text):
        depth += ch == "("
        if depth > 1:
            return True
        depth -= ch == ")"
    return False


@pytest.fixture(scope="module")
def scenario_xlsx(demo, tmp_path_factory):
    d = diagnose(demo, Parameters(scenario=Scenario(k=2)))
    return d, openpyxl.load_workbook(export_diagnostic(d, tmp_path_factory.mktemp("s") / "d.xlsx"))


def test_headers_come_from_the_registry_and_are_clean(scenario_xlsx):
    d, wb = scenario_xlsx
    radius = d.params.radius
    registry = {header(name, radius_m=radius) for name in COLUMNS} | {
        header(c, radius_m=radius) for c in d.niveaux["epci"].columns
    }
    for ws in wb.worksheets[1:]:
        heads = [c.value for c in ws[1]]
        for h in heads:
            assert h not in _RAW and "(rayon)" not in h and "{" not in h, (ws.title, h)
            assert not _nested(h), (ws.title, h)
        if ws.title in {"Équité", "Structures"}:
            continue  # group names (EPCI) and the structures file's own columns keep their names
        assert set(heads) <= registry, (ws.title, set(heads) - registry)


def test_integers_are_integers_and_numbers_are_numbers(scenario_xlsx):
    _, wb = scenario_xlsx
    codes = {c.header() for c in COLUMNS.values() if c.kind in {"code", "text"}}
    ints = {header(c.name, radius_m=5000) for c in COLUMNS.values() if c.kind == "int"}
    for ws in wb.worksheets[1:]:
        heads = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and heads[cell.column - 1] not in codes:
                    assert not re_number.fullmatch(cell.value), (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, int) and heads[cell.column - 1] in ints:
                    assert cell.number_format == "#,##0", (ws.title, cell.coordinate)
                if isinstance(cell.value, float):
                    assert not cell.value.is_integer() or cell.number_format != "#,##0.000", (ws.title, cell.coordinate)
    # population in the key figures and in the before/after table: whole numbers, integer format
    key = {r[0].value: r[1] for r in wb["Chiffres clés"].iter_rows(min_row=2)}
    assert isinstance(key["Population"].value, int) and key["Population"].number_format == "#,##0"
    comp = {r[0].value: r for r in wb["Scénario avant-après"].iter_rows(min_row=2)}
    assert comp["Population"][1].number_format == "#,##0" and comp["Population"][1].data_type == "n"


re_number = __import__("re").compile(r"-?\d+(?:[.,]\d+)?")


def test_scenario_sheet_names_the_site(scenario_xlsx):
    d, wb = scenario_xlsx
    head, rows = sheet(wb, "Scénario")
    assert head[:2] == [HEADERS["ordre"], HEADERS["site"]]
    assert [r[1] for r in rows] == d.scenarios["nom"].tolist()
    added = column(wb, "Scénario", header("population_ajoutee", radius_m=d.params.radius))
    assert added == d.scenarios["population_ajoutee"].tolist()


def test_without_zvs_coverage_is_nd_never_zero(demo, tmp_path):
    t = Territory(demo.communes, demo.structures, None, name="Sans ZVS")
    d = diagnose(t)
    wb = openpyxl.load_workbook(export_diagnostic(d, tmp_path / "d.xlsx"))
    assert set(column(wb, "Unités", HEADERS["n_zones"])) == {"n.d."}
    assert set(column(wb, "Unités", HEADERS["couvert"])) == {"n.d."}
    assert set(column(wb, "Structures", HEADERS["population_zvs"])) == {"n.d."}
    # coverage columns of the level and évolution tables: absent (the diagnostic drops them) or « n.d. », never 0
    for name, col in (
        ("Niveau EPCI", "taux_couverture_pct"),
        ("Niveau EPCI", "population_couverte"),
        ("Évolution", "population_couverte"),
    ):
        head, _ = sheet(wb, name)
        assert HEADERS[col] not in head or set(column(wb, name, HEADERS[col])) == {"n.d."}
    rows = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(values_only=True) if r[0]}
    assert rows["Couverture par les ZVS"].startswith(ZVS_MISSING_TEXT)
    # the distances are still there
    assert column(wb, "Unités", HEADERS["population"]) == d.unites["population"].tolist()
    folder = export_diagnostic(d, tmp_path / "d.csv")
    frame = pd.read_csv(folder / "unites.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert set(frame[HEADERS["n_zones"]]) == {"n.d."}


def test_csv_distances_are_rounded(demo_diag, tmp_path):
    folder = export_diagnostic(demo_diag, tmp_path / "d.csv")
    frame = pd.read_csv(folder / "unites.csv", sep=";", encoding="utf-8-sig", dtype=str)
    dist = frame[HEADERS["distance_m"]]
    assert dist.str.fullmatch(r"\d+").all()
    assert dist.astype(int).tolist() == demo_diag.unites["distance_m"].round().astype(int).tolist()
    assert frame[HEADERS["population"]].str.fullmatch(r"\d+").all()
    zb = pd.read_csv(folder / "zones-blanches.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert zb[HEADERS["surface_km2"]].str.fullmatch(r"\d+,\d\d").all()
    key = pd.read_csv(folder / "chiffres-cles.csv", sep=";", encoding="utf-8-sig", dtype=str).set_index("Indicateur")
    assert key.loc["Population", "Valeur"] == str(int(demo_diag.chiffres_cles.loc["Population", "valeur"]))


def test_capacity_setting_is_used_and_stated(toy, tmp_path):
    from couverture.analysis.fca import two_step_fca

    t = toy.territory
    s = t.structures.copy()
    s["capacite"] = [30.0, 10.0]
    t2 = Territory(t.communes, s, t.zones, name="Essai")
    base = diagnose(t2, Parameters(radius=3000))
    cap = diagnose(t2, Parameters(radius=3000, use_capacity=True))
    expected = two_step_fca(t2.communes, s, 10000, supply_col="capacite").to_numpy() * 10_000
    np.testing.assert_allclose(cap.unites["acces_2sfca"].to_numpy(), expected)
    assert not np.allclose(cap.unites["acces_2sfca"].to_numpy(), base.unites["acces_2sfca"].to_numpy())
    wb = openpyxl.load_workbook(export_diagnostic(cap, tmp_path / "cap.xlsx"))
    rows = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(values_only=True) if r[0]}
    assert rows["Offre de chaque structure (2SFCA)"].startswith("sa capacité")
    assert rows["Unité de l'accessibilité 2SFCA"] == "unités de capacité pour 10 000 habitants"
    assert "Accessibilité 2SFCA (unités de capacité pour 10 000 habitants)" in [c.value for c in wb["Unités"][1]]
    wb = openpyxl.load_workbook(export_diagnostic(base, tmp_path / "base.xlsx"))
    rows = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(values_only=True) if r[0]}
    assert rows["Offre de chaque structure (2SFCA)"].startswith("1 par structure")
    assert rows["Unité de l'accessibilité 2SFCA"] == "structures pour 10 000 habitants"


def test_capacity_setting_without_capacities_is_refused(toy):
    with pytest.raises(
        InputError, match="capacite = true dans \\[parametres\\] : le fichier des structures n'a pas de colonne"
    ):
        diagnose(toy.territory, Parameters(use_capacity=True))


def test_declared_population_and_gap_are_exported(toy, tmp_path):
    """The structure's declared « zone de compétence » population sits beside the ZVS one, with the gap."""
    t = toy.territory
    s = t.structures.copy()
    s["population_declaree"] = [1200.0, np.nan]
    d = diagnose(Territory(t.communes, s, t.zones, name="Essai"), Parameters(radius=3000))
    wb = openpyxl.load_workbook(export_diagnostic(d, tmp_path / "d.xlsx"))
    zvs = column(wb, "Structures", HEADERS["population_zvs"])
    declared = column(wb, "Structures", HEADERS["population_declaree"])
    gap = column(wb, "Structures", HEADERS["ecart_population_declaree"])
    assert zvs[0] == 1000 and declared[0] == 1200 and gap[0] == 1200 - zvs[0]
    assert declared[1] in (None, "") and gap[1] in (None, "")


def test_no_population_cells_read_nd_never_zero(tmp_path):
    # issue 11: a source without population: every population cell says « n.d. (…) », never 0 nor empty
    from couverture.analysis.population_absent import ND_POPULATION

    communes = gpd.GeoDataFrame(
        {"code_insee": ["97601", "97602"], "nom": ["A", "B"], "population": [np.nan, np.nan]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {"structure_id": ["S1"], "nom": ["Un"], "type": ["CS"], "code_insee": ["97601"]},
        geometry=[Point(500, 500)],
        crs=2154,
    )
    zones = gpd.GeoDataFrame({"structure_id": ["S1"]}, geometry=[box(0, 0, 1000, 1000)], crs=2154)
    d = diagnose(Territory(communes, structures, zones, name="Sans population"), Parameters(radius=1000))
    wb = openpyxl.load_workbook(export_diagnostic(d, tmp_path / "d.xlsx"))
    key = {r[0]: r[1] for r in wb["Chiffres clés"].iter_rows(min_row=2, values_only=True)}
    assert key["Population"] == ND_POPULATION
    assert key["Taux de couverture par les ZVS"] == ND_POPULATION
    assert key["Centres sociaux"] == 1
    rows = list(wb["Unités"].iter_rows(values_only=True))
    pop = rows[0].index("Population (habitants)")
    assert [r[pop] for r in rows[1:]] == [ND_POPULATION] * 2
    dist = [h for h in rows[0] if str(h).startswith("Distance à la structure la plus proche")][0]
    assert [r[rows[0].index(dist)] for r in rows[1:]] == [0, 1000]  # centroid (1500, 500) to (500, 500)
    level = list(wb["Niveau Département"].iter_rows(values_only=True))
    rate = [i for i, h in enumerate(level[0]) if str(h).startswith("Taux de couverture")][0]
    assert level[1][rate] == ND_POPULATION
    lisez = " ".join(str(c) for r in wb["Lisez-moi"].iter_rows(values_only=True) for c in r if c)
    assert "AUCUNE population" in lisez
