"""Tests of couverture.io.structures on hand-made files of every format, on the real communes of the 13.

Expected communes come from geography (Aix-en-Provence's centre is in 13001...),
expected positions from pyproj applied to the coordinates written in the files.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import MultiPoint, Point

import couverture as cv
from couverture.errors import CouvertureWarning, InputError
from couverture.io.structures import normalize_type, read_structures

DATA = Path(__file__).parent / "data" / "structures"
TO_L93 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)

# real places (latitude, longitude) and the unit that contains them
AIX = (43.5297, 5.4474)  # 13001 Aix-en-Provence
ARLES = (43.6766, 4.6278)  # 13004 Arles
SALON = (43.6403, 5.0973)  # 13103 Salon-de-Provence
CANEBIERE = (43.2977, 5.3810)  # 13201 Marseille 1er
AUBAGNE = (43.2927, 5.5708)  # 13005 Aubagne
LYON = (45.76, 4.84)  # outside the 13


def l93(latlon):
    x, y = TO_L93.transform(latlon[1], latlon[0])
    return np.array([x, y])


def xy(gdf):
    return np.column_stack([gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()])


def read_quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CouvertureWarning)
        return read_structures(*args, **kwargs)


def problems(result):
    return [(p.gravite, p.ligne, p.colonne, p.raison) for p in result.attrs["rapport"].problemes]


def commune_point(communes, code):
    return communes.loc[communes["code_insee"] == code, "point"].iloc[0]


# ----------------------------------------------------------------------------- formats


def test_csv_comma_utf8(communes13):
    s = read_structures(DATA / "comma_utf8.csv", communes13)
    assert s.crs.to_epsg() == 2154
    assert s["structure_id"].tolist() == ["CS-A", "EVS-B", "CS-C"]
    assert s["type"].tolist() == ["CS", "EVS", "CS"]
    assert s["code_insee"].tolist() == ["13001", "13004", "13103"]
    assert s["localisation"].tolist() == ["coordonnees"] * 3
    assert s["nom"].iloc[2] == 'Centre social "Les Canourgues", Salon'
    np.testing.assert_allclose(xy(s), [l93(AIX), l93(ARLES), l93(SALON)], atol=1e-6)
    # extra columns are kept, consumed ones are not repeated
    assert s["gestionnaire"].tolist() == ["IFAC", "Association locale", "CCO"]
    assert "latitude" not in s.columns
    assert list(s.columns[:5]) == ["structure_id", "nom", "type", "code_insee", "localisation"]
    assert s.attrs["rapport"].problemes == []


def test_csv_semicolon_bom_decimal_comma_dates_capacity(communes13):
    s = read_structures(DATA / "semicolon_bom_comma.csv", communes13)
    assert s["structure_id"].tolist() == ["13-CS-001", "13-EVS-002"]
    assert s["type"].tolist() == ["CS", "EVS"]
    assert s["code_insee"].tolist() == ["13201", "13005"]
    np.testing.assert_allclose(xy(s), [l93(CANEBIERE), l93(AUBAGNE)], atol=1e-6)
    assert s["capacite"].tolist() == [10.0, 2.5]
    assert pd.api.types.is_datetime64_any_dtype(s["date_agrement"])
    assert s["date_agrement"].dt.strftime("%d/%m/%Y").tolist() == ["23/01/2012", "01/09/2019"]


def test_csv_tab_cp1252_accents(communes13):
    s = read_structures(DATA / "tab_cp1252.txt", communes13)
    assert s["nom"].tolist() == ["Centre social Léo Lagrange — Saint-Barthélemy", "Espace de vie sociale d'Éguilles"]
    assert s["type"].tolist() == ["CS", "EVS"]
    assert s["code_insee"].tolist() == ["13214", "13032"]  # Marseille 14e, Éguilles
    np.testing.assert_allclose(xy(s), [l93((43.3342, 5.3950)), l93((43.5450, 5.3500))], atol=1e-6)


def test_xlsx_merged_title_numeric_codes_and_rejected_row_line(communes13):
    with pytest.warns(CouvertureWarning, match="1 ligne rejetée"):
        s = read_structures(DATA / "structures.xlsx", communes13)
    assert s["structure_id"].tolist() == ["12345", "X-2"]  # 12345.0 in the workbook
    assert s["code_insee"].tolist() == ["13214", "13032"]
    assert s["date_agrement"].dt.strftime("%Y-%m-%d").tolist() == ["2012-01-23", "2019-09-01"]
    # the rejected row is named by its spreadsheet row number (title, blank row, header above)
    assert problems(s) == [
        ("erreur", 6, "Code INSEE", "code commune inconnu : « 99999 » (absent des 134 unités du territoire)")
    ]


def test_geojson_points_swapped_point_and_missing_geometry(communes13):
    with pytest.warns(CouvertureWarning, match="2 acceptées avec hypothèse"):
        s = read_structures(DATA / "structures.geojson", communes13)
    assert s["structure_id"].tolist() == ["G-1", "G-2", "G-3"]
    assert s["code_insee"].tolist() == ["13001", "13004", "13072"]
    assert s["localisation"].tolist() == ["coordonnees", "coordonnees", "commune"]
    np.testing.assert_allclose(xy(s)[:2], [l93(AIX), l93(ARLES)], atol=1e-6)
    assert s.geometry.iloc[2].equals(commune_point(communes13, "13072"))
    (g1, l1, c1, r1), (g2, l2, c2, r2) = problems(s)
    assert (g1, l1, c1) == ("avertissement", 3, "geometry") and "(latitude, longitude)" in r1
    assert (g2, l2, c2) == ("avertissement", 4, "code_insee") and "placée au point de sa commune" in r2


def test_gpkg_multipoints_in_lambert93(communes13, tmp_path):
    pts = [MultiPoint([Point(*l93(AIX))]), MultiPoint([Point(*l93(SALON))])]
    g = gpd.GeoDataFrame(
        {"N° agrément": ["P1", "P2"], "Nom": ["a", "b"], "Type": ["CS", "EVS"]}, geometry=pts, crs=2154
    )
    path = tmp_path / "structures.gpkg"
    g.to_file(path, driver="GPKG", layer="structures")
    s = read_structures(path, communes13)
    assert s["code_insee"].tolist() == ["13001", "13103"]
    np.testing.assert_allclose(xy(s), [l93(AIX), l93(SALON)], atol=1e-6)


def test_geodataframe_in_wgs84_and_other_geometry_rejected(communes13):
    g = gpd.GeoDataFrame(
        {"id": ["A", "B"], "nom": ["a", "b"], "type": ["CS", "CS"]},
        geometry=[Point(AIX[1], AIX[0]), shapely.box(5.0, 43.0, 5.1, 43.1)],
        crs=4326,
    )
    before = g.copy()
    with pytest.warns(CouvertureWarning, match="1 ligne rejetée"):
        s = read_structures(g, communes13)
    assert s["structure_id"].tolist() == ["A"]
    assert problems(s)[0][:3] == ("erreur", 3, "geometry")
    assert "un point est attendu" in problems(s)[0][3]
    pd.testing.assert_frame_equal(
        pd.DataFrame(g.drop(columns="geometry")), pd.DataFrame(before.drop(columns="geometry"))
    )
    assert g.geometry.equals(before.geometry)


def test_geodataframe_without_crs_refused():
    g = gpd.GeoDataFrame({"nom": ["a"], "type": ["CS"]}, geometry=[Point(5.4, 43.5)])
    with pytest.raises(InputError, match="pas de système de coordonnées"):
        read_structures(g)


def test_dataframe_input_is_not_modified(communes13):
    df = pd.DataFrame(
        {"Identifiant": ["A"], "Nom": ["x"], "Type": ["EVS"], "Latitude": [AIX[0]], "Longitude": [AIX[1]]}
    )
    before = df.copy()
    s = read_structures(df, communes13)
    pd.testing.assert_frame_equal(df, before)
    assert s["code_insee"].tolist() == ["13001"]


# ----------------------------------------------------------------------------- coordinate forms


def test_lat_lon_swapped_detected_and_reported(communes13):
    with pytest.warns(
        CouvertureWarning, match=r"swapped\.csv : 2 acceptées avec hypothèse : voir \.attrs\['rapport'\]"
    ):
        s = read_structures(DATA / "swapped.csv", communes13)
    assert s["code_insee"].tolist() == ["13001", "13004", "13103"]
    np.testing.assert_allclose(xy(s), [l93(AIX), l93(ARLES), l93(SALON)], atol=1e-6)
    got = problems(s)
    assert [(g, line, c) for g, line, c, _ in got] == [
        ("avertissement", 2, "Latitude"),
        ("avertissement", 3, "Latitude"),
    ]
    assert got[0][3].startswith("latitude et longitude inversées (« Latitude » = 5,4474, « Longitude » = 43,5297)")


def test_lambert93_exact_and_xy_swapped(communes13):
    with pytest.warns(CouvertureWarning, match="1 acceptée avec hypothèse"):
        s = read_structures(DATA / "lambert93.csv", communes13)
    np.testing.assert_array_equal(xy(s), [[893295, 6247196], [897885.5, 6273136.2], [882036, 6264914]])
    assert s["code_insee"].tolist() == ["13201", "13001", "13117"]  # Canebière, Aix, Vitrolles
    assert problems(s)[0][:3] == ("avertissement", 4, "Y") and "X et Y inversés" in problems(s)[0][3]
    assert s["code postal"].tolist() == ["13001", "13090", "13127"]  # kept as an extra column


def test_mixed_forms_in_one_file(communes13):
    with pytest.warns(CouvertureWarning, match="5 acceptées avec hypothèse"):
        s = read_structures(DATA / "mixed.csv", communes13)
    assert s["structure_id"].tolist() == [f"M-{i}" for i in range(1, 8)]
    assert s["code_insee"].tolist() == ["13001", "13103", "13072", "13103", "13028", "13005", "13213"]
    assert s["localisation"].tolist() == [
        "coordonnees",
        "coordonnees",
        "commune",
        "commune",
        "commune",
        "coordonnees",
        "commune",
    ]
    got = xy(s)
    np.testing.assert_allclose(got[0], l93(AIX), atol=1e-6)  # Latitude/Longitude columns
    np.testing.assert_array_equal(got[1], [869258, 6284610])  # X/Y in Lambert-93
    np.testing.assert_allclose(got[5], l93(AUBAGNE), atol=1e-6)  # X/Y in degrees, inverted
    for k, code in ((2, "13072"), (3, "13103"), (4, "13028"), (6, "13213")):
        assert s.geometry.iloc[k].equals(commune_point(communes13, code))
    reasons = {line: r for _, line, _, r in problems(s)}
    assert "commune choisie d'après « La Ciotat »" in " ".join(r for _, line, _, r in problems(s) if line == 6)
    assert "latitude et longitude inversées" in reasons[7]


def test_lambert_ii_etendu_recognised(communes13):
    x2, y2 = pyproj.Transformer.from_crs(4326, 27572, always_xy=True).transform(AIX[1], AIX[0])
    df = pd.DataFrame({"nom": ["a"], "type": ["CS"], "X": [f"{x2:.1f}"], "Y": [f"{y2:.1f}"]})
    s = read_quiet(df, communes13)
    assert s["code_insee"].tolist() == ["13001"]
    assert np.hypot(*(xy(s)[0] - l93(AIX))) < 2.0


def test_single_coordinates_column_and_zero_pair(communes13):
    df = pd.DataFrame(
        {
            "Identifiant": ["A", "B", "C"],
            "Nom": ["a", "b", "c"],
            "Type": ["CS", "CS", "EVS"],
            "Code INSEE": ["13001", "13103", "13004"],
            "Coordonnées GPS": ["43,5297, 5,4474", "5.0973; 43.6403", "0, 0"],
        }
    )
    with pytest.warns(CouvertureWarning, match="2 acceptées avec hypothèse"):
        s = read_structures(df, communes13)
    np.testing.assert_allclose(xy(s)[:2], [l93(AIX), l93(SALON)], atol=1e-6)
    assert s["localisation"].tolist() == ["coordonnees", "coordonnees", "commune"]
    assert s.geometry.iloc[2].equals(commune_point(communes13, "13004"))


def test_without_communes_points_in_lambert93_and_code_rows_rejected():
    df = pd.DataFrame(
        {
            "Nom": ["a", "b", "c"],
            "Type": ["CS", "EVS", "CS"],
            "Code INSEE": ["13001", "13072", "13004"],
            "Latitude": ["43,5297", None, "4,6278"],
            "Longitude": ["5,4474", None, "43,6766"],
        }
    )
    with pytest.warns(CouvertureWarning, match="1 ligne rejetée, 1 acceptée avec hypothèse"):
        s = read_structures(df)
    assert s.crs.to_epsg() == 2154
    assert s["structure_id"].tolist() == ["S0001", "S0003"]  # generated from the line order
    np.testing.assert_allclose(xy(s), [l93(AIX), l93(ARLES)], atol=1e-6)
    assert s["code_insee"].tolist() == ["13001", "13004"]
    err = s.attrs["rapport"].erreurs
    assert len(err) == 1 and err[0].ligne == 3 and "fournissez les communes" in err[0].raison


# ----------------------------------------------------------------------------- errors


def test_error_rows_each_named_with_line_and_column(communes13):
    with pytest.warns(CouvertureWarning, match=r"errors\.csv : 9 lignes rejetées, 2 acceptées avec hypothèse"):
        s = read_structures(DATA / "errors.csv", communes13)
    assert s["structure_id"].tolist() == ["E-01", "E-10", "E-11"]
    assert s["code_insee"].tolist() == ["13201", "13056", "13103"]
    got = {line: (g, c, r) for g, line, c, r in problems(s)}
    assert sorted(got) == list(range(3, 14))
    # outside the territory, with the distance in km
    g, c, r = got[3]
    assert (g, c) == ("erreur", "Latitude") and r.startswith("structure hors du territoire")
    assert "45,76" in r and "4,84" in r
    km = float(r.split(" est à ")[1].split(" km")[0].replace(",", "."))
    brute = communes13.geometry.distance(Point(*l93(LYON))).min() / 1000  # independent: every unit
    assert abs(km - brute) < 0.06 and 150 < km < 260
    assert got[4] == ("erreur", "Code INSEE", "code commune inconnu : « 99999 » (absent des 134 unités du territoire)")
    assert got[5][:2] == ("erreur", "Latitude") and got[5][2].startswith("coordonnée illisible : « 43,52x »")
    assert got[6][:2] == ("erreur", "Type") and got[6][2].startswith("type de structure inconnu : « Crèche »")
    assert got[7][:2] == ("erreur", "Type") and "animation collective familles (ACF)" in got[7][2]
    assert got[8][:2] == ("erreur", "Code INSEE") and "13201 à 13216" in got[8][2] and "13055" in got[8][2]
    assert got[9][:2] == ("erreur", "Code postal") and "13023 Ceyreste, 13028 La Ciotat" in got[9][2]
    assert got[10][:2] == ("erreur", "Longitude") and got[10][2].startswith("coordonnée incomplète")
    assert got[11][0] == "avertissement" and "à 14 m de 13056 Martigues" in got[11][2]
    assert got[12][:2] == ("avertissement", "Code INSEE") and "(13001 Aix-en-Provence)" in got[12][2]
    assert "(13103 Salon-de-Provence)" in got[12][2]
    assert got[13][0] == "erreur" and "impossible de placer" in got[13][2]
    assert s.attrs["rapport"].n_erreurs == 9


def test_strict_raises_on_any_rejected_row(communes13):
    with pytest.raises(InputError, match=r"errors\.csv, ligne 3, colonne « Latitude » : structure hors du territoire"):
        read_structures(DATA / "errors.csv", communes13, strict=True)


def test_tolerance_zero_rejects_the_point_in_the_water(communes13):
    df = pd.DataFrame({"Nom": ["a"], "Type": ["CS"], "Latitude": ["43,4045"], "Longitude": ["5,0476"]})
    with pytest.raises(
        InputError, match=r"ligne 2, colonne « Latitude » : structure hors du territoire .* est à 0,0 km"
    ):
        read_quiet(df, communes13, tolerance=0)


def test_empty_file():
    with pytest.raises(InputError, match=r"empty\.csv : le fichier est vide"):
        read_structures(DATA / "empty.csv")
    with pytest.raises(InputError, match=r"header_only\.csv : aucune ligne de données"):
        read_structures(DATA / "header_only.csv")


def test_missing_columns():
    with pytest.raises(InputError) as exc:
        read_structures(DATA / "missing_column.csv")
    msg = str(exc.value)
    assert "missing_column.csv : colonne du type de structure introuvable" in msg
    assert "aucune colonne pour placer les structures" in msg and "colonnes présentes : Nom, Gestionnaire" in msg
    df = pd.DataFrame({"Type": ["CS"], "Latitude": ["43.5"]})
    with pytest.raises(InputError) as exc:
        read_structures(df)
    assert "colonne du nom de la structure introuvable" in str(exc.value)
    assert "colonne « longitude » introuvable alors que « Latitude » est présente" in str(exc.value)
    with pytest.raises(InputError, match="colonne « Lat » introuvable"):
        read_structures(pd.DataFrame({"Nom": ["a"], "Type": ["CS"], "Code": ["1"]}), lat_col="Lat")


def test_duplicate_identifiers(communes13):
    with pytest.raises(InputError) as exc:
        read_structures(DATA / "duplicates.csv", communes13)
    msg = str(exc.value)
    assert "duplicates.csv, ligne 2, colonne « Identifiant » : identifiant en double : « D-1 »" in msg
    assert "duplicates.csv, ligne 4, colonne « Identifiant » : identifiant en double : « D-1 »" in msg
    assert "ligne 3" not in msg


def test_no_valid_row(communes13):
    df = pd.DataFrame({"Nom": ["a", "b"], "Type": ["Crèche", "CS"], "Code INSEE": ["13001", "99999"]})
    with pytest.raises(InputError) as exc:
        read_structures(df, communes13)
    msg = str(exc.value)
    assert "structures, ligne 2, colonne « Type » : type de structure inconnu : « Crèche »" in msg
    assert "structures, ligne 3, colonne « Code INSEE » : code commune inconnu : « 99999 »" in msg


def test_unparseable_coordinates_message(communes13):
    df = pd.DataFrame(
        {
            "Nom": ["a", "b"],
            "Type": ["CS", "CS"],
            "Latitude": ["43.5297", "quarante-trois"],
            "Longitude": ["5.4474", "5.4"],
        }
    )
    with pytest.warns(CouvertureWarning, match="1 ligne rejetée"):
        s = read_structures(df, communes13)
    assert len(s) == 1
    (p,) = s.attrs["rapport"].erreurs
    assert (p.ligne, p.colonne) == (3, "Latitude")
    assert p.raison.startswith("coordonnée illisible : « quarante-trois »")


# ----------------------------------------------------------------------------- identifiers, types, PLM


def test_identifiers_generated_in_line_order_with_warning(communes13):
    df = pd.DataFrame({"Nom": ["a", "b"], "Type": ["CS", "EVS"], "Code INSEE": ["13001", "13004"]})
    with pytest.warns(CouvertureWarning, match="2 identifiant"):
        s = read_structures(df, communes13)
    assert s["structure_id"].tolist() == ["S0001", "S0002"]
    assert any("identifiants S0001… attribués" in p.raison for p in s.attrs["rapport"].avertissements)


def test_missing_identifier_cell_generated(communes13):
    df = pd.DataFrame(
        {"N° agrément": ["A1", None], "Nom": ["a", "b"], "Type": ["CS", "EVS"], "Code INSEE": ["13001", "13004"]}
    )
    s = read_quiet(df, communes13)
    assert s["structure_id"].tolist() == ["A1", "S0002"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Centre social", "CS"),
        ("centre socio-culturel", "CS"),
        ("CENTRE SOCIOCULTUREL", "CS"),
        ("CS", "CS"),
        ("cs", "CS"),
        ("AGC", "CS"),
        ("Animation globale", "CS"),
        ("Animation globale et coordination", "CS"),
        ("Centres sociaux", "CS"),
        ("EVS", "EVS"),
        ("Espace de vie sociale", "EVS"),
        ("Espace de Vie Sociale", "EVS"),
        ("espace  de vie  sociale ", "EVS"),
        ("AVS", "EVS"),
        ("evs", "EVS"),
        ("CS - AGC", "CS"),
        ("EVS (animation locale)", "EVS"),
        ("ACF", None),
        ("Animation collective familles", None),
        ("CS / EVS", None),
        ("Crèche", None),
        ("", None),
    ],
)
def test_normalize_type(raw, expected):
    t, why = normalize_type(pd.Series([raw], dtype=object))
    assert t.iloc[0] == expected
    assert (why.iloc[0] is None) == (expected is not None)


def test_default_type(communes13):
    df = pd.DataFrame({"Nom": ["a"], "Code INSEE": ["13001"]})
    s = read_quiet(df, communes13, default_type="EVS")
    assert s["type"].tolist() == ["EVS"]
    with pytest.raises(InputError, match="default_type : type de structure inconnu"):
        read_structures(df, communes13, default_type="crèche")


def test_arrondissement_code_on_commune_level_layer(communes13):
    arr = communes13["code_insee"].str.startswith("132")
    marseille = gpd.GeoDataFrame(
        {"code_insee": ["13055"], "nom": ["Marseille"]},
        geometry=[shapely.union_all(communes13.geometry[arr].to_numpy())],
        crs=communes13.crs,
    )
    communes = pd.concat([communes13.loc[~arr, ["code_insee", "nom", "geometry"]], marseille], ignore_index=True)
    df = pd.DataFrame(
        {
            "id": ["A", "B", "C"],
            "Nom": ["a", "b", "c"],
            "Type": ["CS", "CS", "CS"],
            "Code INSEE": ["13213", "13055", "13201"],
            "Latitude": [None, "43,2977", "43,2977"],
            "Longitude": [None, "5,3810", "5,3810"],
        }
    )
    with pytest.warns(CouvertureWarning, match="1 acceptée avec hypothèse"):  # only the row without coordinates
        s = read_structures(df, communes)
    assert s["code_insee"].tolist() == ["13055", "13055", "13055"]
    assert "arrondissement 13213" in s.attrs["rapport"].avertissements[0].raison


def test_file_code_13055_agrees_with_arrondissement_position(communes13):
    df = pd.DataFrame(
        {
            "id": ["A"],
            "Nom": ["a"],
            "Type": ["CS"],
            "Code INSEE": ["13055"],
            "Latitude": ["43,2977"],
            "Longitude": ["5,3810"],
        }
    )
    s = read_structures(df, communes13)  # no warning: 13201 is part of 13055
    assert s["code_insee"].tolist() == ["13201"]


def test_public_name():
    assert cv.read_structures is read_structures


def test_postal_code_forms(communes13):
    df = pd.DataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "Nom": list("abcd"),
            "Type": ["CS"] * 4,
            "CP": ["13 300", "13300.0", "99999", "1330"],
        }
    )
    with pytest.warns(CouvertureWarning, match="2 lignes rejetées, 2 acceptées avec hypothèse"):
        s = read_structures(df, communes13)
    assert s["code_insee"].tolist() == ["13103", "13103"]
    assert s["localisation"].tolist() == ["commune", "commune"]
    reasons = {p.ligne: p.raison for p in s.attrs["rapport"].erreurs}
    assert reasons[4].startswith("code postal inconnu : « 99999 »")
    assert reasons[5].startswith("code postal inconnu : « 01330 »")


# ----------------------------------------------------------------------------- end dates and year-only dates (issue 12)


@pytest.mark.parametrize("head", ["Date de fin d'agrément", "Date de fermeture", "Fin d'agrément"])
def test_end_of_approval_columns_are_recognised(tmp_path, head):
    from couverture.io.demo import load_demo

    path = tmp_path / "s.csv"
    path.write_text(
        f"N° agrément;Nom;Type;Code INSEE;Date d'agrément;{head}\nA1;Un;CS;13001;12/03/2015;31/12/2022\nA2;Deux;EVS;13005;12/03/2015;\n",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = read_structures(path, communes=load_demo().communes)
    assert s["date_fermeture"].tolist()[0] == pd.Timestamp("2022-12-31")
    assert pd.isna(s["date_fermeture"].tolist()[1])
    assert head not in s.columns and s["date_agrement"].notna().all()


def test_a_year_alone_is_read_as_the_first_of_january_with_a_warning(tmp_path):
    from couverture.io.demo import load_demo

    path = tmp_path / "s.csv"
    path.write_text(
        "N° agrément;Nom;Type;Code INSEE;Date d'agrément\nA1;Un;CS;13001;2018\nA2;Deux;EVS;13005;bientôt\n",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = read_structures(path, communes=load_demo().communes)
    assert s["date_agrement"].tolist()[0] == pd.Timestamp("2018-01-01")
    assert pd.isna(s["date_agrement"].tolist()[1])
    texts = [(p.ligne, p.raison) for p in s.attrs["rapport"].avertissements if "date" in p.raison]
    assert (2, "date d'agrément réduite à l'année : « 2018 » lue comme le 01/01/2018") in texts
    assert any(line == 3 and "illisible" in text for line, text in texts)


def test_senacs_export_loads_with_its_own_type_codes(communes13):
    """SENACS writes CSX / EVS (and CAF files « PS AGC »); ACF is still refused; the declared
    « population de la zone de compétence » is read, a non-number is reported."""
    path = Path(__file__).parent / "data" / "real" / "senacs13-export.csv"
    with pytest.warns(CouvertureWarning):
        s = read_structures(path, communes13)
    assert s["structure_id"].tolist() == ["CSX-13-0101", "EVS-13-0102", "CSX-13-0103", "EVS-13-0104", "CSX-13-0105"]
    assert s["type"].tolist() == ["CS", "EVS", "CS", "EVS", "CS"]
    got = s["population_declaree"].tolist()
    assert got[:2] == [12500.0, 3000.0] and np.isnan(got[2]) and got[3] == 1200.0 and np.isnan(got[4])
    rap = s.attrs["rapport"]
    acf = [p for p in rap.erreurs if p.ligne == 7]
    assert acf and "animation collective familles" in acf[0].raison
    bad = [p for p in rap.avertissements if p.colonne == "Population de la zone de compétence"]
    assert len(bad) == 1 and bad[0].ligne == 6 and "environ 8000" in bad[0].raison
    assert s["Structure située en QPV"].tolist() == ["Oui", "Non", "Oui", "Non", "Non"]


CAF_ADRESSES = Path(__file__).parent / "data" / "real" / "caf13-adresses.csv"


def test_addresses_without_geocoder_say_how_many_at_the_town_hall(communes13, monkeypatch):
    monkeypatch.delenv("COUVERTURE_GEOCODER_URL", raising=False)
    with pytest.warns(CouvertureWarning):
        s = read_structures(CAF_ADRESSES, communes13)
    assert len(s) == 40 and set(s["localisation"]) == {"commune"}
    rap = s.attrs["rapport"]
    notice = [p for p in rap.avertissements if p.ligne is None and "faute de géocodage" in p.raison]
    assert len(notice) == 1 and notice[0].raison.startswith("38 structures ont une adresse")
    assert "--geocoder-url" in notice[0].raison and "rien n'est envoyé" in notice[0].raison
    assert rap.comptes["structures_adresse_a_la_mairie"] == 38


def test_geocoder_places_rows_at_their_address(communes13, addok_server, tmp_path):
    with pytest.warns(CouvertureWarning):
        s = read_structures(CAF_ADRESSES, communes13, geocoder=addok_server.url, geocoder_cache_dir=tmp_path)
    assert len(s) == 40
    loc = s["localisation"].tolist()
    assert loc.count("adresse") == 31 and loc.count("commune") == 9
    placed = s[s["localisation"] == "adresse"]
    assert (placed["score_geocodage"] >= 0.5).all() and set(placed["type_geocodage"]) == {"housenumber", "street"}
    # a geocoded point lies in the unit named by code_insee (Marseille: its arrondissement)
    units = communes13.set_index("code_insee").geometry
    assert all(units[c].buffer(1).contains(g) for c, g in zip(placed["code_insee"], placed.geometry))
    assert placed["code_insee"].str.startswith("132").any()
    rap = s.attrs["rapport"]
    town = [p.raison for p in rap.avertissements if "adresse non retenue" in p.raison]
    assert len(town) == 7 and sum("score 0," in r for r in town) == 3
    assert not any("faute de géocodage" in p.raison for p in rap.avertissements)
    assert rap.comptes["structures_geocodees"] == 31
    # the reruns read the cache
    with pytest.warns(CouvertureWarning):
        read_structures(CAF_ADRESSES, communes13, geocoder=addok_server.url, geocoder_cache_dir=tmp_path)
    assert len(addok_server.requests) == 1


def test_geocoder_from_the_environment(communes13, addok_server, tmp_path, monkeypatch):
    monkeypatch.setenv("COUVERTURE_GEOCODER_URL", addok_server.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.warns(CouvertureWarning):
        s = read_structures(CAF_ADRESSES, communes13)
    assert (s["localisation"] == "adresse").sum() == 31
    with pytest.warns(CouvertureWarning):
        s = read_structures(CAF_ADRESSES, communes13, geocoder=False)
    assert (s["localisation"] == "adresse").sum() == 0
