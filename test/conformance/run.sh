#!/usr/bin/env bash
# The official MCP conformance suite's client scenarios, every one, against the compiled binary (dist/byok, or
# $BYOK_BIN). The suite needs Node 22: it and node@22 come from the npm registry into a scratch folder
# ($CONFORMANCE_DIR, default /tmp/byok-conformance; kept between runs). Each scenario starts its own servers on
# loopback (its authorization servers too); test/conformance/client.ts drives byok exec against them. Prints one
# line per scenario and "N passed, M failed"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
dir=${CONFORMANCE_DIR:-/tmp/byok-conformance}
version=0.1.16
suite="$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js"
if ! grep -qs "\"version\": \"$version\"" "$dir/node_modules/@modelcontextprotocol/conformance/package.json"; then
  mkdir -p "$dir"
  (cd "$dir" && [ -f package.json ] || echo '{"private":true}' > package.json
   npm install --no-audit --no-fund --silent "@modelcontextprotocol/conformance@$version" "node@22" >/dev/null 2>&1) \
    || { echo "conformance: cannot install the suite and node@22 into $dir"; exit 1; }
fi
export PATH="$dir/node_modules/.bin:$PATH"
command -v node >/dev/null && node --version | grep -q '^v22\.' || { echo "conformance: node@22 is not in $dir"; exit 1; }
scenarios=$(node "$suite" list --client | sed -n 's/^  - \([^ ]*\).*/\1/p')
passed=0
failed=0
for s in $scenarios; do
  out=$(timeout 120 node "$suite" client --command "$root/node_modules/.bin/bun $root/test/conformance/client.ts" \
    --scenario "$s" --timeout 30000 2>&1)
  checks=$(printf '%s\n' "$out" | grep -E '^Passed: ' | tail -1)
  if printf '%s\n' "$out" | grep -q 'OVERALL: PASSED'; then
    passed=$((passed + 1)); echo "conformance: pass $s ($checks)"
  else
    failed=$((failed + 1)); echo "conformance: FAIL $s ($checks)"
    printf '%s\n' "$out" | grep -E 'FAILURE|Error|TIMED OUT' | sed 's/\x1b\[[0-9;]*m//g' | tail -8 | sed 's/^/    /'
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
