"""The atlas shows only what its inputs support: each combination of inputs, pages parsed for contradictions.

Inputs vary over zones (ZVS or none), approval dates (none, dates, dates and a
convention table), capacity and a siting scenario, on a covering array of
every pair of values (8 small atlases instead of 24). The built pages are
read as text and checked for the claims issue 12 found contradicting each
other on a territory without ZVS:

- a coverage map painting every unit « 0 (zone blanche) »;
- « Aucune zone blanche : toute la population vit dans au moins une zone de vie sociale »;
- « taux de couverture passé de 0,0 % à 0,0 % » on the évolution;
- « Population de sa ZVS : 0 hab. » on every structure fiche.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from couverture.analysis.diagnostic import NON_CALCULE_SANS_ZVS, diagnose
from couverture.atlas.build import build_atlas
from couverture.atlas.model import atlas_model, level_column, radius_m
from couverture.params import Parameters, Scenario
from couverture.territory import Territory

# (zones, dates: 0 none / 1 dates / 2 dates + convention, capacity, scenario): every pair of values appears
CASES = [
    (1, 2, 1, 1),
    (1, 0, 0, 0),
    (0, 2, 0, 1),
    (0, 0, 1, 1),
    (0, 1, 1, 0),
    (1, 1, 0, 1),
    (1, 0, 1, 0),
    (0, 2, 1, 0),
]


class _Text(HTMLParser):
    """Visible text of a page (scripts and JSON left out), blocks separated by newlines."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in (
            "p",
            "li",
            "tr",
            "th",
            "td",
            "div",
            "h1",
            "h2",
            "h3",
            "dt",
            "dd",
            "caption",
        ):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    # only ASCII white space is collapsed: the pages' narrow no-break spaces (U+202F) are kept
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _territory(zones: bool, dates: int, capacity: bool) -> Territory:
    """Six square units in a row; structures in units 1 and 4; two ZVS leaving units 3 and 6 uncovered."""
    from couverture.analysis.timeline import read_convention

    side = 3000
    geoms = [box(880_000 + i * side, 6_240_000, 880_000 + (i + 1) * side, 6_240_000 + side) for i in range(6)]
    communes = gpd.GeoDataFrame(
        {
            "code_insee": [f"1300{i + 1}" for i in range(6)],
            "nom": ["Aval", "Amont", "Côte", "Plaine", "Saint-Rémy", "Vallon"],
            "population": [1000, 2000, 500, 800, 3000, 250],
            "epci": ["200000001"] * 3 + ["200000002"] * 3,
            "epci_nom": ["CC du Nord"] * 3 + ["CC du Sud"] * 3,
        },
        geometry=geoms,
        crs=2154,
    )
    data = {
        "structure_id": ["S1", "S2"],
        "nom": ["Centre social Aval", "EVS Plaine"],
        "type": ["CS", "EVS"],
        "code_insee": ["13001", "13004"],
    }
    if capacity:
        data["capacite"] = [3.0, 1.0]
    if dates:
        data["date_agrement"] = pd.to_datetime(["2012-03-01", "2016-06-30"])
    structures = gpd.GeoDataFrame(data, geometry=[geoms[0].centroid, geoms[3].centroid], crs=2154)
    zvs = None
    if zones:
        zvs = gpd.GeoDataFrame(
            {"structure_id": ["S1", "S2"]},
            geometry=[geoms[0].union(geoms[1]), geoms[3].union(geoms[4])],
            crs=2154,
        )
    convention = None
    if dates == 2:
        convention = read_convention(
            pd.DataFrame(
                {
                    "code_insee": ["13001", "13004"],
                    "annee_entree": [2012, 2017],
                    "source": ["test", "test"],
                }
            )
        )
    return Territory(communes, structures, zvs, name="Essai", convention=convention)


@pytest.fixture(
    scope="module",
    params=CASES,
    ids=lambda c: "zvs{}-dates{}-capacite{}-scenario{}".format(*c),
)
def case(request, tmp_path_factory):
    zones, dates, capacity, scenario = request.param
    t = _territory(bool(zones), dates, bool(capacity))
    d = diagnose(t, Parameters(radius=4000, scenario=Scenario(k=1 if scenario else 0)))
    out = tmp_path_factory.mktemp("atlas-cas") / "atlas"
    build_atlas(t, out, diagnostic=d)
    pages = {p.relative_to(out).as_posix(): text(p) for p in sorted(out.rglob("*.html"))}
    return request.param, d, out, pages


def test_coverage_figures_only_with_zones(case):
    (zones, _dates, _capacity, _scenario), d, out, pages = case
    index = pages["index.html"]
    everything = "\n".join(pages.values())
    if zones:
        assert d.has_zones and NON_CALCULE_SANS_ZVS not in everything
        assert "Taux de couverture par les ZVS" in index and "zones blanches de proximité" not in everything.lower()
        return
    assert not d.has_zones
    # 1. no map paints the units « 0 (zone blanche) », no page maps the number of ZVS
    assert "0 (zone blanche)" not in everything
    assert not (out / "indicateurs" / "couverture.html").exists()
    assert "ZVS couvrant l'unité" not in everything
    # 2. no page claims that everyone lives in a ZVS
    assert "vit dans au moins une zone de vie sociale" not in everything
    # the coverage figures say why they are missing, everywhere they would be
    assert f"Couverture par les ZVS\n{NON_CALCULE_SANS_ZVS}" in index
    assert "Taux de couverture par les ZVS" not in everything
    for name, page in pages.items():
        if name.startswith("territoires/") and name != "territoires/index.html":
            assert f"Couverture par les ZVS\n{NON_CALCULE_SANS_ZVS}" in page, name
        if name.startswith("communes/") and name != "communes/index.html":
            assert f"Couverture par les zones de vie sociale\n{NON_CALCULE_SANS_ZVS}" in page, name
    # 4. every structure fiche: no « Population de sa ZVS : 0 hab. »
    fiches = {n: p for n, p in pages.items() if n.startswith("structures/") and n != "structures/index.html"}
    assert len(fiches) == len(d.structures)
    for name, page in fiches.items():
        assert f"Population de sa zone de vie sociale\n{NON_CALCULE_SANS_ZVS}" in page, name
        assert not re.search(r"de sa (ZVS|zone de vie sociale)\n0\s*hab", page), name


def test_proximity_is_the_headline_without_zones(case):
    (zones, *_), d, out, pages = case
    if zones:
        assert d.zones_blanches_proximite is None
        return
    index = pages["index.html"]
    km = atlas_model(d).radius_km
    units = d.unites
    near = int(units.loc[units["distance_m"] <= radius_m(d.params), "population"].sum())
    near_cs = int(units.loc[units["distance_cs_m"] <= radius_m(d.params), "population"].sum())
    fmt = lambda n: f"{n:,}".replace(",", "\u202f")
    assert f"Population à {km} km ou moins d'une structure\n{fmt(near)}" in index
    assert f"Population à {km} km ou moins d'un centre social\n{fmt(near_cs)}" in index
    assert "Carte de la proximité" in index and "Carte de la couverture" not in index
    # the zones blanches de proximité: labelled as such, the rule stated, the counts agree
    gaps = d.zones_blanches_proximite
    zb = pages["zones-blanches.html"]
    assert zb.startswith("Zones blanches de proximité") or "\nZones blanches de proximité\n" in zb
    assert f"à plus de {km}\u202fkm, à vol d'oiseau, de toute structure" in zb
    assert f"Zones blanches de proximité\n{len(gaps)}" in index
    html = (out / "zones-blanches.html").read_text(encoding="utf-8")
    assert html.count('<tr><th scope="row" class="num">') == len(gaps) > 0
    far = int(units.loc[~(units["distance_m"] <= radius_m(d.params)), "population"].sum())
    assert int(gaps["population"].sum()) == far
    assert (
        "Zones blanches de proximité" in pages["methodologie.html"]
        or "zones blanches de proximité" in pages["methodologie.html"]
    )


def test_optional_pages_follow_the_inputs(case):
    (zones, dates, capacity, scenario), d, out, pages = case
    assert ("evolution.html" in pages) == bool(dates)
    assert ("scenarios.html" in pages) == bool(scenario)
    menu = (out / "index.html").read_text(encoding="utf-8")
    assert ('href="evolution.html"' in menu) == bool(dates)
    assert ('href="scenarios.html"' in menu) == bool(scenario)
    fiche = pages["structures/s1.html"]
    assert ("Capacité\n3" in fiche) == bool(capacity)
    if dates:
        ev = pages["evolution.html"]
        # 3. no « taux de couverture passé de 0,0 % à 0,0 % » without ZVS; with ZVS the figures are the table's
        home = pages["index.html"]
        if zones:
            t = d.evolution["taux_couverture_pct"]
            assert "taux de couverture par les ZVS passé de" in home
            assert f"{t.iloc[-1]:.1f}".replace(".", ",") in home
        else:
            assert "taux de couverture" not in home.lower() and "taux de couverture" not in ev.lower()
            assert "Population dans une zone de vie sociale" not in ev
            assert "population_couverte" not in d.evolution.columns
        assert ("Convention cadre : communes signataires" in ev) == (dates == 2)
    if scenario:
        sc = pages["scenarios.html"]
        assert "Population dans une ZVS" not in sc or zones
        assert "nan" not in sc.split()


def test_legends_count_the_page_territory(case):
    _c, d, _out, pages = case
    # a commune page counts one unit; an EPCI page its three units; the index every unit
    commune = pages["communes/13003.html"]
    counts = [int(n) for n in re.findall(r"\((\d+)\)", commune.split("Entre parenthèses")[0].split("\nCarte\n")[-1])]
    assert sum(counts) == 1, commune
    epci = next(p for n, p in pages.items() if n.startswith("territoires/epci-200000002"))
    counts = [int(n) for n in re.findall(r"\((\d+)\)", epci.split("Entre parenthèses")[0].split("\nCarte\n")[-1])]
    assert sum(counts) == 3
    assert "nombre de communes ou arrondissements du territoire CC du Sud" in epci
    index = pages["index.html"]
    counts = [
        int(n)
        for n in re.findall(
            r"\((\d+)\)",
            index.split("Entre parenthèses")[0].split("\nCarte de la ")[-1],
        )
    ]
    assert sum(counts) == len(d.unites)


def test_model_is_the_one_reader_of_radius_and_level_names(case):
    _c, d, _out, _pages = case
    m = atlas_model(d)
    assert m.radius_m == 4000.0 and m.radius_km == "4"
    assert level_column(list(d.niveaux["departement"].columns), "@sans_structure") is not None
    with pytest.raises(AttributeError):
        m.has_zones = not m.has_zones  # frozen


def test_no_population_in_the_source_reads_nd_in_the_atlas(tmp_path):
    # issue 11: a source without population: the atlas builds, says « n.d. (population non disponible …) », no 0 %
    from shapely import Point

    from couverture.analysis.population_absent import ND_POPULATION

    communes = gpd.GeoDataFrame(
        {"code_insee": ["97601", "97602"], "nom": ["A", "B"], "population": [float("nan")] * 2},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {"structure_id": ["S1"], "nom": ["Un"], "type": ["CS"], "code_insee": ["97601"]},
        geometry=[Point(500, 500)],
        crs=2154,
    )
    zones = gpd.GeoDataFrame({"structure_id": ["S1"]}, geometry=[box(0, 0, 1000, 1000)], crs=2154)
    t = Territory(communes, structures, zones, name="Sans population")
    d = diagnose(t, Parameters(radius=1000))
    index = build_atlas(t, tmp_path / "atlas", diagnostic=d)
    text = Path(index).read_text(encoding="utf-8")
    assert ND_POPULATION in text
    assert not re.search(r">\s*0(,0)?(&nbsp;|\s|\u202f)%", text)
    assert not re.search(r">\s*nan\b", text, re.I)
