"""Tests of couverture.io.zones: polygons or commune tables -> one dissolved zone per structure."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

import couverture as cv
from couverture.errors import CouvertureWarning, InputError
from couverture.io.zones import read_zones, split_codes

DATA = Path(__file__).parent / "data" / "zones"
IDS = ["CS-A", "EVS-B", "CS-C", "CS-D", "CS-E", "CS-F", "CS-G"]


@pytest.fixture
def structures():
    return gpd.GeoDataFrame(
        {"structure_id": IDS, "nom": [f"Structure {i}" for i in IDS], "type": ["CS"] * 7},
        geometry=[Point(900000, 6250000)] * 7,
        crs=2154,
    )


def union_area(communes, codes):
    """Area of the union of two units by inclusion-exclusion (independent of union_all)."""
    g = communes.set_index("code_insee").geometry
    a, b = g[codes[0]], g[codes[1]]
    return a.area + b.area - a.intersection(b).area


def problems(result):
    return [(p.gravite, p.ligne, p.colonne, p.raison) for p in result.attrs["rapport"].problemes]


def test_split_codes():
    assert split_codes("13001, 13032") == ["13001", "13032"]
    assert split_codes("13001;13032|13103  13201\n13202") == ["13001", "13032", "13103", "13201", "13202"]
    assert split_codes("") == [] and split_codes(None) == []


def test_list_in_one_cell_with_every_separator(communes13, structures):
    with pytest.warns(
        CouvertureWarning,
        match=r"zvs_list\.csv : 2 lignes rejetées, 1 acceptée avec hypothèse, 1 code commune ignoré, 2 structures sans zone",
    ):
        z = read_zones(DATA / "zvs_list.csv", structures=structures, communes=communes13)
    assert z["structure_id"].tolist() == ["CS-A", "EVS-B", "CS-C", "CS-D", "CS-E"]
    assert z["communes"].tolist()[:3] == [["13001", "13032"], ["13004", "13097"], ["13091", "13103"]]
    # 13055 stands for Marseille's 16 arrondissements
    assert z["communes"].iloc[3] == [f"132{i:02d}" for i in range(1, 17)]
    assert z["communes"].iloc[4] == ["13005"]
    assert z["n_communes"].tolist() == [2, 2, 2, 16, 1]
    assert z.crs == communes13.crs
    assert z.geometry.area.iloc[0] == pytest.approx(union_area(communes13, ["13001", "13032"]), rel=1e-9)
    marseille = communes13[communes13["code_insee"].str.startswith("132")]
    assert z.geometry.area.iloc[3] == pytest.approx(marseille.area.sum(), rel=1e-3)
    got = {line: (g, c, r) for g, line, c, r in problems(z)}
    assert got[6][:2] == ("avertissement", "communes") and "16 arrondissements (13201 à 13216)" in got[6][2]
    assert got[7] == (
        "erreur",
        "communes",
        "code commune inconnu : « 99999 » (absent des 134 unités du territoire) : ignoré dans la zone",
    )
    assert got[8] == (
        "erreur",
        "structure_id",
        "structure inconnue : « ZZZ » (absente des 7 structures) : zone ignorée",
    )
    assert got[9] == ("erreur", "communes", "aucune commune indiquée : zone ignorée")
    without = [p for p in z.attrs["rapport"].avertissements if p.ligne is None]
    assert without[0].raison == "2 structures sans zone de vie sociale : CS-F, CS-G"


def test_one_row_per_pair_codes_as_numbers(communes13):
    z = read_zones(DATA / "zvs_pairs.csv", communes=communes13)
    assert z["structure_id"].tolist() == ["CS-A", "EVS-B"]
    assert z["communes"].tolist() == [["13001", "13032"], ["13004"]]  # 13001.0 normalised, duplicate pair merged
    arles = communes13.loc[communes13["code_insee"] == "13004"].geometry.iloc[0]
    assert z.geometry.iloc[1].symmetric_difference(arles).area < 1e-6


def test_xlsx_title_row_and_numeric_cells(communes13):
    z = read_zones(DATA / "zvs.xlsx", communes=communes13)
    assert z["communes"].tolist() == [["13001", "13032"], ["13004", "13097"]]


def test_polygons_dissolved_per_structure(structures):
    with pytest.warns(CouvertureWarning, match="1 ligne rejetée, 5 structures sans zone"):
        z = read_zones(DATA / "zvs.geojson", structures=structures)
    assert z["structure_id"].tolist() == ["CS-A", "EVS-B"]
    assert z.crs.to_epsg() == 2154
    squares = gpd.GeoSeries(
        [box(5.40, 43.50, 5.45, 43.55), box(5.45, 43.50, 5.50, 43.55), box(4.60, 43.65, 4.65, 43.70)], crs=4326
    ).to_crs(2154)
    # two adjacent squares dissolved into one polygon: the sum of their areas
    assert z.geometry.iloc[0].geom_type == "Polygon"
    assert z.area.iloc[0] == pytest.approx(squares.area.iloc[0] + squares.area.iloc[1], rel=1e-6)
    assert z.area.iloc[1] == pytest.approx(squares.area.iloc[2], rel=1e-6)
    assert z["communes"].tolist() == [[], []]
    assert z["n_communes"].isna().all()
    assert problems(z)[-1][:3] == ("erreur", 5, "identifiant")


def test_polygons_missing_geometry_reported_without_structures():
    with pytest.warns(CouvertureWarning, match="1 ligne rejetée"):
        z = read_zones(DATA / "zvs.geojson")
    assert z["structure_id"].tolist() == ["CS-A", "EVS-B"]
    assert problems(z) == [("erreur", 5, "geometry", "géométrie absente ou vide : zone ignorée")]


def test_gpkg_polygons_in_metric_crs_and_invalid_repaired(communes13, tmp_path):
    bowtie = shapely.Polygon([(900000, 6250000), (901000, 6251000), (901000, 6250000), (900000, 6251000)])
    g = gpd.GeoDataFrame(
        {"structure_id": ["A", "B"]}, geometry=[box(900000, 6250000, 901000, 6251000), bowtie], crs=2154
    )
    path = tmp_path / "zvs.gpkg"
    g.to_file(path, driver="GPKG")
    with pytest.warns(CouvertureWarning, match="1 géométrie"):
        z = read_zones(path, communes=communes13)
    assert z.area.round(3).tolist() == [1_000_000.0, 500_000.0]
    assert z.is_valid.all()


def test_name_instead_of_identifier_and_numeric_structure_ids(communes13):
    st = gpd.GeoDataFrame(
        {"structure_id": [12345, 678], "nom": ["Centre social du Jas", "EVS"]}, geometry=[Point(0, 0)] * 2, crs=2154
    )
    df = pd.DataFrame({"Structure": ["12345", "centre social du JAS", "EVS"], "Communes": ["13001", "13032", "13004"]})
    with pytest.warns(CouvertureWarning, match="2 acceptées avec hypothèse"):
        z = read_zones(df, structures=st, communes=communes13)
    assert z["structure_id"].tolist() == [12345, 678]
    assert z["communes"].tolist() == [["13001", "13032"], ["13004"]]


def test_commune_names_instead_of_codes(communes13):
    df = pd.DataFrame(
        {
            "structure_id": ["A", "B", "C", "D"],
            "communes": ["Aix-en-Provence ; EGUILLES", "Ciotat (La)\nCeyreste", "Marseille", "Atlantis, Arles"],
        }
    )
    with pytest.warns(CouvertureWarning, match="1 acceptée avec hypothèse, 1 code commune ignoré"):
        z = read_zones(df, communes=communes13)
    assert z["communes"].tolist()[:2] == [["13001", "13032"], ["13023", "13028"]]
    assert z["communes"].iloc[2] == [f"132{i:02d}" for i in range(1, 17)]
    assert z["communes"].iloc[3] == ["13004"]
    (err,) = z.attrs["rapport"].erreurs
    assert (err.ligne, err.colonne) == (5, "communes") and err.raison.startswith("commune inconnue : « Atlantis »")


def test_arrondissement_on_commune_level_layer(communes13):
    arr = communes13["code_insee"].str.startswith("132")
    marseille = gpd.GeoDataFrame(
        {"code_insee": ["13055"]}, geometry=[shapely.union_all(communes13.geometry[arr].to_numpy())], crs=communes13.crs
    )
    communes = pd.concat([communes13.loc[~arr, ["code_insee", "geometry"]], marseille], ignore_index=True)
    df = pd.DataFrame({"structure_id": ["A"], "communes": ["13201 13202 13002"]})
    with pytest.warns(CouvertureWarning, match="1 acceptée avec hypothèse"):
        z = read_zones(df, communes=communes)
    assert z["communes"].tolist() == [["13002", "13055"]]


def test_errors(communes13, tmp_path):
    with pytest.raises(InputError, match="demande les communes du territoire"):
        read_zones(DATA / "zvs_list.csv")
    with pytest.raises(InputError, match="colonne de l'identifiant de la structure introuvable"):
        read_zones(pd.DataFrame({"communes": ["13001"]}), communes=communes13)
    with pytest.raises(InputError, match="colonne des communes introuvable"):
        read_zones(pd.DataFrame({"structure_id": ["A"], "autre": ["x"]}), communes=communes13)
    empty = tmp_path / "zvs.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"zvs\.csv : le fichier est vide"):
        read_zones(empty, communes=communes13)
    with pytest.raises(InputError, match=r"zones, ligne 2, colonne « communes » : code commune inconnu : « 99999 »"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CouvertureWarning)
            read_zones(pd.DataFrame({"structure_id": ["A"], "communes": ["99999"]}), communes=communes13)
    with pytest.raises(InputError, match=r"ligne 7, colonne « communes » : code commune inconnu"):
        read_zones(DATA / "zvs_list.csv", communes=communes13, strict=True)
    g = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[box(0, 0, 1, 1)])
    with pytest.raises(InputError, match="pas de système de coordonnées"):
        read_zones(g)


def test_input_frame_not_modified(communes13):
    df = pd.DataFrame({"structure_id": ["A"], "communes": [13001]})
    before = df.copy()
    z = read_zones(df, communes=communes13)
    pd.testing.assert_frame_equal(df, before)
    assert z["communes"].tolist() == [["13001"]]


def test_public_name():
    assert cv.read_zones is read_zones
