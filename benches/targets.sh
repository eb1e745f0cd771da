#!/usr/bin/env bash
# End-to-end timings of `quartier solve` on generated city grids (the targets of
# BENCHMARKS.md): wall time and peak memory from /usr/bin/time, the solver's own split from
# summary.json. Usage: bash benches/targets.sh [WORKDIR]   (needs `make build` first)
# A run that takes longer than QUARTIER_BENCH_LIMIT seconds (default 900) is stopped; each
# size runs QUARTIER_BENCH_RUNS times (default 3), the last size once.
set -euo pipefail
cd "$(dirname "$0")/.."
quartier=$PWD/target/release/quartier
work=${1:-/tmp/quartier-bench}
limit=${QUARTIER_BENCH_LIMIT:-900} # seconds per run
runs=${QUARTIER_BENCH_RUNS:-3}
mkdir -p "$work"

run() { # name cells sites spacing(yes/no)
  local name=$1 cells=$2 sites=$3 spacing=$4 dir="$work/$1"
  if [ ! -f "$dir/sites.geojson" ]; then
    rm -rf "$dir"
    "$quartier" generate --cells "$cells" --sites "$sites" --seed 7 --out "$dir" --quiet >/dev/null
  fi
  if [ "$spacing" = yes ]; then
    sed -i 's/^# radius = /radius = /' "$dir/scenario.toml"
  fi
  # The first run after the machine idled is slower (fresh memory pages); each size runs
  # $runs times: the table shows the first run and the median.
  local walls=()
  for ((i = 0; i < runs; i++)); do
    rm -rf "$dir/out"
    if ! timeout "$limit" /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$quartier" solve "$dir/scenario.toml" --out "$dir/out" --quiet >/dev/null; then
      echo "| $name | > $limit | | | | | | | | not finished | | |"
      return
    fi
    walls+=("$(tail -n 1 "$dir/time.txt")")
  done
  python3 - "$name" "$dir/out/summary.json" "${walls[@]}" <<'PY'
import json, statistics, sys
name, path, *runs = sys.argv[1:]
walls = [float(r.split()[0]) for r in runs]
peak = max(int(r.split()[1]) for r in runs)
s = json.load(open(path))
t = s["timings_s"]
print(f"| {name} | {walls[0]:.2f} | {statistics.median(walls):.2f} | {peak/1024:.0f} | {t['load']:.2f} | {t['index']:.2f} | {t['build']:.2f} | {t['solve']:.2f} | {t['write']:.2f} | {s['status']} | {s['model']['method']} | {s['stages']['evenness']:.6f} |")
PY
}

echo "| run | first run s | median s | peak MiB | load | index | build | solve | write | status | method | evenness optimum |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
run "10k sites, 40x40" 40 10000 no
run "100k sites, 100x100" 100 100000 no
run "200k sites, 100x100" 100 200000 no
run "1M sites, 200x200" 200 1000000 no
run "20k sites, 40x40, spacing" 40 20000 yes
runs=1 run "200k sites, 100x100, spacing" 100 200000 yes
