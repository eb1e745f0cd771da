#!/usr/bin/env bash
# Run quartier and the Python reference on one scenario and print one markdown table row:
#   run | quartier wall s (peak MB) | python wall s (peak MB) | speed-up | per stage: quartier / python / rel. diff
#   [ | per level: D quartier / D python / rel. diff ]
#
# usage: compare.sh [--header] DIR_OR_SCENARIO [RUN_LABEL]
#        compare.sh --header            the header for scenarios of the four classic stages
#        compare.sh --header-for SCEN   the header for the columns of that scenario, nothing run
#   DIR_OR_SCENARIO  a generated grid folder (uses DIR/scenario.toml) or a scenario .toml file
#   RUN_LABEL        first column (default: the folder / scenario name)
# Columns: always shortfall, evenness, worst, cost (as before); then spread and access when the
# scenario's [objective] stages has them, in that order; with [demand] levels, the
# dissimilarity of every level (summary.json levels[].dissimilarity).  With levels the stage
# optima are the weighted sums over the levels on both sides.
# env:  QUARTIER   quartier binary  (default: <repo>/target/release/quartier)
#       PYTHON     python with the reference's requirements (default: /tmp/refvenv/bin/python)
#       REF_ARGS   extra arguments for reference.py (e.g. "--mip-gap 0")
#       PLANS=1    also report on stderr at how many sites the two plans differ (several plans
#                  can be optimal, so a difference alone is no error)
# Outputs go next to the scenario: quartier's to DIR/out (scenario.toml) or DIR/out_<stem>,
# the reference's JSON to <that>.reference.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
QUARTIER="${QUARTIER:-$repo/target/release/quartier}"
PYTHON="${PYTHON:-/tmp/refvenv/bin/python}"

# The columns of a scenario (or of the classic four stages without one), and the table parts.
table() {  # table MODE SCENARIO [row arguments...]
  python3 - "$@" <<'EOF'
import json, sys, tomllib
mode, scen, *rest = sys.argv[1:]
CLASSIC = ["shortfall", "evenness", "worst", "cost"]
stages, nlevels = list(CLASSIC), 0
if scen:
    with open(scen, "rb") as f:
        sc = tomllib.load(f)
    asked = sc.get("objective", {}).get("stages", CLASSIC)
    stages += [s for s in asked if s in ("spread", "access")]
    nlevels = len(sc.get("demand", {}).get("levels", []))
cols = [(s, s) for s in stages] + [(f"D level {k + 1}", k) for k in range(nlevels)]
if mode == "header":
    h = "| run | quartier s (MB) | python s (MB) | speed-up |"
    sep = "|---|---:|---:|---:|"
    for name, _ in cols:
        h += f" {name} quartier | {name} python | rel. diff |"
        sep += "---:|---:|---:|"
    print(h)
    print(sep)
    sys.exit(0)
label, qw, qk, pw, pk, qsum, pref, qsites, plans = rest
qj, pj = json.load(open(qsum)), json.load(open(pref))
qs, ps = qj.get("stages", {}), pj.get("stages", {})
ql, pl = qj.get("levels") or [], pj.get("levels") or []
qw, pw = float(qw), float(pw)
row = [label, f"{qw:.2f} ({int(qk)/1024:.0f})", f"{pw:.2f} ({int(pk)/1024:.0f})",
       f"{pw/qw:.1f}x" if qw > 0 else "-"]
bad = []
for name, key in cols:
    if isinstance(key, int):
        q = ql[key].get("dissimilarity") if key < len(ql) else None
        p = pl[key].get("dissimilarity") if key < len(pl) else None
    else:
        q, p = qs.get(key), ps.get(key)
    fq = "-" if q is None else f"{q:.6f}"
    fp = "-" if p is None else f"{p:.6f}"
    if q is None or p is None:
        rel = "-" if q is None and p is None else "missing"
        if rel == "missing":
            bad.append(name)
    else:
        r = abs(q - p) / max(1.0, abs(q))
        rel = f"{r:.1e}"
        if r > 1e-6:
            rel = f"**{rel}**"
            bad.append(name)
    row += [fq, fp, rel]
print("| " + " | ".join(row) + " |")
if bad:
    print(f"<!-- {label}: stage(s) {', '.join(bad)} differ by more than 1e-6 -->", file=sys.stderr)
if plans == "1":
    feats = json.load(open(qsites))["features"]
    nl = len(pl)
    for k in range(max(nl, 1)):
        prop = f"places_{k + 1}" if nl else "places"
        qp = {str(f["properties"]["id"]): int(f["properties"].get(prop) or 0) for f in feats}
        qp = {i: v for i, v in qp.items() if v > 0}
        pp = pj["plan_levels"][k] if nl else pj["plan"]
        diff = sum(1 for i in set(qp) | set(pp) if qp.get(i, 0) != pp.get(i, 0))
        what = f"level {k + 1}" if nl else "plan"
        print(f"<!-- {label}: {what}: {diff} of {len(set(qp) | set(pp))} sites differ "
              f"(quartier {sum(qp.values())} places on {len(qp)} sites, python "
              f"{sum(pp.values())} on {len(pp)}) -->", file=sys.stderr)
EOF
}

if [[ "${1:-}" == "--header-for" ]]; then
  table header "${2:?usage: compare.sh --header-for SCENARIO}"
  exit 0
fi
header=0
if [[ "${1:-}" == "--header" ]]; then
  header=1
  shift
  if [[ $# -eq 0 ]]; then
    table header ""
    exit 0
  fi
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

[[ $header -eq 1 ]] && table header "$scen"

rm -rf "$out"
/usr/bin/time -f '%e %M' -o "$tq" "$QUARTIER" solve "$scen" --out "$out" --quiet >/dev/null
# shellcheck disable=SC2086
/usr/bin/time -f '%e %M' -o "$tp" "$PYTHON" "$here/reference.py" "$scen" --json "$refjson" --quiet ${REF_ARGS:-}

read -r q_wall q_kb < <(tail -n 1 "$tq")
read -r p_wall p_kb < <(tail -n 1 "$tp")

table row "$scen" "$label" "$q_wall" "$q_kb" "$p_wall" "$p_kb" "$out/summary.json" "$refjson" \
  "$out/sites.geojson" "${PLANS:-0}"
