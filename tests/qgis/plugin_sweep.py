"""Sweep scenarios from the Processing toolbox: a scenario file of the demo city, demand
1500 and 2300 against 30 and 50 places per site (4 runs).

Checks: sweep.csv comes into the project as a table with one row per run and the varied
keys as fields; the page with the curves is the result; the figures are quartier's own
(a row equals `quartier solve` of its run); a value the scenario refuses fails with
quartier's message, naming the run.

Usage: python3 plugin_sweep.py PLUGIN_ZIP WORK_DIR QUARTIER
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import QgsProject  # noqa: E402


def main():
    zip_path, work, binary = sys.argv[1:4]
    h.start(zip_path, work, binary)
    scenario = os.path.join(work, "Münster Szenario.toml")
    with open(scenario, "w", encoding="utf-8") as handle:
        handle.write(
            'name = "Münster-Regel"\n[input]\ndistricts = "{d}/districts.geojson"\n'
            'sites = "{d}/sites.geojson"\n[demand]\nplaces = 2300\n[rules]\nmax_per_site = 50\n'
            .format(d=h.DEMO))
    output = os.path.join(work, "Szenarien")
    results, feedback = h.run("quartier:sweepscenarios", {
        "SCENARIO": scenario, "KEY_1": 0, "VALUES_1": "1500, 2300",
        "KEY_2": 1, "VALUES_2": "30,50", "OUTPUT": output})
    h.check(results["RUNS"] == 4, "the sweep has 4 runs")
    layers = [layer for layer in QgsProject.instance().mapLayers().values()
              if layer.name() == "Münster-Regel – sweep"]
    h.check(len(layers) == 1 and layers[0].featureCount() == 4,
            "sweep.csv is in the project as the table \"Münster-Regel – sweep\" with 4 rows")
    fields = [f.name() for f in layers[0].fields()]
    h.check(fields[:4] == ["demand.places", "rules.max_per_site", "status", "placed"],
            "its fields start with the varied keys: %s" % fields[:4])
    page = h.read_text(results["PAGE"])
    h.check(page.count("<svg") == 4 and "Segregationsindex D" in page,
            "the result page has the four charts")
    # The row of 2300 places and 50 per site is quartier solve's plan of the scenario.
    done = h.quartier(binary, "solve", scenario, "--out", os.path.join(work, "allein"), "--quiet")
    h.check(done.returncode == 0, "quartier solves the scenario alone")
    h.verify(binary, scenario, os.path.join(work, "allein", "sites.geojson"))
    alone = h.read_json(os.path.join(work, "allein", "summary.json"))
    rows = h.read_json(os.path.join(output, "sweep.json"))["runs"]
    row = [r for r in rows if r["values"] == {"demand.places": 2300, "rules.max_per_site": 50}][0]
    h.check(all(row[k] == alone[k] for k in ("placed", "dissimilarity", "sites_used", "worst_district")),
            "the row of 2300 places and 50 per site equals quartier solve of the scenario")

    message, _ = h.run_failing("quartier:sweepscenarios", {
        "SCENARIO": scenario, "KEY_1": 1, "VALUES_1": "30,-5",
        "OUTPUT": os.path.join(work, "falsch")})
    h.check("run 2 of 2 (rules.max_per_site = -5)" in message and "exit code 2" in message,
            "a refused value fails with quartier's message naming the run: "
            + message.splitlines()[1])
    h.exit_qgis()


main()
