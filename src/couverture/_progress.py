"""Progress bars that show in a terminal or a notebook, and stay silent elsewhere.

:func:`progress` wraps :mod:`tqdm.auto`. A bar is shown when

- ``enable=True``, or the environment variable ``COUVERTURE_PROGRESS`` is
  ``1`` (``0`` silences it whatever the context);
- otherwise, in a Jupyter notebook, or when standard error is a terminal,
  unless the environment variable ``CI`` is set.

When silent, :func:`progress` returns the iterable itself (or, without an
iterable, an object whose ``update``/``close``/``set_description`` do
nothing), so the calling code is the same either way.

Examples
--------
>>> sum(progress(range(4), desc="Essai", enable=False))
6
>>> with progress(total=3, enable=False) as bar:
...     bar.update(3)
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any, Iterable, TypeVar

__all__ = ["progress", "progress_enabled"]

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "oui", "on"}
_FALSE = {"0", "false", "no", "non", "off"}


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # pragma: no cover - exotic IPython states
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def progress_enabled(enable: bool | None = None) -> bool:
    """Whether a progress bar would be shown (see the module's rules).

    Examples
    --------
    >>> progress_enabled(True), progress_enabled(False)
    (True, False)
    """
    if enable is not None:
        return bool(enable)
    env = os.environ.get("COUVERTURE_PROGRESS", "").strip().lower()
    if env in _TRUE:
        return True
    if env in _FALSE:
        return False
    if os.environ.get("CI"):
        return False
    if _in_notebook():
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Silent:
    """Stands for a tqdm bar when no bar is shown."""

    def __init__(self, iterable=None):
        self.iterable = iterable
        self.n = 0

    def __iter__(self):
        return iter(self.iterable if self.iterable is not None else ())

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_description(self, *args, **kwargs) -> None:
        return None

    def set_postfix(self, *args, **kwargs) -> None:
        return None

    def set_postfix_str(self, *args, **kwargs) -> None:
        return None

    def close(self) -> None:
        return None


def _tqdm_class():
    """tqdm.auto's class; the plain one when the notebook widgets are not installed."""
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm

            return tqdm
        except ImportError:
            pass
        from tqdm.std import tqdm

        return tqdm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm
    return tqdm


def progress(
    iterable: Iterable[T] | None = None,
    total: int | None = None,
    desc: str | None = None,
    enable: bool | None = None,
    **kwargs: Any,
):
    """Wrap ``iterable`` in a progress bar when one should be shown.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over; without it, use the returned bar's ``update``.
    total : int, optional
        Number of steps (default ``len(iterable)`` when available).
    desc : str, optional
        Label shown before the bar (French, for users).
    enable : bool, optional
        Force the bar on or off; default from the context (see the module).
    **kwargs
        Passed to tqdm (``unit``, ``leave``...).

    Returns
    -------
    iterable or bar
        The iterable itself or a silent stand-in when no bar is shown.

    Examples
    --------
    >>> list(progress(["a", "b"], desc="Lettres", enable=False))
    ['a', 'b']
    """
    if not progress_enabled(enable):
        if iterable is not None and total is None and not kwargs:
            return iterable
        return _Silent(iterable)
    tqdm = _tqdm_class()
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("leave", False)
    return tqdm(iterable, total=total, desc=desc, **kwargs)
