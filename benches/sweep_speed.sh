#!/usr/bin/env bash
# What a sweep saves: `quartier sweep` against a shell loop of `quartier solve` over the
# same runs, on Musterstadt (scenarios/muenster.toml, 13 demands × 3 site caps = 39 runs),
# and the sweep alone on the 200k-site grid (10 demands). Prints a Markdown table (median
# wall time of hyperfine) for BENCHMARKS.md.
#
# Usage: bash benches/sweep_speed.sh BINARY [WORKDIR]   (RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
q=$(realpath "$1")
work=${2:-/tmp/quartier-sweep-speed}
runs=${RUNS:-3}
mkdir -p "$work"
[ -f "$work/grid-200k/sites.geojson" ] ||
  "$q" generate --cells 100 --sites 200000 --seed 7 --out "$work/grid-200k" --quiet >/dev/null

# The loop: one scenario file per run, solved one after the other.
loop="$work/loop.sh"
{
  echo "set -e"
  for places in $(seq 1000 250 4000); do
    for cap in 30 50 80; do
      toml="$work/run-$places-$cap.toml"
      sed -e "s/^places = .*/places = $places/" -e "s/^max_per_site = .*/max_per_site = $cap/" \
        -e "s#\"\\.\\./data#\"$(pwd)/data#g" scenarios/muenster.toml >"$toml"
      echo "$q solve $toml --out $work/loop-out --quiet"
    done
  done
} >"$loop"
demand=$(grep '^places' "$work/grid-200k/scenario.toml" | head -1 | tr -dc '0-9')
step=$((demand / 10))
hyperfine --style none --runs "$runs" --warmup 1 --export-json "$work/sweep.json" \
  -n "muenster sweep" "$q sweep scenarios/muenster.toml --vary demand.places=1000..4000:250 --vary rules.max_per_site=30,50,80 --out $work/sweep-out --quiet" \
  -n "muenster loop" "bash $loop" \
  -n "grid sweep" "$q sweep $work/grid-200k/scenario.toml --vary demand.places=$step..$((step * 10)):$step --out $work/grid-out --quiet" \
  >/dev/null
python3 - "$work/sweep.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print("| case | median (s) |")
print("|---|---|")
for name, value in r.items():
    print(f"| {name} | {value:.2f} |")
print(f"| loop / sweep (Musterstadt) | {r['muenster loop'] / r['muenster sweep']:.1f}× |")
PY
