"""Tests of couverture.analysis.timeline: timeline and read_convention."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from couverture.analysis.timeline import COLONNES_TIMELINE, read_convention, timeline
from couverture.errors import CouvertureWarning, InputError


def gini_ref(x, w):
    """Weighted Gini from its definition (independent of couverture.equity)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    mu = np.average(x, weights=w)
    return (w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (2 * w.sum() ** 2 * mu)


@pytest.fixture
def small():
    """Three 1 km squares in a row; a CS from 2010 (closed 2015), an EVS from 2012, a CS from 2014."""
    units = gpd.GeoDataFrame(
        {"code_insee": ["01001", "01002", "01003"], "nom": ["A", "B", "C"], "population": [300, 100, 600]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["A1", "B1", "C1"],
            "type": ["CS", "EVS", "CS"],
            "code_insee": ["01001", "01002", "01003"],
            "date_agrement": pd.to_datetime(["2010-06-01", "2012-12-31", "2014-01-01"]),
            "date_fermeture": pd.to_datetime(["2015-03-01", None, None]),
        },
        geometry=[Point(500, 500), Point(1500, 500), Point(2500, 500)],
        crs=2154,
    )
    zones = gpd.GeoDataFrame(
        {"structure_id": ["A1", "B1", "C1"]},
        geometry=[box(0, 0, 2000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)],
        crs=2154,
    )
    return units, structures, zones


def test_counts_and_coverage_by_year(small):
    units, structures, zones = small
    tl = timeline(units, structures, zones, years=[2009, 2010, 2012, 2014, 2015])
    assert list(tl.columns) == list(COLONNES_TIMELINE)
    assert tl["annee"].tolist() == [2009, 2010, 2012, 2014, 2015]
    assert tl["n_cs"].tolist() == [0, 1, 1, 2, 1]  # A1 closed in 2015
    assert tl["n_evs"].tolist() == [0, 0, 1, 1, 1]  # approved on 31/12/2012: counted in 2012
    assert tl["n_structures"].tolist() == [0, 1, 2, 3, 2]
    # A1's zone covers A and B; B1's covers B; C1's covers C
    assert tl["population_couverte"].tolist() == [0, 400, 400, 1000, 700]
    assert tl["taux_couverture_pct"].tolist() == pytest.approx([0, 40, 40, 100, 70])
    assert tl["structures_pour_10000_hab"].tolist() == pytest.approx([0, 10, 20, 30, 20])


def test_distances_and_equity_by_year(small):
    units, structures, zones = small
    tl = timeline(units, structures, zones, years=[2009, 2010, 2015], radius=1500)
    assert np.isnan(tl.loc[0, "distance_moyenne_m"]) and np.isnan(tl.loc[0, "gini_distance"])
    assert tl.loc[0, "population_dans_rayon"] == 0
    # 2010: only A1 at (500, 500): distances 0, 1000, 2000
    d = np.array([0, 1000, 2000])
    w = np.array([300, 100, 600])
    assert tl.loc[1, "distance_moyenne_m"] == pytest.approx((d * w).sum() / w.sum())
    assert tl.loc[1, "gini_distance"] == pytest.approx(gini_ref(d, w))
    assert tl.loc[1, "population_dans_rayon"] == 400
    assert tl.loc[1, "taux_dans_rayon_pct"] == pytest.approx(40.0)
    # 2015: B1 and C1: distances 1000, 0, 0
    d = np.array([1000, 0, 0])
    assert tl.loc[2, "distance_moyenne_m"] == pytest.approx(300.0)
    assert tl.loc[2, "gini_distance"] == pytest.approx(gini_ref(d, w))
    # 2SFCA 10 km: every structure reaches all 1000 inhabitants -> n / 1000 per inhabitant
    assert tl.loc[1, "acces_2sfca_moyen"] == pytest.approx(1 / 1000 * 10_000)
    assert tl.loc[2, "acces_2sfca_moyen"] == pytest.approx(2 / 1000 * 10_000)
    assert tl.loc[1, "gini_acces_2sfca"] == pytest.approx(0.0)  # the same access everywhere


def test_no_convention_columns_are_missing(small):
    units, structures, zones = small
    tl = timeline(units, structures, zones, years=[2012])
    assert tl["n_communes_signataires"].isna().all()
    assert tl["part_population_signataires_pct"].isna().all()
    assert tl["n_communes_avec_structure"].tolist() == [2]


def test_undated_structures_counted_every_year_with_a_warning(small):
    units, structures, zones = small
    s = structures.copy()
    s.loc[1, "date_agrement"] = pd.NaT
    with pytest.warns(CouvertureWarning, match="1 structure\\(s\\) sans date_agrement"):
        tl = timeline(units, s, zones, years=[2000])
    assert tl["n_evs"].tolist() == [1]
    assert tl.attrs["structures_sans_date"] == 1


def test_dates_as_text_or_years(small):
    units, structures, zones = small
    s = structures.copy()
    s["date_agrement"] = ["01/06/2010", "31/12/2012", "2014-01-01"]
    s["date_fermeture"] = ["01/03/2015", None, ""]
    tl = timeline(units, s, zones, years=[2012, 2015])
    assert tl["n_structures"].tolist() == [2, 2]
    s["date_agrement"] = [2010, 2012, 2014]
    s = s.drop(columns="date_fermeture")
    assert timeline(units, s, zones, years=[2013])["n_structures"].tolist() == [2]


def test_default_years_span_dates_and_entries(small):
    units, structures, zones = small
    tl = timeline(units, structures, zones)
    assert tl["annee"].tolist() == list(range(2010, 2016))
    entries = pd.DataFrame({"code_insee": ["01001"], "annee_entree": [2018]})
    assert timeline(units, structures, zones, entries=entries)["annee"].iloc[-1] == 2018


def test_convention_entries_with_plm_arrondissements():
    units = gpd.GeoDataFrame(
        {"code_insee": ["13201", "13202", "13001", "13002"], "population": [100, 200, 50, 25]},
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(4)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["M1", "M2", "A1", "B1"],
            "type": ["CS", "CS", "CS", "EVS"],
            "code_insee": ["13201", "13202", "13001", "13002"],
            "date_agrement": pd.to_datetime(["2000-01-01"] * 4),
        },
        geometry=[Point(i * 1000 + 500, 500) for i in range(4)],
        crs=2154,
    )
    entries = pd.DataFrame(
        {"code_insee": ["13055", "13001"], "annee_entree": [2015, 2017], "annee_sortie": [None, 2020]}
    )
    tl = timeline(units, structures, None, years=[2014, 2015, 2017, 2020], entries=entries)
    assert tl["n_communes_signataires"].tolist() == [0, 1, 2, 1]
    assert tl["population_signataires"].tolist() == [0, 300, 350, 300]
    assert tl["part_population_signataires_pct"].tolist() == pytest.approx([0, 80, 280 / 3, 80])
    # communes hosting a structure: Marseille (once), 13001, 13002
    assert tl["n_communes_avec_structure"].tolist() == [3, 3, 3, 3]
    assert tl["n_communes_avec_structure_non_signataires"].tolist() == [3, 2, 1, 2]
    assert tl["part_structures_signataires_pct"].tolist() == pytest.approx([0, 50, 75, 50])
    assert tl["population_couverte"].tolist() == [0, 0, 0, 0]  # no zones


def test_unknown_convention_codes_are_reported(small):
    units, structures, zones = small
    entries = pd.DataFrame({"code_insee": ["01001", "99999"], "annee_entree": [2012, 2012]})
    with pytest.warns(CouvertureWarning, match="1 commune\\(s\\) de la convention absente\\(s\\).*99999"):
        tl = timeline(units, structures, zones, years=[2012], entries=entries)
    assert tl["n_communes_signataires"].tolist() == [1]


def test_demo_last_year_agrees_with_the_diagnostic(demo):
    from couverture.analysis.diagnostic import diagnose

    tl = timeline(demo.communes, demo.structures, demo.zones, years=[2024], entries=read_convention())
    d = diagnose(demo)
    key = d.chiffres_cles["valeur"]
    row = tl.iloc[0]
    assert row["n_cs"] == key["Centres sociaux"] and row["n_evs"] == key["Espaces de vie sociale"]
    assert row["population_couverte"] == key["Population dans une ZVS"]
    assert row["population_dans_rayon"] == key["Population"] - key["Population à plus de 5 km d'une structure"]
    assert row["distance_moyenne_m"] / 1000 == pytest.approx(
        key["Distance moyenne à la structure la plus proche"], abs=0.005
    )
    assert row["gini_distance"] == pytest.approx(key["Indice de Gini des distances"], abs=5e-4)
    # the convention of the demo: 9 real signatories in 2015, 18 fictitious entries up to 2024
    assert row["n_communes_signataires"] == 27


def test_demo_timeline_is_monotone_without_closures(demo):
    tl = timeline(demo.communes, demo.structures, demo.zones, entries=read_convention())
    assert tl["annee"].iloc[0] == demo.structures["date_agrement"].dt.year.min()
    assert tl["n_structures"].is_monotonic_increasing
    assert tl["population_couverte"].is_monotonic_increasing
    assert tl["n_communes_signataires"].is_monotonic_increasing
    sig = tl.set_index("annee")["n_communes_signataires"]
    assert sig[2014] == 0 and sig[2015] == 9


def test_does_not_modify_inputs(small):
    units, structures, zones = small
    copies = [x.copy() for x in small]
    timeline(units, structures, zones, years=[2012])
    for a, b in zip(small, copies):
        pd.testing.assert_frame_equal(a, b)


def test_timeline_errors(small):
    units, structures, zones = small
    with pytest.raises(InputError, match="date_agrement"):
        timeline(units, structures.drop(columns="date_agrement"), zones)
    bad = structures.copy()
    bad["date_agrement"] = ["hier", "2012-01-01", "2014-01-01"]
    with pytest.raises(InputError, match="date illisible pour 1 structure"):
        timeline(units, bad, zones)
    with pytest.raises(InputError, match="aucune année demandée"):
        timeline(units, structures, zones, years=[])
    with pytest.raises(InputError, match="années entières attendues"):
        timeline(units, structures, zones, years=["deux mille"])
    undated = structures.assign(date_agrement=pd.NaT).drop(columns="date_fermeture")
    with pytest.warns(CouvertureWarning), pytest.raises(InputError, match="indiquez les années"):
        timeline(units, undated, zones)


# --------------------------------------------------------------------------- convention table
def test_bundled_convention_marks_real_and_fictitious_rows():
    c = read_convention()
    # the nine signatories of the Bouches-du-Rhône convention cadre 2015-2017
    real = {"13001", "13028", "13071", "13055", "13063", "13077", "13103", "13106", "13117"}
    is_real = c["source"].str.startswith("réel")
    assert set(c.loc[is_real, "code_insee"]) == real
    assert (c.loc[is_real, "annee_entree"] == 2015).all()
    assert c.loc[~is_real, "source"].str.startswith("FICTIF").all()
    assert (c.loc[~is_real, "annee_entree"] > 2015).all()
    assert c["annee_sortie"].isna().all()


def test_read_convention_file_and_errors(tmp_path):
    p = tmp_path / "conv.csv"
    p.write_text("code_insee;annee_entree;annee_sortie\n1001;2015;\n13055;2016;2020\n", encoding="utf-8")
    c = read_convention(p)
    assert c["code_insee"].tolist() == ["01001", "13055"]
    assert c["annee_entree"].tolist() == [2015, 2016]
    assert c["annee_sortie"].isna().tolist() == [True, False]
    with pytest.raises(InputError, match="colonne « annee_entree » : colonne absente"):
        read_convention(pd.DataFrame({"code_insee": ["13001"]}))
    with pytest.raises(InputError, match="année illisible pour 1 ligne\\(s\\) \\(lignes 3\\)"):
        read_convention(pd.DataFrame({"code_insee": ["13001", "13002"], "annee_entree": ["2015", "vingt"]}))
    with pytest.raises(InputError, match="plusieurs fois : 13001"):
        read_convention(pd.DataFrame({"code_insee": ["13001", "13001"], "annee_entree": [2015, 2016]}))
    with pytest.raises(InputError, match="fichier introuvable"):
        read_convention(tmp_path / "absent.csv")


# ----------------------------------------------------------------------------- the évolution runs to the current year (issue 12)


def test_end_year_extends_the_default_years():
    from couverture.io.demo import load_demo

    t = load_demo()
    last = int(t.structures["date_agrement"].dt.year.max())
    tl = timeline(t.communes, t.structures, t.zones, end_year=last + 3)
    assert tl["annee"].max() == last + 3
    assert tl["n_structures"].iloc[-1] == tl["n_structures"].iloc[-4]  # nothing new after the last approval
    assert timeline(t.communes, t.structures, t.zones)["annee"].max() == last


def test_diagnostic_evolution_runs_to_the_current_year_or_annee_fin():
    import datetime

    from couverture.analysis.diagnostic import diagnose
    from couverture.io.demo import load_demo
    from couverture.params import Parameters

    t = load_demo()
    assert diagnose(t).evolution["annee"].max() == datetime.date.today().year
    assert diagnose(t, Parameters(end_year=2021)).evolution["annee"].max() == 2021
