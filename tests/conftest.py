"""Shared fixtures: the bundled communes of the 13 and the demonstration territory."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

collect_ignore = ["data", "baseline"]


@pytest.fixture(scope="session")
def communes13():
    """The 134 real units of Bouches-du-Rhône (do not modify: copy first)."""
    from couverture._resources import data_path
    from couverture.io.communes import read_communes

    return read_communes(data_path("communes", "communes-13.geojson"))


@pytest.fixture(scope="session")
def demo():
    """The demonstration Territory (do not modify: copy first)."""
    from couverture.io.demo import load_demo

    return load_demo()


GEO_API_RESPONSES = Path(__file__).parent / "data" / "geo-api"


class RecordedGeoApi(http.server.SimpleHTTPRequestHandler):
    """Serves the recorded geo.api.gouv.fr responses of tests/data/geo-api by endpoint."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).hits.append(self.path)
        if "type=arrondissement-municipal" in self.path:
            name = "arrondissements.json"
        elif "geometry=mairie" in self.path:
            name = "mairies.json"
        elif "geometry=contour" in self.path and self.path.startswith("/departements/13/"):
            name = "contours.json"
        else:
            self.send_error(404)
            return
        body = (GEO_API_RESPONSES / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def geo_api_server():
    """Local server replaying geo.api.gouv.fr (no test reaches the internet): ``.url``, ``.hits``."""
    import types

    RecordedGeoApi.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(RecordedGeoApi))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield types.SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}", hits=RecordedGeoApi.hits)
    server.shutdown()
    server.server_close()
