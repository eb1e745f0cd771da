"""Bad input: quartier's own message reaches the Processing log, the algorithm fails, and
nothing in the project or on disk is changed or lost. Also: the binary not found (a clear
message), found on PATH, and Cancel stopping quartier.

Usage: python3 plugin_bad_input.py PLUGIN_ZIP WORK_DIR QUARTIER
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import QgsFeature, QgsProject, QgsVectorLayer  # noqa: E402


def copy_layer(layer, name, change):
    """A scratch copy of a layer with `change(features)` applied to its features."""
    copy = QgsVectorLayer("%s?crs=%s" % (
        {0: "Point", 2: "Polygon"}.get(layer.geometryType(), "Point"), layer.crs().authid()),
        name, "memory")
    copy.dataProvider().addAttributes(layer.fields().toList())
    copy.updateFields()
    features = []
    for feature in layer.getFeatures():
        out = QgsFeature(copy.fields())
        out.setAttributes(feature.attributes())
        out.setGeometry(feature.geometry())
        features.append(out)
    change(features)
    copy.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(copy)
    return copy


def main():
    zip_path, work, binary = sys.argv[1:4]
    h.start(zip_path, work, binary)
    layers = h.demo_layers(work)

    def duplicate(features):
        features.append(QgsFeature(features[3]))

    def negative(features):
        features[5]["plaetze"] = -5

    layers["Stadtteile doppelt"] = copy_layer(layers["Stadtteile"], "Stadtteile doppelt", duplicate)
    layers["Liegenschaften negativ"] = copy_layer(
        layers["Liegenschaften"], "Liegenschaften negativ", negative)
    before = {name: h.snapshot(layer) for name, layer in layers.items()}
    files = {}
    for folder, _, names in os.walk(os.path.join(work, "city office")):
        for name in names:
            files[os.path.join(folder, name)] = h.file_hash(os.path.join(folder, name))

    def unchanged(what, output=None):
        h.check(all(h.snapshot(layer) == before[name] for name, layer in layers.items())
                and sorted(h.project_layers()) == sorted(layers)
                and all(h.file_hash(p) == d for p, d in files.items())
                and (output is None or not os.path.exists(output)),
                "%s: the project, its layers and files are unchanged%s" % (
                    what, "" if output is None else ", and no output folder was left"))

    # A duplicate district id: quartier's message, naming the layer it came from.
    output = os.path.join(work, "doppelt")
    message, feedback = h.run_failing("quartier:planplaces", h.demo_parameters(
        layers, output, DISTRICTS=layers["Stadtteile doppelt"]))
    h.check('error: inputs/districts.geojson: duplicate id "4" (features 3 and 40)' in message
            and 'inputs/districts.geojson is the layer "Stadtteile doppelt"' in message
            and "exit code 2" in message,
            "a duplicate district id fails with quartier's message:\n  " + message.replace("\n", "\n  "))
    h.check(not any('duplicate id "4"' in e for e in feedback.errors),
            "the message reaches the Processing log once, as the algorithm's error (not also "
            "line by line)")
    unchanged("duplicate id", output)

    # A negative capacity.
    output = os.path.join(work, "negativ")
    message, _ = h.run_failing("quartier:planplaces", h.demo_parameters(
        layers, output, SITES=layers["Liegenschaften negativ"]))
    h.check('inputs/sites.geojson: feature 5 (id "S-00006"): property "plaetze" must be a number ≥ 0, found -5' in message,
            "a negative capacity fails with quartier's message: " + message.splitlines()[1])
    unchanged("negative capacity", output)

    # A typo in the scenario file started from.
    typo = os.path.join(work, "Tippfehler.toml")
    with open(typo, "w", encoding="utf-8") as handle:
        handle.write('name = "Tippfehler"\n[input]\ndistricts = "%s/districts.geojson"\n'
                     'sites = "%s/sites.geojson"\n[demand]\nplaces = 2300\n[rules]\n'
                     "max_per_sit = 50\n" % (h.DEMO, h.DEMO))
    typo_hash = h.file_hash(typo)
    output = os.path.join(work, "tippfehler")
    message, _ = h.run_failing("quartier:planplaces", {"BASE_SCENARIO": typo, "OUTPUT": output})
    h.check('unknown key "max_per_sit" in [rules] (did you mean "max_per_site"?)' in message,
            "a typo in the scenario file fails with quartier's message: " + message.splitlines()[1])
    h.check(h.file_hash(typo) == typo_hash, "the scenario file started from is unchanged")
    unchanged("typo", output)

    # An output folder with the planner's own scenario.toml is refused.
    output = os.path.join(work, "eigener Ordner")
    os.makedirs(os.path.join(output, "plan"))
    with open(os.path.join(output, "scenario.toml"), "w", encoding="utf-8") as handle:
        handle.write("# mein Szenario\n")
    message, _ = h.run_failing("quartier:planplaces", h.demo_parameters(layers, output))
    h.check("did not write" in message and h.read_text(os.path.join(output, "scenario.toml")) == "# mein Szenario\n"
            and sorted(os.listdir(output)) == ["plan", "scenario.toml"],
            "a folder with the planner's own scenario.toml is refused and left alone")
    unchanged("own folder")

    # Form values that cannot make a scenario.
    for extra, expected in (
        ({"LEVELS": "1000, 2000"}, "either the demand in places or the demand levels"),
        ({"KIND_1": "school", "ACCESS_1": 1500}, 'access names the facility kind "school"'),
        ({"PLACES": None, "LEVELS": "1.000, 2.000"}, '"1.000" is not a whole number'),
        ({"RADIUS_METRES": 500}, "needs both the radius in metres and the places"),
    ):
        message, _ = h.run_failing("quartier:planplaces", h.demo_parameters(
            layers, os.path.join(work, "form"), **extra))
        h.check(expected in message, "%s: %s" % (extra, message))
    unchanged("form values", os.path.join(work, "form"))

    # The binary: a wrong setting, not on PATH, then found on PATH.
    output = os.path.join(work, "binary")
    # A path set once, whose program was removed since (the settings dialog checks the path
    # only when it is typed).
    gone = os.path.join(work, "removed", "quartier")
    os.makedirs(os.path.dirname(gone))
    with open(gone, "w") as handle:
        handle.write("")
    h.set_binary(gone)
    os.remove(gone)
    message, _ = h.run_failing("quartier:planplaces", h.demo_parameters(layers, output))
    h.check("set in Settings → Options → Processing → Providers → quartier → quartier executable does not exist" in message,
            "a wrong path in the settings says so: " + message)
    h.set_binary("")
    path = os.environ["PATH"]
    os.environ["PATH"] = "/usr/bin:/bin"
    message, _ = h.run_failing("quartier:planplaces", h.demo_parameters(layers, output))
    h.check(message.startswith("quartier was not found: it is not on PATH and no path is set"),
            "without a setting and not on PATH: " + message)
    unchanged("binary not found", output)
    os.environ["PATH"] = os.path.dirname(os.path.abspath(binary)) + os.pathsep + path
    results, feedback = h.run("quartier:planplaces", h.demo_parameters(layers, output, PLACES=100), load=False)
    h.check(results["PLACED"] == 100 and os.path.abspath(binary) in feedback.log(),
            "found on PATH without a setting")
    h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(output, "plan", "sites.geojson"))
    os.environ["PATH"] = path
    h.set_binary(binary)

    # Cancel while quartier reads the sites.
    output = os.path.join(work, "abgebrochen")
    feedback = h.Recorder(cancel_at_progress=15)
    try:
        h.run("quartier:planplaces", h.demo_parameters(layers, output), feedback=feedback)
        h.fail("the cancelled run did not fail")
    except h.QgsProcessingException as error:
        message = str(error)
    h.check(message.startswith("Cancelled: quartier was stopped") and max(feedback.progress) < 95,
            "Cancel stops quartier: " + message)
    unchanged("cancelled", output)
    h.exit_qgis()


main()
