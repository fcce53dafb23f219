"""Tests of couverture.io.tables: robust CSV/XLSX reading, column aliases, numbers and dates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from couverture.errors import InputError
from couverture.io.tables import as_text, find_column, normalize_name, read_table, to_date, to_number

DATA = Path(__file__).parent / "data"
S = DATA / "structures"
T = DATA / "tables"


# ----------------------------------------------------------------------------- CSV


def test_csv_comma_utf8_with_quotes():
    frame, lines = read_table(S / "comma_utf8.csv")
    assert frame.attrs["separateur"] == "," and frame.attrs["encodage"] == "utf-8"
    assert list(frame.columns) == ["identifiant", "nom", "type", "code_insee", "latitude", "longitude", "gestionnaire"]
    # quoted field with a doubled quote and a comma inside
    assert frame["nom"].tolist()[2] == 'Centre social "Les Canourgues", Salon'
    assert frame["latitude"].tolist() == ["43.5297", "43.6766", "43.6403"]
    assert lines.tolist() == [2, 3, 4]
    assert all(frame[c].dtype == object for c in frame.columns)


def test_csv_semicolon_utf8_bom_decimal_comma():
    frame, lines = read_table(S / "semicolon_bom_comma.csv")
    assert frame.attrs["encodage"] == "utf-8-sig" and frame.attrs["separateur"] == ";"
    # the BOM does not stick to the first column name
    assert frame.columns[0] == "N° agrément"
    assert frame["Latitude"].tolist() == ["43,2977", "43,2927"]
    assert frame["Nom de la structure"].tolist()[0] == "Centre social de la Canebière"
    assert lines.tolist() == [2, 3]


def test_csv_tab_cp1252_accents():
    frame, lines = read_table(S / "tab_cp1252.txt")
    assert frame.attrs["encodage"] == "cp1252" and frame.attrs["separateur"] == "\t"
    assert frame["Nom"].tolist() == [
        "Centre social Léo Lagrange — Saint-Barthélemy",
        "Espace de vie sociale d'Éguilles",
    ]
    assert frame["Catégorie"].tolist() == ["Centre social", "Espace de vie sociale"]


def test_csv_title_rows_multiline_blank_rows_trailing_separator():
    frame, lines = read_table(T / "title_rows.csv")
    # title on line 1, blank line 2, header line 3; the trailing ';' adds no column
    assert list(frame.columns) == ["Code INSEE", "Nom", "Commentaire"]
    assert frame.attrs["ligne_entete"] == 3
    assert frame["Code INSEE"].tolist() == ["13001", "13004"]
    # the quoted cell spans lines 4-5; the row of empty cells (line 6) and blank lines are dropped
    assert frame["Commentaire"].tolist() == ["sur deux\nlignes", "Très bien"]
    assert lines.tolist() == [4, 7]


def test_csv_utf16_tab_as_excel_unicode_text():
    frame, lines = read_table(T / "utf16_tab.txt")
    assert frame.attrs["encodage"] == "utf-16"
    assert frame.to_dict("list") == {"Code INSEE": ["13001", "13004"], "Nom": ["Aix-en-Provence", "Arles"]}
    assert lines.tolist() == [2, 3]


def test_csv_separator_sniffed_against_decimal_commas(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a;b;c\n1,5;2,5;3,5\n4,5;5,5;6,5\n", encoding="utf-8")
    frame, _ = read_table(p)
    assert list(frame.columns) == ["a", "b", "c"]
    assert frame["b"].tolist() == ["2,5", "5,5"]
    q = tmp_path / "q.csv"
    q.write_text('lat,lon\n"43,5","5,4"\n', encoding="utf-8")
    frame, _ = read_table(q)
    assert frame.iloc[0].tolist() == ["43,5", "5,4"]


def test_csv_unnamed_column_gets_letter_name(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Nom;;Type\nA;x;CS\n", encoding="utf-8")
    frame, _ = read_table(p)
    assert list(frame.columns) == ["Nom", "colonne B", "Type"]


def test_empty_files_raise_naming_the_file(tmp_path):
    with pytest.raises(InputError, match=r"empty\.csv : le fichier est vide"):
        read_table(S / "empty.csv")
    blank = tmp_path / "blanc.csv"
    blank.write_text("\n \n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"blanc\.csv : le fichier est vide"):
        read_table(blank)
    with pytest.raises(InputError, match=r"header_only\.csv : aucune ligne de données sous l'en-tête \(ligne 1\)"):
        read_table(S / "header_only.csv")


def test_missing_file_and_unsupported_format(tmp_path):
    with pytest.raises(InputError, match="fichier introuvable"):
        read_table(tmp_path / "absent.csv")
    old = tmp_path / "vieux.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"vieux\.xls : format \.xls non pris en charge"):
        read_table(old)


# ----------------------------------------------------------------------------- XLSX


def test_xlsx_merged_title_numbers_dates_trailing_rows():
    frame, lines = read_table(T / "table.xlsx")
    # the first sheet is a notice without known columns: the data sheet is chosen
    assert frame.attrs["feuille"] == "Données"
    assert frame.attrs["ligne_entete"] == 3
    assert list(frame.columns) == ["Code INSEE", "Nom", "Capacité", "Date d'agrément"]
    assert frame["Code INSEE"].tolist() == ["13001", "13004", None]  # 13001.0 back to text
    assert frame["Capacité"].tolist() == ["12.5", "3", None]
    assert frame["Date d'agrément"].tolist() == ["2012-01-23", None, "2020-05-04"]
    # spreadsheet row numbers; the styled empty rows 7-10 are dropped
    assert lines.tolist() == [4, 5, 6]


def test_xlsx_sheet_by_name_or_position():
    frame, lines = read_table(T / "table.xlsx", sheet="Lisez-moi")
    assert frame.columns[0] == "Ce classeur liste les structures agréées."
    assert lines.tolist() == [2]
    frame, _ = read_table(T / "table.xlsx", sheet=1)
    assert frame.attrs["feuille"] == "Données"
    with pytest.raises(InputError, match=r"feuille « Inconnue » introuvable \(feuilles : Lisez-moi, Données\)"):
        read_table(T / "table.xlsx", sheet="Inconnue")
    with pytest.raises(InputError, match="pas de feuille n° 5"):
        read_table(T / "table.xlsx", sheet=5)


def test_xlsx_structures_header_below_merged_title():
    frame, lines = read_table(S / "structures.xlsx")
    assert frame.columns[0] == "N° agrément"
    assert frame["N° agrément"].tolist() == ["12345", "X-2", "X-3"]
    assert frame["Code INSEE"].tolist() == ["13214", "13032", "99999"]
    assert frame["Latitude"].tolist()[:2] == ["43.3342", "43.545"]
    assert lines.tolist() == [4, 5, 6]


def test_xlsx_unreadable(tmp_path):
    p = tmp_path / "faux.xlsx"
    p.write_bytes(b"pas un classeur")
    with pytest.raises(InputError, match=r"faux\.xlsx : classeur Excel illisible"):
        read_table(p)


# ----------------------------------------------------------------------------- columns


@pytest.mark.parametrize(
    "columns, role, expected",
    [
        (["Nom", "Code INSEE"], "code_insee", "Code INSEE"),
        (["code_commune", "x"], "code_insee", "code_commune"),
        (["CODGEO"], "code_insee", "CODGEO"),
        (["LATITUDE ", "Longitude"], "latitude", "LATITUDE "),
        (["lat", "lng"], "longitude", "lng"),
        (["lon", "lat"], "longitude", "lon"),
        (["X", "Y"], "longitude", "X"),
        (["X", "Y"], "latitude", "Y"),
        (["Nom de la structure", "Type"], "nom", "Nom de la structure"),
        (["Type de structure"], "type", "Type de structure"),
        (["Catégorie"], "type", "Catégorie"),
        (["CATEGORIE"], "type", "CATEGORIE"),
        (["Identifiant"], "structure_id", "Identifiant"),
        (["N° agrément"], "structure_id", "N° agrément"),
        (["Numéro d'agrément"], "structure_id", "Numéro d'agrément"),
        (["Code postal"], "code_postal", "Code postal"),
        (["CP"], "code_postal", "CP"),
        (["Capacité (places)"], "capacite", "Capacité (places)"),
        (["Date d'agrément"], "date_agrement", "Date d'agrément"),
        (["date_agrement"], "date_agrement", "date_agrement"),
        (["Nom"], "code_postal", None),
    ],
)
def test_find_column_usual_spellings(columns, role, expected):
    assert find_column(columns, role) == expected


def test_find_column_explicit_and_custom_aliases():
    assert find_column(["Code Commune INSEE", "b"], "code_insee", explicit="code commune insee") == "Code Commune INSEE"
    assert find_column(["a", "Mon code"], ["mon_code"]) == "Mon code"
    with pytest.raises(InputError, match="colonne « absente » introuvable ; colonnes présentes : a, b"):
        find_column(["a", "b"], "code_insee", explicit="absente")


def test_normalize_name():
    assert normalize_name("  Date d'Agrément ") == "datedagrement"
    assert normalize_name("Capacité (places)") == normalize_name("capacite")


# ----------------------------------------------------------------------------- values


def test_to_number_french_and_english():
    got = to_number(
        pd.Series(["43,2977", "5.3810", "6 247 196", "1\u202f234,5", "-0,5", "−4,25", "43,2977°", "12a", "", None])
    )
    expected = [43.2977, 5.381, 6247196.0, 1234.5, -0.5, -4.25, 43.2977, np.nan, np.nan, np.nan]
    np.testing.assert_allclose(got.to_numpy(), expected, equal_nan=True)


def test_to_date_french_formats():
    got = to_date(
        pd.Series(
            [
                "23/01/2012",
                "23-01-2012",
                "23.01.2012",
                "2012-01-23",
                "2012-01-23 00:00:00",
                "40931",
                "31/02/2020",
                "",
                None,
            ]
        )
    )
    assert got.dt.strftime("%Y-%m-%d").tolist()[:6] == ["2012-01-23"] * 6
    assert got.iloc[6:].isna().all()


def test_as_text_keeps_codes_and_does_not_modify_input():
    df = pd.DataFrame({"code": [13001.0, 1001.0, None], "lat": [43.5297, 5.0, 1.25]})
    before = df.copy()
    out = as_text(df)
    assert out["code"].tolist() == ["13001", "1001", None]
    assert out["lat"].tolist() == ["43.5297", "5", "1.25"]
    pd.testing.assert_frame_equal(df, before)
