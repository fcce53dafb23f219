"""couverture.analysis."""
