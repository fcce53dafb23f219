"""Robust reading of the tables CAF and Département files come as (CSV, XLSX).

Real files are exported from spreadsheets and business software: separator
``,`` ``;`` or tab, UTF-8 with or without BOM or Windows-1252, decimal
comma, a title row (often merged across the columns) above the real header,
empty rows at the end, codes turned into numbers (``13001.0``). This module
reads them all into a DataFrame of text and keeps, for every row, the line
number the user sees in the spreadsheet or text editor, so that every problem
can be reported where it is.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
>>> _ = p.write_bytes("Liste 2024\\nCode INSEE;Nom\\n13001;Aix\\n\\n".encode("cp1252"))
>>> frame, lines = read_table(p)
>>> frame.to_dict("list"), lines.tolist()
({'Code INSEE': ['13001'], 'Nom': ['Aix']}, [3])
>>> find_column(frame.columns, "code_insee")
'Code INSEE'
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import logging
import math
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import InputError, Probleme

__all__ = [
    "read_table",
    "find_column",
    "normalize_name",
    "to_number",
    "to_date",
    "as_text",
    "has_control",
    "table_problems",
    "add_table_problems",
    "COLUMN_ALIASES",
]

log = logging.getLogger(__name__)

#: Usual spellings of the columns met in CAF / Département files, by role.
#: Matching ignores case, accents, spaces and punctuation, and text in brackets
#: (``"Capacité (places)"`` matches ``capacite``).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "structure_id": (
        "structure_id",
        "id_structure",
        "identifiant",
        "identifiant structure",
        "id",
        "N° agrément",
        "numéro d'agrément",
        "numero agrement",
        "num agrement",
        "no agrement",
        "n agrement",
        "agrément",
        "code structure",
        "code_structure",
        "référence",
        "n°",
        "numéro senacs",
        "n° senacs",
        "identifiant senacs",
        "id senacs",
        "code senacs",
    ),
    "nom": (
        "nom",
        "nom de la structure",
        "nom structure",
        "nom_structure",
        "nom du centre",
        "nom de l'équipement",
        "raison sociale",
        "dénomination",
        "libellé",
        "libellé structure",
        "structure",
        "équipement",
        "name",
    ),
    "type": (
        "type",
        "type de structure",
        "type_structure",
        "type structure",
        "catégorie",
        "catégorie de structure",
        "type d'agrément",
        "type agrément",
        "nature",
        "typologie",
        "type d'équipement",
    ),
    "code_insee": (
        "code_insee",
        "code insee",
        "insee",
        "code INSEE commune",
        "code commune",
        "code_commune",
        "codgeo",
        "depcom",
        "insee_com",
        "code_com",
        "com",
        "cog",
        "code officiel géographique",
        "code insee de la commune",
    ),
    "code_postal": ("code postal", "code_postal", "cp", "codepostal", "postal_code", "zip"),
    "commune": ("commune", "nom commune", "nom de la commune", "libellé commune", "ville", "localité"),
    "latitude": (
        "latitude",
        "lat",
        "latitude wgs84",
        "lat_wgs84",
        "wgs84_lat",
        "gps_lat",
        "y_wgs84",
        "latitude gps",
        "y",
    ),
    "longitude": (
        "longitude",
        "lon",
        "lng",
        "long",
        "longitude wgs84",
        "lon_wgs84",
        "wgs84_lon",
        "gps_lon",
        "x_wgs84",
        "longitude gps",
        "x",
    ),
    "x": ("x", "x_l93", "x_lambert93", "x lambert 93", "coord_x", "coordonnée x", "xl93", "lambert x"),
    "y": ("y", "y_l93", "y_lambert93", "y lambert 93", "coord_y", "coordonnée y", "yl93", "lambert y"),
    "coordonnees": ("coordonnées", "coordonnées gps", "gps", "coordonnées wgs84", "lat_lon", "latlon", "position"),
    "capacite": (
        "capacité",
        "capacité d'accueil",
        "capacity",
        "places",
        "nombre de places",
        "nb places",
    ),
    "date_agrement": (
        "date d'agrément",
        "date_agrement",
        "date agrément",
        "date de l'agrément",
        "date de début d'agrément",
        "début d'agrément",
        "date début agrément",
        "date d'agrement initial",
        "date de premier agrément",
        "date premier agrément",
    ),
    "date_fermeture": (
        "date_fermeture",
        "date de fermeture",
        "date fermeture",
        "fermeture",
        "date de fin d'agrément",
        "fin d'agrément",
        "date fin agrément",
        "date de fin",
        "date_fin",
        "date fin",
        "date de fin de l'agrément",
    ),
    "adresse": (
        "adresse",
        "adresse postale",
        "n° et voie",
        "numéro et voie",
        "numero et libelle de voie",
        "adresse de la structure",
        "adresse ligne 1",
        "voie",
        "rue",
        "libellé de la voie",
        "address",
    ),
    "complement_adresse": (
        "complément",
        "complément d'adresse",
        "complément adresse",
        "adresse ligne 2",
        "lieu-dit",
        "bâtiment",
        "adresse complémentaire",
    ),
    "population_declaree": (
        "population de la zone de compétence",
        "population zone de compétence",
        "population de la zone de compétence déclarée",
        "population déclarée de la zone de compétence",
        "population déclarée",
        "population du territoire d'intervention",
        "population de la zone d'intervention",
        "population zone d'influence",
        "population de la zone d'influence",
        "population couverte déclarée",
    ),
    "communes": (
        "communes",
        "liste des communes",
        "codes insee",
        "codes_insee",
        "codes communes",
        "communes couvertes",
        "zvs",
        "zone de vie sociale",
        "périmètre",
        "territoire",
        "unités",
        "unites",
        "code_insee",
        "code insee",
        "code commune",
        "code_commune",
        "codgeo",
        "insee",
        "depcom",
    ),
}

_PAREN = re.compile(r"[\(\[\{].*?[\)\]\}]")


def normalize_name(text: object) -> str:
    """Column name or label reduced for comparison: no case, accent, space or punctuation.

    Text in brackets is dropped (units, notes).

    Examples
    --------
    >>> normalize_name(" N° d'Agrément (CAF) ")
    'ndagrement'
    >>> normalize_name("Code_INSEE") == normalize_name("code insee")
    True
    """
    if text is None:
        return ""
    s = _PAREN.sub(" ", str(text))
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.casefold()
    return re.sub(r"[^0-9a-z]+", "", s)


_KNOWN = {normalize_name(a) for names in COLUMN_ALIASES.values() for a in names} - {""}


def find_column(columns: Iterable, aliases: str | Iterable[str], explicit: str | None = None) -> str | None:
    """Find the column playing a role, whatever its spelling.

    Parameters
    ----------
    columns : iterable
        Column names as read.
    aliases : str or iterable of str
        A role of :data:`COLUMN_ALIASES` (``"code_insee"``, ``"latitude"``,
        ``"type"``...) or the accepted names, in order of preference.
    explicit : str, optional
        Name given by the user; returned when present (exact name first, then
        the same comparison as the aliases). Missing -> InputError.

    Returns
    -------
    str or None
        The column as written in the file, or None when no column matches.

    Examples
    --------
    >>> find_column(["Nom de la structure", "Code INSEE", "LAT", "Lng"], "longitude")
    'Lng'
    >>> find_column(["Identifiant", "Type"], ["N° agrément", "identifiant"])
    'Identifiant'
    >>> find_column(["a"], "code_postal") is None
    True
    """
    columns = list(columns)
    by_norm: dict[str, object] = {}
    for c in columns:
        by_norm.setdefault(normalize_name(c), c)
    if explicit is not None:
        if explicit in columns:
            return explicit
        key = normalize_name(explicit)
        if key in by_norm:
            return by_norm[key]
        raise InputError(
            f"colonne « {explicit} » introuvable ; colonnes présentes : {', '.join(map(str, columns)) or 'aucune'}"
        )
    names = (
        COLUMN_ALIASES[aliases]
        if isinstance(aliases, str) and aliases in COLUMN_ALIASES
        else ((aliases,) if isinstance(aliases, str) else tuple(aliases))
    )
    for alias in names:
        key = normalize_name(alias)
        if key and key in by_norm:
            return by_norm[key]
    return None


# --------------------------------------------------------------------------- values


def _cell_text(value) -> str | None:
    """Text of a spreadsheet cell: integral numbers without ``.0``, dates in ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return None
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return _cell_text(value.to_pydatetime())
    # control characters (NUL and other C0) dropped; spaces collapsed, line breaks kept
    value = _CONTROL.sub("", str(value))
    lines = (
        re.sub(r"[^\S\n]+", " ", line).strip()
        for line in str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )
    text = "\n".join(line for line in lines if line)
    return text or None


#: C0 control characters (and DEL) other than tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control(value) -> bool:
    """True when ``value`` is text holding a control character (NUL, other C0, DEL).

    Examples
    --------
    >>> has_control("Centre\\x00social"), has_control("Centre social"), has_control(3)
    (True, False, False)
    """
    return isinstance(value, str) and _CONTROL.search(value) is not None


def _header_text(value) -> str | None:
    text = _cell_text(value)
    return None if text is None else text.replace("\n", " ")


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with every column as text (object dtype, ``None`` when missing).

    Integral floats lose their ``.0`` (``13001.0`` -> ``"13001"``), dates are
    written in ISO. Geometry columns are left as they are.

    Examples
    --------
    >>> as_text(pd.DataFrame({"code": [13001.0, None], "n": [1.5, 2]})).to_dict("list")
    {'code': ['13001', None], 'n': ['1.5', '2']}
    """
    out = {}
    dirty: dict[int, list[str]] = {}
    for c in frame.columns:
        col = frame[c]
        if str(col.dtype) == "geometry":
            out[c] = col
            continue
        values = col.to_numpy(dtype=object)
        for i in np.flatnonzero([has_control(v) for v in values]):
            dirty.setdefault(int(i), []).append(str(c))
        out[c] = pd.Series([_cell_text(None if _isna(v) else v) for v in values], index=frame.index, dtype=object)
    result = pd.DataFrame(out, index=frame.index)
    name = frame.attrs.get("fichier")
    result.attrs["problemes"] = [
        Probleme(
            "caractère(s) de contrôle (NUL ou autre caractère invisible) supprimé(s) dans "
            + ", ".join(f"« {c} »" for c in cols),
            fichier=name,
            ligne=i + 2,
            colonne=cols[0] if len(cols) == 1 else None,
            gravite="avertissement",
        )
        for i, cols in sorted(dirty.items())
    ]
    return result


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


_NUM_SPACES = re.compile(r"[\s\u00a0\u202f'°]")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})


def to_number(values: pd.Series) -> pd.Series:
    """Parse numbers written the French or the English way (float Series, NaN when not a number).

    Decimal comma or point; spaces (also non-breaking) as thousands separators;
    when both ``.`` and ``,`` appear, the last one is the decimal mark.

    Examples
    --------
    >>> to_number(pd.Series(["43,2977", "5.381", "1 234,5", "1.234,5", "abc", None])).tolist()
    [43.2977, 5.381, 1234.5, 1234.5, nan, nan]
    """
    s = pd.Series(values, copy=True)
    out = np.array([_number(v) for v in s.to_numpy(dtype=object)], dtype=float)
    return pd.Series(out, index=s.index)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number(v) -> float:
    if v is None or _isna(v):
        return math.nan
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v)
    t = _NUM_SPACES.sub("", str(v)).translate(_MINUS)
    if "," in t and "." in t:
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t.replace(",", "")
    elif t.count(",") == 1:
        t = t.replace(",", ".")
    return float(t) if _NUMBER.fullmatch(t) else math.nan


_DATE_FORMATS = (
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d/%m/%y",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)


def to_date(values: pd.Series) -> pd.Series:
    """Parse dates as written in French files (datetime64 Series, NaT when not a date).

    Accepts ``23/01/2012``, ``23-01-2012``, ``23.01.2012``, ``2012-01-23``
    (also with a time), and spreadsheet serial numbers (``40931``).

    Examples
    --------
    >>> to_date(pd.Series(["23/01/2012", "2012-01-23", "40931", "bientôt", None])).dt.strftime("%Y-%m-%d").tolist()
    ['2012-01-23', '2012-01-23', '2012-01-23', nan, nan]
    """
    s = pd.Series(values, copy=True).astype(object)
    text = s.map(lambda v: None if _isna(v) else str(v).strip())
    text = pd.Series(text, index=s.index, dtype=object)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[s]")
    for fmt in _DATE_FORMATS:
        todo = out.isna() & text.notna()
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        out[todo] = parsed.astype("datetime64[s]")
    serial = out.isna() & text.notna() & text.str.fullmatch(r"\d{5}(\.0+)?").fillna(False).astype(bool)
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce")
        ok = (days > 20000) & (days < 80000)  # 1954 .. 2119
        dates = pd.Timestamp("1899-12-30") + pd.to_timedelta(days.where(ok), unit="D")
        out[serial] = dates.astype("datetime64[s]")
    return out


# --------------------------------------------------------------------------- reading


def _excel_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _raw_lines(text: str) -> list[str]:
    """Lines of ``text`` as an editor counts them (``\\n``, ``\\r\\n`` or ``\\r``), endings kept."""
    return io.StringIO(text, newline="").readlines()


def _unquoted(line: str, sep: str) -> list[str]:
    """Cells of one line read without quoting (stray quotes removed)."""
    return [c.strip().strip('"').replace('""', '"') for c in line.rstrip("\r\n").split(sep)]


def _swallowed(rec: list[str], sep: str, typical: int) -> bool:
    """A record whose quoted field holds whole rows of the file (a quote never closed).

    A real cell may hold a few line breaks (an address, a list of communes one
    per line); a field whose continuation lines carry as many separators as a
    row of the file swallowed the following rows.
    """
    for field in rec:
        if "\n" not in field and "\r" not in field:
            continue
        rest = re.split(r"\r\n|\r|\n", field)[1:]
        rowlike = sum(1 for line in rest if typical and line.count(sep) >= typical)
        if (rowlike and typical >= 2) or rowlike >= 3 or len(rest) > 50:
            return True
    return False


def _open_at_end(lines: list[str], sep: str) -> bool:
    """The file's last record opens a quoted field it never closes (odd count of quotes)."""
    text = "".join(lines)
    opened = re.search(rf'(^|{re.escape(sep)})\s*"', text) is not None
    return opened and text.count('"') % 2 == 1


def _parse_csv(text: str, sep: str) -> tuple[list[list[str]], list[int], list[tuple[int, int]]]:
    """Records, the editor line where each starts (blank lines give no record), unclosed quotes.

    A quote opened and never closed would make the rest of the file one
    field: such a record is detected (:func:`_swallowed`), its line is read
    without quoting and reading resumes at the next line, so that no row is
    lost. The third result lists ``(line, following lines recovered)`` for
    each such quote.
    """
    raw = _raw_lines(text)
    counts = sorted(line.count(sep) for line in raw if line.strip())
    typical = counts[len(counts) // 2] if counts else 0
    rows: list[list[str]] = []
    lines: list[int] = []
    unclosed: list[tuple[int, int]] = []
    start = 0  # index in raw where the reader starts
    while start < len(raw):
        reader = csv.reader(iter(raw[start:]), delimiter=sep, quotechar='"')
        prev = 0
        restart = None
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error:  # pragma: no cover - strict=False: the csv module rarely raises
                restart = start + prev
                break
            first = start + prev  # 0-based raw index of the record's first line
            prev = reader.line_num
            spans = prev - (first - start) > 1
            at_end = start + prev >= len(raw)
            if (spans and _swallowed(rec, sep, typical)) or (at_end and _open_at_end(raw[first:], sep)):
                restart = first
                break
            rows.append(rec)
            lines.append(first + 1)
        if restart is None:
            break
        rows.append(_unquoted(raw[restart], sep))
        lines.append(restart + 1)
        unclosed.append((restart + 1, len(raw) - restart - 1))
        start = restart + 1
    return rows, lines, unclosed


def _header_index(rows: list[list], known: set[str], limit: int = 30) -> tuple[int, int]:
    """First row with the most known column names (at least two if any row has two)."""
    counts = []
    for row in rows[:limit]:
        cells = [c for c in row if c not in (None, "")]
        counts.append(sum(1 for c in cells if normalize_name(c) in known) if cells else -1)
    if not counts:
        return 0, 0
    best = max(counts)
    if best <= 0:
        first = next((i for i, c in enumerate(counts) if c >= 0), 0)
        return first, 0
    need = min(2, best)
    i = next(i for i, c in enumerate(counts) if c >= need)
    return i, counts[i]


def _build(rows: list[list], lines: list[int], header_at: int, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    header = [_header_text(c) for c in rows[header_at]]
    body = rows[header_at + 1 :]
    body_lines = lines[header_at + 1 :]
    cleaned, keep_lines = [], []
    for row, line in zip(body, body_lines):
        cells = [_cell_text(c) for c in row]
        if any(c is not None for c in cells):
            cleaned.append(cells)
            keep_lines.append(line)
    width = max([len(header)] + [max((k + 1 for k, c in enumerate(r) if c is not None), default=0) for r in cleaned])
    header = header + [None] * (width - len(header))
    cols: list[str] = []
    seen: dict[str, int] = {}
    for k, h in enumerate(header):
        label = h if h is not None else f"colonne {_excel_letter(k)}"
        if label in seen:
            seen[label] += 1
            label = f"{label}.{seen[label]}"
        else:
            seen[label] = 0
        cols.append(label)
    data = {c: [r[k] if k < len(r) else None for r in cleaned] for k, c in enumerate(cols)}
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()}, columns=cols)
    # drop unnamed columns that hold nothing (trailing separators, empty spreadsheet columns)
    empty_unnamed = [c for k, c in enumerate(cols) if header[k] is None and frame[c].isna().all()]
    frame = frame.drop(columns=empty_unnamed)
    if not len(frame):
        raise InputError(
            f"{name} : aucune ligne de données sous l'en-tête (ligne {lines[header_at]}) : le fichier est vide"
        )
    return frame, np.asarray(keep_lines, dtype=np.int64)


def _control_notices(rows: list[list], lines: list[int], header_at: int, name: str) -> list[Probleme]:
    """One warning per row whose cells held control characters (cleaned by :func:`_cell_text`)."""
    header = [_header_text(c) for c in rows[header_at]]
    out = []
    for row, line in zip(rows[header_at:], lines[header_at:]):
        bad = [k for k, c in enumerate(row) if has_control(c)]
        if not bad:
            continue
        cols = ", ".join(
            f"« {header[k] if k < len(header) and header[k] else 'colonne ' + _excel_letter(k)} »" for k in bad
        )
        out.append(
            Probleme(
                f"caractère(s) de contrôle (NUL ou autre caractère invisible) supprimé(s) dans {cols}",
                fichier=name,
                ligne=int(line),
                colonne=None if len(bad) > 1 else (header[bad[0]] if bad[0] < len(header) else None),
                gravite="avertissement",
            )
        )
    return out


def _read_csv(
    path: Path, name: str, known: set[str], raw: bytes | None = None
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    raw = path.read_bytes() if raw is None else raw
    text, encoding = _decode(raw)
    if not text.strip():
        raise InputError(f"{name} : le fichier est vide")
    best = None
    for order, sep in enumerate((";", "\t", ",", "|")):
        if sep not in text:
            continue
        rows, lines, unclosed = _parse_csv(text, sep)
        h, n_known = _header_index(rows, known)
        width = len(rows[h]) if rows else 0
        if width < 2:
            continue
        data = [r for r in rows[h + 1 :] if any(c.strip() for c in r)]
        consistent = float(np.mean([len(r) == width for r in data])) if data else 1.0
        score = (n_known, consistent, width, -order)
        if best is None or score > best[0]:
            best = (score, sep, rows, lines, h, unclosed)
    if best is None:  # a single column
        rows, lines, unclosed = _parse_csv(text, "\x1f")
        sep, h = None, _header_index(rows, known)[0]
    else:
        _, sep, rows, lines, h, unclosed = best
    notices = [
        Probleme(
            f"guillemet ouvert à la ligne {line} et jamais refermé : cette ligne est lue sans tenir compte du "
            + (
                f"guillemet et les {n} ligne(s) suivante(s) sont lues normalement"
                if n
                else "guillemet (dernière ligne du fichier)"
            )
            + ' (vérifiez les guillemets « " » de cette ligne)',
            fichier=name,
            ligne=line,
            gravite="avertissement",
        )
        for line, n in unclosed
    ]
    notices += _control_notices(rows, lines, h, name)
    frame, out_lines = _build(rows, lines, h, name)
    return frame, out_lines, {"encodage": encoding, "separateur": sep, "ligne_entete": lines[h], "problemes": notices}


#: How a user picks another sheet (Python keyword and command-line option).
SHEET_HINT = 'pour lire une autre feuille : feuille="Nom" en Python, --feuille "Nom" en ligne de commande'


def _sheet_rows(wb, sh: str) -> list[list]:
    ws = wb[sh]
    ws.reset_dimensions()  # some writers record wrong dimensions: read every row
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _pick_sheet(wb, name: str, sheet, known: set[str]) -> tuple[str, list[list], list[Probleme]]:
    """The sheet to read: the one asked for, else the best visible non-empty one (active sheet first)."""
    names = wb.sheetnames
    if sheet is not None:
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise InputError(f"{name} : pas de feuille n° {sheet} (feuilles : {', '.join(names)})")
            sheet = names[sheet]
        elif sheet not in names:
            raise InputError(f"{name} : feuille « {sheet} » introuvable (feuilles : {', '.join(names)})")
        return sheet, _sheet_rows(wb, sheet), []
    states = {ws.title: getattr(ws, "sheet_state", "visible") or "visible" for ws in wb.worksheets}
    try:
        active = wb.active.title if wb.active is not None else None
    except Exception:
        active = None
    filled = []  # (name, rows, n_known)
    for sh in names:
        rows = _sheet_rows(wb, sh)
        if not any(any(_cell_text(c) is not None for c in r) for r in rows):
            continue
        h, n_known = _header_index([[_cell_text(c) for c in r] for r in rows], known)
        filled.append((sh, rows, n_known))
    if not filled:
        raise InputError(f"{name} : le classeur est vide")
    visible = [f for f in filled if states.get(f[0]) == "visible"] or filled
    best = max(f[2] for f in visible)
    useful = [f for f in visible if f[2] == best]
    chosen = next((f for f in useful if f[0] == active), useful[0])
    notices = []
    hidden = [f[0] for f in filled if states.get(f[0]) != "visible"]
    if hidden and chosen[0] not in hidden:
        notices.append(
            Probleme(
                f"feuille(s) masquée(s) ignorée(s) : {', '.join('« ' + h + ' »' for h in hidden)} ; feuille visible "
                f"« {chosen[0]} » lue ({SHEET_HINT})",
                fichier=name,
                gravite="avertissement",
            )
        )
    elif len(filled) > 1:
        others = ", ".join(f"« {f[0]} »" for f in filled if f[0] != chosen[0])
        notices.append(
            Probleme(
                f"classeur à {len(filled)} feuilles non vides : feuille « {chosen[0]} » lue, autres feuilles "
                f"non lues : {others} ({SHEET_HINT})",
                fichier=name,
                gravite="avertissement",
            )
        )
    return chosen[0], chosen[1], notices


def _read_xlsx(path: Path, name: str, sheet, known: set[str]) -> tuple[pd.DataFrame, np.ndarray, dict]:
    import openpyxl

    try:
        # from the bytes: a workbook named .csv is read too (openpyxl checks the suffix of a path)
        wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:  # zipfile / xml errors
        raise InputError(f"{name} : classeur Excel illisible ({exc})") from exc
    try:
        sh, rows, notices = _pick_sheet(wb, name, sheet, known)
    finally:
        wb.close()
    text_rows = [[_cell_text(c) for c in r] for r in rows]
    h, _ = _header_index(text_rows, known)
    log.info("%s : feuille « %s » lue", name, sh)
    lines = list(range(1, len(rows) + 1))
    notices = notices + _control_notices(rows, lines, h, name)
    frame, out_lines = _build(rows, lines, h, name)
    return frame, out_lines, {"feuille": sh, "ligne_entete": h + 1, "problemes": notices}


def _sniff(raw: bytes) -> str | None:
    """``"xlsx"``, ``"xls"`` or None (text) from a file's first bytes."""
    if raw.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                if any(n.startswith("xl/") for n in z.namelist()):
                    return "xlsx"
        except zipfile.BadZipFile:
            return None
    if raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    return None


def table_problems(frame: pd.DataFrame) -> list[Probleme]:
    """Problems noted while reading a table (sheet chosen, unclosed quote, control characters).

    Examples
    --------
    >>> table_problems(pd.DataFrame())
    []
    """
    return list(frame.attrs.get("problemes", []))


def add_table_problems(rep, table: pd.DataFrame) -> None:
    """Pass the problems noted while reading ``table`` to a loader's row reporter.

    ``rep`` has ``lines`` (the line of each row) and ``avertissement(pos,
    raison, colonne)`` / ``erreur(...)``; a problem whose line is a data row
    is attached to that row, the others to the file.
    """
    where = {int(v): k for k, v in enumerate(np.asarray(rep.lines))}
    for p in table_problems(table):
        pos = where.get(p.ligne) if p.ligne is not None else None
        raison = p.raison if pos is not None or p.ligne is None else f"ligne {p.ligne} : {p.raison}"
        (rep.erreur if p.gravite == "erreur" else rep.avertissement)(pos, raison, p.colonne)


def read_table(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    known: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a CSV or XLSX table as text, with the line number of every row.

    Parameters
    ----------
    path : path
        ``.csv``, ``.txt``, ``.tsv`` (any other suffix is read as CSV) or
        ``.xlsx`` / ``.xlsm``. CSV: separator ``;``, tab, ``,`` or ``|``
        (sniffed), encoding UTF-8, UTF-8 with BOM, UTF-16 with BOM or
        Windows-1252 (detected).
    sheet : str or int, optional
        Sheet of a workbook (name or 0-based position). Default: the first
        sheet whose header holds known column names.
    known : iterable of str, optional
        Column names that identify the header row; default: every alias of
        :data:`COLUMN_ALIASES`. Rows above the header (titles, merged cells)
        are skipped.

    Returns
    -------
    frame : DataFrame
        Every column of object dtype holding ``str`` or ``None``; integral
        numbers of a workbook are written without ``.0`` (``13001``), dates
        in ISO. Empty rows are dropped; columns keep their names as written
        (an unnamed column is called ``colonne C`` after its letter).
    lines : numpy.ndarray of int
        For each row, the line number shown by a spreadsheet (row number) or a
        text editor (line where the record starts).

        ``frame.attrs["problemes"]`` lists what was noted while reading
        (:func:`table_problems`): the sheet read when a workbook has several
        non-empty sheets or a hidden one, a quote opened and never closed (the
        line is read without it, the following rows normally), control
        characters removed from cells, an Excel workbook named ``.csv``.

    Raises
    ------
    InputError
        Missing, unreadable or empty file (no data row), unknown sheet, old
        ``.xls`` workbook.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("lat\\tlon\\n43,5\\t5,4\\n", encoding="utf-8")
    >>> frame, lines = read_table(p)
    >>> frame.iloc[0].tolist(), lines.tolist(), frame.attrs["separateur"]
    (['43,5', '5,4'], [2], '\\t')
    """
    path = Path(path)
    name = path.name
    if not path.exists():
        raise InputError(f"fichier introuvable : {path}")
    if path.is_dir():
        raise InputError(f"{path} est un dossier, un fichier est attendu")
    if path.stat().st_size == 0:
        raise InputError(f"{name} : le fichier est vide")
    known_set = _KNOWN if known is None else {normalize_name(k) for k in known} - {""}
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        frame, lines, meta = _read_xlsx(path, name, sheet, known_set)
    elif suffix in {".xls", ".ods"}:
        raise InputError(
            f"{name} : format {suffix} non pris en charge ; enregistrez le fichier au format .xlsx ou .csv"
        )
    else:
        raw = path.read_bytes()
        kind = _sniff(raw)
        if kind == "xls":
            raise InputError(
                f"{name} : ce fichier est un classeur Excel ancien format (.xls) et non un fichier texte ; "
                "enregistrez-le au format .xlsx ou .csv"
            )
        if kind == "xlsx":
            frame, lines, meta = _read_xlsx(path, name, sheet, known_set)
            meta["problemes"].insert(
                0,
                Probleme(
                    f"ce fichier est un classeur Excel (.xlsx) nommé « {suffix or 'sans extension'} » : "
                    "lu comme un classeur (renommez-le en .xlsx)",
                    fichier=name,
                    gravite="avertissement",
                ),
            )
        else:
            frame, lines, meta = _read_csv(path, name, known_set, raw)
    frame.attrs.update({"fichier": name, **meta})
    for p in meta.get("problemes", []):
        log.warning("%s", p)
    log.info("%s : %d ligne(s) lue(s)", name, len(frame))
    return frame, lines
