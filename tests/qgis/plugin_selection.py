"""Plan places on a selection of districts, as a planner does who ticks "Selected features
only" in the Processing dialog (QGIS 3.22 gives the algorithm no layer for such a source).

Checks: an empty selection fails with a message that names the layer; a run on 5 of the
40 districts names the layer by its name with "(5 of 40 selected)" in the log, plans for
those 5 districts only and says so; `quartier verify` passes; a second run with the same
scenario name adds layers with names of their own; an output folder that cannot be
written is reported by the folder the planner chose.

Usage: python3 plugin_selection.py PLUGIN_ZIP WORK_DIR QUARTIER
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import QgsProcessingFeatureSourceDefinition, QgsProject  # noqa: E402


def main():
    zip_path, work, binary = sys.argv[1:4]
    h.start(zip_path, work, binary)
    layers = h.demo_layers(work)
    districts = layers["Stadtteile"]
    total = districts.featureCount()
    selected_only = QgsProcessingFeatureSourceDefinition(districts.id(), True)

    districts.removeSelection()
    message, _ = h.run_failing("quartier:planplaces", h.demo_parameters(
        layers, os.path.join(work, "leer"), DISTRICTS=selected_only))
    h.check("No feature of Stadtteile is selected" in message,
            "an empty selection fails with the layer's name: " + message.splitlines()[0])
    h.check(not os.path.exists(os.path.join(work, "leer")),
            "an empty selection writes no folder")

    districts.selectByIds([f.id() for f in districts.getFeatures()][:5])
    output = os.path.join(work, "Auswahl")
    results, feedback = h.run("quartier:planplaces", h.demo_parameters(
        layers, output, DISTRICTS=selected_only, PLACES=300))
    log = feedback.log()
    h.check('Districts: the layer "Stadtteile" (5 of %d selected)' % total in log,
            "the log names the layer and its selection: (5 of %d selected)" % total)
    h.check("QgsProcessingFeatureSourceDefinition" not in log,
            "no source definition in the log")
    h.check("This plan is for the selected districts only: 5 of the %d districts" % total in log,
            "the run says it planned for the selected districts only")
    h.check(results.get("SELECTED_DISTRICTS") == 5, "the output SELECTED_DISTRICTS is 5")
    planned = h.read_json(os.path.join(output, "plan", "districts.geojson"))["features"]
    h.check(len(planned) == 5, "the plan has the 5 selected districts")
    h.verify(binary, os.path.join(output, "scenario.toml"),
             os.path.join(output, "plan", "sites.geojson"))

    h.run("quartier:planplaces", h.demo_parameters(
        layers, os.path.join(work, "Auswahl 2"), DISTRICTS=selected_only, PLACES=300))
    names = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
    h.check(len(names) == len(set(names)),
            "a second run adds layers with names of their own: " + ", ".join(sorted(
                n for n in names if " – " in n)))

    # A folder that cannot be made (its parent is a file: as root, permissions would not
    # stop the run).
    with open(os.path.join(work, "eine Datei"), "w", encoding="utf-8") as handle:
        handle.write("kein Ordner")
    blocked = os.path.join(work, "eine Datei", "Plan")
    message, _ = h.run_failing("quartier:planplaces", h.demo_parameters(layers, blocked))
    h.check("Cannot write into the output folder %s" % blocked in message
            and ".quartier-run" not in message,
            "a folder that cannot be written is reported by the folder chosen")
    h.exit_qgis()


main()
