#!/usr/bin/env python3
"""Independent Python reference for quartier's allocation model (docs/model.md).

The "analyst's route": GeoPandas for reading and spatial joins, SciPy's cKDTree for
distances, HiGHS (highspy) for the lexicographic MIP.  Written from the model
description only, to cross-check quartier's stage optima and to time the Python route.

    reference.py SCENARIO.toml [--json OUT.json] [--plan-geojson SITES.geojson] [--mip-gap G]
                 [--threads N] [--quiet]

Prints (or writes) a JSON document:
    {"stages": {"shortfall": .., "evenness": .., "worst": .., "spread": .., "access": ..,
                "cost": ..},
     "levels": [{"places": .., "dissimilarity": .., "price_of_nesting": .., ...}, ...],
     "max_new_within_m": {..}, "mean_distance_m": {..}, "plan": {site id: places},
     "plan_levels": [{site id: places}, ...], "status": {...}, "timings_s": {...}, ...}
"""
import argparse
import ast
import ctypes
import importlib.metadata
import json
import os
import re
import sys
import time

T_START = time.perf_counter()

import tomllib  # noqa: E402

import geopandas as gpd  # noqa: E402
import highspy  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

T_IMPORTED = time.perf_counter()

DEFAULT_STAGES = ["shortfall", "evenness", "fair", "worst", "cost"]
FREE_STAGES = ["fair", "worst", "spread", "access", "cost"]  # any subset, any order, after A and B
DISTRICT_FIELDS = {"id": "id", "name": "name", "population": "population",
                   "existing": "existing"}  # weight: defaults to the population field
SITE_FIELDS = {"id": "id", "capacity": "capacity", "status": "status",
               "occupied": "occupied", "min_places": "min_places", "cost": "cost"}


def log(quiet, *a):
    if not quiet:
        print(*a, file=sys.stderr, flush=True)


class ScenarioError(SystemExit):
    """A scenario this reference cannot run (message on stderr, exit 2)."""

    def __init__(self, msg):
        print(f"reference.py: {msg}", file=sys.stderr)
        super().__init__(2)


# --------------------------------------------------------------------------- input

def parse_stages(stages):
    if not isinstance(stages, list) or stages[:2] != ["shortfall", "evenness"]:
        raise ScenarioError(f"[objective] stages must begin with \"shortfall\", \"evenness\"; "
                            f"got {stages!r}")
    rest = stages[2:]
    for s in rest:
        if s not in FREE_STAGES:
            raise ScenarioError(f"[objective] stages: unknown or misplaced stage {s!r} "
                                f"(after shortfall, evenness: any of {FREE_STAGES})")
    if len(set(rest)) != len(rest):
        raise ScenarioError(f"[objective] stages: a stage appears twice in {stages!r}")
    return list(stages)


def parse_demand(dem):
    """-> (levels, weights, uses_levels)."""
    if "places" in dem and "levels" in dem:
        raise ScenarioError("[demand]: give either places or levels, not both")
    if "levels" in dem:
        lv = dem["levels"]
        if (not isinstance(lv, list) or not lv
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in lv)):
            raise ScenarioError(f"[demand] levels must be a list of positive whole numbers; got {lv!r}")
        if any(b <= a for a, b in zip(lv, lv[1:])):
            raise ScenarioError(f"[demand] levels must increase strictly; got {lv!r}")
        w = dem.get("weights", [1.0] * len(lv))
        if (not isinstance(w, list) or len(w) != len(lv)
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                           for v in w)):
            raise ScenarioError(f"[demand] weights must be {len(lv)} numbers > 0; got {w!r}")
        return [int(v) for v in lv], [float(v) for v in w], True
    if "weights" in dem:
        raise ScenarioError("[demand] weights need levels")
    if "places" not in dem:
        raise ScenarioError("[demand]: places or levels is required")
    return [int(dem["places"])], [1.0], False


def load_scenario(path):
    with open(path, "rb") as f:
        sc = tomllib.load(f)
    base = os.path.dirname(os.path.abspath(path))
    rel = lambda p: p if os.path.isabs(p) else os.path.join(base, p)  # noqa: E731
    inp = sc["input"]
    fd = {**DISTRICT_FIELDS, **sc.get("fields", {}).get("districts", {})}
    fd.setdefault("weight", fd["population"])  # the weight follows the mapped population
    s = {
        "name": sc.get("name", os.path.splitext(os.path.basename(path))[0]),
        "districts": rel(inp["districts"]),
        "sites": rel(inp["sites"]),
        "crs": inp.get("crs", "EPSG:4326"),
        "metric_crs": inp.get("metric_crs"),
        "facilities": {k: rel(v) for k, v in inp.get("facilities", {}).items()},
        "fd": fd,
        "fs": {**SITE_FIELDS, **sc.get("fields", {}).get("sites", {})},
    }
    s["levels"], s["weights"], s["uses_levels"] = parse_demand(sc.get("demand", {}))
    s["demand"] = s["levels"][-1]
    r = sc.get("rules", {})
    s["max_per_site"] = r.get("max_per_site", 50)
    s["max_share"] = r.get("max_share")
    s["radius"] = r.get("radius")
    s["access"] = r.get("access", {}) or {}
    s["seats"] = r.get("seats")
    ob = sc.get("objective", {})
    s["stages"] = parse_stages(ob.get("stages", DEFAULT_STAGES))
    if "spread_metres" in ob:
        s["spread_metres"] = float(ob["spread_metres"])
        if not s["spread_metres"] > 0:
            raise ScenarioError(f"[objective] spread_metres must be > 0; got {ob['spread_metres']!r}")
    elif s["radius"]:
        s["spread_metres"] = float(s["radius"]["metres"])
    else:
        s["spread_metres"] = 500.0
    kinds = ob.get("access_kinds", list(s["facilities"]))
    unknown = [k for k in kinds if k not in s["facilities"]]
    if unknown:
        raise ScenarioError(f"[objective] access_kinds: {unknown} not in [input.facilities] "
                            f"({list(s['facilities'])})")
    s["access_kinds"] = list(kinds)
    if "access" in s["stages"] and not s["access_kinds"]:
        raise ScenarioError("stage \"access\" needs at least one facility kind "
                            "([input.facilities] or [objective] access_kinds)")
    s["district_rules"] = list(r.get("district", []))
    for i, dr in enumerate(s["district_rules"]):
        if "where" not in dr or not ({"max_share", "max_new"} & set(dr)):
            raise ScenarioError(f"[[rules.district]] {i + 1}: needs where and max_share and/or "
                                f"max_new")
    st = inp.get("statistics")
    s["statistics"] = None if st is None else {**st, "file": rel(st["file"])}
    sv = sc.get("solver", {})
    s["mip_gap"] = sv.get("mip_gap")
    s["time_limit_s"] = sv.get("time_limit_s")
    s["threads"] = sv.get("threads", 0)
    return s


def read_layer(path, default_crs):
    """GeoJSON, GeoPackage (`file.gpkg#layer`, or its only layer) or Shapefile."""
    layer = None
    if "#" in path and not os.path.exists(path):
        path, layer = path.rsplit("#", 1)
    g = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    if g.crs is None:  # no legacy "crs" member
        g = g.set_crs(default_crs)
    return g


def to_metric(g, metric):
    return g if g.crs == metric else g.to_crs(metric)


def as_points(g):
    """Points stay; polygons are represented by an interior point."""
    geom = g.geometry
    pts = geom.where(geom.geom_type == "Point", geom.representative_point())
    return g.set_geometry(pts)


def num(g, col, default=0.0):
    if col in g.columns:
        return pd.to_numeric(g[col], errors="raise").fillna(default).to_numpy(float)
    return np.full(len(g), default, float)


def xy(g):
    return np.column_stack([g.geometry.x.to_numpy(), g.geometry.y.to_numpy()])


def nearest_first(tree, pts, nf):
    """Nearest point of the tree for every pt; among equally near ones the first in file order."""
    k = min(nf, 4)
    dd, ii = tree.query(pts, k=k)
    if k == 1:
        return dd, ii
    tie = dd == dd[:, :1]
    return dd[:, 0], np.where(tie, ii, np.iinfo(np.int64).max).min(axis=1)


# --------------------------------------------------------------------------- fair-share key

def read_statistics(st):
    """The statistics table as text cells: delimiter detected from the header unless given,
    the encoding's byte-order mark ignored."""
    enc = st.get("encoding", "utf-8")
    enc = "utf-8-sig" if enc.replace("_", "-").lower() in ("utf-8", "utf8") else enc
    with open(st["file"], encoding=enc, newline="") as f:
        text = f.read()
    delim = st.get("delimiter")
    if delim is None:
        header = text.split("\n", 1)[0]
        delim = max([",", ";", "\t"], key=header.count)
    delim = "\t" if delim in ("tab", "\\t") else delim
    import csv
    import io
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    rows = [r for r in rows if any(c.strip() for c in r)]
    head = [h.strip() for h in rows[0]]
    return head, [[c.strip() for c in r] for r in rows[1:]]


def same_id(a, b):
    """Ids match as text, and as numbers where both are whole numbers ("07" = "7")."""
    a, b = str(a).strip(), str(b).strip()
    return a == b or (a.isdigit() and b.isdigit() and int(a) == int(b))


def district_properties(sc, dist):
    """name -> list of per-district values (raw), from the layer and the statistics table."""
    props = {c: dist[c].tolist() for c in dist.columns if c != dist.geometry.name}
    st = sc["statistics"]
    if st is None:
        return props
    head, rows = read_statistics(st)
    key = head.index(st["key"])
    dec = st.get("decimal", ".")
    ids = dist[sc["fd"]["id"]].tolist()
    table = {}
    for j, h in enumerate(head):
        if j == key:
            continue
        col = []
        for d, did in enumerate(ids):
            hit = [r for r in rows if len(r) > key and same_id(r[key], did)]
            if not hit:
                raise ScenarioError(f"{st['file']}: no row for district {did!r}")
            cell = hit[0][j] if j < len(hit[0]) else ""
            col.append(cell)
        table[h] = col
    for h, col in table.items():
        def conv(cell, h=h):
            if cell == "":
                return None
            t = cell.replace(",", ".") if dec == "," else cell
            try:
                return float(t)
            except ValueError:
                return cell
        table[h] = [conv(c) for c in col]
    both = set(table) & set(props)
    used = set(re.findall(r"`([^`]*)`|([A-Za-z_][A-Za-z0-9_]*)",
                          " ".join([sc["fd"]["weight"]] + [r["where"] for r in sc["district_rules"]])))
    used = {a or b for a, b in used}
    clash = both & used
    if clash:
        raise ScenarioError(f"{st['file']}: column(s) {sorted(clash)} are also properties of "
                            f"the district layer")
    props.update(table)
    return props


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
        ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
        ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}


def parse_expression(text):
    """Numbers, property names (in backticks when they hold other characters), + - * /,
    parentheses, comparisons, and, or, not, min(...), max(...), if(c, a, b): parsed with
    Python's own parser after renaming backticked names and if; anything else is refused."""
    names = {}

    def tick(m):
        names[f"__p{len(names)}"] = m.group(1)
        return f"__p{len(names) - 1}"
    t = re.sub(r"`([^`]*)`", tick, text)
    t = re.sub(r"\bif\s*\(", "__if(", t)
    t = re.sub(r"(?<![<>=!])=(?!=)", "==", t)  # a single = compares too
    tree = ast.parse(t, mode="eval")
    for node in ast.walk(tree):
        ok = isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
                               ast.Call, ast.Name, ast.Constant, ast.Load, ast.And, ast.Or,
                               ast.Not, ast.USub, ast.UAdd, *_OPS))
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            ok = False
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name)
                                               and node.func.id in ("min", "max", "__if")):
            ok = False
        if not ok:
            raise ScenarioError(f"expression {text!r}: {type(node).__name__} is not allowed")
    return tree.body, names


def eval_expression(node, names, get):
    def ev(n):
        if isinstance(n, ast.Constant):
            return float(n.value)
        if isinstance(n, ast.Name):
            return get(names.get(n.id, n.id))
        if isinstance(n, ast.BinOp):
            return _OPS[type(n.op)](ev(n.left), ev(n.right))
        if isinstance(n, ast.UnaryOp):
            v = ev(n.operand)
            return (not v) if isinstance(n.op, ast.Not) else (-v if isinstance(n.op, ast.USub) else v)
        if isinstance(n, ast.BoolOp):
            vals = [ev(v) for v in n.values]
            return all(vals) if isinstance(n.op, ast.And) else any(vals)
        if isinstance(n, ast.Compare):
            left, res = ev(n.left), True
            for op, c in zip(n.ops, n.comparators):
                right = ev(c)
                res = res and _OPS[type(op)](left, right)
                left = right
            return res
        if isinstance(n, ast.Call):
            if n.func.id == "__if":
                c, a, b = n.args
                return ev(a) if ev(c) else ev(b)
            return (min if n.func.id == "min" else max)(ev(a) for a in n.args)
        raise AssertionError(n)
    return ev(node)


def district_values(sc, dist, props, text, what):
    if text in props:  # a property name as it stands (it may hold spaces)
        text = f"`{text}`"
    node, names = parse_expression(text)
    ids = dist[sc["fd"]["id"]].tolist()
    out = []
    for d in range(len(dist)):
        def get(name, d=d):
            if name not in props:
                raise ScenarioError(f"{what} {text!r}: unknown property {name!r}")
            v = props[name][d]
            if v is None or (isinstance(v, float) and np.isnan(v)) or isinstance(v, str):
                raise ScenarioError(f"{what} {text!r}: district {ids[d]!r}: property {name!r} "
                                    f"is {'empty' if not isinstance(v, str) else 'not a number'}")
            return float(v)
        try:
            out.append(eval_expression(node, names, get))
        except ZeroDivisionError:
            raise ScenarioError(f"{what} {text!r}: district {ids[d]!r}: division by zero")
    return out


def district_weights(sc, dist, props):
    w = np.array([float(v) for v in district_values(sc, dist, props, sc["fd"]["weight"], "weight")])
    if (w < 0).any():
        d = int(np.flatnonzero(w < 0)[0])
        raise ScenarioError(f"weight of district {dist[sc['fd']['id']].iloc[d]!r} is {w[d]} < 0")
    return w


def district_caps(sc, dist, props):
    """Per district: its share cap (the district rules' smallest matching max_share, else the
    global one; NaN = none) and its cap on new places (the smallest matching max_new; inf)."""
    nd = len(dist)
    g = sc["max_share"]
    share = np.full(nd, np.nan if g is None else float(g))
    ruled = np.zeros(nd, dtype=bool)
    max_new = np.full(nd, np.inf)
    for i, dr in enumerate(sc["district_rules"]):
        hold = district_values(sc, dist, props, dr["where"], f"[[rules.district]] {i + 1} where")
        for d in range(nd):
            if not hold[d]:
                continue
            if "max_share" in dr:
                share[d] = dr["max_share"] if not ruled[d] else min(share[d], dr["max_share"])
                ruled[d] = True
            if "max_new" in dr:
                max_new[d] = min(max_new[d], dr["max_new"])
    return share, max_new


# --------------------------------------------------------------------------- data

class Data:
    pass


def prepare(sc, quiet):
    t0 = time.perf_counter()
    dist = read_layer(sc["districts"], sc["crs"])
    sites = read_layer(sc["sites"], sc["crs"])
    facs = {k: read_layer(p, sc["crs"]) for k, p in sc["facilities"].items()}
    if sc["metric_crs"]:
        metric = sc["metric_crs"]
    elif dist.crs.is_projected:
        metric = dist.crs
    else:
        metric = dist.estimate_utm_crs()
    dist = to_metric(dist, metric).reset_index(drop=True)
    sites = as_points(to_metric(sites, metric)).reset_index(drop=True)
    facs = {k: as_points(to_metric(f, metric)).reset_index(drop=True) for k, f in facs.items()}
    t_read = time.perf_counter()

    D = Data()
    fd, fs = sc["fd"], sc["fs"]
    D.nd = len(dist)
    D.pop = num(dist, fd["population"])
    D.e = num(dist, fd["existing"])
    props = district_properties(sc, dist)
    D.w = district_weights(sc, dist, props)
    D.share_d, D.max_new_d = district_caps(sc, dist, props)
    n = D.ns = len(sites)
    D.ids = [str(v) for v in sites[fs["id"]].tolist()] if fs["id"] in sites.columns \
        else [str(i) for i in range(n)]
    D.sites = sites
    status = (sites[fs["status"]].fillna("candidate").astype(str).str.strip().str.lower().to_numpy()
              if fs["status"] in sites.columns else np.full(n, "candidate"))
    cap = num(sites, fs["capacity"])
    occ = np.where(status == "existing", num(sites, fs["occupied"]), 0.0)
    D.minp = num(sites, fs["min_places"])
    D.cost = num(sites, fs["cost"])
    D.has_cost = fs["cost"] in sites.columns and sites[fs["cost"]].notna().any()

    # site -> district: 'within', first district in file order on ties
    j = gpd.sjoin(sites[[sites.geometry.name]], dist[[dist.geometry.name]],
                  how="inner", predicate="within")
    first = j["index_right"].groupby(level=0).min()
    sd = np.full(n, -1, dtype=np.int64)
    sd[first.index.to_numpy()] = first.to_numpy()
    D.sd = sd
    inside = sd >= 0
    D.outside = int((~inside).sum())
    # the set of rule 5 (and of stage spread): candidate or existing sites inside a district
    D.active = inside & ((status == "candidate") | (status == "existing"))
    D.occ = np.where(D.active, occ, 0.0)
    np.add.at(D.e, sd[D.active], D.occ[D.active])

    P = xy(sites)
    D.xy = P
    ok = D.active.copy()
    D.no_access = {}
    D.near = {}
    for k, f in facs.items():
        dd, ii = nearest_first(cKDTree(xy(f)), P, len(f))
        D.near[k] = (dd, ii)
        if k in sc["access"]:
            bad = D.active & (dd > float(sc["access"][k]))
            D.no_access[k] = int(bad.sum())
            ok &= ~bad
    D.facs = facs
    room = np.minimum(cap, sc["max_per_site"]) - D.occ
    room = np.where(ok, np.maximum(np.floor(room + 1e-9), 0.0), 0.0)
    D.room = room
    D.balls = {}  # radius -> CSR incidence (centre x site), over the active sites
    t_join = time.perf_counter()
    D.t_read, D.t_join = t_read - t0, t_join - t_read
    log(quiet, f"load: {n} sites, {D.nd} districts, read {D.t_read:.2f}s, joins {D.t_join:.2f}s")
    return D


def balls(D, radius):
    """Rows: one ball around every active site (radius inclusive, centre included);
    columns: sites.  Cached per radius."""
    if radius not in D.balls:
        act = np.flatnonzero(D.active)
        tree = cKDTree(D.xy[act])
        bl = tree.query_ball_point(D.xy[act], r=radius, p=2.0, eps=0, return_sorted=False)
        lens = np.fromiter((len(b) for b in bl), dtype=np.int64, count=len(bl))
        cols = act[np.fromiter((i for b in bl for i in b), dtype=np.int64, count=int(lens.sum()))]
        indptr = np.r_[0, np.cumsum(lens)]
        D.balls[radius] = sp.csr_matrix((np.ones(len(cols)), cols, indptr),
                                        shape=(len(act), D.ns))
    return D.balls[radius]


# --------------------------------------------------------------------------- model

def build(sc, D, quiet, levels=None, weights=None, stages=None):
    """One MIP over all levels.  Per level l a block of columns
         x^l (usable sites) | y^l (min_places sites) | u^l | p^l_d | m^l_d | z^l | [S^l]
         | [phi^l_d]
    and rules 1-7 at that level; nesting rows x^l - x^(l-1) >= 0 join the blocks."""
    t0 = time.perf_counter()
    levels = sc["levels"] if levels is None else levels
    weights = sc["weights"] if weights is None else weights
    stages = sc["stages"] if stages is None else stages
    L = len(levels)
    with_spread = "spread" in stages
    usable = np.flatnonzero(D.room > 0)
    nx = len(usable)
    col_of = np.full(D.ns, -1, dtype=np.int64)
    col_of[usable] = np.arange(nx)
    ysites = usable[D.minp[usable] > 0]
    ny = len(ysites)
    nd = D.nd
    # offsets inside a level block
    oy, ou = nx, nx + ny
    op, om = ou + 1, ou + 1 + nd
    oz = om + nd
    oS = oz + 1
    with_fair = "fair" in stages
    oF = oS + (1 if with_spread else 0)  # phi_d: fair's term of each district (stage fair)
    nb = oF + (nd if with_fair else 0)
    ncol = L * nb

    lb = np.zeros(ncol)
    ub = np.full(ncol, highspy.kHighsInf)
    integ = np.zeros(ncol, dtype=bool)
    for l in range(L):
        b = l * nb
        ub[b:b + nx] = D.room[usable]
        ub[b + oy:b + ou] = 1.0
        ub[b + ou] = levels[l]
        integ[b:b + ou] = True

    rows_i, rows_j, rows_v, rlo, rhi = [], [], [], [], []
    nrow = 0

    def add(i, j, v, lo, hi):
        nonlocal nrow
        rows_i.append(np.asarray(i, dtype=np.int64) + nrow)
        rows_j.append(np.asarray(j, dtype=np.int64))
        rows_v.append(np.asarray(v, dtype=float))
        lo = np.atleast_1d(np.asarray(lo, dtype=float))
        hi = np.atleast_1d(np.asarray(hi, dtype=float))
        rlo.append(lo)
        rhi.append(hi)
        nrow += len(lo)

    inf = highspy.kHighsInf
    W = D.w.sum()
    if W <= 0:
        raise ScenarioError("total weight must be > 0")
    Tl = [N + D.e.sum() for N in levels]
    xd = D.sd[usable]
    d = np.arange(nd)
    xr = np.arange(nx)

    # rows that do not depend on the level (only on the columns): built once, shifted per level
    fixed = []  # (row index within group, column within block, value, lo, hi)
    # 3. minimum occupancy: x - min*y >= 0, x - room*y <= 0
    if ny:
        xc = col_of[ysites]
        yc = oy + np.arange(ny)
        r = np.arange(ny)
        fixed.append((np.r_[r, r], np.r_[xc, yc], np.r_[np.ones(ny), -D.minp[ysites]],
                      np.zeros(ny), np.full(ny, inf)))
        fixed.append((np.r_[r, r], np.r_[xc, yc], np.r_[np.ones(ny), -D.room[ysites]],
                      np.full(ny, -inf), np.zeros(ny)))
    # 4. district share: sum_{s in d} x_s <= max(max_share_d*pop_d, e_d) - e_d, and the
    #    district rules' cap on new places: sum_{s in d} x_s <= max_new_d
    cap_d = np.where(np.isnan(D.share_d), np.inf,
                     np.maximum(np.nan_to_num(D.share_d) * D.pop, D.e) - D.e)
    cap_d = np.minimum(cap_d, D.max_new_d)
    if np.isfinite(cap_d).any():
        room_d = np.bincount(xd, weights=D.room[usable], minlength=nd)
        bind = np.flatnonzero(room_d > cap_d + 1e-9)
        if len(bind):
            sel = np.isin(xd, bind)
            rmap = np.full(nd, -1)
            rmap[bind] = np.arange(len(bind))
            fixed.append((rmap[xd[sel]], np.flatnonzero(sel), np.ones(sel.sum()),
                          np.full(len(bind), -inf), cap_d[bind]))
    # 5. spacing: one row per ball around every active site
    nspacing = 0
    if sc["radius"]:
        R = float(sc["radius"]["max_places"])
        B = balls(D, float(sc["radius"]["metres"]))
        ii, jj, hi = [], [], []
        k = 0
        for c in range(B.shape[0]):
            members = B.indices[B.indptr[c]:B.indptr[c + 1]]
            o = D.occ[members].sum()
            rhs = max(R, o) - o
            cols = col_of[members]
            cols = cols[cols >= 0]
            if len(cols) == 0 or D.room[usable[cols]].sum() <= rhs + 1e-9:
                continue  # cannot bind
            ii.append(np.full(len(cols), k))
            jj.append(cols)
            hi.append(rhs)
            k += 1
        if k:
            fixed.append((np.concatenate(ii), np.concatenate(jj), np.ones(sum(map(len, jj))),
                          np.full(k, -inf), np.array(hi)))
        nspacing = k
    # 7. seats
    if sc["seats"]:
        kind = sc["seats"]["kind"]
        kap = float(sc["seats"]["per_place"])
        f = D.facs[kind]
        if "seats" in f.columns:
            seats = pd.to_numeric(f["seats"]).to_numpy(float)
            _, near = D.near[kind]
            has = ~np.isnan(seats)
            o_f = np.bincount(near[D.active], weights=kap * D.occ[D.active], minlength=len(f))
            rhs = np.maximum(seats, o_f) - o_f
            fj = near[usable]
            r_f = np.bincount(fj, weights=kap * D.room[usable], minlength=len(f))
            bind = np.flatnonzero(has & (r_f > rhs + 1e-9))
            if len(bind):
                sel = np.isin(fj, bind)
                rmap = np.full(len(f), -1)
                rmap[bind] = np.arange(len(bind))
                fixed.append((rmap[fj[sel]], np.flatnonzero(sel), np.full(sel.sum(), kap),
                              np.full(len(bind), -inf), rhs[bind]))
    # z >= p_d + m_d  (worst-district epigraph)
    fixed.append((np.r_[d, d, d], np.r_[np.full(nd, oz), op + d, om + d],
                  np.r_[np.ones(nd), -np.ones(nd), -np.ones(nd)], np.zeros(nd), np.full(nd, inf)))
    # S^l >= sum of new places in every ball of radius spread_metres (stage spread).  These
    # rows only bind once S^l has a cost, so they join the program at the spread stage (the
    # same program; the stages before it just solve without rows that cannot bind).
    nspread = 0
    spread_rows = None
    if with_spread:
        B = balls(D, sc["spread_metres"])
        Bx = B[:, usable].tocsr()  # columns: x
        keep = np.flatnonzero(np.diff(Bx.indptr) > 0)  # a ball without usable sites is 0 <= S
        Bx = Bx[keep]
        nspread = len(keep)
        if nspread:
            one = sp.hstack([Bx, sp.csr_matrix((-np.ones(nspread), (np.arange(nspread),
                                                                     np.full(nspread, oS - nx))),
                                               shape=(nspread, nb - nx))]).tocsr()
            blocks = [sp.hstack([sp.csr_matrix((nspread, l * nb)), one,
                                 sp.csr_matrix((nspread, (L - 1 - l) * nb))]) for l in range(L)]
            R = sp.vstack(blocks).tocsr()
            R.sort_indices()
            spread_rows = (np.full(R.shape[0], -inf), np.zeros(R.shape[0]), R)

    for l, N in enumerate(levels):
        b = l * nb
        # 1. demand: sum x + u = N
        add(np.zeros(nx + 1), b + np.r_[xr, ou], np.ones(nx + 1), N, N)
        # fair share: sum_{s in d} x_s - p_d + m_d = t_d - e_d
        t = Tl[l] * D.w / W
        add(np.r_[xd, d, d], b + np.r_[xr, op + d, om + d],
            np.r_[np.ones(nx), -np.ones(nd), np.ones(nd)], t - D.e, t - D.e)
        for (i, j, v, lo, hi) in fixed:
            add(i, b + j, v, lo, hi)
        # stage fair: phi_d >= max(0, t_d - a_d)^2 / t_d, as the chords of that function of
        # the whole number n of new places (a_d = e_d + n): it is convex in n, so the largest
        # chord through the neighbouring whole numbers is the function itself at whole n.
        #   g(n) = max(0, t - e - n)^2 / t;  phi_d >= g(k) + (g(k+1) - g(k)) (n - k)
        if with_fair:
            for dd in range(nd):
                if t[dd] <= 0:
                    continue
                kink = t[dd] - D.e[dd]
                if kink <= 0:
                    continue  # existing places reach the share: the term is 0
                g = lambda n, dd=dd, kink=kink: max(0.0, kink - n) ** 2 / t[dd]  # noqa: E731
                sites = np.flatnonzero(xd == dd)
                for k in range(int(np.floor(kink)) + 1):
                    slope = g(k + 1) - g(k)
                    add(np.zeros(len(sites) + 1), b + np.r_[oF + dd, sites],
                        np.r_[1.0, -slope * np.ones(len(sites))], g(k) - slope * k, inf)
        # nesting: x^l - x^(l-1) >= 0
        if l > 0:
            add(np.r_[xr, xr], np.r_[b + xr, b - nb + xr], np.r_[np.ones(nx), -np.ones(nx)],
                np.zeros(nx), np.full(nx, inf))

    A = sp.csc_matrix((np.concatenate(rows_v), (np.concatenate(rows_i), np.concatenate(rows_j))),
                      shape=(nrow, ncol))
    A.sum_duplicates()
    A.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = ncol
    lp.num_row_ = nrow
    lp.col_cost_ = np.zeros(ncol)
    lp.col_lower_ = lb
    lp.col_upper_ = ub
    lp.row_lower_ = np.concatenate(rlo)
    lp.row_upper_ = np.concatenate(rhi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
                       for v in integ]

    # stage objectives: the omega-weighted sums over the levels; evenness and worst scaled by
    # T^L / T^l so that levels of different size count alike
    TL = Tl[-1]
    objs = {}

    def obj(pairs):
        o = {}
        for j, v in pairs:
            if v != 0:
                o[int(j)] = o.get(int(j), 0.0) + float(v)
        return o

    objs["shortfall"] = obj((l * nb + ou, weights[l]) for l in range(L))
    objs["evenness"] = obj((l * nb + c, weights[l] * TL / Tl[l])
                           for l in range(L) for c in range(op, oz))
    objs["worst"] = obj((l * nb + oz, weights[l] * TL / Tl[l]) for l in range(L))
    if with_fair:
        objs["fair"] = obj((l * nb + oF + dd, weights[l] * TL / Tl[l])
                           for l in range(L) for dd in range(nd))
    if with_spread:
        objs["spread"] = obj((l * nb + oS, weights[l]) for l in range(L))
    if "access" in stages:
        Es = access_coef(sc, D)[usable]
        objs["access"] = obj((l * nb + i, weights[l] * Es[i]) for l in range(L) for i in range(nx))
    if D.has_cost:
        objs["cost"] = obj((l * nb + i, weights[l] * D.cost[s])
                           for l in range(L) for i, s in enumerate(usable))
    M = Data()
    M.lp, M.objs, M.ncol, M.nrow, M.nx, M.ny, M.nb, M.L = lp, objs, ncol, nrow, nx, ny, nb, L
    M.usable = usable
    M.stages = stages
    M.nspacing, M.nspread = nspacing, nspread
    M.spread_rows = spread_rows
    M.t_build = time.perf_counter() - t0
    log(quiet, f"build: {L} level(s), {ncol} columns ({nx} x, {ny} y per level), {nrow} rows "
               f"({nspacing} spacing, {nspread} spread per level), {M.t_build:.2f}s")
    return M


def access_coef(sc, D):
    """Per site: sum over the kinds K of the distance to the nearest facility of that kind."""
    E = np.zeros(D.ns)
    for k in sc["access_kinds"]:
        E += D.near[k][0]
    return E


def new_highs(quiet):
    # HiGHS prints a banner on stdout when created: keep stdout clean for the JSON
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY) if quiet else 2
    os.dup2(sink, 1)
    try:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    finally:
        sys.stdout.flush()
        ctypes.CDLL(None).fflush(None)  # the banner sits in C's stdio buffer
        os.dup2(saved, 1)
        os.close(saved)
        if quiet:
            os.close(sink)
    return h


def solve(sc, M, quiet, mip_gap=None, threads=None, label="stage", highs_options=None):
    h = new_highs(quiet)
    for k, v in (highs_options or {}).items():
        h.setOptionValue(k, v)
    gap = mip_gap if mip_gap is not None else sc["mip_gap"]
    if gap is not None:
        h.setOptionValue("mip_rel_gap", float(gap))
    th = threads if threads is not None else sc["threads"]
    if th:
        h.setOptionValue("threads", int(th))
    if sc["time_limit_s"]:
        h.setOptionValue("time_limit", float(sc["time_limit_s"]))
    h.passModel(M.lp)
    stages = [s for s in M.stages if s in M.objs]
    res, status, times = {}, {}, {}
    sol = None
    zero = np.zeros(M.ncol)
    for st in stages:
        t0 = time.perf_counter()
        if st == "spread" and M.spread_rows is not None:
            lo, hi, R = M.spread_rows
            h.addRows(len(lo), lo, hi, R.nnz, R.indptr[:-1].astype(np.int32),
                      R.indices.astype(np.int32), R.data)
        c = zero.copy()
        for j, v in M.objs[st].items():
            c[j] = v
        h.changeColsCost(M.ncol, np.arange(M.ncol, dtype=np.int32), c)
        # No warm start from the previous stage: with highspy 1.16, h.setSolution() before a
        # re-run made HiGHS report a wrong "optimal" objective (7211 instead of 33199 on the
        # 10x10 grid's cost stage; the returned x cost 54322), so every stage starts cold.
        h.run()
        ms = h.getModelStatus()
        status[st] = h.modelStatusToString(ms)
        if ms not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
            raise SystemExit(f"{label} {st}: {status[st]}")
        opt = h.getInfo().objective_function_value
        sol = np.array(h.getSolution().col_value)
        res[st] = opt
        # keep this stage's optimum as a constraint for the later ones
        idx = np.array(list(M.objs[st].keys()), dtype=np.int32)
        val = np.array(list(M.objs[st].values()), dtype=float)
        h.addRow(-highspy.kHighsInf, opt + 1e-6 * max(1.0, abs(opt)), len(idx), idx, val)
        times[st] = time.perf_counter() - t0
        log(quiet, f"{label} {st}: {opt:.9g} ({status[st]}, {times[st]:.2f}s)")
    # the plan per level, as whole numbers per site (all sites; 0 where no column)
    X = [np.round(sol[l * M.nb:l * M.nb + M.nx]) for l in range(M.L)]
    return res, status, times, h.getNumRow(), X


# --------------------------------------------------------------------------- figures

def full_plan(D, M, xcols):
    x = np.zeros(D.ns)
    x[M.usable] = xcols
    return x


def dissimilarity(D, x):
    """Duncan's index between allocation a_d = e_d + new places and the weight."""
    a = D.e + np.bincount(D.sd[x > 0], weights=x[x > 0], minlength=D.nd)
    A = a.sum()
    if A <= 0:
        return None
    return 0.5 * float(np.abs(a / A - D.w / D.w.sum()).sum())


def max_new_within(D, x, radius):
    if not D.active.any():
        return 0
    return int(round((balls(D, radius) @ x).max()))


def mean_distance(sc, D, x):
    tot = x.sum()
    return {k: (float((x * D.near[k][0]).sum() / tot) if tot > 0 else None)
            for k in sc["access_kinds"]}


def write_plan(path, D, xs, levels):
    keep = np.flatnonzero(np.any([x > 0 for x in xs], axis=0))
    g = D.sites.iloc[keep][[D.sites.geometry.name]].copy()
    g["id"] = [D.ids[i] for i in keep]
    g["places"] = xs[-1][keep].astype(int)
    if levels:
        for l, x in enumerate(xs):
            g[f"places_{l + 1}"] = x[keep].astype(int)
    g.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")


def plan_dict(D, x):
    return {D.ids[i]: int(x[i]) for i in np.flatnonzero(x > 0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--json", help="write the result here instead of stdout")
    ap.add_argument("--mip-gap", type=float, help="override [solver] mip_gap")
    ap.add_argument("--threads", type=int, help="override [solver] threads")
    ap.add_argument("--plan-geojson", metavar="SITES.geojson",
                    help="also write the plan as a sites layer (every site with new places: id, "
                         "places, with levels places_1..), e.g. for `quartier verify`")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    out, xs, D = run(a.scenario, quiet=a.quiet, mip_gap=a.mip_gap, threads=a.threads)
    if a.plan_geojson:
        write_plan(a.plan_geojson, D, xs, out.get("levels") is not None)
    text = json.dumps(out, indent=2, ensure_ascii=False)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


def run(scenario, quiet=True, mip_gap=None, threads=None, sc=None, highs_options=None):
    """Solve a scenario file (or an already loaded scenario dict `sc`); highs_options: extra
    HiGHS options (the self-test tightens the feasibility tolerances with them).
    Returns the JSON dict, the plan per level (new places per site, file order) and the data."""
    sc = load_scenario(scenario) if sc is None else sc
    D = prepare(sc, quiet)
    M = build(sc, D, quiet)
    t0 = time.perf_counter()
    res, status, times, nrow, X = solve(sc, M, quiet, mip_gap, threads,
                                        highs_options=highs_options)
    t_solve = time.perf_counter() - t0
    xs = [full_plan(D, M, xc) for xc in X]
    L = len(sc["levels"])

    # per level figures, and the best plan for each level alone (stages shortfall, evenness)
    t0 = time.perf_counter()
    lv = []
    for l, N in enumerate(sc["levels"]):
        x = xs[l]
        used = x > 0
        opened = used if l == 0 else used & ~(xs[l - 1] > 0)
        Dl = dissimilarity(D, x)
        if L == 1:
            Da = Dl  # the plan is the best plan for its only level
        else:
            Ma = build(sc, D, True, levels=[N], weights=[1.0], stages=["shortfall", "evenness"])
            _, _, _, _, Xa = solve(sc, Ma, quiet, mip_gap, threads, label=f"level {l + 1} alone:",
                                   highs_options=highs_options)
            Da = dissimilarity(D, full_plan(D, Ma, Xa[0]))
        lv.append({
            "places": N,
            "weight": sc["weights"][l],
            "placed": int(x.sum()),
            "shortfall": int(N - x.sum()),
            "dissimilarity": Dl,
            "sites_used": int(used.sum()),
            "sites_opened": int(opened.sum()),
            "dissimilarity_alone": Da,
            "price_of_nesting": None if Dl is None or Da is None else Dl - Da,
        })
    t_alone = time.perf_counter() - t0

    x = xs[-1]
    out = {
        "scenario": sc["name"],
        "stages": res,
        "status": status,
        "demand": sc["demand"],
        "placed": int(round(x.sum())),
        "shortfall": int(sc["demand"] - round(x.sum())),
        "dissimilarity": dissimilarity(D, x),
        "sites_used": int((x > 0.5).sum()),
        "sites": D.ns,
        "sites_outside": D.outside,
        "sites_no_access": D.no_access,
        "districts": D.nd,
        "columns": M.ncol,
        "rows": nrow,
        "spacing_rows": M.nspacing,
        "mip_gap": mip_gap if mip_gap is not None else sc["mip_gap"],
    }
    if sc["uses_levels"]:
        out["levels"] = lv
    if "spread" in sc["stages"] or "access" in sc["stages"]:
        m = sc["spread_metres"]
        out["max_new_within_m"] = {"metres": m, "places": max_new_within(D, x, m)}
        out["mean_distance_m"] = mean_distance(sc, D, x)
        if sc["uses_levels"]:
            for l, e in enumerate(lv):
                e["max_new_within_m"] = max_new_within(D, xs[l], m)
                e["mean_distance_m"] = mean_distance(sc, D, xs[l])
        out["spread_rows"] = M.nspread
    out["plan"] = plan_dict(D, x)
    if sc["uses_levels"]:
        out["plan_levels"] = [plan_dict(D, xl) for xl in xs]
    out["versions"] = {"highspy": importlib.metadata.version("highspy"),
                       "geopandas": gpd.__version__}
    out["timings_s"] = {
        "import": round(T_IMPORTED - T_START, 4),
        "load": round(D.t_read + D.t_join, 4),
        "load_read": round(D.t_read, 4),
        "load_joins": round(D.t_join, 4),
        "build": round(M.t_build, 4),
        "solve": round(t_solve, 4),
        "solve_stages": {k: round(v, 4) for k, v in times.items()},
        "levels_alone": round(t_alone, 4),
        "total": round(time.perf_counter() - T_START, 4),
    }
    return out, xs, D


if __name__ == "__main__":
    main()
