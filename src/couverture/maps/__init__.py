"""couverture.maps."""
