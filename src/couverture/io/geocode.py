"""Postal addresses to coordinates through the national address geocoder (opt-in).

The French national address geocoder (BAN, addok engine) is served by the IGN
Géoplateforme at ``https://data.geopf.fr/geocodage``; a self-hosted addok
speaks the same CSV batch API, so the base URL is a parameter:

- ``POST {url}/search/csv``, a ``multipart/form-data`` form with ``data`` (the
  CSV file), ``columns`` (repeated: the columns joined into the query),
  ``postcode`` / ``citycode`` (names of the columns holding the postal / INSEE
  code, used as filters) and ``result_columns`` (repeated);
- the answer is the CSV with ``latitude``, ``longitude``, ``result_score``,
  ``result_type`` (housenumber, street, locality, municipality),
  ``result_label``, ``result_citycode`` and ``result_status`` (ok, not-found,
  skipped, error) added.

Nothing leaves the machine unless a geocoder is named: the ``url`` argument,
or the environment variable ``COUVERTURE_GEOCODER_URL`` (see
:func:`geocoder_url`). Requests go in batches far below the service's limits
(:data:`BATCH_ROWS` rows, :data:`BATCH_BYTES` bytes; the Géoplateforme allows
50 requests a second), with a timeout and bounded retries with exponential
backoff on 429 and 5xx answers. Every answer (``ok`` or ``not-found``) is kept
in an on-disk cache keyed by the normalised address, so a rerun sends nothing
for addresses already answered. The cache lives in
``$XDG_CACHE_HOME/couverture/geocodage`` (``~/.cache/...`` by default) or in
``cache_dir``.

Each row's outcome (column ``localisation``):

- ``"adresse"``: placed at the address (``result_score`` >= ``min_score``, a
  result finer than the municipality, in the commune the file names);
- ``"commune"``: the result is too weak or contradicts the file; the column
  ``motif_localisation`` says why and the structure is to be placed at its
  commune's town hall;
- empty: no address on the row.

Examples
--------
>>> normalize_address(" 12, Rue de l'Église ", "13001", "13100")
'12 rue de l eglise|13001|13100'
>>> geocoder_url(None, environ={})  is None
True
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import time
import unicodedata
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import codes
from .._resources import user_cache_dir
from ..errors import InputError, Probleme
from .tables import find_column, to_number

__all__ = [
    "BATCH_BYTES",
    "BATCH_ROWS",
    "ENV_URL",
    "GEOPLATEFORME_URL",
    "MIN_SCORE",
    "RESULT_COLUMNS",
    "address_columns",
    "default_cache_dir",
    "geocode",
    "geocoder_url",
    "normalize_address",
    "write_geocoded",
]

log = logging.getLogger(__name__)

#: The IGN Géoplateforme geocoder (BAN addresses), named here for the documentation only:
#: it is used when the user names it, never by default.
GEOPLATEFORME_URL = "https://data.geopf.fr/geocodage"
#: Environment variable naming the geocoder.
ENV_URL = "COUVERTURE_GEOCODER_URL"
#: Result columns requested from the service.
RESULT_COLUMNS = (
    "latitude",
    "longitude",
    "result_label",
    "result_score",
    "result_type",
    "result_citycode",
    "result_status",
)
#: Rows and bytes per request (the service accepts files of several tens of megabytes).
BATCH_ROWS = 2000
BATCH_BYTES = 2_000_000
#: Default score below which a result is not trusted (addok's own default cut is 0.5).
MIN_SCORE = 0.5
#: Seconds between two requests (the Géoplateforme allows 50 requests a second).
MIN_INTERVAL_S = 0.05
_CACHE_VERSION = 1
_TYPES_FR = {"housenumber": "numéro", "street": "voie", "locality": "lieu-dit", "municipality": "commune"}


# --------------------------------------------------------------------------- settings


def geocoder_url(explicit: str | bool | None = None, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The geocoder's base URL: ``explicit``, else ``$COUVERTURE_GEOCODER_URL``, else None.

    ``explicit=False`` (or ``""``) switches geocoding off whatever the environment says.

    Examples
    --------
    >>> geocoder_url("http://127.0.0.1:7878/", environ={})
    'http://127.0.0.1:7878'
    >>> geocoder_url(None, environ={"COUVERTURE_GEOCODER_URL": "https://data.geopf.fr/geocodage"})
    'https://data.geopf.fr/geocodage'
    """
    env = os.environ if environ is None else environ
    if explicit is False or explicit == "":
        return None
    url = explicit if explicit is not None else env.get(ENV_URL) or None
    if url is None:
        return None
    url = str(url).strip().rstrip("/")
    url = url.removesuffix("/search/csv")
    if not re.match(r"^https?://", url):
        raise InputError(
            Probleme(
                f"adresse du géocodeur invalide : « {url} » (attendu http://... ou https://..., "
                f"par exemple {GEOPLATEFORME_URL})",
                fichier="geocodeur",
            )
        )
    return url


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/couverture/geocodage``, else ``~/.cache/couverture/geocodage``.

    Examples
    --------
    >>> default_cache_dir({"XDG_CACHE_HOME": "/tmp/c"}).as_posix()
    '/tmp/c/couverture/geocodage'
    """
    return user_cache_dir("geocodage", environ=environ)


def address_columns(columns: Sequence, **explicit: str | None) -> dict[str, str | None]:
    """The columns of a real file that make up an address.

    Roles: ``adresse`` (« Adresse », « N° et voie »...), ``complement_adresse``
    (« Complément »), ``code_postal``, ``commune`` (« Ville », « Commune »),
    ``code_insee``. ``explicit`` gives a column by role (``adresse="Rue"``).

    Examples
    --------
    >>> address_columns(["Nom", "N° et voie", "Complément", "Code postal", "Ville"])["adresse"]
    'N° et voie'
    """
    out: dict[str, str | None] = {}
    for role in ("adresse", "complement_adresse", "code_postal", "commune", "code_insee"):
        out[role] = find_column(columns, role, explicit.get(role))
    return out


def normalize_address(query: object, citycode: object = None, postcode: object = None) -> str:
    """Cache key of an address: no case, accent or punctuation, single spaces, with its codes.

    Examples
    --------
    >>> normalize_address("3 BD  Carnot", None, "13100") == normalize_address("3 bd carnot", "", "13100")
    True
    """
    text = unicodedata.normalize("NFKD", str(query or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^0-9a-z]+", " ", text).strip()
    return f"{text}|{citycode or ''}|{postcode or ''}"


# --------------------------------------------------------------------------- queries


def _text(values: pd.Series) -> np.ndarray:
    s = values.astype(object).where(values.notna(), None)
    return np.array(["" if v is None else re.sub(r"\s+", " ", str(v)).strip() for v in s], dtype=object)


def _queries(table: pd.DataFrame, cols: dict[str, str | None]) -> pd.DataFrame:
    """Per row: the address sent (voie, else complément), postal code, town, INSEE code."""
    n = len(table)
    empty = np.full(n, "", dtype=object)
    street = _text(table[cols["adresse"]]) if cols["adresse"] else empty
    extra = _text(table[cols["complement_adresse"]]) if cols["complement_adresse"] else empty
    # the complement (« Bât. B », « Résidence... ») confuses the geocoder: used only without a street
    street = np.where(street != "", street, extra)
    cp = _text(table[cols["code_postal"]]) if cols["code_postal"] else empty
    cp = np.array([c.removesuffix(".0") for c in cp], dtype=object)
    cp = np.array([c.zfill(5) if c.isdigit() and len(c) == 4 else c for c in cp], dtype=object)
    cp = np.where([bool(re.fullmatch(r"\d{5}", c)) for c in cp], cp, "")
    town = _text(table[cols["commune"]]) if cols["commune"] else empty
    if cols["code_insee"]:
        insee = codes.normalize_insee(table[cols["code_insee"]].astype(object)).astype(object).to_numpy()
        ok = codes.is_valid_insee(pd.Series(insee, dtype=object)).to_numpy()
        insee = np.where(ok, insee, "")
    else:
        insee = empty
    has = street != ""
    return pd.DataFrame(
        {"adresse": street, "code_postal": cp, "ville": town, "code_insee": insee, "a_geocoder": has},
        index=table.index,
    )


# --------------------------------------------------------------------------- cache


class _Cache:
    """Answers already received, one JSON file per geocoder URL."""

    def __init__(self, directory: Path | None, url: str):
        self.path = None
        self.data: dict[str, dict] = {}
        if directory is None:
            return
        tag = hashlib.sha256(url.encode()).hexdigest()[:12]
        self.path = Path(directory) / f"reponses-{tag}.json"
        if self.path.exists():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                if raw.get("version") == _CACHE_VERSION and raw.get("url") == url:
                    self.data = dict(raw.get("reponses", {}))
            except (OSError, ValueError) as exc:
                log.warning("cache du géocodage illisible (%s) : ignoré", exc)
        self.url = url

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        payload = {"version": _CACHE_VERSION, "url": self.url, "reponses": dict(sorted(self.data.items()))}
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=0), encoding="utf-8")
        os.replace(tmp, self.path)


# --------------------------------------------------------------------------- HTTP


def _multipart(csv_bytes: bytes, fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    boundary = f"couverture-{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode("utf-8") + b"\r\n")
    out.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="adresses.csv"\r\n'
        "Content-Type: text/csv; charset=utf-8\r\n\r\n".encode()
    )
    out.write(csv_bytes + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _post(url: str, body: bytes, content_type: str, *, timeout: float, retries: int, backoff: float) -> bytes:
    """POST with bounded retries on 429, 5xx, timeouts and refused connections."""
    endpoint = f"{url}/search/csv"
    last = ""
    for attempt in range(retries + 1):
        req = urllib.request.Request(
            endpoint, data=body, method="POST", headers={"Content-Type": content_type, "User-Agent": "couverture"}
        )
        wait = backoff * (2**attempt)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 429 and exc.code < 500:
                detail = exc.read()[:200].decode("utf-8", "replace")
                raise InputError(
                    Probleme(f"le géocodeur {url} refuse la requête (HTTP {exc.code}) : {detail}", fichier="geocodeur")
                ) from None
            last = f"HTTP {exc.code}"
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            if retry_after and retry_after.isdigit():
                wait = max(wait, min(float(retry_after), 30.0))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last = str(getattr(exc, "reason", exc))
        if attempt < retries:
            log.info("géocodeur : %s, nouvel essai dans %.1f s", last, wait)
            time.sleep(wait)
    raise InputError(
        Probleme(
            f"géocodeur {url} injoignable après {retries + 1} tentatives ({last}) ; "
            "vérifiez l'adresse du service ou réessayez plus tard (les réponses déjà reçues sont en cache)",
            fichier="geocodeur",
        )
    )


def _batches(rows: pd.DataFrame, max_rows: int, max_bytes: int):
    """CSV payloads of at most ``max_rows`` rows and about ``max_bytes`` bytes."""
    start = 0
    n = len(rows)
    while start < n:
        stop = min(n, start + max_rows)
        while True:
            buf = io.StringIO()
            rows.iloc[start:stop].to_csv(buf, index=False, lineterminator="\n")
            data = buf.getvalue().encode("utf-8")
            if len(data) <= max_bytes or stop - start == 1:
                break
            stop = start + max(1, (stop - start) // 2)
        yield rows.iloc[start:stop], data
        start = stop


def _ask(
    url: str,
    todo: pd.DataFrame,
    *,
    filter_citycode: bool,
    timeout: float,
    retries: int,
    backoff: float,
    batch_rows: int,
    batch_bytes: int,
    cache: _Cache,
) -> int:
    """Send the unique addresses of ``todo`` (columns cle, adresse, code_postal, ville, code_insee); returns requests sent."""
    sent = 0
    for part, data in _batches(todo, batch_rows, batch_bytes):
        fields = [("columns", "adresse"), ("columns", "code_postal"), ("columns", "ville")]
        if (part["code_postal"] != "").any():
            fields.append(("postcode", "code_postal"))
        if filter_citycode and (part["code_insee"] != "").any():
            fields.append(("citycode", "code_insee"))
        fields += [("result_columns", c) for c in RESULT_COLUMNS]
        body, ctype = _multipart(data, fields)
        if sent:
            time.sleep(MIN_INTERVAL_S)
        answer = _post(url, body, ctype, timeout=timeout, retries=retries, backoff=backoff)
        sent += 1
        text = answer.decode("utf-8-sig", "replace")
        got = {r.get("cle", ""): r for r in csv.DictReader(io.StringIO(text))}
        for key in part["cle"]:
            r = got.get(key)
            if r is None:
                continue
            status = (r.get("result_status") or ("ok" if r.get("latitude") else "not-found")).strip()
            if status in ("ok", "not-found"):
                cache.data[key] = {c: (r.get(c) or "") for c in RESULT_COLUMNS} | {"result_status": status}
        cache.save()
    return sent


# --------------------------------------------------------------------------- outcome


def _num(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(values, dtype=object).replace("", None), errors="coerce").to_numpy(dtype=float)


def _same_commune(file_code: str, result_code: str) -> bool:
    if not file_code or not result_code or file_code == result_code:
        return True
    parent = codes.plm_parent(pd.Series([file_code, result_code], dtype=object)).tolist()
    return parent[0] == parent[1] == file_code or parent[1] == file_code


def _assess(res: pd.DataFrame, q: pd.DataFrame, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """``localisation`` and ``motif_localisation`` of each row."""
    n = len(res)
    loc = np.full(n, "", dtype=object)
    why = np.full(n, "", dtype=object)
    score = res["result_score"].to_numpy(dtype=float)
    for k in range(n):  # per row text of the reasons (the analysis path is vectorised elsewhere)
        if not q["a_geocoder"].iat[k]:
            continue
        status = res["result_status"].iat[k]
        label = res["result_label"].iat[k]
        rtype = res["result_type"].iat[k]
        if status != "ok" or not np.isfinite(score[k]):
            loc[k], why[k] = "commune", f"adresse introuvable par le géocodeur ({status or 'pas de réponse'})"
        elif score[k] < min_score:
            loc[k] = "commune"
            why[k] = (f"résultat trop incertain : score {score[k]:.2f} < {min_score:.2f} (« {label} »)").replace(
                ".", ","
            )
        elif rtype == "municipality":
            loc[k], why[k] = "commune", f"seule la commune est reconnue (« {label} »)"
        elif not _same_commune(q["code_insee"].iat[k], res["result_citycode"].iat[k]):
            loc[k] = "commune"
            why[k] = (
                f"le géocodeur place l'adresse dans la commune {res['result_citycode'].iat[k]} (« {label} ») "
                f"alors que le fichier indique {q['code_insee'].iat[k]}"
            )
        else:
            loc[k] = "adresse"
            why[k] = f"{_TYPES_FR.get(rtype, rtype)}, score {score[k]:.2f}".replace(".", ",")
    return loc, why


def geocode(
    table: pd.DataFrame,
    *,
    url: str | bool | None = None,
    cache_dir: str | os.PathLike | None = None,
    min_score: float = MIN_SCORE,
    columns: Mapping[str, str] | None = None,
    filter_citycode: bool = False,
    timeout: float = 30.0,
    retries: int = 4,
    backoff: float = 0.5,
    batch_rows: int = BATCH_ROWS,
    batch_bytes: int = BATCH_BYTES,
    use_cache: bool = True,
) -> pd.DataFrame:
    """Geocode the addresses of a table with a Géoplateforme / addok CSV API.

    Parameters
    ----------
    table : DataFrame
        Rows with an address (« Adresse » or « N° et voie », optional
        « Complément »), a postal code and a town (« Ville » / « Commune »);
        an INSEE code, when present, checks the result.
    url : str, optional
        Base URL of the geocoder (``https://data.geopf.fr/geocodage`` or a
        self-hosted addok); default ``$COUVERTURE_GEOCODER_URL``. Without
        either, :class:`~couverture.errors.InputError`: nothing is sent
        unless a geocoder is named.
    cache_dir : path, optional
        Folder of the answers' cache (default :func:`default_cache_dir`).
    min_score : float, default 0.5
        Results scoring below are not trusted (``localisation = "commune"``).
    columns : mapping, optional
        Address columns by role when their names are unusual
        (``{"adresse": "Rue", "commune": "Localité"}``).
    filter_citycode : bool, default False
        Send the INSEE code as a filter. By default it only checks the result,
        so that an address found in another commune is reported.
    timeout, retries, backoff : float, int, float
        Seconds per request; retries on 429 / 5xx / network errors, waiting
        ``backoff * 2**attempt`` seconds (or the server's Retry-After).
    batch_rows, batch_bytes : int
        Size of each request.
    use_cache : bool, default True
        Read and write the cache.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with ``latitude``, ``longitude`` (WGS84 degrees,
        only where ``localisation == "adresse"``), ``result_score``,
        ``result_type``, ``result_label``, ``result_citycode``,
        ``result_status``, ``localisation`` (``"adresse"``, ``"commune"`` or
        empty) and ``motif_localisation``. ``attrs["geocodage"]`` counts
        requests sent, answers from the cache and outcomes.

    Examples
    --------
    Nothing is sent without a geocoder:

    >>> t = pd.DataFrame({"Adresse": ["3 rue de la République"], "Ville": ["Arles"]})
    >>> try:
    ...     geocode(t, url=False)
    ... except InputError as exc:
    ...     print(str(exc).split(" :")[1].strip())
    aucun géocodeur indiqué
    """
    base = geocoder_url(url)
    if base is None:
        raise InputError(
            Probleme(
                f"aucun géocodeur indiqué : donnez url=... (par exemple {GEOPLATEFORME_URL}) ou la variable "
                f"d'environnement {ENV_URL} ; rien n'est envoyé sans cela",
                fichier="geocodeur",
            )
        )
    if not 0 <= float(min_score) <= 1:
        raise InputError(Probleme(f"min_score doit être entre 0 et 1, reçu {min_score!r}", fichier="min_score"))
    cols = address_columns(list(table.columns), **dict(columns or {}))
    if cols["adresse"] is None and cols["complement_adresse"] is None:
        present = ", ".join(map(str, table.columns)) or "aucune"
        raise InputError(
            Probleme(
                f"colonne d'adresse introuvable (par exemple « Adresse » ou « N° et voie ») ; "
                f"colonnes présentes : {present}",
                fichier="geocodage",
            )
        )
    q = _queries(table, cols)
    coord_cols = [find_column(list(table.columns), r) for r in ("latitude", "longitude", "x", "y")]
    given = np.zeros(len(table), dtype=bool)
    for c in {c for c in coord_cols if c is not None}:
        given |= _text(table[c]) != ""
    q["a_geocoder"] = q["a_geocoder"].to_numpy() & ~given
    keys = np.array(
        [
            normalize_address(a, c if filter_citycode else "", p)
            for a, c, p in zip(q["adresse"], q["code_insee"], q["code_postal"])
        ],
        dtype=object,
    )
    cache = (
        _Cache(Path(cache_dir) if cache_dir is not None else default_cache_dir(), base)
        if use_cache
        else _Cache(None, base)
    )
    wanted = q["a_geocoder"].to_numpy()
    unique = pd.DataFrame({"cle": keys[wanted]}).join(q.loc[wanted].reset_index(drop=True)).drop_duplicates("cle")
    todo = unique[~unique["cle"].isin(list(cache.data))]
    from_cache = len(unique) - len(todo)
    sent = 0
    if len(todo):
        sent = _ask(
            base,
            todo[["cle", "adresse", "code_postal", "ville", "code_insee"]],
            filter_citycode=filter_citycode,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            batch_rows=batch_rows,
            batch_bytes=batch_bytes,
            cache=cache,
        )
    got = [cache.data.get(k, {}) if w else {} for k, w in zip(keys, wanted)]
    res = pd.DataFrame({c: [g.get(c, "") for g in got] for c in RESULT_COLUMNS}, index=table.index)
    for c in ("latitude", "longitude", "result_score"):
        res[c] = _num(res[c])
    res.loc[wanted & (res["result_status"] == "").to_numpy(), "result_status"] = "error"
    loc, why = _assess(res, q, float(min_score))
    placed = loc == "adresse"
    out = table.copy()
    degrees = coord_cols[0] is not None and coord_cols[1] is not None and coord_cols[0] != coord_cols[3]
    lat_col, lon_col = (coord_cols[0], coord_cols[1]) if degrees else ("latitude", "longitude")
    if lat_col in table.columns:  # coordinates of the file kept, geocoded ones added
        out[lat_col] = np.where(placed, res["latitude"], to_number(table[lat_col].astype(object)).to_numpy(dtype=float))
        out[lon_col] = np.where(
            placed, res["longitude"], to_number(table[lon_col].astype(object)).to_numpy(dtype=float)
        )
    else:
        out[lat_col] = np.where(placed, res["latitude"], np.nan)
        out[lon_col] = np.where(placed, res["longitude"], np.nan)
    loc = np.where(given, "coordonnees", loc)
    for c in RESULT_COLUMNS[2:]:
        out[c] = res[c].to_numpy()
    out["localisation"] = loc
    out["motif_localisation"] = why
    out.attrs["geocodage"] = {
        "url": base,
        "requetes": sent,
        "reponses_en_cache": from_cache,
        "adresses": int(wanted.sum()),
        "adresse": int(placed.sum()),
        "commune": int((loc == "commune").sum()),
    }
    log.info("géocodage : %d adresse(s), %d requête(s), %d réponse(s) du cache", int(wanted.sum()), sent, from_cache)
    return out


def write_geocoded(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a geocoded table as a CSV a French spreadsheet opens (``;``, decimal comma, UTF-8 with BOM).

    Written atomically; a text cell that a spreadsheet would run as a formula
    (``=``, ``+``, ``-``, ``@`` first) is prefixed with an apostrophe.

    Examples
    --------
    >>> import tempfile
    >>> p = write_geocoded(pd.DataFrame({"Nom": ["=1+1"], "latitude": [43.5]}), Path(tempfile.mkdtemp()) / "g.csv")
    >>> p.read_text(encoding="utf-8-sig").splitlines()
    ['Nom;latitude', "'=1+1;43,5"]
    """
    path = Path(path)
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_object_dtype(out[c]) or pd.api.types.is_string_dtype(out[c]):
            out[c] = [
                ("'" + v) if isinstance(v, str) and v[:1] in "=+-@" and to_number(pd.Series([v])).isna().iat[0] else v
                for v in out[c]
            ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        out.to_csv(tmp, sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
