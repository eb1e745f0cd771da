#!/usr/bin/env bash
# What stage fair costs: `quartier solve` end to end with the default order (shortfall,
# evenness, worst, cost) against the same scenario with stage fair after evenness
# (shortfall, evenness, fair, worst, cost), one build, on the demo scenarios that do not
# name their stages, the generated mid-size city and the grids (200k, 1M), each pair timed
# by hyperfine taking turns. Prints a Markdown table (median wall time in seconds, and the
# change) for BENCHMARKS.md. The 200k grid with spacing is left out: with fair it runs for
# more than 17 minutes (BENCHMARKS.md, "Stage fair").
#
# Usage: bash benches/fair_speed.sh BINARY [WORKDIR]   (RUNS=5 by default)
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

# The scenario with stage fair after evenness (it names no stages).
with_fair() { # scenario.toml -> prints the variant's path
  local out
  out=$(copy_of "$1" with-fair)
  if grep -q '^\[objective\]' "$out"; then
    sed -i 's/^\[objective\]/[objective]\nstages = ["shortfall", "evenness", "fair", "worst", "cost"]/' "$out"
  else
    printf '\n[objective]\nstages = ["shortfall", "evenness", "fair", "worst", "cost"]\n' >>"$out"
  fi
  echo "$out"
}

echo "| case | default order (s) | with fair (s) | change |"
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
    plain=$toml
    with=$(with_fair "$toml")
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
for toml in scenarios/*.toml; do
  time_case "$(basename "$toml")" "$repo/$toml"
done
time_case "mid-size city, scenario.toml" "$work/midsize/scenario.toml"
time_case "200k grid" "$work/grid-200k/scenario.toml"
time_case "1M grid" "$work/grid-1m/scenario.toml"
