#!/bin/sh
# Builds the Debian package from a built tree, checks it (lintian errors,
# desktop-file-validate), installs it with apt-get, runs the installed
# program from PATH in an empty folder with the installed resources, and
# removes it again. Needs root (or sudo). Used by .ci/run.
#   packaging/debian/test-package.sh [BUILD_DIR]   (default build/release)
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build/release}
[ -f "$build/CPackConfig.cmake" ] || { echo "test-package.sh: $build is not a configured build tree" >&2; exit 2; }
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "test-package.sh: needs root or sudo to install the package" >&2; exit 1
fi

rm -f "$build"/ssrl-workbench*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/ssrl-workbench*_amd64.deb)
name=$(dpkg-deb -f "$deb" Package)
echo "== $deb"
dpkg-deb -f "$deb" Package Version Architecture Depends
if command -v lintian >/dev/null 2>&1; then
  lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" || { echo "lintian reports errors" >&2; exit 1; }
else
  echo "lintian not installed: not checked"
fi
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
dpkg-deb -x "$deb" "$tree/root"
for desktop in "$tree"/root/usr/share/applications/*.desktop; do
  [ -e "$desktop" ] || continue
  desktop-file-validate "$desktop"
  echo "desktop entry valid: $(basename "$desktop")"
done

$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >/dev/null
cleanup() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$name" >/dev/null || true; rm -rf "$tree"; }
trap cleanup EXIT
work="$tree/work"
mkdir -p "$work"
cd "$work"
export HOME="$work" XDG_DATA_HOME="$work/data"
exe=$(command -v ssrl-workbench)
[ "$exe" = /usr/bin/ssrl-workbench ] || { echo "ssrl-workbench on PATH is $exe, not the installed /usr/bin one" >&2; exit 1; }
ssrl-workbench --version
ssrl-workbench presets | grep -q "gaussian/" || { echo "the installed presets are not found" >&2; exit 1; }
ssrl-workbench -q reproduce gaussian --seeds 0 --set epochs=5 --jobs 1 > reproduce.txt
grep -q "optimum" reproduce.txt || { cat reproduce.txt; echo "reproduce printed no separation table" >&2; exit 1; }
head -n 8 reproduce.txt
[ -f /usr/share/man/man1/ssrl-workbench.1.gz ] && man -l /usr/share/man/man1/ssrl-workbench.1.gz >/dev/null 2>&1 || true
echo "test-package.sh: $name installed, ran from PATH and was removed"
