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

# The one-shot plans (skip with QUARTIER_BENCH_BASE=0).
if [ "${QUARTIER_BENCH_BASE:-1}" != 0 ]; then
  echo "| run | first run s | median s | peak MiB | load | index | build | solve | write | status | method | evenness optimum |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  run "10k sites, 40x40" 40 10000 no
  run "100k sites, 100x100" 100 100000 no
  run "200k sites, 100x100" 100 200000 no
  run "1M sites, 200x200" 200 1000000 no
  run "20k sites, 40x40, spacing" 40 20000 yes
  runs=1 run "200k sites, 100x100, spacing" 100 200000 yes
fi

# Demand levels, spread and access (issues 9 and 11): the realistic generated cities
# (`generate --city`) with the scenarios they come with, and the grids above with levels
# or the spread stage switched on. Skip with QUARTIER_BENCH_STAGES=0.
[ "${QUARTIER_BENCH_STAGES:-1}" = 0 ] && exit 0

city() { # name kind -> generated city in $work/$name
  local dir="$work/$1"
  if [ ! -f "$dir/sites.geojson" ]; then
    rm -rf "$dir"
    "$quartier" generate --city "$2" --seed 7 --out "$dir" --quiet >/dev/null
  fi
}

grid() { # name cells sites
  local dir="$work/$1"
  if [ ! -f "$dir/sites.geojson" ]; then
    rm -rf "$dir"
    "$quartier" generate --cells "$2" --sites "$3" --seed 7 --out "$dir" --quiet >/dev/null
  fi
}

# A variant of a grid's scenario.toml: demand as `n` levels (equal steps up to the demand),
# or the spread stage switched on (`spread`), with spacing on or off.
variant() { # dir out.toml levels(n|0) spread(yes|no) spacing(yes|no)
  python3 - "$@" <<'PY'
import re, sys
d, out, n, spread, spacing = sys.argv[1:]
s = open(f"{d}/scenario.toml").read()
n = int(n)
if n > 1:
    places = int(re.search(r"^places = (\d+)", s, re.M).group(1))
    levels = [round(places * k / n) for k in range(1, n + 1)]
    s = re.sub(r"^places = \d+", f"levels = {levels}", s, flags=re.M)
if spacing == "yes":
    s = re.sub(r"^# radius = ", "radius = ", s, flags=re.M)
if spread == "yes":
    for key in (r"\[objective\]", "stages = ", "spread_metres = "):
        s = re.sub(rf"^# ({key})", r"\1", s, flags=re.M)
open(f"{d}/{out}", "w").write(s)
PY
}

scenario() { # name scenario-path
  local name=$1 file=$2 dir walls=()
  dir=$(dirname "$file")
  for ((i = 0; i < runs; i++)); do
    rm -rf "$dir/out"
    if ! timeout "$limit" /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$quartier" solve "$file" --out "$dir/out" --quiet >/dev/null; then
      echo "| $name | > $limit | | | | | | | |"
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
stages = ", ".join(f"{k} {v:.6g}" for k, v in s["stages"].items())
print(f"| {name} | {walls[0]:.2f} | {statistics.median(walls):.2f} | {peak/1024:.0f} | {t['load']:.2f} | {t['solve']:.2f} | {s['status']} | {s['model']['method']} | {stages} |")
PY
}

echo
echo "| run | first run s | median s | peak MiB | load | solve | status | method | stage optima |"
echo "|---|---|---|---|---|---|---|---|---|"
city muenster muenster
scenario "Münster-like, 2,000 sites, spacing, 3 levels" "$work/muenster/spacing_levels.toml"
sed '/^stages = /s/, "cost"//' "$work/muenster/spread_access.toml" >"$work/muenster/spread_access_only.toml"
scenario "Münster-like, 2,000 sites, spacing, spread, access" "$work/muenster/spread_access_only.toml"
scenario "Münster-like, 2,000 sites, spacing, spread, access, cost" "$work/muenster/spread_access.toml"
city midsize midsize
scenario "mid-size city, 6,600 sites, all rules" "$work/midsize/scenario.toml"
grid "200k sites, 100x100" 100 200000
variant "$work/200k sites, 100x100" levels5.toml 5 no no
scenario "200k sites, 100x100, 5 levels" "$work/200k sites, 100x100/levels5.toml"
grid "1M sites, 200x200" 200 1000000
variant "$work/1M sites, 200x200" levels3.toml 3 no no
runs=1 scenario "1M sites, 200x200, 3 levels" "$work/1M sites, 200x200/levels3.toml"
grid "20k sites, 40x40" 40 20000
variant "$work/20k sites, 40x40" spacing_spread.toml 0 yes yes
runs=1 scenario "20k sites, 40x40, spacing, spread 200 m" "$work/20k sites, 40x40/spacing_spread.toml"
variant "$work/200k sites, 100x100" spread.toml 0 yes no
runs=1 scenario "200k sites, 100x100, spread 200 m" "$work/200k sites, 100x100/spread.toml"
