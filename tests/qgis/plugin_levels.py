"""Demand levels with weights, and the objective stages spread and access, from the form.

The scenario written always uses the contract's keys ([demand] levels, weights;
[objective] stages, spread_metres, access_kinds); that is checked on every run. A quartier
that does not know a key yet rejects it with exit code 2 ("unknown key", "unknown
stage"): then the solve part of that run prints SKIP and the test passes, so that it
starts to test the solve as soon as the binary knows the keys. Any other failure fails.

Usage: python3 plugin_levels.py PLUGIN_ZIP WORK_DIR QUARTIER
"""

import os
import sys
import tomllib

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import QgsProcessingException, QgsVectorLayer, QgsProject  # noqa: E402

NOT_YET = ('unknown key "levels"', 'unknown key "weights"', 'unknown key "spread_metres"',
           'unknown key "access_kinds"', 'unknown stage "spread"', 'unknown stage "access"')


def scenario_in(feedback):
    """The scenario.toml the plugin wrote, as it shows it in the log (one message)."""
    for message in feedback.lines:
        if message.startswith("scenario.toml:\n"):
            return tomllib.loads(message[len("scenario.toml:\n"):])
    h.fail("the log does not show the scenario:\n" + feedback.log())


def attempt(what, parameters, binary):
    """Runs Plan places; returns (results, feedback), or None when quartier does not know
    a key of the contract yet."""
    feedback = h.Recorder()
    try:
        results, _ = h.run("quartier:planplaces", parameters, feedback=feedback)
        return results, feedback
    except QgsProcessingException as error:
        message = str(error)
        if any(m in message for m in NOT_YET) and "exit code 2" in message:
            return None, feedback
        h.fail("%s failed: %s\n%s" % (what, message, feedback.log()))


def main():
    zip_path, work, binary = sys.argv[1:4]
    h.start(zip_path, work, binary)
    layers = h.demo_layers(work)
    skipped = []

    # Levels with weights.
    output = os.path.join(work, "Stufen")
    results, feedback = attempt("levels", h.demo_parameters(
        layers, output, PLACES=None, LEVELS="1000, 2000, 3000", WEIGHTS="0.5, 0.3, 0.2"), binary)
    written = scenario_in(feedback)
    h.check(written["demand"] == {"levels": [1000, 2000, 3000], "weights": [0.5, 0.3, 0.2]}
            and written["name"] == "Plan for 1000/2000/3000 places (levels)",
            "the scenario has [demand] levels = [1000, 2000, 3000] and weights = [0.5, 0.3, 0.2]")
    if results is None:
        skipped.append("levels: this quartier does not accept [demand] levels yet: " + (feedback.errors or ["its error is in the exception"])[0])
        h.check(not os.path.exists(output), "…it failed cleanly, without an output folder")
    else:
        summary = h.read_json(os.path.join(output, "plan", "summary.json"))
        h.check([level["places"] for level in summary["levels"]] == [1000, 2000, 3000]
                and [level["weight"] for level in summary["levels"]] == [0.5, 0.3, 0.2],
                "summary.json reports the three levels with their weights")
        sites = h.read_json(os.path.join(output, "plan", "sites.geojson"))["features"]
        h.check(all(all(k in f["properties"] for k in ("level", "places_1", "places_2", "places_3"))
                    for f in sites)
                and all(f["properties"]["places_1"] <= f["properties"]["places_2"] <= f["properties"]["places_3"]
                        for f in sites),
                "sites carry level and places_1..3, nested level by level")
        h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(output, "plan", "sites.geojson"))
        names = h.project_layers()
        kind, _ = h.renderer_summary(names["Plan for 1000/2000/3000 places (levels) – sites"])
        h.check(kind == "categorizedSymbol", "the levels plan is in the project, styled")
        h.check(results["LEVELS_PLACED"] == "1000, 2000, 3000"
                and len(results["LEVELS_DISSIMILARITY"].split(", ")) == 3
                and "Level 2: 2000 of 2000 places placed" in feedback.log(),
                "the outputs and the log give the figures of every level")

    # Stages spread and access.
    schools = QgsVectorLayer(os.path.join(h.DEMO, "schools.geojson"), "Schulen", "ogr")
    QgsProject.instance().addMapLayer(schools)
    output = os.path.join(work, "Streuung")
    results, feedback = attempt("spread and access", h.demo_parameters(
        layers, output, FACILITY_1=schools, KIND_1="school", FACILITY_2=layers["Kitas"], KIND_2="kita",
        STAGES="worst, access, spread, cost", SPREAD_METRES=500, ACCESS_KINDS="school"), binary)
    written = scenario_in(feedback)
    # Access before spread: on the demo city, with its row houses (all or nothing), access
    # or cost after spread is a hard integer program of minutes; this order solves in a second.
    h.check(written["objective"] == {"stages": ["shortfall", "evenness", "worst", "access", "spread", "cost"],
                                     "spread_metres": 500, "access_kinds": ["school"]},
            "the scenario has [objective] stages with spread and access, spread_metres = 500, "
            "access_kinds = [\"school\"]")
    if results is None:
        skipped.append("spread/access: this quartier does not accept them yet: " + (feedback.errors or ["its error is in the exception"])[0])
    else:
        summary = h.read_json(os.path.join(output, "plan", "summary.json"))
        h.check("spread" in summary["stages"] and "access" in summary["stages"]
                and "max_new_within_m" in summary and "school" in summary["mean_distance_m"],
                "summary.json reports the spread and access stages")
        h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(output, "plan", "sites.geojson"))
    for message in skipped:
        print("SKIP " + message, flush=True)
    h.exit_qgis()


main()
