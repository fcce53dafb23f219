"""Shared fixtures: the bundled communes of the 13 and the demonstration territory."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

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

    def do_GET(self):
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


# --------------------------------------------------------------------------- geocoder

GEOCODER_ANSWERS = Path(__file__).parent / "data" / "geocodage" / "ban13-reponses.json"


def _norm_query(text: str) -> str:
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


class FakeAddok(http.server.BaseHTTPRequestHandler):
    """``POST /search/csv`` as the Géoplateforme / addok CSV API: multipart form with ``data``,
    repeated ``columns`` and ``result_columns``, ``postcode`` / ``citycode`` filters.

    Answers come from tests/data/geocodage/ban13-reponses.json, keyed by the joined query.
    ``state.fail`` lists HTTP statuses to answer first (429, 503...).
    """

    state = None

    def do_POST(self):
        import csv
        import email.parser
        import email.policy
        import io
        import json

        st = type(self).state
        st.requests.append(self.path)
        if st.fail:
            code = st.fail.pop(0)
            self.send_response(code)
            if code == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.rstrip("/") != "/search/csv":
            self.send_error(404)
            return
        length = int(self.headers["Content-Length"])
        raw = self.rfile.read(length)
        msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw
        )
        form: dict[str, list] = {}
        for part in msg.iter_parts():
            form.setdefault(part.get_param("name", header="content-disposition"), []).append(
                part.get_payload(decode=True)
            )
        if "data" not in form:
            self.send_error(400, "Missing file")
            return
        text = form["data"][0].decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text))
        columns = [c.decode() for c in form.get("columns", [])] or list(reader.fieldnames)
        for c in columns:
            if c not in reader.fieldnames:
                self.send_error(400, f"Cannot found column '{c}'")
                return
        postcode = form.get("postcode", [b""])[0].decode()
        citycode = form.get("citycode", [b""])[0].decode()
        result_columns = [c.decode() for c in form.get("result_columns", [])] or [
            "latitude",
            "longitude",
            "result_label",
            "result_score",
            "result_type",
            "result_citycode",
            "result_status",
        ]
        answers = json.loads(GEOCODER_ANSWERS.read_text(encoding="utf-8"))
        out = io.StringIO()
        writer = csv.DictWriter(out, list(reader.fieldnames) + result_columns, lineterminator="\n")
        writer.writeheader()
        for row in reader:
            st.rows += 1
            q = _norm_query(" ".join(row[c] or "" for c in columns))
            ans = answers.get(q)
            if ans and postcode and row.get(postcode) and ans.get("result_postcode") != row[postcode]:
                ans = None
            if ans and citycode and row.get(citycode) and ans["result_citycode"] != row[citycode]:
                ans = None
            res = {c: "" for c in result_columns}
            if not q:
                res["result_status"] = "skipped"
            elif ans is None:
                res["result_status"] = "not-found"
            else:
                res.update({c: ans.get(c, "") for c in result_columns if c in ans})
                res["result_status"] = "ok"
            writer.writerow(row | {c: res[c] for c in result_columns})
        body = out.getvalue().encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def addok_server():
    """Local geocoder speaking the Géoplateforme CSV API (never the internet):
    ``.url``, ``.requests`` (paths), ``.rows`` (rows geocoded), ``.fail`` (statuses to answer first)."""
    import types

    state = types.SimpleNamespace(requests=[], rows=0, fail=[])
    handler = type("Handler", (FakeAddok,), {"state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
