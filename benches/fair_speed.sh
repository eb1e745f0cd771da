#!/usr/bin/env bash
# What stage fair costs: `quartier solve` end to end with the default order (shortfall,
# evenness, fair, worst, cost) against the same scenario with the order before fair was in
# it (shortfall, evenness, worst, cost), one build, on the demo scenarios that do not name
# their stages, the generated mid-size city and the grids (200k, 1M), each pair timed by
# hyperfine taking turns. Prints a Markdown table (median wall time in seconds, and the
# change) for BENCHMARKS.md. Then the 200k grid with spacing (GRID_LIMITS, default "60
# 300"): one run per time limit with each order, its wall time, status and gap; the
# default order there ends at the limit (BENCHMARKS.md, "Stage fair").
#
# Usage: bash benches/fair_speed.sh BINARY [WORKDIR]   (RUNS=5 by default; CASES= skips the
# table of timings, GRID_LIMITS= the spacing grid)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
q=$(realpath "$1")
work=${2:-/tmp/quartier-fair-speed}
runs=${RUNS:-5}
mkdir -p "$work"

gen() { # folder generate-arguments...
  local dir="$work/$1"
  shift
  [ -f "$dir/sites.geojson" ] || "$q" generate "$@" --out "$dir" --quiet >/dev/null
}
gen midsize --city midsize --seed 7
gen grid-200k --cells 100 --sites 200000 --seed 7
gen grid-1m --cells 200 --sites 1000000 --seed 7

# A copy of the scenario in the work folder, its paths made absolute: prints its path.
copy_of() { # scenario.toml suffix
  local toml=$1 dir out
  dir=$(cd "$(dirname "$toml")" && pwd)
  out="$work/$(basename "$dir")-$(basename "$toml" .toml)-$2.toml"
  sed "s#\"\\.\\./#\"$dir/../#g; s#= \"\\([^/\"][^\"]*\\.\\(geojson\\|gpkg\\|shp\\|csv\\)\\)\"#= \"$dir/\\1\"#g" "$toml" >"$out"
  echo "$out"
}

# The scenario with the order before stage fair was in the default (it names no stages).
without_fair() { # scenario.toml -> prints the variant's path
  local out
  out=$(copy_of "$1" without-fair)
  if grep -q '^\[objective\]' "$out"; then
    sed -i 's/^\[objective\]/[objective]\nstages = ["shortfall", "evenness", "worst", "cost"]/' "$out"
  else
    printf '\n[objective]\nstages = ["shortfall", "evenness", "worst", "cost"]\n' >>"$out"
  fi
  echo "$out"
}

echo "| case | without fair (s) | default order, with fair (s) | change |"
echo "|---|---|---|---|"
time_case() { # label scenario.toml
  local label=$1 toml=$2 plain with
  if grep -q '^stages.*"fair"' "$toml"; then
    # A scenario that names fair (muenster.toml): against it without fair.
    plain=$(copy_of "$toml" without-fair)
    sed -i 's/"fair", //' "$plain"
    with=$toml
  elif grep -q '^stages' "$toml"; then
    return # a scenario that names its stages without fair keeps them
  else
    plain=$(without_fair "$toml")
    with=$toml
  fi
  hyperfine --style none --runs "$runs" --warmup 1 --export-json "$work/$label.json" \
    -n old "$q solve $plain --out $work/out-old --quiet" \
    -n new "$q solve $with --out $work/out-new --quiet" >/dev/null
  python3 - "$label" "$work/$label.json" <<'PY'
import json, sys
label, path = sys.argv[1:]
r = {x["command"]: x["median"] for x in json.load(open(path))["results"]}
print(f"| {label} | {r['old']:.2f} | {r['new']:.2f} | {100 * (r['new'] / r['old'] - 1):+.0f} % |")
PY
}
if [ -n "${CASES-all}" ]; then
  for toml in scenarios/*.toml; do
    time_case "$(basename "$toml")" "$repo/$toml"
  done
  time_case "mid-size city, scenario.toml" "$work/midsize/scenario.toml"
  time_case "200k grid" "$work/grid-200k/scenario.toml"
  time_case "1M grid" "$work/grid-1m/scenario.toml"
fi

# The 200k grid with spacing (the scenario's commented spacing rule switched on), once per
# limit and order.
echo
echo "| 200k grid with spacing | limit (s) | wall (s) | status | gap of the stage stopped |"
echo "|---|---|---|---|---|"
spacing=$work/grid-200k/spacing.toml
sed 's/^# radius = /radius = /' "$work/grid-200k/scenario.toml" >"$spacing"
grep -q '^radius = ' "$spacing" || { echo "the 200k scenario has no spacing line to switch on" >&2; exit 1; }
for limit in ${GRID_LIMITS-60 300}; do
  for order in without-fair default; do
    toml=$work/grid-200k/spacing-$order-$limit.toml
    sed "s/^\\[solver\\]/[solver]\\ntime_limit_s = $limit/" "$spacing" >"$toml"
    if [ "$order" = without-fair ]; then
      printf '\n[objective]\nstages = ["shortfall", "evenness", "worst", "cost"]\n' >>"$toml"
    fi
    start=$(date +%s.%N)
    "$q" solve "$toml" --out "$work/out-spacing" --quiet >/dev/null || true
    end=$(date +%s.%N)
    python3 - "$order" "$limit" "$start" "$end" "$work/out-spacing/summary.json" <<'PY'
import json, sys
order, limit, start, end, path = sys.argv[1:]
s = json.load(open(path))
print(f"| {order} | {limit} | {float(end) - float(start):.1f} | {s['status']} | {100 * s['mip_gap']:.4f} % |")
PY
  done
done
