"""The plugin's scenario writer and merge rules, without QGIS: what it writes is TOML that
reads back to the same values (umlauts, quotes, backslashes of Windows paths, keys that
need quotes, small floats, inline tables, arrays of tables), with the contract's key
names; the form's values win over a scenario file's, 0 switches a rule off, and lists
are read strictly.

Usage: python3 plugin_scenario.py PLUGIN_ZIP WORK_DIR
"""

import os
import sys
import tomllib
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402


def main():
    zip_path, work = sys.argv[1:3]
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(work)
    sys.path.insert(0, work)
    from quartier_processing import scenario as sc

    data = {
        "name": 'Musterstadt – "Süd" \\ Nord\tTab',
        "input": {
            "districts": "C:\\Daten\\Stadtteile.geojson",
            "sites": "inputs/sites.geojson",
            "facilities": {"Grundschule Süd": "inputs/facility_grundschule.geojson", "kita": "k.geojson"},
            "statistics": {"file": "stats.csv", "key": "Nr", "decimal": ","},
            "network": "Straßen.gpkg#Straßen",
        },
        "network": {"max_snap_m": 450, "routes": False},
        "fields": {"districts": {"id": "BEZ_NR", "weight": "pop * (1 - 0.5 * sgb2_rate)"}},
        "demand": {"levels": [1000, 2000, 3000], "weights": [0.5, 0.3, 0.2]},
        "rules": {
            "max_per_site": 50,
            "max_share": 0.015,
            "radius": {"metres": 500, "max_places": 100},
            "access": {"Grundschule Süd": 1500, "kita": 600.5},
            "seats": {"kind": "kita", "per_place": 0.25},
            "district": [{"where": "sgb2_rate > 0.12", "max_share": 0.005},
                         {"where": "`Anteil Ü65` > 0.3", "max_new": 40}],
        },
        "objective": {"stages": ["shortfall", "evenness", "spread", "access", "worst", "cost"],
                      "spread_metres": 500, "access_kinds": ["kita"]},
        "solver": {"time_limit_s": 60.0, "mip_gap": 1e-06, "threads": 0},
        "output": {"dir": "plan"},
    }
    text = sc.to_toml(data, ["quartier scenario written by the QGIS plugin", "zweite Zeile"])
    h.check(tomllib.loads(text) == data, "the scenario written reads back to the same values")
    h.check(text.startswith(sc.MARKER + "\n# zweite Zeile\n"), "the header starts with the plugin's marker")
    for line in ('radius = { metres = 500, max_places = 100 }', '"Grundschule Süd" = 1500',
                 "[[rules.district]]", "[input.facilities]", "levels = [1000, 2000, 3000]",
                 "weights = [0.5, 0.3, 0.2]", 'access_kinds = ["kita"]', "spread_metres = 500",
                 "mip_gap = 1e-06", '[fields.districts]'):
        if line not in text:
            h.fail("the scenario lacks the line %r:\n%s" % (line, text))
    h.check(True, "the contract's keys and the inline tables of its examples are used")
    order = [text.index("[" + t) for t in ("input]", "network]", "fields.districts]", "demand]",
                                              "rules]", "objective]", "solver]", "output]")]
    h.check(order == sorted(order), "the tables come in the contract's order")

    base = {"name": "Basis", "demand": {"places": 2300},
            "rules": {"max_per_site": 50, "max_share": 0.015, "radius": {"metres": 500, "max_places": 100},
                      "access": {"school": 1500, "transit": 600}},
            "solver": {"time_limit_s": 30}}
    merged = sc.merge(base, {"name": None,
                             "rules": {"max_per_site": 40, "max_share": sc.REMOVE,
                                       "radius": {"metres": None, "max_places": 80},
                                       "access": {"school": 1200}},
                             "solver": {"time_limit_s": sc.REMOVE}, "objective": {"stages": None}})
    h.check(merged == {"name": "Basis", "demand": {"places": 2300},
                       "rules": {"max_per_site": 40, "radius": {"metres": 500, "max_places": 80},
                                 "access": {"school": 1200, "transit": 600}},
                       "solver": {}},
            "form values win key by key, empty ones keep the file's, 0 (REMOVE) drops a rule")
    h.check(base["rules"]["max_share"] == 0.015, "the scenario read is not changed by merging")

    levels = sc.apply_demand({"demand": {"places": 2300}}, None, [1000, 2000], [0.7, 0.3])
    h.check(levels["demand"] == {"levels": [1000, 2000], "weights": [0.7, 0.3]},
            "levels from the form replace the file's places")
    places = sc.apply_demand({"demand": {"levels": [1, 2], "weights": [0.5, 0.5]}}, 900, None, None)
    h.check(places["demand"] == {"places": 900}, "places from the form replace the file's levels and weights")
    for args, expected in (((None, [1, 2], [1.0]), "1 weights for 2 demand levels"),
                           ((None, None, None), "the demand is missing"),
                           ((5, [1], None), "not both")):
        try:
            sc.apply_demand({}, *args)
            h.fail("apply_demand%r did not fail" % (args,))
        except sc.ScenarioError as error:
            h.check(expected in str(error), "apply_demand%r: %s" % (args, error))

    h.check(sc.parse_whole_numbers(" 1000, 2000 3000 ", "levels") == [1000, 2000, 3000]
            and sc.parse_whole_numbers("1000; 2000;3000", "levels") == [1000, 2000, 3000]
            and sc.parse_numbers("0.5, 0.3, 0.2", "w") == [0.5, 0.3, 0.2]
            and sc.parse_whole_numbers("", "levels") is None,
            "lists divided by commas, semicolons or spaces")
    for text_, parse in (("1.000, 2.000", sc.parse_whole_numbers), ("0,5; 0,3", sc.parse_numbers),
                         ("1e400", sc.parse_numbers)):
        try:
            h.fail("%r was read as %r" % (text_, parse(text_, "x")))
        except sc.ScenarioError as error:
            h.check(True, "%r is refused: %s" % (text_, error))

    h.check(sc.parse_stages("worst, cost") == ["shortfall", "evenness", "worst", "cost"]
            and sc.parse_stages("shortfall, evenness, spread") == ["shortfall", "evenness", "spread"]
            and sc.parse_stages("fair, worst, cost") == ["shortfall", "evenness", "fair", "worst", "cost"]
            and sc.parse_stages("none") == ["shortfall", "evenness"] and sc.parse_stages(" ") is None,
            "stages after shortfall and evenness")
    for bad in ("worst, worst", "fairness", "cost, evenness"):
        try:
            sc.parse_stages(bad)
            h.fail("stages %r accepted" % bad)
        except sc.ScenarioError as error:
            h.check(True, "stages %r refused: %s" % (bad, error))

    h.check(sc.kind_name("Grundschulen Süd") == "grundschulen_süd" and sc.file_stem("grundschulen_süd") == "grundschulen_s_d"
            and sc.relative_or_absolute(os.path.join(work, "D", "inputs", "a.geojson"), os.path.join(work, "D")) == "inputs/a.geojson",
            "kinds from layer names, ASCII file names, paths relative to the output folder")
    h.check(sc.get_path({"input": {"facilities": {"a.b": "x"}}}, "input.facilities.a.b") == "x",
            "facility kinds with dots are one key")
    h.check(sc.input_files(data) == [
        ("input.districts", "C:\\Daten\\Stadtteile.geojson"), ("input.sites", "inputs/sites.geojson"),
        ("input.network", "Straßen.gpkg#Straßen"),
        ("input.facilities.Grundschule Süd", "inputs/facility_grundschule.geojson"),
        ("input.facilities.kita", "k.geojson"), ("input.statistics.file", "stats.csv")],
            "the input files of a scenario include the street network")


main()
