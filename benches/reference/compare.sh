#!/usr/bin/env bash
# Run quartier and the Python reference on one scenario and print one markdown table row:
#   run | quartier wall s (peak MB) | python wall s (peak MB) | speed-up | per stage: quartier / python / rel. diff
#
# usage: compare.sh [--header] DIR_OR_SCENARIO [RUN_LABEL]
#   DIR_OR_SCENARIO  a generated grid folder (uses DIR/scenario.toml) or a scenario .toml file
#   RUN_LABEL        first column (default: the folder / scenario name)
# env:  QUARTIER   quartier binary  (default: <repo>/target/release/quartier)
#       PYTHON     python with the reference's requirements (default: /tmp/refvenv/bin/python)
#       REF_ARGS   extra arguments for reference.py (e.g. "--mip-gap 0")
# Outputs go next to the scenario: quartier's to DIR/out (scenario.toml) or DIR/out_<stem>,
# the reference's JSON to <that>.reference.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
QUARTIER="${QUARTIER:-$repo/target/release/quartier}"
PYTHON="${PYTHON:-/tmp/refvenv/bin/python}"
STAGES=(shortfall evenness worst cost)

if [[ "${1:-}" == "--header" ]]; then
  shift
  printf '| run | quartier s (MB) | python s (MB) | speed-up |'
  for s in "${STAGES[@]}"; do printf ' %s quartier | %s python | rel. diff |' "$s" "$s"; done
  printf '\n|---|---:|---:|---:|'
  for s in "${STAGES[@]}"; do printf -- '---:|---:|---:|'; done
  printf '\n'
  [[ $# -eq 0 ]] && exit 0
fi

arg="${1:?usage: compare.sh [--header] DIR_OR_SCENARIO [RUN_LABEL]}"
if [[ -d "$arg" ]]; then
  scen="$arg/scenario.toml"
else
  scen="$arg"
fi
dir="$(cd "$(dirname "$scen")" && pwd)"
stem="$(basename "$scen" .toml)"
label="${2:-$(basename "$dir")/$stem}"
if [[ "$stem" == "scenario" ]]; then out="$dir/out"; else out="$dir/out_$stem"; fi
refjson="$out.reference.json"
tq="$(mktemp)"; tp="$(mktemp)"
trap 'rm -f "$tq" "$tp"' EXIT

rm -rf "$out"
/usr/bin/time -f '%e %M' -o "$tq" "$QUARTIER" solve "$scen" --out "$out" --quiet >/dev/null
# shellcheck disable=SC2086
/usr/bin/time -f '%e %M' -o "$tp" "$PYTHON" "$here/reference.py" "$scen" --json "$refjson" --quiet ${REF_ARGS:-}

read -r q_wall q_kb < <(tail -n 1 "$tq")
read -r p_wall p_kb < <(tail -n 1 "$tp")

python3 - "$label" "$q_wall" "$q_kb" "$p_wall" "$p_kb" "$out/summary.json" "$refjson" "${STAGES[@]}" <<'EOF'
import json, sys
label, qw, qk, pw, pk, qsum, pref, *stages = sys.argv[1:]
qs = json.load(open(qsum)).get("stages", {})
ps = json.load(open(pref)).get("stages", {})
qw, pw = float(qw), float(pw)
row = [label, f"{qw:.2f} ({int(qk)/1024:.0f})", f"{pw:.2f} ({int(pk)/1024:.0f})",
       f"{pw/qw:.1f}x" if qw > 0 else "-"]
bad = []
for s in stages:
    q, p = qs.get(s), ps.get(s)
    fq = "-" if q is None else f"{q:.6f}"
    fp = "-" if p is None else f"{p:.6f}"
    if q is None or p is None:
        rel = "-" if q is None and p is None else "missing"
        if rel == "missing":
            bad.append(s)
    else:
        r = abs(q - p) / max(1.0, abs(q))
        rel = f"{r:.1e}"
        if r > 1e-6:
            rel = f"**{rel}**"
            bad.append(s)
    row += [fq, fp, rel]
print("| " + " | ".join(row) + " |")
if bad:
    print(f"<!-- {label}: stage(s) {', '.join(bad)} differ by more than 1e-6 -->", file=sys.stderr)
EOF
