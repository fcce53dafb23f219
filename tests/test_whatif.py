"""Tests of couverture.analysis.whatif: what_if, the map of maps.whatif, attachments_to_changes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from couverture.analysis.scenarios import best_sites, propose_attachments
from couverture.analysis.whatif import WhatIf, attachments_to_changes, what_if
from couverture.errors import InputError
from couverture.maps.whatif import whatif_map
from couverture.territory import Territory


@pytest.fixture
def toy():
    """Four 4 km squares in a row (1000, 500, 200, 100 inhabitants); one CS in A, ZVS = A."""
    communes = gpd.GeoDataFrame(
        {
            "code_insee": ["01001", "01002", "01003", "01004"],
            "nom": ["A", "B", "C", "D"],
            "population": [1000, 500, 200, 100],
        },
        geometry=[box(i * 4000, 0, (i + 1) * 4000, 4000) for i in range(4)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["CS1", "EVS1"],
            "nom": ["Centre", "Espace"],
            "type": ["CS", "EVS"],
            "code_insee": ["01001", "01004"],
        },
        geometry=[Point(2000, 2000), Point(14000, 2000)],
        crs=2154,
    )
    zones = gpd.GeoDataFrame(
        {"structure_id": ["CS1", "EVS1"], "communes": [["01001"], ["01004"]]},
        geometry=[box(0, 0, 4000, 4000), box(12000, 0, 16000, 4000)],
        crs=2154,
    )
    return Territory(communes, structures, zones, name="Essai")


def row(w: WhatIf, label: str):
    return w.comparaison.set_index("indicateur").loc[label]


def test_comparison_table_shape_and_differences(toy):
    w = what_if(toy, close="EVS1")
    assert list(w.comparaison.columns) == ["indicateur", "avant", "apres", "ecart", "unite"]
    assert w.comparaison["indicateur"].is_unique
    np.testing.assert_allclose(w.comparaison["ecart"], w.comparaison["apres"] - w.comparaison["avant"])
    r = row(w, "Espaces de vie sociale")
    assert (r["avant"], r["apres"], r["ecart"]) == (1, 0, -1)
    # closing EVS1 removes its zone: D (100) joins the zones blanches B, C (700)
    r = row(w, "Population en zone blanche (hors ZVS)")
    assert (r["avant"], r["apres"]) == (700, 800)
    # distances: C was 4 km from EVS1, now 8 km from CS1; D was at 0, now 12 km
    before = (0 * 1000 + 4000 * 500 + 4000 * 200 + 0 * 100) / 1800 / 1000
    after = (0 * 1000 + 4000 * 500 + 8000 * 200 + 12000 * 100) / 1800 / 1000
    r = row(w, "Distance moyenne à la structure la plus proche")
    assert r["avant"] == pytest.approx(before, abs=0.005) and r["apres"] == pytest.approx(after, abs=0.005)
    assert r["unite"].startswith("km")
    labels = set(w.comparaison["indicateur"])
    assert "Accessibilité 2SFCA moyenne" in labels
    assert any(lab.startswith("Theil — Distance") for lab in labels)
    assert any(lab.startswith("Gini — Accessibilité 2SFCA") for lab in labels)
    assert w.changements[["action", "structure_id"]].values.tolist() == [["fermeture", "EVS1"]]


def test_add_with_commune_zone_and_change_zone(toy):
    w = what_if(
        toy, add=pd.DataFrame({"code_insee": ["01003"], "type": ["EVS"]}), zones_changes={"CS1": {"ajouter": ["01002"]}}
    )
    s = w.territoire.structures.set_index("structure_id")
    assert s.loc["NOUVEAU-01", "type"] == "EVS"
    assert s.loc["NOUVEAU-01", "geometry"].equals(toy.communes.geometry[2].representative_point())
    assert s.loc["NOUVEAU-01", "nom"] == "Nouvelle structure (scénario) – C"
    z = w.territoire.zones.set_index("structure_id")
    assert z.loc["NOUVEAU-01", "communes"] == ["01003"]
    assert z.loc["CS1", "communes"] == ["01001", "01002"]
    assert z.loc["CS1", "geometry"].area == pytest.approx(2 * 16e6)
    r = row(w, "Population en zone blanche (hors ZVS)")
    assert (r["avant"], r["apres"], r["ecart"]) == (700, 0, -700)
    assert row(w, "Zones blanches")["apres"] == 0
    u = w.unites.set_index("code_insee")
    assert u["n_zones_avant"].tolist() == [1, 0, 0, 1]
    assert u["n_zones_apres"].tolist() == [1, 1, 1, 1]
    assert u.loc["01003", "distance_m_ecart"] == pytest.approx(-4000.0)  # was 4 km from EVS1


def test_replace_and_remove_zone_units(toy):
    w = what_if(toy, zones_changes={"CS1": ["01002", "01003"], "EVS1": {"retirer": ["01004"]}})
    z = w.territoire.zones.set_index("structure_id")
    assert z.loc["CS1", "communes"] == ["01002", "01003"]
    assert "EVS1" not in z.index  # emptied zone disappears
    assert row(w, "Population en zone blanche (hors ZVS)")["apres"] == 1100


def test_polygon_zones_are_edited_geometrically(toy):
    zones = toy.zones.drop(columns="communes")
    t = Territory(toy.communes, toy.structures, zones)
    w = what_if(t, zones_changes={"CS1": {"ajouter": ["01002"]}, "EVS1": {"retirer": ["01004"]}})
    z = w.territoire.zones.set_index("structure_id")
    assert z.loc["CS1", "geometry"].area == pytest.approx(2 * 16e6)
    assert z.loc["EVS1", "geometry"].area == pytest.approx(0.0)
    assert row(w, "Population en zone blanche (hors ZVS)")["apres"] == 300


def test_move_to_a_commune_or_a_point(toy):
    w = what_if(toy, move={"CS1": "01002"})
    s = w.territoire.structures.set_index("structure_id")
    assert s.loc["CS1", "code_insee"] == "01002"
    assert s.loc["CS1", "geometry"].equals(toy.communes.geometry[1].representative_point())
    assert w.territoire.zones.set_index("structure_id").loc["CS1", "communes"] == ["01001"]  # ZVS kept
    w2 = what_if(toy, move={"CS1": (10000.0, 2000.0)})
    s2 = w2.territoire.structures.set_index("structure_id")
    assert s2.loc["CS1", "code_insee"] == "01003"
    assert s2.loc["CS1", "geometry"].equals(Point(10000, 2000))
    moves = gpd.GeoDataFrame({"structure_id": ["CS1"]}, geometry=[Point(6000, 2000)], crs=2154)
    w3 = what_if(toy, move=moves)
    assert w3.territoire.structures.set_index("structure_id").loc["CS1", "code_insee"] == "01002"
    assert w3.changements["action"].tolist() == ["déplacement"]


def test_input_territory_is_not_modified(toy):
    before = [toy.structures.copy(), toy.zones.copy(), toy.communes.copy()]
    what_if(
        toy,
        close=["EVS1"],
        move={"CS1": "01002"},
        add=pd.DataFrame({"code_insee": ["01003"]}),
        zones_changes={"CS1": {"ajouter": ["01002"]}},
    )
    for a, b in zip((toy.structures, toy.zones, toy.communes), before):
        pd.testing.assert_frame_equal(a, b)


def test_tuple_input(toy):
    w = what_if((toy.communes, toy.structures, toy.zones), close="EVS1")
    assert row(w, "Espaces de vie sociale")["apres"] == 0


def test_demo_best_sites_feed_the_what_if(demo):
    sites = best_sites(demo.communes, k=5, radius=5000, existing=demo.structures)
    w = what_if(demo, add=sites)
    r = row(w, "Population à plus de 5 km d'une structure")
    # the population brought within 5 km, as best_sites reports it
    assert r["avant"] - r["apres"] == sites["population_ajoutee"].sum()
    assert row(w, "Centres sociaux")["ecart"] == 5
    assert set(w.changements["action"]) == {"ajout"}


def test_demo_attachments_feed_the_what_if(demo):
    props = propose_attachments(demo.communes, demo.structures, demo.zones)
    changes = attachments_to_changes(props)
    assert sum(len(v["ajouter"]) for v in changes.values()) == (props["proposition"] == "rattachement").sum()
    w = what_if(demo, zones_changes=props)
    r = row(w, "Population en zone blanche (hors ZVS)")
    attached = props.loc[props["proposition"] == "rattachement", "population"].sum()
    assert r["avant"] - r["apres"] == attached
    assert row(w, "Population dans une ZVS")["ecart"] == attached


def test_side_by_side_maps_share_classes(toy):
    from matplotlib.figure import Figure

    w = what_if(toy, close="EVS1")
    fig = whatif_map(w, "distance_km", scheme="intervalles_egaux", k=3)
    assert isinstance(fig, Figure)
    left, right = fig.axes[0], fig.axes[1]
    assert left.get_title(loc="left") == "Avant" and right.get_title(loc="left") == "Après (scénario)"

    def classes(ax):  # legend labels without the counts
        return [t.get_text().rsplit(" (", 1)[0] for t in ax.get_legend().get_texts()][:3]

    assert classes(left) == classes(right)
    assert any("Structure fermée" in t.get_text() for leg in fig.legends for t in leg.get_texts())
    with pytest.raises(InputError, match="colonne absente des unités du diagnostic"):
        whatif_map(w, "inconnue")
    with pytest.warns(DeprecationWarning, match="WhatIf.carte est obsolète"):
        assert isinstance(w.carte("n_zones"), Figure)


def test_deprecated_keywords_of_what_if(toy):
    add = pd.DataFrame({"code_insee": [toy.communes["code_insee"].iloc[-1]]})
    with pytest.warns(DeprecationWarning, match="type_nouveau"):
        old = what_if(toy, add=add, type_nouveau="EVS")
    new = what_if(toy, add=add, new_type="EVS")
    assert old.comparaison.equals(new.comparaison)
    assert new.apres.structures["type"].iloc[-1] == "EVS"


def test_what_if_reuses_a_given_diagnostic(toy):
    from couverture.analysis.diagnostic import diagnose

    before = diagnose(toy, evolution=False)
    w = what_if(toy, close="EVS1", before=before)
    assert w.avant is before


def test_attachments_to_changes_errors():
    with pytest.raises(InputError, match="proposition"):
        attachments_to_changes(pd.DataFrame({"code_insee": ["01001"], "structure_id": ["A"]}))


def test_what_if_errors(toy):
    with pytest.raises(InputError, match="structure\\(s\\) inconnue\\(s\\) : XX"):
        what_if(toy, close=["XX"])
    with pytest.raises(InputError, match="structure\\(s\\) inconnue\\(s\\) : YY"):
        what_if(toy, move={"YY": "01001"})
    with pytest.raises(InputError, match="structure\\(s\\) inconnue\\(s\\) : ZZ"):
        what_if(toy, zones_changes={"ZZ": ["01001"]})
    with pytest.raises(InputError, match="code\\(s\\) de commune inconnu\\(s\\) : 09999"):
        what_if(toy, zones_changes={"CS1": ["9999"]})
    with pytest.raises(InputError, match="code\\(s\\) de commune inconnu\\(s\\) : 02000"):
        what_if(toy, add=pd.DataFrame({"code_insee": ["02000"]}))
    with pytest.raises(InputError, match="identifiant\\(s\\) déjà utilisé\\(s\\) : CS1"):
        what_if(toy, add=pd.DataFrame({"code_insee": ["01002"], "structure_id": ["CS1"]}))
    with pytest.raises(InputError, match="type inconnu : XYZ"):
        what_if(toy, add=pd.DataFrame({"code_insee": ["01002"], "type": ["xyz"]}))
    with pytest.raises(InputError, match="clé\\(s\\) inconnue\\(s\\) pour CS1 : enlever"):
        what_if(toy, zones_changes={"CS1": {"enlever": ["01001"]}})
    with pytest.raises(InputError, match="destination illisible"):
        what_if(toy, move={"CS1": (1.0,)})
    with pytest.raises(InputError, match="un Territory ou"):
        what_if("territoire")
    with pytest.raises(InputError, match="colonne « code_insee » : colonne absente"):
        what_if(toy, add=pd.DataFrame({"nom": ["x"]}))


def test_scenario_without_zvs_compares_what_can_be_compared(demo):
    from couverture.analysis.diagnostic import diagnose
    from couverture.params import Parameters, Scenario
    from couverture.territory import Territory

    t = Territory(demo.communes, demo.structures, None, name="Sans ZVS")
    d = diagnose(t, Parameters(scenario=Scenario(k=1)))  # used to fail: « could not convert string to float »
    comp = d.scenario_comparaison.set_index("indicateur")
    assert "Couverture par les ZVS" not in comp.index
    assert comp.loc["Centres sociaux", "ecart"] == 1 or comp.loc["Espaces de vie sociale", "ecart"] == 1
