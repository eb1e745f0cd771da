#!/usr/bin/env bash
# Time limits kept, measured: the tight grid (`quartier generate --tight`: 100 × 100
# districts of 250 m, two dense centres, 200,000 sites with capacities 6–120, demand 1 % of
# the residents, 100 places within 200 m, a share cap of 2 %, a school within 1,500 m) under
# `time_limit_s` = 60 and 600, and the demo city with 1, 10, 25, 50 and 100 demand levels,
# with and without spacing (500 m, 150 places), under a limit of 60 s. Prints Markdown tables
# for BENCHMARKS.md: wall time against the limit, peak memory, status, D and the gap.
#
# Usage: bash benches/time_limits.sh BINARY [WORKDIR]
#   (LIMITS="60 600" and LEVELS="1 10 25 50 100" by default, "" for none; GNU time at
#   /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
work=${2:-/tmp/quartier-limits}
limits=${LIMITS-60 600}
levels=${LEVELS-1 10 25 50 100}
mkdir -p "$work"
data=$(realpath data/musterstadt)

# One solve: label scenario; prints a table row.
run() {
  local label=$1 toml=$2 out="$work/out-$1"
  rm -rf "$out"
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" solve "$toml" --out "$out" --quiet \
    >"$work/stdout" 2>"$work/stderr" || true
  read -r wall kb <"$work/time"
  python3 - "$label" "$wall" "$kb" "$out/summary.json" "$toml" <<'EOF'
import json, sys, tomllib
label, wall, kb, summary, toml = sys.argv[1:]
limit = tomllib.load(open(toml, "rb")).get("solver", {}).get("time_limit_s", "")
try:
    s = json.load(open(summary))
except OSError:
    print(f"| {label} | {limit} | {float(wall):.1f} | {int(kb) / 1e6:.2f} | no plan | | |")
    sys.exit()
gap = s.get("mip_gap")
goal = s.get("gap_stage")
d = s.get("dissimilarity", s.get("evenness", {}).get("dissimilarity") if isinstance(s.get("evenness"), dict) else None)
print(f"| {label} | {limit} | {float(wall):.1f} | {int(kb) / 1e6:.2f} | {s.get('status')} | "
      f"{d if d is None else round(d, 4)} | {'' if gap is None else f'{100 * gap:.4g} %'}"
      f"{'' if goal is None else f' in {goal}'} |")
EOF
}

echo "| case | limit (s) | wall (s) | peak memory (GB) | status | D | gap |"
echo "|---|---|---|---|---|---|---|"
tight="$work/tight"
[ -f "$tight/sites.geojson" ] || "$bin" generate --tight --cells 100 --sites 200000 --out "$tight" --quiet >/dev/null
for limit in $limits; do
  sed "s/^time_limit_s = .*/time_limit_s = $limit/" "$tight/scenario.toml" >"$tight/limit-$limit.toml"
  run "tight grid 200k" "$tight/limit-$limit.toml"
done

for spacing in without with; do
  for n in $levels; do
    toml="$work/levels-$n-$spacing.toml"
    python3 - "$n" "$spacing" "$data" >"$toml" <<'EOF'
import sys
n, spacing, data = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if n == 1:
    demand = "places = 3400"
else:
    demand = "levels = [%s]" % ", ".join(str(round(100 + 3300 * i / (n - 1))) for i in range(n))
radius = "radius = { metres = 500, max_places = 150 }" if spacing == "with" else ""
print(f'''name = "Musterstadt, {n} levels, {spacing} spacing"
[input]
districts = "{data}/districts.geojson"
sites = "{data}/sites.geojson"
[demand]
{demand}
[rules]
max_per_site = 50
{radius}
[solver]
time_limit_s = 60
''')
EOF
    run "demo city, $n levels, $spacing spacing" "$toml"
  done
done
