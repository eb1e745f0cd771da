"""The Plan places form as QGIS shows it (Processing's own algorithm dialog, headless):
filled with the city office's layers and fields, grabbed to a PNG. Checks that the
dialog builds a widget for every parameter and gives back the values set.

Usage: python3 plugin_form.py PLUGIN_ZIP WORK_DIR QUARTIER [SCREENSHOT_DIR]
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import QgsApplication  # noqa: E402


def main():
    zip_path, work, binary = sys.argv[1:4]
    shots = sys.argv[4] if len(sys.argv) > 4 else None
    h.start(zip_path, work, binary)
    layers = h.demo_layers(work)
    from processing.gui.AlgorithmDialog import AlgorithmDialog

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("quartier:planplaces")
    dialog = AlgorithmDialog(algorithm)
    parameters = h.demo_parameters(
        layers, os.path.join(work, "Plan Münster"),
        FACILITY_1=layers["Grundschulen"], KIND_1="school", ACCESS_1=1500,
        FACILITY_2=layers["Haltestellen"], KIND_2="transit", ACCESS_2=600,
        MAX_SHARE=0.015, STAGES="worst, cost", NAME="Münster-Regel, 2.300 Plätze")
    dialog.setParameters(parameters)
    dialog.resize(1150, 1450)
    dialog.show()
    QgsApplication.processEvents()
    panel = dialog.mainWidget()
    values = dialog.createProcessingParameters()
    h.check(values["PLACES"] == 2300 and values["DISTRICT_POPULATION"] == "EINWOHNER"
            and values["KIND_1"] == "school" and values["ACCESS_2"] == 600,
            "the form gives back the values set (demand, field pickers, facilities, rules)")
    missing = [p.name() for p in algorithm.parameterDefinitions()
               if not p.isDestination() and p.name() not in panel.wrappers]
    h.check(not missing, "the form has a widget for each of the %d parameters" % len(panel.wrappers))
    png = os.path.join(work, "form.png")
    image = dialog.grab().toImage()
    h.check(image.save(png, "png") and image.width() >= 1000, "the form is grabbed to %s" % png)
    h.check(h.distinct_colours(image, 5) > 20, "the grab shows a drawn form")
    if shots:
        shutil.copyfile(png, os.path.join(shots, "qgis-plugin-form.png"))

    # Run, as the planner presses Run: in a background task, the layers loaded afterwards.
    finished = []
    dialog.algorithmFinished.connect(lambda ok, results: finished.append(ok))
    dialog.runAlgorithm()
    started = time.time()
    while not finished and time.time() - started < 120:
        QgsApplication.processEvents()
        time.sleep(0.02)
    h.check(finished == [True], "Run in the dialog finishes (in a background task)")
    for _ in range(20):
        QgsApplication.processEvents()
    added = {n: layer for n, layer in h.project_layers().items() if n not in layers}
    h.check(sorted(added) == ["Münster-Regel, 2.300 Plätze – districts", "Münster-Regel, 2.300 Plätze – sites"]
            and h.renderer_summary(added["Münster-Regel, 2.300 Plätze – sites"])[0] == "categorizedSymbol"
            and h.renderer_summary(added["Münster-Regel, 2.300 Plätze – districts"])[0] == "graduatedSymbol",
            "the dialog adds both styled layers: %s" % sorted(added))
    output = os.path.join(work, "Plan Münster")
    h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(output, "plan", "sites.geojson"))
    summary = h.read_json(os.path.join(output, "plan", "summary.json"))
    h.check(summary["placed"] + summary["shortfall"] == 2300,
            "the plan with share cap and access: %d placed, shortfall %d %s" % (
                summary["placed"], summary["shortfall"], summary["shortfall_reasons"]))
    dialog.close()
    h.exit_qgis()


main()
