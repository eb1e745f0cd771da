"""Check a plan: the plan of Plan places passes; the same plan edited in QGIS (unsaved
edits: a site over the cap, an excluded site added, an unknown site, a site moved) fails
with every violation in the log and the offending sites as a layer, without losing the
edits; the edited plan saved as a GeoPackage in EPSG:25832 gives the same verdict; a plan
without places fails with quartier's message.

Usage: python3 plugin_check.py PLUGIN_ZIP WORK_DIR QUARTIER
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import (  # noqa: E402
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsVectorFileWriter,
    QgsVectorLayer,
)


def offending(path):
    layer = QgsVectorLayer(path, "offending", "ogr")
    if not layer.isValid():
        h.fail("the offending sites layer cannot be opened: " + path)
    return {str(f["id"]): f["violation"] for f in layer.getFeatures()}


def main():
    zip_path, work, binary = sys.argv[1:4]
    h.start(zip_path, work, binary)
    layers = h.demo_layers(work)
    output = os.path.join(work, "plan")
    h.run("quartier:planplaces", h.demo_parameters(layers, output))
    plan_file = os.path.join(output, "plan", "sites.geojson")
    h.verify(binary, os.path.join(output, "scenario.toml"), plan_file)
    plan = h.project_layers()["Plan for 2300 places – sites"]

    # The plan as solved keeps every rule; the scenario is found next to its folder.
    results, feedback = h.run("quartier:checkplan", {
        "PLAN": plan, "OFFENDING": os.path.join(work, "none.gpkg")})
    h.check(results["VIOLATIONS"] == 0 and "The plan keeps every rule." in feedback.log()
            and offending(results["OFFENDING"]) == {},
            "the solved plan keeps every rule; no offending sites")

    # Edits in QGIS, not saved.
    file_before = h.file_hash(plan_file)
    by_id = {str(f["id"]): f for f in plan.getFeatures()}
    used = sorted(i for i, f in by_id.items() if f["places"] and f["status"] == "candidate")
    over, moved = used[0], used[1]
    sites = layers["Liegenschaften"]
    excluded = next(f for f in sites.getFeatures() if f["status"] == "excluded")
    plan.startEditing()
    places = plan.fields().indexOf("places")
    plan.changeAttributeValue(by_id[over].id(), places, 70)
    geometry = by_id[moved].geometry().asPoint()
    plan.changeGeometry(by_id[moved].id(),
                        QgsGeometry.fromPointXY(QgsPointXY(geometry.x() + 0.004, geometry.y())))
    to_plan = h.transform(sites.crs(), plan.crs())
    for site_id, point in ((excluded["objekt_id"], to_plan.transform(excluded.geometry().centroid().asPoint())),
                           ("S-99999", QgsPointXY(geometry.x(), geometry.y() + 0.001))):
        feature = QgsFeature(plan.fields())
        feature["id"] = site_id
        feature["places"] = 5
        feature.setGeometry(QgsGeometry.fromPointXY(point))
        plan.addFeature(feature)
    edited = h.snapshot(plan)

    results, feedback = h.run("quartier:checkplan", {
        "PLAN": plan, "OFFENDING": os.path.join(work, "edited.gpkg")})
    log = feedback.log()
    found = offending(results["OFFENDING"])
    h.check(results["VIOLATIONS"] >= 4, "%d violations found in the edited plan" % results["VIOLATIONS"])
    h.check(set(found) == {over, moved, excluded["objekt_id"], "S-99999"},
            "the offending sites are the four edited ones: %s" % sorted(found))
    h.check("70 new" in found[over] and "exceed the cap of 50 per site" in found[over],
            "%s: %s" % (over, found[over]))
    h.check("moved" in found[moved], "%s: %s" % (moved, found[moved]))
    h.check("status is excluded" in found[excluded["objekt_id"]],
            "%s: %s" % (excluded["objekt_id"], found[excluded["objekt_id"]]))
    h.check("not in the scenario's sites layer" in found["S-99999"], "S-99999: " + found["S-99999"])
    h.check(all(message in log for message in found.values()) and "unsaved edits" in log,
            "every violation is in the log, which says the unsaved edits were checked")
    h.check("plan_sites.geojson" not in results["REPORT"],
            "the report names the layer, not the temporary file it was handed over in")
    h.check(h.snapshot(plan) == edited and plan.isModified() and h.file_hash(plan_file) == file_before,
            "the edits are still there, unsaved, and the plan's file is unchanged")

    # The edited plan saved as a GeoPackage in EPSG:25832, with the scenario given.
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.ct = h.transform(plan.crs(), QgsCoordinateReferenceSystem("EPSG:25832"))
    saved = os.path.join(work, "Plan bearbeitet.gpkg")
    error = QgsVectorFileWriter.writeAsVectorFormatV3(plan, saved, QgsCoordinateTransformContext(), options)
    if error[0] != QgsVectorFileWriter.NoError:
        h.fail("cannot save the edited plan: %s" % (error,))
    copy = QgsVectorLayer(saved, "Plan bearbeitet", "ogr")
    QgsProject.instance().addMapLayer(copy)
    results, _ = h.run("quartier:checkplan", {
        "PLAN": copy, "SCENARIO": os.path.join(output, "scenario.toml"),
        "OFFENDING": os.path.join(work, "saved.gpkg")})
    h.check(set(offending(results["OFFENDING"])) == set(found),
            "the same four sites from the GeoPackage in EPSG:25832")

    # A plan without places: quartier's message, and the algorithm fails.
    plan.rollBack()
    broken = QgsVectorLayer("Point?crs=EPSG:4326&field=id:string", "ohne Plätze", "memory")
    feature = QgsFeature(broken.fields())
    feature["id"] = over
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(7.6, 51.9)))
    broken.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayer(broken)
    message, feedback = h.run_failing("quartier:checkplan", {
        "PLAN": broken, "SCENARIO": os.path.join(output, "scenario.toml"),
        "OFFENDING": os.path.join(work, "broken.gpkg")})
    h.check('property "places" is missing' in message and "exit code 2" in message
            and not any('property "places" is missing' in e for e in feedback.errors),
            "a plan without places fails with quartier's message, once (not again in the log): "
            + message.splitlines()[1])
    h.exit_qgis()


main()
