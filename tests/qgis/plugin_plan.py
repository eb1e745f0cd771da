"""Plan places on the demo city as a city office holds it (Shapefile in windows-1252 with
German field names and numeric ids, GeoPackage, CSV in Web Mercator, a scratch layer in a
CRS without EPSG code, GeoJSON), run as the Processing dialog runs it.

Checks: the plan equals quartier's own on the original files (scenarios/muenster.toml);
ids, umlauts and CRSs survive the export; the two result layers are in the project with
quartier's styles; the scenario file written repeats the run on the command line;
`quartier verify` passes; the project's layers and files are unchanged; progress moved;
a second run into the same folder is refused while the project shows its layers, and
replaces the plugin's own files once they are removed.

Usage: python3 plugin_plan.py PLUGIN_ZIP WORK_DIR QUARTIER [SCREENSHOT_DIR]
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import QgsProject, QgsVectorLayer  # noqa: E402


def main():
    zip_path, work, binary = sys.argv[1:4]
    shots = sys.argv[4] if len(sys.argv) > 4 else None
    h.start(zip_path, work, binary)
    layers = h.demo_layers(work)
    before = {name: h.snapshot(layer) for name, layer in layers.items()}
    files = {}
    for folder, _, names in os.walk(os.path.join(work, "city office")):
        for name in names:
            files[os.path.join(folder, name)] = h.file_hash(os.path.join(folder, name))
    count_before = len(QgsProject.instance().mapLayers())

    # quartier's plan on the original GeoJSON files, with the same facilities.
    baseline = os.path.join(work, "baseline")
    os.makedirs(baseline)
    scenario = os.path.join(baseline, "scenario.toml")
    with open(scenario, "w", encoding="utf-8") as handle:
        handle.write(
            'name = "baseline"\n[input]\ndistricts = "{d}/districts.geojson"\n'
            'sites = "{d}/sites.geojson"\n[input.facilities]\nschool = "{d}/schools.geojson"\n'
            'haltestellen = "{d}/stops.geojson"\nkitas = "{d}/kitas.geojson"\n'
            "[demand]\nplaces = 2300\n[rules]\nmax_per_site = 50\n".format(d=h.DEMO))
    done = h.quartier(binary, "solve", scenario, "--out", os.path.join(baseline, "out"), "--quiet")
    h.check(done.returncode == 0, "quartier solves the baseline: " + done.stderr)
    h.verify(binary, scenario, os.path.join(baseline, "out", "sites.geojson"))
    expected = h.read_json(os.path.join(baseline, "out", "summary.json"))

    output = os.path.join(work, "Plan Münster")
    parameters = h.demo_parameters(
        layers, output,
        FACILITY_1=layers["Grundschulen"], KIND_1="school",
        FACILITY_2=layers["Haltestellen"], FACILITY_3=layers["Kitas"])
    results, feedback = h.run("quartier:planplaces", parameters)
    log = feedback.log()

    # The plan is quartier's plan of the original files.
    summary = h.read_json(os.path.join(output, "plan", "summary.json"))
    for key in ("demand", "placed", "shortfall", "existing", "sites_used"):
        h.check(summary[key] == expected[key], "%s: %s as on the original files" % (key, summary[key]))
    h.check(abs(summary["dissimilarity"] - expected["dissimilarity"]) < 1e-9,
            "dissimilarity D = %.4f as on the original files" % summary["dissimilarity"])
    for stage, value in expected["stages"].items():
        h.check(abs(summary["stages"][stage] - value) <= 1e-6 * max(1.0, abs(value)),
                "stage %s optimum %.3f as on the original files" % (stage, value))
    h.check(results["PLACED"] == expected["placed"] and results["STATUS"] == "optimal"
            and abs(results["DISSIMILARITY"] - expected["dissimilarity"]) < 1e-12,
            "the algorithm's outputs carry the figures (%s)" % {k: results[k] for k in ("PLACED", "SHORTFALL", "SITES_USED", "STATUS")})
    h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(output, "plan", "sites.geojson"))

    # Ids, umlauts and CRSs survived.
    districts = h.read_json(os.path.join(output, "plan", "districts.geojson"))
    original = h.read_json(os.path.join(h.DEMO, "districts.geojson"))
    names = sorted(f["properties"]["name"] for f in districts["features"])
    h.check(names == sorted(f["properties"]["name"] for f in original["features"]),
            "district names with umlauts arrive unchanged from a windows-1252 Shapefile (%s)"
            % ", ".join(n for n in names if any(c in n for c in "äöüß")))
    ids = {f["properties"]["name"]: f["properties"]["id"] for f in districts["features"]}
    h.check(str(ids["Südviertel"]) == "2", "numeric district ids are kept (Südviertel = 2)")
    planned = h.plan_places(os.path.join(output, "plan", "sites.geojson"))
    h.check(planned == h.plan_places(os.path.join(baseline, "out", "sites.geojson")),
            "the same %d sites get the same places as on the original files" % len(planned))
    crs_of = {}
    for name in os.listdir(os.path.join(output, "inputs")):
        head = h.read_text(os.path.join(output, "inputs", name), 400)
        crs_of[name] = head.split('"crs"')[1].split('"name": "')[1].split('"')[0]
    h.check(crs_of == {
        "districts.geojson": "urn:ogc:def:crs:EPSG::25832",
        "sites.geojson": "urn:ogc:def:crs:EPSG::25832",
        "facility_school.geojson": "urn:ogc:def:crs:OGC:1.3:CRS84",
        "facility_haltestellen.geojson": "urn:ogc:def:crs:EPSG::3857",
        "facility_kitas.geojson": "urn:ogc:def:crs:EPSG::25832",
    }, "every exported layer says its CRS: %s" % crs_of)
    sites_out = {str(f["properties"]["id"]): f["properties"]
                 for f in h.read_json(os.path.join(output, "plan", "sites.geojson"))["features"]}
    sites_base = {str(f["properties"]["id"]): f["properties"]
                  for f in h.read_json(os.path.join(baseline, "out", "sites.geojson"))["features"]}
    worst = max(abs(sites_out[s]["dist_%s_m" % k] - sites_base[s]["dist_%s_m" % k])
                for s in sites_base for k in ("school", "haltestellen", "kitas"))
    h.check(worst <= 1, "distances to schools (custom CRS), stops (CSV in EPSG:3857) and "
                        "Kitas match quartier's on the original files within %d m" % worst)

    # The result layers are in the project, with quartier's styles.
    added = {name: layer for name, layer in h.project_layers().items() if name not in layers}
    h.check(sorted(added) == ["Plan for 2300 places – districts", "Plan for 2300 places – sites"],
            "two result layers added: %s" % sorted(added))
    site_layer = added["Plan for 2300 places – sites"]
    district_layer = added["Plan for 2300 places – districts"]
    h.check(site_layer.featureCount() == len(sites_out) and district_layer.featureCount() == 40,
            "result layers: %d sites, %d districts" % (site_layer.featureCount(), district_layer.featureCount()))
    for layer, renderer in ((district_layer, "graduatedSymbol"), (site_layer, "categorizedSymbol")):
        kind, classes = h.renderer_summary(layer)
        reference = QgsVectorLayer(layer.source(), "reference", "ogr")
        reference.loadNamedStyle(os.path.splitext(layer.source())[0] + ".qml")
        h.check(kind == renderer and classes and classes == h.renderer_summary(reference)[1],
                "%s is styled by quartier's .qml: %s with classes %s" % (layer.name(), kind, "; ".join(classes)))
    h.check(os.path.normpath(site_layer.source()) == os.path.join(output, "plan", "sites.geojson"),
            "the sites layer reads the plan in the output folder")
    png = os.path.join(work, "result.png")
    # Large enough for the district labels (quartier's style shows them from 1:60,000).
    image = h.render([site_layer, district_layer], png, size=(1400, 1100))
    h.check(h.distinct_colours(image) >= 6, "the styled plan renders in colour (%s)" % png)
    if shots:
        shutil.copyfile(png, os.path.join(shots, "qgis-plugin-result.png"))

    # The scenario file repeats the run on the command line.
    text = h.read_text(os.path.join(output, "scenario.toml"))
    h.check(text.startswith("# quartier scenario written by the QGIS plugin\n")
            and "quartier solve scenario.toml" in text, "scenario.toml says how to repeat the run")
    written = h.read_toml(os.path.join(output, "scenario.toml"))
    h.check(written["fields"]["districts"] == {"id": "BEZ_NR", "name": "BEZ_NAME", "population": "EINWOHNER",
                                               "weight": "EINWOHNER", "existing": "BESTAND"}
            and written["fields"]["sites"]["capacity"] == "plaetze"
            and written["output"] == {"dir": "plan"}
            and written["input"]["facilities"]["school"] == "inputs/facility_school.geojson",
            "scenario.toml holds the field pickers, the inputs and [output] dir = \"plan\"")
    again = os.path.join(work, "copied elsewhere")
    shutil.copytree(output, again)
    done = h.quartier(binary, "solve", "scenario.toml", cwd=again)
    h.check(done.returncode == 0, "quartier solve scenario.toml runs in a copy of the folder: " + done.stderr)
    h.verify(binary, os.path.join(again, "scenario.toml"), os.path.join(again, "plan", "sites.geojson"))
    repeated = h.read_json(os.path.join(again, "plan", "summary.json"))
    h.check(h.plan_places(os.path.join(again, "plan", "sites.geojson")) == planned
            and repeated["dissimilarity"] == summary["dissimilarity"],
            "the command line repeats the plan exactly")

    # The log and the progress.
    h.check("quartier solve scenario.toml --out plan --progress plain" in log
            and "the plan keeps every rule" in log and "placed 2,300 of 2,300" in log,
            "the log shows the command, quartier's summary and the audit")
    h.check("Not all input layers use the same CRS" not in log,
            "no warning about layers in different CRSs (quartier reprojects each itself)")
    h.check(any(t.startswith("quartier: solving") for t in feedback.texts)
            and any(t.startswith("quartier: reading sites.geojson") for t in feedback.texts),
            "quartier's steps appear as progress text")
    steps = feedback.progress
    h.check(steps == sorted(steps) and steps[-1] >= 95 and len(set(steps)) > 20,
            "the progress bar moves forward (%d steps up to %.0f %%)" % (len(set(steps)), steps[-1]))

    # Nothing of the planner's changed.
    h.check(all(h.snapshot(layer) == before[name] for name, layer in layers.items()),
            "the input layers are unchanged (features, attributes, geometry, style, not modified)")
    h.check(all(h.file_hash(path) == digest for path, digest in files.items()),
            "the city office's files are unchanged")
    h.check(len(QgsProject.instance().mapLayers()) == count_before + 2, "nothing else was added")

    # The same folder again: refused while the project shows its layers.
    plan_hash = h.file_hash(os.path.join(output, "plan", "sites.geojson"))
    message, _ = h.run_failing("quartier:planplaces", dict(parameters, PLACES=2000))
    h.check("read files this run would replace" in message and "Plan for 2300 places – sites" in message,
            "a second run into the folder whose plan the project shows is refused: " + message)
    h.check(h.file_hash(os.path.join(output, "plan", "sites.geojson")) == plan_hash
            and not [n for n in os.listdir(output) if n.startswith(".")],
            "…and leaves the folder as it was")
    for layer in added.values():
        QgsProject.instance().removeMapLayer(layer.id())
    with open(os.path.join(output, "notes.txt"), "w", encoding="utf-8") as handle:
        handle.write("Notizen der Planerin")
    results, _ = h.run("quartier:planplaces", dict(parameters, PLACES=2000))
    h.check(h.read_json(os.path.join(output, "plan", "summary.json"))["placed"] == 2000
            and h.read_toml(os.path.join(output, "scenario.toml"))["demand"]["places"] == 2000
            and h.read_text(os.path.join(output, "notes.txt")) == "Notizen der Planerin",
            "with the layers removed, the run replaces the plugin's own files and keeps others")
    h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(output, "plan", "sites.geojson"))
    h.exit_qgis()


main()
