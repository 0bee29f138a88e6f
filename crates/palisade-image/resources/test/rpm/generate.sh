#!/usr/bin/env bash
# Regenerates the rpm database fixtures of tests/rpm.rs from real packages:
#   rpmbuild builds three packages (one with an epoch, one x86_64 with a long description so
#   its header spans several Berkeley DB overflow pages, one with a tilde version);
#   rpm installs them (--justdb) into a fresh SQLite rpmdb  -> rpmdb.sqlite   (authentic)
#   db5.3_load writes their header blobs as a BDB hash      -> Packages       (authentic BDB,
#                                                              keys as rpm writes them)
#   … and again big-endian (-c db_lorder=4321)                  -> Packages.be
#   make_ndb.py writes them in rpm's NDB layout              -> Packages.db    (handcrafted:
#                                                              Debian's rpm has no ndb backend)
#   rpm -qa --queryformat over the SQLite database           -> expected.txt   (the oracle)
# Needs: rpm, rpmbuild (Debian: apt-get install rpm), db5.3_load (db5.3-util), python3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/top/SPECS" "$work/db"
cat > "$work/top/SPECS/demo.spec" <<'SPEC'
Name: palisade-demo
Version: 1.2.3
Release: 4.el9
Epoch: 2
Summary: A demo package for Palisade's rpm cataloger
License: Apache-2.0
BuildArch: noarch
%description
Demo.
%files
SPEC
cat > "$work/top/SPECS/libfoo.spec" <<'SPEC'
Name: libfoo-devel
Version: 0.9~rc1
Release: 1.fc40
Summary: A tilde version
License: MIT AND BSD-3-Clause
BuildArch: noarch
%description
Demo 2.
%files
SPEC
{
    printf 'Name: bigdesc\nVersion: 7.0\nRelease: 3.amzn2023\nSummary: A long description\nLicense: GPL-2.0-or-later\nSource0: bigdesc-7.0.tar.gz\n%%description\n'
    for i in $(seq 1 120); do printf 'Line %03d of a description long enough to need several overflow pages.\n' "$i"; done
    printf '%%files\n'
} > "$work/top/SPECS/bigdesc.spec"
for s in demo libfoo bigdesc; do
    rpmbuild --quiet -bb --target x86_64 --define "_topdir $work/top" "$work/top/SPECS/$s.spec" >/dev/null 2>&1
done
rpm --define "_db_backend sqlite" --dbpath "$work/db" --initdb
rpm --dbpath "$work/db" -i --justdb --nodeps --noscripts --ignorearch "$work"/top/RPMS/*/*.rpm 2>/dev/null
rpm --dbpath "$work/db" -qa --queryformat '%{NAME}|%{EPOCHNUM}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{LICENSE}\n' | sort > "$here/expected.txt"
# Fold the write-ahead log into the file, as an image build leaves it.
python3 - "$work/db/rpmdb.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()
PY
cp "$work/db/rpmdb.sqlite" "$here/rpmdb.sqlite"
python3 "$here/make_ndb.py" "$here/rpmdb.sqlite" "$here/Packages.db" "$work/bdb.txt"
rm -f "$here/Packages" "$here/Packages.be"
db5.3_load -T -t hash "$here/Packages" < "$work/bdb.txt"
# The same database written big-endian (as on s390x or an old POWER host).
db5.3_load -T -t hash -c db_lorder=4321 "$here/Packages.be" < "$work/bdb.txt"
echo "wrote rpmdb.sqlite Packages Packages.be Packages.db expected.txt in $here"
