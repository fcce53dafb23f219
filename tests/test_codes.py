"""Tests of couverture.codes."""

import pandas as pd
import pytest

from couverture import InputError
from couverture.codes import (
    PLM_ARRONDISSEMENTS,
    PLM_SECTEURS,
    departement_of,
    is_valid_insee,
    metric_crs,
    normalize_departement,
    normalize_insee,
    plm_parent,
    plm_secteur,
    secteur_name,
)


@pytest.mark.parametrize(
    "raw,expected",
    [
        (1001, "01001"),
        ("1001", "01001"),
        (1001.0, "01001"),
        ("1001.0", "01001"),
        (" 13055 ", "13055"),
        ("2a004", "2A004"),
        ("2B33", "2B033"),
        ("97411", "97411"),
        ("abc", "ABC"),
    ],
)
def test_normalize_insee(raw, expected):
    assert normalize_insee(pd.Series([raw])).tolist() == [expected]


def test_normalize_keeps_missing_and_index():
    s = pd.Series([None, float("nan"), ""], index=[5, 6, 7])
    out = normalize_insee(s)
    assert out.index.tolist() == [5, 6, 7]
    assert out.isna().all()


def test_is_valid_insee():
    assert is_valid_insee(pd.Series(["13001", "2A004", "2C004", "1300", "130011", None])).tolist() == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_departements_and_crs():
    assert departement_of(pd.Series(["13001", "2B033", "97209", "97611"])).tolist() == ["13", "2B", "972", "976"]
    assert [metric_crs(d) for d in ["13", "2A", "971", "972", "973", "974", "976"]] == [
        "EPSG:2154",
        "EPSG:2154",
        "EPSG:5490",
        "EPSG:5490",
        "EPSG:2972",
        "EPSG:2975",
        "EPSG:4471",
    ]
    assert normalize_departement(" 5 ") == "05"
    with pytest.raises(InputError, match="code de département invalide : « 2C »"):
        normalize_departement("2C")


def test_plm():
    assert len(PLM_ARRONDISSEMENTS["75056"]) == 20 and len(PLM_ARRONDISSEMENTS["69123"]) == 9
    assert PLM_ARRONDISSEMENTS["13055"][-1] == "13216"
    assert plm_parent(pd.Series(["69385", "13216", "13001"])).tolist() == ["69123", "13055", "13001"]


def test_plm_secteurs_partition_the_arrondissements():
    # Marseille: 8 secteurs of two arrondissements (loi PLM): 1er+7e, 2e+3e, 4e+5e, 6e+8e, 9e+10e...
    marseille = {k: arms for k, (_, arms) in PLM_SECTEURS.items() if k.startswith("13055-")}
    assert marseille == {
        "13055-S1": ("13201", "13207"),
        "13055-S2": ("13202", "13203"),
        "13055-S3": ("13204", "13205"),
        "13055-S4": ("13206", "13208"),
        "13055-S5": ("13209", "13210"),
        "13055-S6": ("13211", "13212"),
        "13055-S7": ("13213", "13214"),
        "13055-S8": ("13215", "13216"),
    }
    # every arrondissement of each city is in exactly one secteur of that city
    for com, arms in PLM_ARRONDISSEMENTS.items():
        members = [a for k, (_, s) in PLM_SECTEURS.items() if k.startswith(com + "-") for a in s]
        assert sorted(members) == sorted(arms)
    assert sum(k.startswith("69123-") for k in PLM_SECTEURS) == 9
    assert sum(k.startswith("75056-") for k in PLM_SECTEURS) == 17  # Paris Centre + 5e to 20e
    assert PLM_SECTEURS["75056-S1"][1] == ("75101", "75102", "75103", "75104")
    assert plm_secteur(pd.Series(["13208", "75104", "75120", "69389", "13055", "01001"])).tolist() == [
        "13055-S4",
        "75056-S1",
        "75056-S20",
        "69123-S9",
        None,
        None,
    ]
    assert secteur_name("13055-S8") == "Marseille, 8e secteur (15e et 16e arrondissements)"
    assert secteur_name("75056-S5") == "Paris, 5e secteur (5e arrondissement)"
