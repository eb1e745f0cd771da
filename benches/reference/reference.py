#!/usr/bin/env python3
"""Independent Python reference for quartier's allocation model (docs: ../../../shared/spec/MODEL.md).

The "analyst's route": GeoPandas for reading and spatial joins, SciPy's cKDTree for
distances, HiGHS (highspy) for the lexicographic MIP.  Written from the model
description only, to cross-check quartier's stage optima and to time the Python route.

    reference.py SCENARIO.toml [--json OUT.json] [--mip-gap G] [--threads N] [--quiet]

Prints (or writes) a JSON document:
    {"stages": {"shortfall": .., "evenness": .., "worst": .., "cost": ..},
     "status": {...}, "timings_s": {...}, "sites": n, "columns": .., "rows": .., ...}
"""
import argparse
import ctypes
import importlib.metadata
import json
import math
import os
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

DEFAULT_STAGES = ["shortfall", "evenness", "worst", "cost"]
DISTRICT_FIELDS = {"id": "id", "name": "name", "population": "population",
                   "weight": "population", "existing": "existing"}
SITE_FIELDS = {"id": "id", "capacity": "capacity", "status": "status",
               "occupied": "occupied", "min_places": "min_places", "cost": "cost"}


def log(quiet, *a):
    if not quiet:
        print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- input

def load_scenario(path):
    with open(path, "rb") as f:
        sc = tomllib.load(f)
    base = os.path.dirname(os.path.abspath(path))
    rel = lambda p: p if os.path.isabs(p) else os.path.join(base, p)  # noqa: E731
    inp = sc["input"]
    s = {
        "name": sc.get("name", os.path.splitext(os.path.basename(path))[0]),
        "districts": rel(inp["districts"]),
        "sites": rel(inp["sites"]),
        "crs": inp.get("crs", "EPSG:4326"),
        "metric_crs": inp.get("metric_crs"),
        "facilities": {k: rel(v) for k, v in inp.get("facilities", {}).items()},
        "fd": {**DISTRICT_FIELDS, **sc.get("fields", {}).get("districts", {})},
        "fs": {**SITE_FIELDS, **sc.get("fields", {}).get("sites", {})},
        "demand": int(sc["demand"]["places"]),
    }
    r = sc.get("rules", {})
    s["max_per_site"] = r.get("max_per_site", 50)
    s["max_share"] = r.get("max_share")
    s["radius"] = r.get("radius")
    s["access"] = r.get("access", {}) or {}
    s["seats"] = r.get("seats")
    s["stages"] = sc.get("objective", {}).get("stages", DEFAULT_STAGES)
    sv = sc.get("solver", {})
    s["mip_gap"] = sv.get("mip_gap")
    s["time_limit_s"] = sv.get("time_limit_s")
    s["threads"] = sv.get("threads", 0)
    return s


def read_layer(path, default_crs):
    g = gpd.read_file(path)
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


# --------------------------------------------------------------------------- model

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
    facs = {k: as_points(to_metric(f, metric)) for k, f in facs.items()}
    t_read = time.perf_counter()

    D = Data()
    fd, fs = sc["fd"], sc["fs"]
    D.nd = len(dist)
    D.pop = num(dist, fd["population"])
    D.w = num(dist, fd["weight"])
    D.e = num(dist, fd["existing"])
    n = D.ns = len(sites)
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
    D.active = inside & ((status == "candidate") | (status == "existing"))  # spacing set
    D.occ = np.where(D.active, occ, 0.0)
    np.add.at(D.e, sd[D.active], D.occ[D.active])

    P = xy(sites)
    D.xy = P
    ok = D.active.copy()
    D.no_access = {}
    D.near = {}
    for k, f in facs.items():
        tree = cKDTree(xy(f))
        dd, ii = tree.query(P, k=1)
        D.near[k] = (dd, ii)
        if k in sc["access"]:
            bad = D.active & (dd > float(sc["access"][k]))
            D.no_access[k] = int(bad.sum())
            ok &= ~bad
    D.facs = facs
    room = np.minimum(cap, sc["max_per_site"]) - D.occ
    room = np.where(ok, np.maximum(np.floor(room + 1e-9), 0.0), 0.0)
    D.room = room
    t_join = time.perf_counter()
    D.t_read, D.t_join = t_read - t0, t_join - t_read
    log(quiet, f"load: {n} sites, {D.nd} districts, read {D.t_read:.2f}s, joins {D.t_join:.2f}s")
    return D


def build(sc, D, quiet):
    """Columns: x (usable sites) | y (min_places sites among them) | u | p_d | m_d | z."""
    t0 = time.perf_counter()
    N = sc["demand"]
    usable = np.flatnonzero(D.room > 0)
    nx = len(usable)
    col_of = np.full(D.ns, -1, dtype=np.int64)
    col_of[usable] = np.arange(nx)
    ysites = usable[D.minp[usable] > 0]
    ny = len(ysites)
    nd = D.nd
    iu = nx + ny
    ip = iu + 1
    im = ip + nd
    iz = im + nd
    ncol = iz + 1

    lb = np.zeros(ncol)
    ub = np.full(ncol, highspy.kHighsInf)
    ub[:nx] = D.room[usable]
    ub[nx:iu] = 1.0
    ub[iu] = N
    integ = np.zeros(ncol, dtype=np.int32)
    integ[:iu] = 1

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
    # 1. demand: sum x + u = N
    add(np.zeros(nx + 1), np.r_[np.arange(nx), iu], np.ones(nx + 1), N, N)
    # 3. minimum occupancy: x - min*y >= 0, x - room*y <= 0
    if ny:
        xc = col_of[ysites]
        yc = nx + np.arange(ny)
        r = np.arange(ny)
        add(np.r_[r, r], np.r_[xc, yc], np.r_[np.ones(ny), -D.minp[ysites]], 0, np.full(ny, inf))
        add(np.r_[r, r], np.r_[xc, yc], np.r_[np.ones(ny), -D.room[ysites]], np.full(ny, -inf), 0)
    # fair share: sum_{s in d} x_s - p_d + m_d = t_d - e_d
    W = D.w.sum()
    if W <= 0:
        raise SystemExit("total weight must be > 0")
    T = N + D.e.sum()
    t = T * D.w / W
    xd = D.sd[usable]
    d = np.arange(nd)
    add(np.r_[xd, d, d], np.r_[np.arange(nx), ip + d, im + d],
        np.r_[np.ones(nx), -np.ones(nd), np.ones(nd)], t - D.e, t - D.e)
    # 4. district share: sum_{s in d} x_s <= max(max_share*pop_d, e_d) - e_d
    if sc["max_share"] is not None:
        cap_d = np.maximum(sc["max_share"] * D.pop, D.e) - D.e
        room_d = np.bincount(xd, weights=D.room[usable], minlength=nd)
        bind = np.flatnonzero(room_d > cap_d + 1e-9)
        if len(bind):
            sel = np.isin(xd, bind)
            rmap = np.full(nd, -1)
            rmap[bind] = np.arange(len(bind))
            add(rmap[xd[sel]], np.flatnonzero(sel), np.ones(sel.sum()),
                np.full(len(bind), -inf), cap_d[bind])
    # 5. spacing: one row per ball around every active site
    nspacing = 0
    if sc["radius"]:
        R = float(sc["radius"]["max_places"])
        rad = float(sc["radius"]["metres"])
        act = np.flatnonzero(D.active)
        tree = cKDTree(D.xy[act])
        balls = tree.query_ball_point(D.xy[act], r=rad, p=2.0, eps=0, return_sorted=False)
        ii, jj, lo, hi = [], [], [], []
        k = 0
        for b in balls:
            members = act[np.asarray(b, dtype=np.int64)]
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
            add(np.concatenate(ii), np.concatenate(jj), np.ones(sum(map(len, jj))),
                np.full(k, -inf), np.array(hi))
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
                add(rmap[fj[sel]], np.flatnonzero(sel), np.full(sel.sum(), kap),
                    np.full(len(bind), -inf), rhs[bind])
    # z >= p_d + m_d  (worst-district epigraph)
    add(np.r_[d, d, d], np.r_[np.full(nd, iz), ip + d, im + d],
        np.r_[np.ones(nd), -np.ones(nd), -np.ones(nd)], np.zeros(nd), np.full(nd, inf))

    A = sp.csc_matrix((np.concatenate(rows_v), (np.concatenate(rows_i), np.concatenate(rows_j))),
                      shape=(nrow, ncol))
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

    objs = {"shortfall": {iu: 1.0}}
    objs["evenness"] = {**{ip + i: 1.0 for i in range(nd)}, **{im + i: 1.0 for i in range(nd)}}
    objs["worst"] = {iz: 1.0}
    if D.has_cost:
        objs["cost"] = {i: D.cost[s] for i, s in enumerate(usable) if D.cost[s] != 0}
    M = Data()
    M.lp, M.objs, M.ncol, M.nrow, M.nx, M.ny = lp, objs, ncol, nrow, nx, ny
    M.nspacing = nspacing
    M.t_build = time.perf_counter() - t0
    log(quiet, f"build: {ncol} columns ({nx} x, {ny} y), {nrow} rows ({nspacing} spacing), "
               f"{M.t_build:.2f}s")
    return M


def solve(sc, M, quiet, mip_gap=None, threads=None):
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
    gap = mip_gap if mip_gap is not None else sc["mip_gap"]
    if gap is not None:
        h.setOptionValue("mip_rel_gap", float(gap))
    th = threads if threads is not None else sc["threads"]
    if th:
        h.setOptionValue("threads", int(th))
    if sc["time_limit_s"]:
        h.setOptionValue("time_limit", float(sc["time_limit_s"]))
    h.passModel(M.lp)
    stages = [s for s in sc["stages"] if s in M.objs]
    res, status, times = {}, {}, {}
    sol = None
    zero = np.zeros(M.ncol)
    for st in stages:
        t0 = time.perf_counter()
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
            raise SystemExit(f"stage {st}: {status[st]}")
        opt = h.getInfo().objective_function_value
        sol = np.array(h.getSolution().col_value)
        res[st] = opt
        # keep this stage's optimum as a constraint for the later ones
        idx = np.array(list(M.objs[st].keys()), dtype=np.int32)
        val = np.array(list(M.objs[st].values()), dtype=float)
        h.addRow(-highspy.kHighsInf, opt + 1e-6 * max(1.0, abs(opt)), len(idx), idx, val)
        times[st] = time.perf_counter() - t0
        log(quiet, f"stage {st}: {opt:.9g} ({status[st]}, {times[st]:.2f}s)")
    x = sol[:M.nx]
    return res, status, times, h.getNumRow(), x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--json", help="write the result here instead of stdout")
    ap.add_argument("--mip-gap", type=float, help="override [solver] mip_gap")
    ap.add_argument("--threads", type=int, help="override [solver] threads")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    sc = load_scenario(a.scenario)
    D = prepare(sc, a.quiet)
    M = build(sc, D, a.quiet)
    t0 = time.perf_counter()
    res, status, times, nrow, x = solve(sc, M, a.quiet, a.mip_gap, a.threads)
    t_solve = time.perf_counter() - t0
    out = {
        "scenario": sc["name"],
        "stages": res,
        "status": status,
        "demand": sc["demand"],
        "placed": int(round(x.sum())),
        "sites_used": int((x > 0.5).sum()),
        "sites": D.ns,
        "sites_outside": D.outside,
        "sites_no_access": D.no_access,
        "districts": D.nd,
        "columns": M.ncol,
        "rows": nrow,
        "spacing_rows": M.nspacing,
        "mip_gap": a.mip_gap if a.mip_gap is not None else sc["mip_gap"],
        "versions": {"highspy": importlib.metadata.version("highspy"), "geopandas": gpd.__version__},
        "timings_s": {
            "import": round(T_IMPORTED - T_START, 4),
            "load": round(D.t_read + D.t_join, 4),
            "load_read": round(D.t_read, 4),
            "load_joins": round(D.t_join, 4),
            "build": round(M.t_build, 4),
            "solve": round(t_solve, 4),
            "solve_stages": {k: round(v, 4) for k, v in times.items()},
            "total": round(time.perf_counter() - T_START, 4),
        },
    }
    text = json.dumps(out, indent=2)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
