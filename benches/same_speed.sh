#!/usr/bin/env bash
# Speed of two builds side by side: `quartier solve` end to end on the demo scenarios, the
# generated cities and grids (with and without spacing) and the 1M-site grid, each timed by
# hyperfine with the two binaries taking turns. Prints a Markdown table (median wall time in
# seconds, old and new, and the change) for BENCHMARKS.md.
#
# Usage: bash benches/same_speed.sh OLD_BINARY NEW_BINARY [WORKDIR]
#   (needs hyperfine: apt-get install hyperfine; RUNS=5 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1")
new=$(realpath "$2")
work=${3:-/tmp/quartier-speed}
runs=${RUNS:-5}
mkdir -p "$work"

gen() { # folder generate-arguments...
  local dir="$work/$1"
  shift
  [ -f "$dir/sites.geojson" ] || "$old" generate "$@" --out "$dir" --quiet >/dev/null
}
gen midsize --city midsize --seed 7
gen grid-200k --cells 100 --sites 200000 --seed 7
gen grid-1m --cells 100 --sites 1000000 --seed 7
sed 's/^# radius = /radius = /' "$work/grid-200k/scenario.toml" >"$work/grid-200k/spacing.toml"

echo "| case | old (s) | new (s) | change |"
echo "|---|---|---|---|"
time_case() { # label scenario.toml
  local label=$1 toml=$2
  hyperfine --style none --runs "$runs" --warmup 1 --export-json "$work/$label.json" \
    -n old "$old solve $toml --out $work/out-old --quiet" \
    -n new "$new solve $toml --out $work/out-new --quiet" >/dev/null
  python3 - "$label" "$work/$label.json" <<'PY'
import json, sys
label, path = sys.argv[1:]
r = {x["command"]: x["median"] for x in json.load(open(path))["results"]}
print(f"| {label} | {r['old']:.2f} | {r['new']:.2f} | {100 * (r['new'] / r['old'] - 1):+.0f} % |")
PY
}
for toml in scenarios/*.toml; do
  time_case "$(basename "$toml")" "$toml"
done
time_case "mid-size city, scenario.toml" "$work/midsize/scenario.toml"
time_case "mid-size city, spacing_levels.toml" "$work/midsize/spacing_levels.toml"
time_case "200k grid" "$work/grid-200k/scenario.toml"
time_case "200k grid, spacing" "$work/grid-200k/spacing.toml"
time_case "1M grid" "$work/grid-1m/scenario.toml"
