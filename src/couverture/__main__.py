"""``python -m couverture``: same as the ``couverture`` command."""

from couverture.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
