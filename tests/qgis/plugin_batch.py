"""A scenario sweep in Processing's own batch dialog (Execute as Batch Process): Plan places
over three demands, one output folder per row, results loaded into the project; each
plan checked with `quartier verify`; then Compare plans on the first and the last.

Usage: python3 plugin_batch.py PLUGIN_ZIP WORK_DIR QUARTIER [SCREENSHOT_DIR]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import QgsApplication  # noqa: E402

DEMANDS = [1500, 2300, 3100]


def main():
    zip_path, work, binary = sys.argv[1:4]
    h.start(zip_path, work, binary)
    layers = h.demo_layers(work)
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from processing.tools import dataobjects

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("quartier:planplaces")
    dialog = BatchAlgorithmDialog(algorithm)
    panel = dialog.mainWidget()
    panel.addRow(len(DEMANDS) - 1)
    context = dataobjects.createContext()
    folders = {}
    for row, demand in enumerate(DEMANDS):
        folders[demand] = os.path.join(work, "sweep", "demand %d" % demand)
        parameters = h.demo_parameters(layers, None, PLACES=demand, NAME="Sweep %d" % demand)
        parameters["DISTRICTS"] = layers["Stadtteile"].id()
        parameters["SITES"] = layers["Liegenschaften"].id()
        del parameters["OUTPUT"]
        for name, value in parameters.items():
            panel.wrappers[row][panel.parameter_to_column[name]].setParameterValue(value, context)
        panel.tblParameters.cellWidget(row + 1, panel.parameter_to_column["OUTPUT"]).setValue(folders[demand])
    panel.checkLoadLayersOnCompletion.setChecked(True)
    h.check(panel.batchRowCount() == 3
            and all(panel.parametersForRow(row, warnOnInvalid=False)[0]["PLACES"] == d
                    for row, d in enumerate(DEMANDS)),
            "the batch dialog holds one row per demand: %s" % DEMANDS)
    dialog.runAlgorithm()

    names = sorted(h.project_layers())
    for demand in DEMANDS:
        folder = folders[demand]
        summary = h.read_json(os.path.join(folder, "plan", "summary.json"))
        h.check(summary["demand"] == demand and summary["placed"] + summary["shortfall"] == demand
                and summary["scenario"] == "Sweep %d" % demand,
                "row %d: %d of %d places placed, D = %.4f" % (
                    DEMANDS.index(demand) + 1, summary["placed"], demand, summary["dissimilarity"]))
        h.verify(binary, os.path.join(folder, "scenario.toml"), os.path.join(folder, "plan", "sites.geojson"))
        h.check("Sweep %d – sites" % demand in names and "Sweep %d – districts" % demand in names,
                "row %d: its two layers are in the project" % (DEMANDS.index(demand) + 1))
        kind, classes = h.renderer_summary(h.project_layers()["Sweep %d – sites" % demand])
        h.check(kind == "categorizedSymbol" and classes, "row %d: sites styled (%s)" % (
            DEMANDS.index(demand) + 1, "; ".join(classes)))

    # Compare plans: the first and the last row.
    page = os.path.join(work, "Vergleich 1500 und 3100.html")
    results, feedback = h.run("quartier:compareplans", {
        "PLAN_A": folders[DEMANDS[0]], "PLAN_B": folders[DEMANDS[-1]], "OUTPUT": page}, load=False)
    cli = h.quartier(binary, "compare", os.path.join(folders[DEMANDS[0]], "plan"),
                     os.path.join(folders[DEMANDS[-1]], "plan"))
    h.check(cli.returncode == 0 and results["FIGURES"].startswith(cli.stdout.rstrip("\n")),
            "the figures are quartier compare's, for the plan/ folders of both runs")
    log = feedback.log()
    h.check("dissimilarity D" in log and "placed" in log and "1500" in log and "3100" in log,
            "the figures are in the log")
    html = h.read_text(page)
    h.check(results["OUTPUT"] == page and "Sweep 1500" in html and "Sweep 3100" in html
            and html.count("<svg") >= 2, "the comparison page has both plans and both maps")
    message, _ = h.run_failing("quartier:compareplans", {
        "PLAN_A": folders[DEMANDS[0]], "PLAN_B": os.path.join(work, "city office"),
        "OUTPUT": os.path.join(work, "never.html")})
    h.check("summary.json" in message and not os.path.exists(os.path.join(work, "never.html")),
            "a folder without a plan fails with quartier's message: " + message.splitlines()[1])
    h.exit_qgis()


main()
