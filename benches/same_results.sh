#!/usr/bin/env bash
# Same results from two builds: runs every scenario in scenarios/ and a set of generated
# cities with two quartier binaries and compares what they write, file by file. Timings
# (`timings_s` in summary.json, the solve time in report.html) are left out; everything else
# must be byte for byte the same. Used to show that a change that should not change
# behaviour (a refactor) does not.
#
# Usage: bash benches/same_results.sh OLD_BINARY NEW_BINARY [WORKDIR]
#   e.g. git worktree add /tmp/old v0.6.2 && (cd /tmp/old && cargo build --release)
#        bash benches/same_results.sh /tmp/old/target/release/quartier target/release/quartier
# Exit 0 when every case is the same, 1 otherwise (the differing files are listed).
set -uo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1")
new=$(realpath "$2")
work=${3:-/tmp/quartier-same}
rm -rf "$work"
mkdir -p "$work/old" "$work/new"
differences=0
cases=0

# Strips what differs run to run: the timings of summary.json and report.html.
normalise() {
  python3 - "$1" <<'PY'
import json, re, sys
path = sys.argv[1]
if path.endswith("summary.json"):
    data = json.load(open(path, encoding="utf-8"))
    data.pop("timings_s", None)
    text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False)
else:
    text = open(path, encoding="utf-8", errors="replace").read()
    text = re.sub(r"\d+([.,]\d+)? s\b", "<time> s", text)
sys.stdout.write(text)
PY
}

same_folder() { # label old_dir new_dir
  local label=$1 a=$2 b=$3 f
  cases=$((cases + 1))
  if [ "$(cd "$a" && find . -type f | sort)" != "$(cd "$b" && find . -type f | sort)" ]; then
    echo "DIFFERENT $label: the files written differ"
    differences=$((differences + 1))
    return
  fi
  while IFS= read -r f; do
    case "$f" in
      *summary.json | *.html | *.txt)
        if ! diff -q <(normalise "$a/$f") <(normalise "$b/$f") >/dev/null; then
          echo "DIFFERENT $label: $f"
          differences=$((differences + 1))
        fi
        ;;
      *)
        if ! cmp -s "$a/$f" "$b/$f"; then
          echo "DIFFERENT $label: $f"
          differences=$((differences + 1))
        fi
        ;;
    esac
  done < <(cd "$a" && find . -type f | sort)
  echo "same $label"
}

# check, solve (with its stdout) and verify of the written plan, with both binaries.
scenario() { # label scenario.toml
  local label=$1 toml=$2 which bin dir
  for which in old new; do
    bin=${!which}
    dir="$work/$which/$label"
    mkdir -p "$dir"
    "$bin" check "$toml" --quiet >"$dir/check.txt" 2>&1
    "$bin" solve "$toml" --out "$dir/out" --quiet 2>&1 | sed "s#$work/$which#WORK#g" >"$dir/solve.txt"
    "$bin" verify "$toml" "$dir/out/sites.geojson" --quiet 2>&1 | sed "s#$work/$which#WORK#g" >"$dir/verify.txt"
  done
  same_folder "$label" "$work/old/$label" "$work/new/$label"
}

# A generated city: the generated files themselves must be the same, then its scenarios.
generated() { # label generate-arguments...
  local label=$1 which
  shift
  for which in old new; do
    "${!which}" generate "$@" --out "$work/$which/gen-$label" --quiet >/dev/null
  done
  same_folder "generate $label" "$work/old/gen-$label" "$work/new/gen-$label"
}

for toml in scenarios/*.toml; do
  scenario "$(basename "$toml" .toml)" "$toml"
done

generated demo --demo --seed 2015
generated muenster-city --city muenster --seed 7
generated midsize-city --city midsize --seed 7
generated grid-20k --cells 100 --sites 20000 --seed 7
generated grid-200k --cells 100 --sites 200000 --seed 7
for toml in "$work"/old/gen-muenster-city/*.toml "$work"/old/gen-midsize-city/*.toml; do
  # spread_access of the mid-size city takes minutes (its time limit decides the plan).
  case "$toml" in *midsize-city/spread_access.toml) continue ;; esac
  scenario "$(basename "$(dirname "$toml")")-$(basename "$toml" .toml)" "$toml"
done
# The grids with their spacing rule switched on, as benches/targets.sh does.
for grid in grid-20k grid-200k; do
  sed 's/^# radius = /radius = /' "$work/old/gen-$grid/scenario.toml" >"$work/old/gen-$grid/spacing.toml"
  scenario "$grid-spacing" "$work/old/gen-$grid/spacing.toml"
done

echo "$((cases - differences)) passed, $differences failed"
[ "$differences" = 0 ]
