"""Tests of couverture.io.geocode against a local server speaking the Géoplateforme CSV API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from couverture.errors import InputError
from couverture.io import geocode as gc
from couverture.io.tables import read_table

REAL = Path(__file__).parent / "data" / "real" / "caf13-adresses.csv"
ANSWERS = json.loads((Path(__file__).parent / "data" / "geocodage" / "ban13-reponses.json").read_text(encoding="utf-8"))


@pytest.fixture()
def caf():
    return read_table(REAL)[0]


def test_forty_row_caf_export_is_placed_with_reasons(caf, addok_server, tmp_path):
    out = gc.geocode(caf, url=addok_server.url, cache_dir=tmp_path)
    assert len(out) == 40 and len(addok_server.requests) == 1
    loc = out["localisation"].tolist()
    assert loc.count("adresse") == 31 and loc.count("commune") == 7 and loc.count("") == 2
    placed = out[out["localisation"] == "adresse"]
    assert placed["latitude"].notna().all() and (placed["result_score"] >= 0.5).all()
    assert set(placed["result_type"]) == {"housenumber", "street"}
    # every placed row is the answer the geocoder gave for that address
    for _, r in placed.iterrows():
        assert any(a["latitude"] == r["latitude"] and a["longitude"] == r["longitude"] for a in ANSWERS.values())
    weak = out[out["localisation"] == "commune"]
    assert weak["latitude"].isna().all()
    why = " | ".join(weak["motif_localisation"])
    assert why.count("score 0,") == 3 and "< 0,50" in why
    assert why.count("seule la commune") == 2
    assert "place l'adresse dans la commune" in why and "introuvable" in why
    # the address given in « Complément » only (lieu-dit) was used
    assert out.loc[5, "localisation"] == "adresse"
    assert out.attrs["geocodage"]["requetes"] == 1


def test_second_run_sends_nothing(caf, addok_server, tmp_path):
    first = gc.geocode(caf, url=addok_server.url, cache_dir=tmp_path)
    n = len(addok_server.requests)
    second = gc.geocode(caf, url=addok_server.url, cache_dir=tmp_path)
    assert len(addok_server.requests) == n == 1
    assert second.attrs["geocodage"]["requetes"] == 0
    pd.testing.assert_frame_equal(first, second)


def test_cache_key_is_the_normalised_address(addok_server, tmp_path):
    row = {"N° et voie": "3 rue de la République", "Code postal": "13090", "Ville": "AIX EN PROVENCE"}
    gc.geocode(pd.DataFrame([row]), url=addok_server.url, cache_dir=tmp_path)
    shouted = {k: v.upper() for k, v in row.items()} | {"N° et voie": " 3,  RUE DE LA RÉPUBLIQUE "}
    out = gc.geocode(pd.DataFrame([shouted]), url=addok_server.url, cache_dir=tmp_path)
    assert len(addok_server.requests) == 1 and out["localisation"].tolist() == ["adresse"]


def test_xdg_cache_home_is_respected(addok_server, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    gc.geocode(
        pd.DataFrame({"Adresse": ["3 rue de la République"], "Code postal": ["13090"], "Ville": ["AIX EN PROVENCE"]}),
        url=addok_server.url,
    )
    assert list((tmp_path / "xdg" / "couverture" / "geocodage").glob("reponses-*.json"))


def test_batches_stay_within_limits(caf, addok_server, tmp_path):
    out = gc.geocode(caf, url=addok_server.url, cache_dir=tmp_path, batch_rows=10)
    assert len(addok_server.requests) == 4  # 38 addresses, 10 a request
    assert addok_server.rows == 38 and out["localisation"].tolist().count("adresse") == 31


def test_retries_on_429_and_5xx_then_gives_up(caf, addok_server, tmp_path):
    addok_server.fail = [429, 503]
    out = gc.geocode(caf, url=addok_server.url, cache_dir=tmp_path, backoff=0.01)
    assert len(addok_server.requests) == 3 and out["localisation"].tolist().count("adresse") == 31
    addok_server.fail = [502] * 10
    with pytest.raises(InputError, match=r"injoignable après 3 tentatives \(HTTP 502\)"):
        gc.geocode(caf, url=addok_server.url, cache_dir=tmp_path / "autre", retries=2, backoff=0.01)


def test_client_errors_are_not_retried(caf, addok_server, tmp_path):
    addok_server.fail = [400]
    with pytest.raises(InputError, match=r"refuse la requête \(HTTP 400\)"):
        gc.geocode(caf, url=addok_server.url, cache_dir=tmp_path)
    assert len(addok_server.requests) == 1


def test_unreachable_geocoder_times_out_with_a_french_message(caf, tmp_path):
    with pytest.raises(InputError, match="injoignable après 2 tentatives"):
        gc.geocode(caf, url="http://127.0.0.1:9", cache_dir=tmp_path, retries=1, backoff=0.01, timeout=1)


def test_opt_in_only(caf, tmp_path, monkeypatch):
    monkeypatch.delenv(gc.ENV_URL, raising=False)
    with pytest.raises(InputError, match="aucun géocodeur indiqué"):
        gc.geocode(caf, cache_dir=tmp_path)
    assert gc.geocoder_url(None) is None
    monkeypatch.setenv(gc.ENV_URL, "http://127.0.0.1:1/search/csv")
    assert gc.geocoder_url(None) == "http://127.0.0.1:1"
    assert gc.geocoder_url(False) is None
    with pytest.raises(InputError, match="adresse du géocodeur invalide"):
        gc.geocoder_url("data.geopf.fr")


def test_min_score_and_rows_with_coordinates(addok_server, tmp_path):
    t = pd.DataFrame(
        {
            "Adresse": ["3 rue de la République", "10 avenue Jean Jaurès"],
            "Code postal": ["13090", "13100"],
            "Ville": ["AIX EN PROVENCE", "Aix-en-Provence"],
            "Latitude": [None, "43,5"],
            "Longitude": [None, "5,4"],
        }
    )
    out = gc.geocode(t, url=addok_server.url, cache_dir=tmp_path, min_score=0.99)
    assert out["localisation"].tolist() == ["commune", "coordonnees"]
    assert "< 0,99" in out.loc[0, "motif_localisation"]
    assert out.loc[1, "Latitude"] == 43.5 and addok_server.rows == 1
    with pytest.raises(InputError, match="min_score"):
        gc.geocode(t, url=addok_server.url, min_score=2)


def test_address_columns_as_real_files_name_them():
    cols = gc.address_columns(["N° agrément", "Adresse", "Complément", "Code postal", "Commune", "Code INSEE"])
    assert cols == {
        "adresse": "Adresse",
        "complement_adresse": "Complément",
        "code_postal": "Code postal",
        "commune": "Commune",
        "code_insee": "Code INSEE",
    }
    with pytest.raises(InputError, match="colonne d'adresse introuvable"):
        gc.geocode(pd.DataFrame({"Nom": ["x"]}), url="http://127.0.0.1:9")


def test_marseille_arrondissement_agrees_with_13055(addok_server, tmp_path, caf):
    out = gc.geocode(caf, url=addok_server.url, cache_dir=tmp_path)
    marseille = out[out["Code INSEE"].astype(str) == "13055"]
    assert len(marseille) and (marseille["result_citycode"].str.startswith("132")).any()
    assert not marseille["motif_localisation"].str.contains("place l'adresse dans la commune").any()
    assert np.isfinite(marseille.loc[marseille["localisation"] == "adresse", "latitude"]).all()
