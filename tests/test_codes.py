"""Tests of couverture.codes."""

import pandas as pd
import pytest

from couverture import InputError
from couverture.codes import (
    PLM_ARRONDISSEMENTS,
    departement_of,
    is_valid_insee,
    metric_crs,
    normalize_departement,
    normalize_insee,
    plm_parent,
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
