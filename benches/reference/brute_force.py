#!/usr/bin/env python3
"""Self-test of reference.py against brute force on tiny hand-made cities.

    brute_force.py [--cases N] [--seed K] [--keep DIR] [--replay DIR/caseN/city.json] [--verbose]

Each case is a random tiny city (2-3 rectangular districts, 3-5 sites, two facility kinds)
with a random selection of the rules (share cap, spacing, access, seats, minimum occupancy,
costs, existing sites, a site outside every district), random demand (`places`, or 1-3
`levels` with or without `weights`) and a random stage order (shortfall, evenness, then any
subset and order of worst, spread, access, cost).  The case is written as GeoJSON files and
a scenario TOML in a temporary folder and solved by reference.py.

The brute force knows nothing of reference.py's model: it reads the rules from the city as
generated (plain Python geometry, model text only), enumerates every integer plan (every
nested chain of plans for levels), keeps the feasible ones, and applies the stages one by
one with the model's tolerance (stage_k <= opt_k + 1e-6*max(1,|opt_k|)).  Checked per case:
  - every stage optimum agrees with the MIP's within 1e-6 relative (HiGHS run with its
    feasibility tolerances at 1e-9, see HIGHS);
  - the reference's plan (every level) keeps every rule and the nesting, and its stage
    values are within the tolerances of the optima;
  - the reported figures (placed, shortfall, D, sites used/opened, max_new_within_m,
    mean_distance_m) match the plan; dissimilarity_alone matches the D of the best plan of
    the level alone (brute force over that level's plans);
  - for single-level cases: `levels = [N]` gives exactly the same optima as `places = N`.
Exit 0 when every case agrees, 1 otherwise.
"""
import argparse
import itertools
import json
import math
import os
import random
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

X0, Y0 = 400000.0, 5750000.0  # an EPSG:25832 origin; the city is a few hundred metres wide
FREE = ["worst", "spread", "access", "cost"]
TOL = 1e-6
# Fair-share keys over a statistics column "SGB II-Quote" (rate r), with what they mean here.
KEYS = [
    ("population * (1 - 0.5 * `SGB II-Quote`)", lambda p, r: p * (1 - 0.5 * r)),
    ("max(population - 100, 10) + if(`SGB II-Quote` > 0.1, 50, 0)",
     lambda p, r: max(p - 100, 10) + (50 if r > 0.1 else 0)),
    ("if(not (`SGB II-Quote` >= 0.2) and population > 50, population, population / 2)",
     lambda p, r: p if (not r >= 0.2 and p > 50) else p / 2),
]
# HiGHS accepts a bound or an integrality broken by 1e-6 by default (mip_feasibility_tolerance):
# a p_d at -1e-6 made one evenness optimum 2e-6 "better" than any integer plan.  Tighter
# tolerances here keep solver noise out of a check of the model.
HIGHS = {"mip_feasibility_tolerance": 1e-9, "primal_feasibility_tolerance": 1e-9}


# --------------------------------------------------------------------------- the cities

def make_city(rng):
    nd = rng.randint(2, 3)
    L = rng.choice([1, 1, 2, 2, 3])
    uses_levels = L > 1 or rng.random() < 0.5
    ns = rng.randint(3, 5) if L < 3 else rng.randint(3, 4)
    mps = rng.randint(2, 4) if L < 3 else rng.randint(2, 3)
    c = {"nd": nd, "max_per_site": mps}
    c["districts"] = [{"id": f"D{i}", "name": f"Bezirk {i}", "pop": rng.randint(20, 400),
                       "existing": rng.choice([0, 0, 1, 2]),
                       "rect": (100.0 * i, 0.0, 100.0 * (i + 1), 100.0)} for i in range(nd)]
    # on a 10 m grid (with radii in whole tens) distances tie and hit the radius exactly
    snap = rng.random() < 0.4
    c["snap"] = snap

    def coord(lo, hi):
        return float(rng.randrange(int(lo) // 10 + 1, int(hi) // 10) * 10) if snap \
            else round(rng.uniform(lo, hi), 2)

    sites = []
    for i in range(ns):
        if i == ns - 1 and rng.random() < 0.2:
            x, y = 100.0 * nd + coord(5, 40), coord(5, 95)  # outside every district
        else:
            d = rng.randrange(nd)
            x, y = 100.0 * d + coord(3, 97), coord(3, 97)
        status = rng.choices(["candidate", "existing", "excluded"], [0.7, 0.15, 0.15])[0]
        cap = rng.randint(0, 5)
        s = {"id": f"S{i}", "x": x, "y": y, "capacity": cap, "status": status,
             "occupied": rng.randint(0, 2) if status == "existing" else 0,
             "min_places": rng.choice([None, None, None, 2, 3]),
             "cost": rng.choice([None, None] + list(range(1, 21)))}
        sites.append(s)
    if all(s["cost"] is None for s in sites) and rng.random() < 0.7:
        sites[0]["cost"] = 5
    c["sites"] = sites
    c["facilities"] = {
        "school": [{"id": f"G{i}", "x": coord(0, 100.0 * nd), "y": coord(0, 100),
                    "seats": rng.choice([None, 0, 1, 2, 3, 4])} for i in range(rng.randint(1, 3))],
        "kita": [{"id": f"K{i}", "x": coord(0, 100.0 * nd), "y": coord(0, 100)}
                 for i in range(rng.randint(1, 2))],
    }
    c["max_share"] = round(rng.uniform(0.005, 0.03), 4) if rng.random() < 0.3 else None
    metres = (lambda lo, hi: rng.randrange(lo, hi + 1, 10)) if snap else rng.randint
    if snap:  # radii that some pair of sites is exactly apart, where there is one
        whole = sorted({math.hypot(a["x"] - b["x"], a["y"] - b["y"]) for a in sites for b in sites
                        if a is not b} & set(range(10, 90, 10)))
        if whole and rng.random() < 0.8:
            metres = lambda lo, hi: rng.choice(whole)  # noqa: E731
    c["radius"] = ({"metres": metres(20, 70), "max_places": rng.randint(2, 5)}
                   if rng.random() < 0.4 else None)
    c["access"] = {"school": metres(40, 90)} if rng.random() < 0.3 else {}
    c["seats"] = ({"kind": "school", "per_place": rng.choice([0.5, 1.0])}
                  if rng.random() < 0.3 else None)
    # demand around the room there is, so that some cases place everything and some fall short
    room = sum(max(0, min(s["capacity"], mps) - s["occupied"]) for s in sites
               if s["status"] != "excluded")
    top = max(L + 1, room + 2)
    if uses_levels:
        lv = sorted(rng.sample(range(1, top + 1), L))
        c["levels"] = lv
        c["weights"] = ([round(rng.uniform(0.1, 2.0), 3) for _ in lv] if rng.random() < 0.5
                        else None)
    else:
        c["places"] = rng.randint(1, top)
    # a statistics table (German CSV) with a fair-share key and district rules over it
    c["stats"], c["district_rules"] = None, []
    if rng.random() < 0.35:
        c["stats"] = {"rate": [round(rng.uniform(0, 0.25), 3) for _ in range(nd)],
                      "key": rng.randrange(len(KEYS))}
        for i, d in enumerate(c["districts"]):
            d["id"] = f"0{i + 1}"  # the table says 1, 2, 3
        for _ in range(rng.choice([0, 1, 1, 2])):
            r = {"where": rng.choice(["`SGB II-Quote` > 0.12", "population < 200",
                                      "`SGB II-Quote` <= 0.1 or population >= 300"])}
            if rng.random() < 0.6:
                r["max_new"] = rng.randint(0, 3)
            if "max_new" not in r or rng.random() < 0.4:
                r["max_share"] = round(rng.uniform(0.003, 0.03), 4)
            c["district_rules"].append(r)
    free = rng.sample(FREE, rng.randint(0, 4))
    c["stages"] = ["shortfall", "evenness"] + free
    c["spread_metres"] = metres(20, 80) if rng.random() < 0.5 else None
    c["access_kinds"] = rng.choice([None, None, ["school"], ["kita"]])
    return c


def hand_city(districts, sites, **kw):
    """A hand-made city: districts as (pop, x1, x2) strips 100 m high; sites as dicts."""
    c = {"nd": len(districts), "max_per_site": 50, "snap": True,
         "districts": [{"id": f"D{i}", "name": f"Bezirk {i}", "pop": pop, "existing": 0,
                        "rect": (x1, 0.0, x2, 100.0)} for i, (pop, x1, x2) in enumerate(districts)],
         "sites": [{"id": f"S{i}", "status": "candidate", "occupied": 0, "min_places": None,
                    "cost": None, "y": 50.0, **s} for i, s in enumerate(sites)],
         "facilities": {"school": [{"id": "G0", "x": 0.0, "y": 0.0, "seats": None}],
                        "kita": [{"id": "K0", "x": 10.0, "y": 90.0}]},
         "max_share": None, "radius": None, "access": {}, "seats": None,
         "stages": ["shortfall", "evenness"], "spread_metres": None, "access_kinds": None,
         "stats": None, "district_rules": []}
    c.update(kw)
    if c["stats"]:
        for i, d in enumerate(c["districts"]):
            d["id"] = f"0{i + 1}"
    return c


# Hand-made cities with the figures worked out on paper (besides the brute force).
HAND = [
    # The price of nesting.  Two equal districts; in the first, site S0 takes 2 or nothing
    # (min 2) and S1 takes 1; in the second, S2 takes 1.  Alone, 2 places go (1, 1): D = 0.
    # But 3 places need S0 and S2, and places never move, so level 1 must already be S0 = 2:
    # (2, 0), D = 0.5, a price of 0.5.  Evenness = (T2/T1)*|2-1|*2 + |2-1.5| + |1-1.5|
    # = 1.5*2 + 1 = 4.
    ("price of nesting",
     hand_city([(100, 0, 100), (100, 100, 200)],
               [{"x": 20.0, "capacity": 2, "min_places": 2}, {"x": 60.0, "capacity": 1},
                {"x": 150.0, "capacity": 1}], levels=[2, 3], weights=None),
     {"stages": {"shortfall": 0.0, "evenness": 4.0},
      "levels": [{"dissimilarity": 0.5, "dissimilarity_alone": 0.0, "price_of_nesting": 0.5,
                  "sites_used": 1, "sites_opened": 1},
                 {"dissimilarity": 1 / 6, "dissimilarity_alone": 1 / 6, "price_of_nesting": 0.0,
                  "sites_used": 2, "sites_opened": 1}]}),
    # Spread: balls are centred on every candidate site, also one that cannot take places
    # (S1 has capacity 0), the radius is inclusive (S0 and S2 are exactly 30 m from S1), and
    # occupied places do not count (S4 holds 10, room 1).  5 places on S0, S2 (room 2 each),
    # S3 (1) and S4 (1): S0 + S2 >= 3, and the ball around S1 holds S0 and S2: the optimum is
    # 3 (it would be 2 without S1's ball or with an exclusive radius, 11 if occupied places
    # counted).
    ("spread: centre without room, inclusive radius, new places only",
     hand_city([(100, 0, 1000)],
               [{"x": 100.0, "capacity": 2}, {"x": 130.0, "capacity": 0},
                {"x": 160.0, "capacity": 2}, {"x": 500.0, "capacity": 1},
                {"x": 800.0, "capacity": 11, "status": "existing", "occupied": 10}],
               places=5, stages=["shortfall", "evenness", "spread"], spread_metres=30),
     {"stages": {"shortfall": 0.0, "evenness": 0.0, "spread": 3.0},
      "max_new_within_m": {"metres": 30, "places": 3}}),
    # Spread with levels: 2 then 4 places on four sites 100 m apart (room 2 each), radius
    # 150, so the balls are {S0,S1}, {S0,S1,S2}, {S1,S2,S3}, {S2,S3}.  Level 1: S0 = S3 = 1
    # (S = 1, the only way); level 2: S0 = S3 = 2 (S = 2; 1 on each site would put 3 in the
    # middle balls): Σ = 1 + 2 = 3.
    ("spread with levels",
     hand_city([(100, 0, 1000)],
               [{"x": 100.0, "capacity": 2}, {"x": 200.0, "capacity": 2},
                {"x": 300.0, "capacity": 2}, {"x": 400.0, "capacity": 2}],
               levels=[2, 4], weights=None, stages=["shortfall", "evenness", "spread"],
               spread_metres=150),
     {"stages": {"shortfall": 0.0, "evenness": 0.0, "spread": 3.0},
      "plan_levels": [{"S0": 1, "S3": 1}, {"S0": 2, "S3": 2}],
      "levels": [{"max_new_within_m": 1, "sites_opened": 2}, {"max_new_within_m": 2,
                                                              "sites_opened": 0}]}),
    # Seats with a tie: S0 at (50, 50) is exactly 50 m from G0 (20, 10) and from G1 (80, 90).
    # Ties go to the first facility in file order, G0, which has no seats left: S0 takes
    # nothing (shortfall 2).  S1 (x = 150) is nearer to G1 and takes 2 of the 4.
    ("seats: nearest facility tie goes to the first in file order",
     hand_city([(100, 0, 200)],
               [{"x": 50.0, "capacity": 2}, {"x": 150.0, "capacity": 2}],
               places=4, seats={"kind": "school", "per_place": 1.0},
               facilities={"school": [{"id": "G0", "x": 20.0, "y": 10.0, "seats": 0},
                                      {"id": "G1", "x": 80.0, "y": 90.0, "seats": 5}],
                           "kita": [{"id": "K0", "x": 10.0, "y": 90.0}]}),
     {"stages": {"shortfall": 2.0}, "plan": {"S1": 2}}),
    # A fair-share key from a statistics table (German CSV, windows-1252, decimal comma, ids
    # 1, 2 for "01", "02", a totals row): w = pop * (1 - 0.5 * rate) = 90 and 300, so 13
    # places are due 3 and 10; the district rule (rate > 0.12: at most 2 new places) holds in
    # the first district: (2, 11), evenness |2 - 3| + |11 - 10| = 2, worst 1.
    ("fair-share key and district rule from statistics",
     hand_city([(100, 0, 100), (300, 100, 200)],
               [{"x": 50.0, "capacity": 20}, {"x": 150.0, "capacity": 20}],
               places=13, stages=["shortfall", "evenness", "worst"],
               stats={"rate": [0.2, 0.0], "key": 0},
               district_rules=[{"where": "`SGB II-Quote` > 0.12", "max_new": 2}]),
     {"stages": {"shortfall": 0.0, "evenness": 2.0, "worst": 1.0},
      "plan": {"S0": 2, "S1": 11}}),
    # Access: the school at (0, 0); sites at x = 30 and x = 300 (y = 50), 1 place each wanted
    # of 2: both take 1, mean distance to the school (hypot(30,50)+hypot(300,50))/2.
    ("access", hand_city([(100, 0, 1000)],
                         [{"x": 30.0, "capacity": 2}, {"x": 300.0, "capacity": 2},
                          {"x": 600.0, "capacity": 2}],
                         places=2, stages=["shortfall", "evenness", "access"],
                         access_kinds=["school"]),
     {"stages": {"access": 2 * math.hypot(30, 50)},
      "mean_distance_m": {"school": math.hypot(30, 50)}}),
]


def check_expected(out, exp, path="", tol=1e-9):
    probs = []
    if isinstance(exp, dict):
        for k, v in exp.items():
            probs += check_expected(out.get(k) if isinstance(out, dict) else None, v,
                                    f"{path}.{k}", tol)
    elif isinstance(exp, list):
        if not isinstance(out, list) or len(out) != len(exp):
            return [f"{path}: {out!r} != {exp!r}"]
        for i, (o, e) in enumerate(zip(out, exp)):
            probs += check_expected(o, e, f"{path}[{i}]", tol)
    elif out is None or abs(out - exp) > tol * max(1.0, abs(exp)):
        probs.append(f"{path}: {out!r} != {exp!r}")
    return probs


def write_city(c, folder, demand_as_levels=None):
    """GeoJSON layers and scenario.toml; demand_as_levels: force `levels = [N]` for `places`."""
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}

    def fc(feats):
        return {"type": "FeatureCollection", "crs": crs, "features": feats}

    def pt(x, y):
        return {"type": "Point", "coordinates": [X0 + x, Y0 + y]}

    dists = []
    for d in c["districts"]:
        x1, y1, x2, y2 = d["rect"]
        ring = [[X0 + x1, Y0 + y1], [X0 + x2, Y0 + y1], [X0 + x2, Y0 + y2], [X0 + x1, Y0 + y2],
                [X0 + x1, Y0 + y1]]
        dists.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"id": d["id"], "name": d["name"], "population": d["pop"],
                                     "existing": d["existing"]}})
    sites = [{"type": "Feature", "geometry": pt(s["x"], s["y"]),
              "properties": {k: s[k] for k in ("id", "capacity", "status", "occupied",
                                               "min_places", "cost")}} for s in c["sites"]]
    files = {"districts": dists, "sites": sites}
    for k, fs in c["facilities"].items():
        files[k] = [{"type": "Feature", "geometry": pt(f["x"], f["y"]),
                     "properties": {kk: v for kk, v in f.items() if kk not in ("x", "y")}}
                    for f in fs]
    for name, feats in files.items():
        with open(os.path.join(folder, name + ".geojson"), "w") as f:
            json.dump(fc(feats), f)
    t = ['name = "tiny city"', "", "[input]", 'districts = "districts.geojson"',
         'sites = "sites.geojson"', "", "[input.facilities]"]
    t += [f'{k} = "{k}.geojson"' for k in c["facilities"]]
    if c.get("stats"):
        rows = ["Bezirk;Bevölkerung;SGB II-Quote"]
        for d, r in zip(c["districts"], c["stats"]["rate"]):
            rows.append(f"{int(d['id'])};{d['pop']};{r:.3f}".replace(".", ","))
        rows.append(f"Summe;{sum(d['pop'] for d in c['districts'])};")  # a totals row
        with open(os.path.join(folder, "statistik.csv"), "w", encoding="windows-1252") as f:
            f.write("\r\n".join(rows) + "\r\n")
        t += ["", "[input.statistics]", 'file = "statistik.csv"', 'key = "Bezirk"',
              'decimal = ","', 'encoding = "windows-1252"', "", "[fields.districts]",
              f'weight = "{KEYS[c["stats"]["key"]][0]}"']
    t += ["", "[demand]"]
    if "levels" in c:
        t.append(f"levels = {c['levels']}")
        if c["weights"] is not None:
            t.append(f"weights = {c['weights']}")
    elif demand_as_levels:
        t.append(f"levels = [{c['places']}]")
    else:
        t.append(f"places = {c['places']}")
    t += ["", "[rules]", f"max_per_site = {c['max_per_site']}"]
    if c["max_share"] is not None:
        t.append(f"max_share = {c['max_share']}")
    if c["radius"]:
        t.append(f"radius = {{ metres = {c['radius']['metres']}, "
                 f"max_places = {c['radius']['max_places']} }}")
    if c["access"]:
        t.append("access = { " + ", ".join(f"{k} = {v}" for k, v in c["access"].items()) + " }")
    if c["seats"]:
        t.append(f'seats = {{ kind = "{c["seats"]["kind"]}", per_place = {c["seats"]["per_place"]} }}')
    for r in c.get("district_rules", []):
        t += ["", "[[rules.district]]", f'where = "{r["where"]}"']
        t += [f"{k} = {r[k]}" for k in ("max_share", "max_new") if k in r]
    t += ["", "[objective]", "stages = [" + ", ".join(f'"{s}"' for s in c["stages"]) + "]"]
    if c["spread_metres"] is not None:
        t.append(f"spread_metres = {c['spread_metres']}")
    if c["access_kinds"] is not None:
        t.append("access_kinds = [" + ", ".join(f'"{k}"' for k in c["access_kinds"]) + "]")
    t += ["", "[solver]", "mip_gap = 0", "threads = 1", ""]
    path = os.path.join(folder, "scenario.toml")
    with open(path, "w") as f:
        f.write("\n".join(t))
    return path


# --------------------------------------------------------------------------- the model, by hand

class Model:
    """The rules and stage values of the model (docs/model.md) for one tiny city, in plain Python."""

    def __init__(self, c):
        self.c = c
        ds, ss = c["districts"], c["sites"]
        self.nd, self.ns = len(ds), len(ss)
        self.pop = [d["pop"] for d in ds]
        self.w = list(self.pop)  # weight = population, unless a key over the statistics
        st = c.get("stats")
        rate = st["rate"] if st else [0.0] * self.nd
        if st:
            self.w = [KEYS[st["key"]][1](p, r) for p, r in zip(self.pop, rate)]
        # share cap per district: a matching district rule's max_share (the smallest) replaces
        # the global one; max_new caps the new places (the smallest matching)
        self.share = [c["max_share"]] * self.nd
        self.max_new = [None] * self.nd
        ruled = [False] * self.nd
        for r in c.get("district_rules", []):
            for d in range(self.nd):
                p, q = self.pop[d], rate[d]
                hold = {"`SGB II-Quote` > 0.12": q > 0.12, "population < 200": p < 200,
                        "`SGB II-Quote` <= 0.1 or population >= 300": q <= 0.1 or p >= 300
                        }[r["where"]]
                if not hold:
                    continue
                if "max_share" in r:
                    self.share[d] = r["max_share"] if not ruled[d] else min(self.share[d],
                                                                              r["max_share"])
                    ruled[d] = True
                if "max_new" in r:
                    self.max_new[d] = r["max_new"] if self.max_new[d] is None else min(
                        self.max_new[d], r["max_new"])
        self.W = sum(self.w)
        # district of each site: the first rectangle (file order) that holds it, else None
        self.dist = []
        for s in ss:
            dd = None
            for i, d in enumerate(ds):
                x1, y1, x2, y2 = d["rect"]
                if x1 < s["x"] < x2 and y1 < s["y"] < y2:
                    dd = i
                    break
            self.dist.append(dd)
        # the rule-5 set: candidate or existing sites inside a district
        self.active = [self.dist[i] is not None and s["status"] in ("candidate", "existing")
                       for i, s in enumerate(ss)]
        self.occ = [s["occupied"] if self.active[i] and s["status"] == "existing" else 0
                    for i, s in enumerate(ss)]
        self.e = [d["existing"] for d in ds]
        for i in range(self.ns):
            if self.active[i]:
                self.e[self.dist[i]] += self.occ[i]
        # nearest facility per kind (distance, index; ties: first in file order)
        self.near = {}
        for k, fs in c["facilities"].items():
            res = []
            for s in ss:
                best = None
                for j, f in enumerate(fs):
                    dd = math.hypot(s["x"] - f["x"], s["y"] - f["y"])
                    if best is None or dd < best[0]:
                        best = (dd, j)
                res.append(best)
            self.near[k] = res
        # room: what rule 2 (cap, max_per_site, occupied) and rule 6 (access) leave
        self.room = []
        for i, s in enumerate(ss):
            r = 0
            if self.active[i] and all(self.near[k][i][0] <= dmax
                                      for k, dmax in c["access"].items()):
                r = max(0, min(s["capacity"], c["max_per_site"]) - self.occ[i])
            self.room.append(r)
        self.minp = [s["min_places"] or 0 for s in ss]
        self.cost = [s["cost"] or 0 for s in ss]
        self.has_cost = any(s["cost"] is not None for s in ss)
        kinds = c["access_kinds"] if c["access_kinds"] is not None else list(c["facilities"])
        self.kinds = kinds
        self.ecoef = [sum(self.near[k][i][0] for k in kinds) for i in range(self.ns)]
        self.rho = (c["spread_metres"] if c["spread_metres"] is not None
                    else c["radius"]["metres"] if c["radius"] else 500)

    def ball(self, i, r):
        """Sites within r metres of site i (the rule-5 set, i included)."""
        s = self.c["sites"][i]
        return [j for j, t in enumerate(self.c["sites"])
                if self.active[j] and math.hypot(s["x"] - t["x"], s["y"] - t["y"]) <= r]

    def centres(self):
        return [i for i in range(self.ns) if self.active[i]]

    def feasible(self, x, N):
        """Rules 1-7 for a plan x (new places per site) at demand N."""
        c = self.c
        if sum(x) > N:
            return False
        for i in range(self.ns):
            if x[i] < 0 or x[i] > self.room[i]:
                return False
            if x[i] > 0 and x[i] < self.minp[i]:
                return False
        a = self.alloc(x)
        for d in range(self.nd):
            if self.share[d] is not None and a[d] > max(self.share[d] * self.pop[d],
                                                        self.e[d]) + 1e-9:
                return False
            if self.max_new[d] is not None and a[d] - self.e[d] > self.max_new[d]:
                return False
        if c["radius"]:
            R, r = c["radius"]["max_places"], c["radius"]["metres"]
            for i in self.centres():
                b = self.ball(i, r)
                o = sum(self.occ[j] for j in b)
                if o + sum(x[j] for j in b) > max(R, o) + 1e-9:
                    return False
        if c["seats"]:
            k, kap = c["seats"]["kind"], c["seats"]["per_place"]
            for j, f in enumerate(c["facilities"][k]):
                if f.get("seats") is None:
                    continue
                served = [i for i in range(self.ns) if self.active[i] and self.near[k][i][1] == j]
                o = sum(kap * self.occ[i] for i in served)
                if o + sum(kap * x[i] for i in served) > max(f["seats"], o) + 1e-9:
                    return False
        return True

    def alloc(self, x):
        a = list(self.e)
        for i in range(self.ns):
            if x[i]:
                a[self.dist[i]] += x[i]
        return a

    def values(self, x, N):
        """Stage values of a single-level plan at demand N (unscaled)."""
        T = N + sum(self.e)
        a = self.alloc(x)
        dev = [abs(a[d] - T * self.w[d] / self.W) for d in range(self.nd)]
        spread = max([sum(x[j] for j in self.ball(i, self.rho)) for i in self.centres()] or [0])
        return {"shortfall": N - sum(x), "evenness": sum(dev), "worst": max(dev),
                "spread": spread, "access": sum(x[i] * self.ecoef[i] for i in range(self.ns)),
                "cost": sum(x[i] * self.cost[i] for i in range(self.ns))}

    def D(self, x):
        a = self.alloc(x)
        A = sum(a)
        return 0.5 * sum(abs(a[d] / A - self.w[d] / self.W) for d in range(self.nd)) if A else None


def lexicographic(vals, stages):
    """vals: stage -> array over candidates.  Returns the optima and the surviving mask."""
    keep = np.ones(len(next(iter(vals.values()))), dtype=bool)
    opt = {}
    for st in stages:
        v = vals[st]
        o = float(v[keep].min())
        opt[st] = o
        keep &= v <= o + TOL * max(1.0, abs(o))
    return opt, keep


def brute(m, levels, weights, stages):
    """Every nested chain of feasible plans; returns (optima, number of chains, chains, vals)."""
    L = len(levels)
    T = [N + sum(m.e) for N in levels]
    plans = list(itertools.product(*[range(r + 1) for r in m.room]))
    feas = [[p for p in plans if m.feasible(p, N)] for N in levels]
    vals_of = [{p: m.values(p, N) for p in feas[l]} for l, N in enumerate(levels)]
    chains = [(p,) for p in feas[0]]
    for l in range(1, L):
        nxt = set(feas[l])
        chains = [ch + (q,) for ch in chains for q in
                  itertools.product(*[range(v, r + 1) for v, r in zip(ch[-1], m.room)])
                  if q in nxt]
    if not chains:
        return None, 0, [], {}
    scale = {"evenness": True, "worst": True}
    vals = {}
    for st in ["shortfall", "evenness", "worst", "spread", "access", "cost"]:
        vals[st] = np.array([sum(weights[l] * (T[-1] / T[l] if st in scale else 1.0)
                                 * vals_of[l][ch[l]][st] for l in range(L)) for ch in chains])
    run = [s for s in stages if s != "cost" or m.has_cost]
    opt, _ = lexicographic(vals, run)
    return opt, len(chains), chains, vals


# --------------------------------------------------------------------------- one case

def close(a, b, tol=TOL):
    return abs(a - b) <= tol * max(1.0, abs(a))


def check_case(c, folder, verbose=False, expected=None):
    """Returns (list of problems, number of chains enumerated)."""
    probs = []
    path = write_city(c, folder)
    out, xs, D = reference.run(path, quiet=True, highs_options=HIGHS)
    if expected is not None:
        probs += check_expected(out, expected)
    m = Model(c)
    levels = c.get("levels") or [c["places"]]
    weights = c.get("weights") or [1.0] * len(levels)
    stages = c["stages"]
    opt, nchains, chains, vals = brute(m, levels, weights, stages)
    if opt is None:
        return ["brute force found no feasible plan (cannot happen: x = 0 is feasible)"], 0, {}
    # 1. the stage optima
    if set(opt) != set(out["stages"]):
        probs.append(f"stages run: brute {sorted(opt)} vs reference {sorted(out['stages'])}")
    for st, o in opt.items():
        p = out["stages"].get(st)
        if p is None or not close(o, p):
            probs.append(f"stage {st}: brute {o!r} vs reference {p!r}")
    # 2. the reference's plan keeps every rule and the nesting, and attains the optima
    ids = [s["id"] for s in c["sites"]]
    if D.ids != ids:
        probs.append(f"site order {D.ids} != {ids}")
    plan = [tuple(int(v) for v in x) for x in xs]
    for l, N in enumerate(levels):
        if not m.feasible(plan[l], N):
            probs.append(f"level {l + 1}: the reference's plan {plan[l]} breaks a rule")
        if l and any(a < b for a, b in zip(plan[l], plan[l - 1])):
            probs.append(f"level {l + 1}: plan {plan[l]} is not nested in {plan[l - 1]}")
    if tuple(plan) in set(chains):
        k = chains.index(tuple(plan))
        for st, o in opt.items():
            if vals[st][k] > o + TOL * max(1.0, abs(o)) + 1e-9:
                probs.append(f"plan value of {st} {vals[st][k]!r} above the optimum {o!r}")
    else:
        probs.append(f"the reference's plan {plan} is not among the feasible chains")
    # 3. the figures
    for l, N in enumerate(levels):
        x = plan[l]
        fig = {"places": N, "placed": sum(x), "shortfall": N - sum(x),
               "sites_used": sum(1 for v in x if v > 0),
               "sites_opened": sum(1 for i, v in enumerate(x)
                                   if v > 0 and (l == 0 or plan[l - 1][i] == 0))}
        if "levels" in c:
            got = out["levels"][l]
            for k, v in fig.items():
                if got[k] != v:
                    probs.append(f"level {l + 1}: {k} {got[k]} != {v}")
            Dl = m.D(x)
            if (Dl is None) != (got["dissimilarity"] is None) or (
                    Dl is not None and not close(Dl, got["dissimilarity"], 1e-9)):
                probs.append(f"level {l + 1}: dissimilarity {got['dissimilarity']} != {Dl}")
            # the best plan for the level alone: shortfall, then evenness
            alone = [p for p in itertools.product(*[range(r + 1) for r in m.room])
                     if m.feasible(p, N)]
            av = {st: np.array([m.values(p, N)[st] for p in alone])
                  for st in ("shortfall", "evenness")}
            _, keep = lexicographic(av, ["shortfall", "evenness"])
            Ds = [m.D(p) for p, k in zip(alone, keep) if k]
            Ds = [d for d in Ds if d is not None]
            da = got["dissimilarity_alone"]
            if Ds and (da is None or not (min(Ds) - 1e-9 <= da <= max(Ds) + 1e-9)):
                probs.append(f"level {l + 1}: dissimilarity_alone {da} not in [{min(Ds)}, {max(Ds)}]")
            if Ds and da is not None and got["price_of_nesting"] is not None and not close(
                    got["price_of_nesting"], got["dissimilarity"] - da, 1e-12):
                probs.append(f"level {l + 1}: price_of_nesting is not D - D alone")
            if got["weight"] != weights[l]:
                probs.append(f"level {l + 1}: weight {got['weight']} != {weights[l]}")
        elif l == len(levels) - 1:
            for k in ("placed", "shortfall", "sites_used"):
                if out[k] != fig[k]:
                    probs.append(f"{k} {out[k]} != {fig[k]}")
    xL = plan[-1]
    if "spread" in stages or "access" in stages:
        v = m.values(xL, levels[-1])
        mw = out["max_new_within_m"]
        if mw["metres"] != m.rho or mw["places"] != v["spread"]:
            probs.append(f"max_new_within_m {mw} != metres {m.rho}, places {v['spread']}")
        tot = sum(xL)
        for k in m.kinds:
            want = (sum(xL[i] * m.near[k][i][0] for i in range(m.ns)) / tot) if tot else None
            got = out["mean_distance_m"].get(k)
            if (want is None) != (got is None) or (want is not None and not close(want, got, 1e-9)):
                probs.append(f"mean_distance_m[{k}] {got} != {want}")
    exp_plan = {ids[i]: v for i, v in enumerate(xL) if v > 0}
    if out["plan"] != exp_plan:
        probs.append(f"plan {out['plan']} != {exp_plan}")
    if "levels" in c and out["plan_levels"] != [{ids[i]: v for i, v in enumerate(x) if v > 0}
                                                 for x in plan]:
        probs.append("plan_levels do not match the plan per level")
    # 4. one level: levels = [N] is places = N, exactly
    if "places" in c:
        path1 = write_city(c, folder, demand_as_levels=True)
        out1, _, _ = reference.run(path1, quiet=True, highs_options=HIGHS)
        if out1["stages"] != out["stages"]:
            probs.append(f"levels = [N] {out1['stages']} != places = N {out['stages']}")
        if out1["plan"] != out["plan"]:
            probs.append("levels = [N] gives another plan than places = N")
    if verbose:
        print(json.dumps({"case": c, "brute": opt, "reference": out["stages"],
                          "chains": nchains}), file=sys.stderr)
    # what the case exercised
    pts = [(s["x"], s["y"]) for s in c["sites"]]
    dists = {math.hypot(a[0] - b[0], a[1] - b[1]) for a in pts for b in pts if a != b}
    radii = {m.rho} | ({c["radius"]["metres"]} if c["radius"] else set())
    flags = {
        "shortfall": any(v > 0 for v in [levels[l] - sum(plan[l]) for l in range(len(levels))]),
        "price_of_nesting": any((e["price_of_nesting"] or 0) > 1e-9
                                for e in out.get("levels", [])),
        "distance_on_radius": bool(dists & radii),
        "facility_tie": any(
            sum(1 for f in fs if math.hypot(s["x"] - f["x"], s["y"] - f["y"]) == m.near[k][i][0]) > 1
            for k, fs in c["facilities"].items() for i, s in enumerate(c["sites"])),
        "statistics": bool(c.get("stats")),
        "district_rules": bool(c.get("district_rules")),
        "spread_centre_without_room": "spread" in stages and any(
            m.active[i] and m.room[i] == 0 for i in range(m.ns)),
    }
    return probs, nchains, flags


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="write the failing cases into this folder (city.json, the "
                                   "layers and scenario.toml)")
    ap.add_argument("--replay", help="check only the case in this city.json (from --keep)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    bad = 0
    if a.replay:
        with open(a.replay) as f:
            c = json.load(f)
        for d in c["districts"]:
            d["rect"] = tuple(d["rect"])
        with tempfile.TemporaryDirectory() as tmp:
            probs, nch, flags = check_case(c, tmp, True)
        print(f"{nch} plans/chains; {flags}; " + ("; ".join(probs) or "agrees"), file=sys.stderr)
        sys.exit(1 if probs else 0)
    stats = {"levels": 0, "places": 0, "chains": 0, "stage_checks": 0}
    seen = {st: 0 for st in FREE}
    exercised = {}
    for n, (name, c, exp) in enumerate(HAND):
        with tempfile.TemporaryDirectory() as tmp:
            probs, nch, _ = check_case(c, tmp, a.verbose, expected=exp)
        if probs:
            bad += 1
            print(f"hand-made case {n} ({name}): " + "; ".join(probs), file=sys.stderr)
    print(f"{len(HAND)} hand-made cases checked", file=sys.stderr)
    for n in range(a.cases):
        c = make_city(rng)
        with tempfile.TemporaryDirectory() as tmp:
            probs, nch, flags = check_case(c, tmp, a.verbose)
            for k, v in flags.items():
                exercised[k] = exercised.get(k, 0) + int(v)
            if probs and a.keep:
                dst = os.path.join(a.keep, f"case{n}")
                os.makedirs(dst, exist_ok=True)
                write_city(c, dst)
                with open(os.path.join(dst, "city.json"), "w") as f:
                    json.dump(c, f, indent=1)
        stats["levels" if "levels" in c else "places"] += 1
        stats["chains"] += nch
        stats["stage_checks"] += len(c["stages"])
        for st in c["stages"][2:]:
            seen[st] += 1
        if probs:
            bad += 1
            print(f"case {n} (seed {a.seed}): " + "; ".join(probs), file=sys.stderr)
    print(f"{a.cases} cases ({stats['places']} with places, {stats['levels']} with levels), "
          f"{stats['chains']} plans/chains enumerated, stages after shortfall/evenness: {seen}; "
          f"cases with {exercised}; {bad} disagree", file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
