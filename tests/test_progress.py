"""Tests of couverture._progress: bars in terminals and notebooks, silence in CI and pipes."""

from __future__ import annotations

import io
import sys

import pytest

from couverture._progress import progress, progress_enabled


@pytest.fixture()
def clean_env(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("COUVERTURE_PROGRESS", raising=False)
    return monkeypatch


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_silent_when_not_a_tty(clean_env):
    clean_env.setattr(sys, "stderr", io.StringIO())
    assert progress_enabled() is False
    items = [1, 2, 3]
    assert progress(items, desc="Calcul") is items  # the iterable itself: no overhead


def test_shown_on_a_terminal_but_not_in_ci(clean_env):
    fake = _Tty()
    clean_env.setattr(sys, "stderr", fake)
    assert progress_enabled() is True
    assert list(progress(range(3), desc="Calcul des distances")) == [0, 1, 2]
    assert "Calcul des distances" in fake.getvalue()
    clean_env.setenv("CI", "true")
    assert progress_enabled() is False


def test_environment_variable_and_argument_win(clean_env):
    clean_env.setattr(sys, "stderr", io.StringIO())
    clean_env.setenv("CI", "1")
    clean_env.setenv("COUVERTURE_PROGRESS", "1")
    assert progress_enabled() is True
    clean_env.setenv("COUVERTURE_PROGRESS", "0")
    clean_env.setattr(sys, "stderr", _Tty())
    assert progress_enabled() is False
    assert progress_enabled(True) is True


def test_forced_bar_writes_to_given_file(clean_env):
    out = io.StringIO()
    assert sum(progress([1, 2, 3], desc="Somme", enable=True, file=out)) == 6
    assert "Somme" in out.getvalue()


def test_manual_bar_when_silent(clean_env):
    with progress(total=4, enable=False) as bar:
        bar.update(2)
        bar.update(2)
        bar.set_description("fini")
    assert bar.n == 4
    assert list(progress(["a"], total=1, enable=False)) == ["a"]
