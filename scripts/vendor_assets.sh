#!/usr/bin/env bash
# Fetch the JavaScript/CSS vendored in the atlas from the npm registry, reproducibly.
#
#   bash scripts/vendor_assets.sh
#
# The atlas must work offline (opened by double-click, no request leaving the
# machine), so its assets are committed inside the package:
#   src/couverture/atlas/static/vendor/leaflet/
# This script re-creates that folder from the published npm tarball, checks
# the tarball against the integrity recorded below, and writes VENDOR.txt
# (package, version, tarball integrity, sha256 of every vendored file).
#
# One change from the tarball: the trailing "//# sourceMappingURL=" comment of
# leaflet.js is removed (the .map file is not vendored; without the comment,
# developer tools never try to load it).
set -euo pipefail

LEAFLET_VERSION="1.9.4"
# `npm view leaflet@1.9.4 dist.integrity`
LEAFLET_INTEGRITY="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="

here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/src/couverture/atlas/static/vendor/leaflet"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "leaflet@${LEAFLET_VERSION}" >/dev/null
tarball="leaflet-${LEAFLET_VERSION}.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$LEAFLET_INTEGRITY" ]; then
  echo "integrity mismatch for $tarball: $got" >&2
  exit 1
fi
tar xzf "$tarball"

rm -rf "$dest"
mkdir -p "$dest/images"
sed '/^\/\/# sourceMappingURL=/d' package/dist/leaflet.js > "$dest/leaflet.js"
cp package/dist/leaflet.css "$dest/leaflet.css"
cp package/dist/images/*.png "$dest/images/"
cp package/LICENSE "$dest/LICENSE"

{
  echo "leaflet ${LEAFLET_VERSION} (npm registry), tarball integrity ${LEAFLET_INTEGRITY}"
  echo "leaflet.js: dist/leaflet.js without its sourceMappingURL comment"
  echo "sha256 of the vendored files:"
  (cd "$dest" && find . -type f ! -name VENDOR.txt | LC_ALL=C sort | xargs sha256sum)
} > "$dest/VENDOR.txt"
echo "vendored leaflet ${LEAFLET_VERSION} into ${dest#$here/}"
