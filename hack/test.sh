#!/usr/bin/env bash
# The one command that runs every test: `npm test` (or `bash hack/test.sh`).
# On a fresh machine it installs the npm packages, builds the test-bed servers from Go modules
# (first time only; cached under ~/.cache/hookstream), then lints, type-checks, builds, and runs
# the unit and integration suites against the real servers.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error(`hookstream needs Node 20.19 or newer, this is ${process.version}`); process.exit(1) }'

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[test] installing npm packages"
  npm ci --no-audit --no-fund
fi

echo "[test] test-bed servers (built from Go modules on first use)"
bash hack/testbed-bins.sh >/dev/null

echo "[test] lint, type check, build"
npm run --silent lint
npm run --silent typecheck
npm run --silent build

echo "[test] unit and integration suites"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js \
  --json --outputFile="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$results" || true
exit "$status"
