"""One module per page family: ``context(model) -> dict``, pure (no file, no browser, no formatting).

The templates format the raw values with the Jinja filters registered by the
builder (``nombre``, ``km``, ``valeur``). Migrated so far: :mod:`.zones_blanches`.
"""
