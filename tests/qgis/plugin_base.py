"""Plan places started from a scenario file (scenarios/tight_market.toml): its values are
the defaults, the form's win; the layers it names are handed over unchanged; the plan is
the one quartier makes of the same scenario written by hand. Then a run started from the
plugin's own scenario.toml into the same folder (its inputs/ are read before they are
replaced).

Usage: python3 plugin_base.py PLUGIN_ZIP WORK_DIR QUARTIER
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import NULL  # noqa: E402


def main():
    zip_path, work, binary = sys.argv[1:4]
    h.start(zip_path, work, binary)
    base = os.path.join(h.SCENARIOS, "tight_market.toml")
    base_hash = h.file_hash(base)
    output = os.path.join(work, "enger Markt")
    results, feedback = h.run("quartier:planplaces", {
        "BASE_SCENARIO": base, "NAME": "Enger Markt – 3000", "PLACES": 3000, "MAX_SHARE": 0.02,
        "KIND_1": "school", "ACCESS_1": 1200, "STAGES": "worst", "TIME_LIMIT": 120,
        "OUTPUT": output}, load=False)
    written = h.read_toml(os.path.join(output, "scenario.toml"))
    h.check(written["name"] == "Enger Markt – 3000" and written["demand"] == {"places": 3000}
            and written["rules"] == {"max_per_site": 50, "max_share": 0.02,
                                     "access": {"school": 1200, "transit": 600}}
            # The stages are the form's; the file's access_kinds stay (unused without access).
            and written["objective"] == {"stages": ["shortfall", "evenness", "worst"],
                                         "access_kinds": ["school", "kita"]}
            and written["solver"] == {"time_limit_s": 120},
            "the form's values win over the file's, the others stay: %s, %s"
            % (written["rules"], written.get("objective")))
    copies = {
        written["input"]["districts"]: "districts.geojson",
        written["input"]["sites"]: "sites.geojson",
        written["input"]["facilities"]["school"]: "schools.geojson",
        written["input"]["facilities"]["kita"]: "kitas.geojson",
        written["input"]["facilities"]["transit"]: "stops.geojson",
    }
    h.check(all(h.file_hash(os.path.join(output, path)) == h.file_hash(os.path.join(h.DEMO, original))
                for path, original in copies.items()),
            "the layers the file names are handed over unchanged: %s" % ", ".join(sorted(copies)))
    h.check(h.file_hash(base) == base_hash, "the scenario file started from is unchanged")
    h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(output, "plan", "sites.geojson"))

    by_hand = os.path.join(work, "by hand.toml")
    with open(by_hand, "w", encoding="utf-8") as handle:
        handle.write(
            'name = "by hand"\n[input]\ndistricts = "{d}/districts.geojson"\nsites = "{d}/sites.geojson"\n'
            '[input.facilities]\nschool = "{d}/schools.geojson"\nkita = "{d}/kitas.geojson"\n'
            'transit = "{d}/stops.geojson"\n[demand]\nplaces = 3000\n[rules]\nmax_per_site = 50\n'
            "max_share = 0.02\naccess = {{ school = 1200, transit = 600 }}\n"
            '[objective]\nstages = ["shortfall", "evenness", "worst"]\n'.format(d=h.DEMO))
    done = h.quartier(binary, "solve", by_hand, "--out", os.path.join(work, "by hand"), "--quiet")
    h.check(done.returncode == 0, "quartier solves the same scenario written by hand " + done.stderr)
    h.verify(binary, by_hand, os.path.join(work, "by hand", "sites.geojson"))
    expected = h.read_json(os.path.join(work, "by hand", "summary.json"))
    summary = h.read_json(os.path.join(output, "plan", "summary.json"))
    h.check(all(summary[k] == expected[k] for k in ("placed", "shortfall", "sites_used", "shortfall_reasons"))
            and abs(summary["dissimilarity"] - expected["dissimilarity"]) < 1e-9
            and summary["stages"] == expected["stages"],
            "the plan is quartier's for that scenario: placed %d, shortfall %d (%s), D = %.4f" % (
                summary["placed"], summary["shortfall"], summary["shortfall_reasons"], summary["dissimilarity"]))
    h.check(results["SHORTFALL"] == expected["shortfall"] and results["STATUS"] == "optimal",
            "the outputs report the shortfall")

    # Again from the plugin's own scenario, into the same folder.
    inputs_before = {n: h.file_hash(os.path.join(output, "inputs", n))
                     for n in os.listdir(os.path.join(output, "inputs"))}
    # Empty fields as the dialog gives them (None, NULL for field pickers, '' for text) keep
    # the file's values, unlike a 0.
    results, _ = h.run("quartier:planplaces", {
        "BASE_SCENARIO": os.path.join(output, "scenario.toml"), "PLACES": 2500, "OUTPUT": output,
        "MAX_SHARE": None, "TIME_LIMIT": None, "MAX_PER_SITE": None, "DISTRICT_ID": NULL,
        "SITE_CAPACITY": NULL, "NAME": "", "STAGES": "", "LEVELS": ""}, load=False)
    again = h.read_toml(os.path.join(output, "scenario.toml"))
    inputs_after = {n: h.file_hash(os.path.join(output, "inputs", n))
                    for n in os.listdir(os.path.join(output, "inputs"))}
    h.check(results["PLACED"] + results["SHORTFALL"] == 2500 and again["name"] == "Enger Markt – 3000"
            and again["rules"] == written["rules"] and again["solver"] == {"time_limit_s": 120}
            and inputs_after == inputs_before,
            "a run from the folder's own scenario.toml into the same folder keeps its inputs")
    h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(output, "plan", "sites.geojson"))
    h.exit_qgis()


main()
