"""couverture.atlas."""
