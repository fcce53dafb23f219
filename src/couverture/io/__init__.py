"""couverture.io."""
