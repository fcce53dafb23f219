"""File-system side of the atlas: slugs, confined paths, atomic publication.

Every file name of the atlas that comes from data (a structure id, a
commune code, an EPCI name) goes through :func:`slugify`, so it is made of
``a-z``, ``0-9`` and ``-`` only and can never name a path outside the
output folder; :func:`confined` checks it again before writing. The atlas
is built in a temporary folder beside the target and renamed into place
only when complete (:func:`atomic_folder`): a failure half-way leaves the
previous atlas as it was.

Examples
--------
>>> slugify("../../etc/passwd"), slugify("Métropole d'Aix-Marseille-Provence")
('etc-passwd', 'metropole-d-aix-marseille-provence')
>>> unique_slugs(["A b", "a-b", "", "index"])
['a-b', 'a-b-2', 'x', 'index-2']
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InputError

__all__ = ["slugify", "unique_slugs", "confined", "atomic_folder", "clean_leftovers", "MARKER"]

#: File written at the root of every atlas: only a folder holding it (or an empty one) is ever replaced.
MARKER = ".couverture-atlas"

#: Names a page may not take: list pages of the sections, and names Windows refuses.
RESERVED = frozenset(
    {"index", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def slugify(text: object, *, max_length: int = 60) -> str:
    """ASCII file-name stem of ``text``: lower case letters, digits and single dashes.

    Accents are dropped (``é`` -> ``e``), every other character becomes a
    dash; an empty result gives ``"x"``. Dots and slashes never survive, so
    a slug cannot climb out of a folder.

    Examples
    --------
    >>> slugify("Centre social « Les Lilas » n°2"), slugify("Œuvre"), slugify("..")
    ('centre-social-les-lilas-n2', 'oeuvre', 'x')
    """
    ascii_text = (
        unicodedata.normalize("NFKD", str(text).translate(_LIGATURES)).encode("ascii", "ignore").decode("ascii").lower()
    )
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    slug = slug[:max_length].strip("-")
    return slug or "x"


def unique_slugs(values: Iterable[object], *, max_length: int = 60) -> list[str]:
    """Slugs of ``values``, made unique in order by suffixes ``-2``, ``-3``...

    Reserved names (``index`` of the list pages, ``con``, ``nul``...) get a
    suffix too.

    Examples
    --------
    >>> unique_slugs(["CS 1", "cs-1", "CS_1"])
    ['cs-1', 'cs-1-2', 'cs-1-3']
    """
    used: set[str] = set()
    out = []
    for value in values:
        base = slugify(value, max_length=max_length)
        slug, n = base, 1
        while slug in used or slug in RESERVED:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        out.append(slug)
    return out


def confined(root: Path, relative: str) -> Path:
    """``root / relative``, refused when it would fall outside ``root``.

    Raises
    ------
    InputError
        For an absolute path or one climbing out with ``..``.

    Examples
    --------
    >>> confined(Path("/tmp/atlas"), "structures/a.html").as_posix()
    '/tmp/atlas/structures/a.html'
    >>> confined(Path("/tmp/atlas"), "../etc/passwd")
    Traceback (most recent call last):
    ...
    couverture.errors.InputError: chemin refusé hors du dossier de l'atlas : « ../etc/passwd »
    """
    root = Path(root).resolve()
    target = (root / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(root) or target == root:
        raise InputError(f"chemin refusé hors du dossier de l'atlas : « {relative} »")
    return target


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} est un fichier : indiquez un dossier pour l'atlas (par exemple maps/atlas)")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        raise InputError(
            f"le dossier {target} existe, n'est pas vide et ne contient pas un atlas de couverture : "
            "il n'est pas remplacé ; choisissez un autre dossier (--out)"
        )


#: File naming the process building a temporary folder (removed before the folder is published).
_PID = ".couverture-build.pid"

#: A temporary folder without a build process file is left alone for this long (seconds).
_STALE_AFTER = 3600.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_leftovers(target: str | os.PathLike) -> list[Path]:
    """Remove the temporary folders a killed build of ``target`` left beside it.

    ``.NAME.tmp-*`` and ``.NAME.old-*`` folders whose build process is gone
    (or, without a process file, older than an hour) are deleted; those of a
    build still running are kept. Returns the folders removed.

    Examples
    --------
    >>> import tempfile
    >>> where = Path(tempfile.mkdtemp()) / "atlas"
    >>> dead = where.parent / ".atlas.tmp-x"
    >>> dead.mkdir()
    >>> _ = (dead / _PID).write_text("999999999")
    >>> [p.name for p in clean_leftovers(where)], dead.exists()
    (['.atlas.tmp-x'], False)
    """
    target = Path(target).absolute()
    removed = []
    if not target.parent.is_dir():
        return removed
    import time

    for prefix in (f".{target.name}.tmp-", f".{target.name}.old-"):
        for folder in target.parent.glob(prefix + "*"):
            if not folder.is_dir() or folder.is_symlink():
                continue
            pid_file = folder / _PID
            try:
                pid = int(pid_file.read_text(encoding="ascii").strip())
                stale = not _alive(pid)
            except (OSError, ValueError):
                try:
                    stale = time.time() - folder.stat().st_mtime > _STALE_AFTER
                except OSError:
                    continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


@contextlib.contextmanager
def atomic_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Build a folder in a temporary sibling, then rename it to ``target``.

    The body of the ``with`` writes into the yielded temporary folder. On
    success the previous ``target`` (if any) is moved aside, the new folder
    renamed into place and the old one deleted; on any exception the
    temporary folder is deleted and ``target`` is left untouched. An existing
    ``target`` is replaced only if it is empty or holds an atlas
    (:data:`MARKER`), never a folder of the user's.

    Examples
    --------
    >>> import tempfile
    >>> where = Path(tempfile.mkdtemp()) / "atlas"
    >>> with atomic_folder(where) as tmp:
    ...     _ = (tmp / "index.html").write_text("v1")
    >>> try:
    ...     with atomic_folder(where) as tmp:
    ...         _ = (tmp / "index.html").write_text("v2")
    ...         raise RuntimeError("panne")
    ... except RuntimeError:
    ...     pass
    >>> (where / "index.html").read_text(), sorted(p.name for p in where.parent.iterdir())
    ('v1', ['atlas'])
    """
    target = Path(target).absolute()
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    (tmp / _PID).write_text(str(os.getpid()), encoding="ascii")
    try:
        yield tmp
        (tmp / _PID).unlink(missing_ok=True)
        (tmp / MARKER).write_text(
            "Atlas construit par couverture : ce dossier peut être remplacé par une nouvelle construction.\n",
            encoding="utf-8",
        )
        os.chmod(tmp, 0o755)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
        try:
            os.replace(tmp, target)
        except BaseException:
            if old is not None:
                os.replace(old / target.name, target)
                shutil.rmtree(old, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
