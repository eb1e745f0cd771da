"""Distances on foot in the plugin: a small town cut by a river with one bridge (the town of
tests/on_foot.rs), its streets as a GeoPackage line layer with more fields than quartier
reads, schools on the south bank.

Plan places with the street network gives quartier's plan of the same files, the walks in
the sites layer (dist_school_m, line_school_m), the network's figures as outputs, and a
third layer, the routes, styled by quartier's routes.qml (categories by kind). Selected
streets only (without the bridge) and a max. distance of 450 m reach quartier as such.
Without a network nothing of it appears. Check a plan checks a straight-line plan on foot
with the network of its form and finds the site across the river; a plan made on foot
keeps every rule with the network of its scenario. A scenario file that names the network
as `file.gpkg#layer` or as a Shapefile is handed over with the layer and the Shapefile's
other files. A max. distance without a network is refused in words.

Usage: python3 plugin_network.py PLUGIN_ZIP WORK_DIR QUARTIER
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import (  # noqa: E402
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsLineString,
    QgsMultiLineString,
    QgsPoint,
    QgsProcessingFeatureSourceDefinition,
    QgsProject,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant  # noqa: E402

ORIGIN = (404000.0, 5757000.0)
CRS = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}

#: The streets of tests/on_foot.rs: (osm_id, name, highway, parts). The river runs along
#: y = 500 and the Mühlenbrücke at x = 1,900 is the only way across; the Nordufer comes in
#: two parts (a MultiLineString).
STREETS = [
    (101, "Nordufer", "residential",
     [[(0, 550), (400, 550), (1850, 550)], [(1850, 550), (1900, 550), (2000, 550)]]),
    (102, "Südufer", "residential", [[(0, 450), (400, 450), (1900, 450), (2000, 450)]]),
    (103, "Mühlenbrücke", "footway", [[(1900, 550), (1900, 450)]]),
    (104, "Schulweg", "footway", [[(400, 450), (400, 300)]]),
    (105, "Am Nordfeld", "service", [[(1850, 550), (1850, 620)]]),
]

SITES = [("S-Nord-West", 400, 600), ("S-Süd-West", 500, 300), ("S-Nord-Ost", 1850, 620),
         ("S-Süd-Ost", 1300, 380), ("S-Wiese", 1500, 900)]


def at(x, y):
    return [ORIGIN[0] + x, ORIGIN[1] + y]


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)


def write_streets(path, driver, layer_name=None):
    fields = QgsFields()
    fields.append(QgsField("osm_id", QVariant.LongLong))
    fields.append(QgsField("name", QVariant.String, len=40))
    fields.append(QgsField("highway", QVariant.String, len=20))
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = driver
    options.fileEncoding = "UTF-8"
    if layer_name:
        options.layerName = layer_name
    writer = QgsVectorFileWriter.create(
        path, fields, QgsWkbTypes.MultiLineString, QgsCoordinateReferenceSystem("EPSG:25832"),
        QgsCoordinateTransformContext(), options)
    if writer.hasError() != QgsVectorFileWriter.NoError:
        h.fail("cannot write %s: %s" % (path, writer.errorMessage()))
    for osm_id, name, highway, parts in STREETS:
        lines = QgsMultiLineString()
        for part in parts:
            lines.addGeometry(QgsLineString([QgsPoint(*at(x, y)) for x, y in part]))
        feature = QgsFeature(fields)
        feature.setAttributes([osm_id, name, highway])
        feature.setGeometry(QgsGeometry(lines))
        writer.addFeature(feature)
    del writer


def town(folder):
    """The town's files; the layers in the project: Stadtteile, Unterkünfte, Schulen,
    Straßen (a GeoPackage)."""
    os.makedirs(folder)
    square = lambda x: [[at(x, 0), at(x + 1000, 0), at(x + 1000, 1000), at(x, 1000), at(x, 0)]]
    write_json(os.path.join(folder, "districts.geojson"), {
        "type": "FeatureCollection", "crs": CRS, "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square(x)},
             "properties": {"id": name, "name": "Bezirk " + name, "population": 2000}}
            for name, x in (("West", 0), ("Ost", 1000))]})
    write_json(os.path.join(folder, "sites.geojson"), {
        "type": "FeatureCollection", "crs": CRS, "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": at(x, y)},
             "properties": {"id": site, "capacity": 40, "status": "candidate", "occupied": 0}}
            for site, x, y in SITES]})
    write_json(os.path.join(folder, "schools.geojson"), {
        "type": "FeatureCollection", "crs": CRS, "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": at(400, 420)},
             "properties": {"id": "Grundschule Süd"}}]})
    write_streets(os.path.join(folder, "Straßen.gpkg"), "GPKG", "Straßen")
    os.makedirs(os.path.join(folder, "shape"))
    write_streets(os.path.join(folder, "shape", "Strassen.shp"), "ESRI Shapefile")
    layers = {
        "Stadtteile": QgsVectorLayer(os.path.join(folder, "districts.geojson"), "Stadtteile", "ogr"),
        "Unterkünfte": QgsVectorLayer(os.path.join(folder, "sites.geojson"), "Unterkünfte", "ogr"),
        "Schulen": QgsVectorLayer(os.path.join(folder, "schools.geojson"), "Schulen", "ogr"),
        "Straßen": QgsVectorLayer(os.path.join(folder, "Straßen.gpkg") + "|layername=Straßen",
                                  "Straßen", "ogr"),
    }
    for name, layer in layers.items():
        if not layer.isValid():
            h.fail("the test layer %s is not valid" % name)
        QgsProject.instance().addMapLayer(layer)
    return layers


def scenario_text(network, name="Flussstadt", extra=""):
    return ('name = "%s"\n[input]\ndistricts = "districts.geojson"\nsites = "sites.geojson"\n'
            '%s\n[input.facilities]\nschool = "schools.geojson"\n\n[demand]\nplaces = 80\n\n'
            '[rules]\nmax_per_site = 40\naccess = { school = 2000 }\n%s'
            % (name, 'network = "%s"' % network if network else "", extra))


def form(layers, output, **extra):
    parameters = {
        "NAME": "Flussstadt",
        "DISTRICTS": layers["Stadtteile"],
        "SITES": layers["Unterkünfte"],
        "FACILITY_1": layers["Schulen"], "KIND_1": "school", "ACCESS_1": 2000,
        "PLACES": 80, "MAX_PER_SITE": 40,
        "OUTPUT": output,
    }
    parameters.update(extra)
    return parameters


def features(path):
    return {f["properties"]["id"]: f["properties"] for f in h.read_json(path)["features"]}


def offending(path):
    layer = QgsVectorLayer(path, "offending", "ogr")
    if not layer.isValid():
        h.fail("the offending sites layer cannot be opened: " + path)
    return {str(f["id"]): f["violation"] for f in layer.getFeatures()}


def added_layers(before):
    return {name: layer for name, layer in h.project_layers().items() if name not in before}


def main():
    zip_path, work, binary = sys.argv[1:4]
    h.start(zip_path, work, binary)
    folder = os.path.join(work, "Flussstadt")
    layers = town(folder)
    streets = layers["Straßen"]

    # quartier's plan on the town's own files, the network read from the GeoPackage.
    baseline = os.path.join(folder, "scenario.toml")
    with open(baseline, "w", encoding="utf-8") as handle:
        handle.write(scenario_text("Straßen.gpkg#Straßen"))
    done = h.quartier(binary, "solve", baseline, "--out", os.path.join(work, "baseline"), "--quiet")
    h.check(done.returncode == 0, "quartier solves the town on foot: " + done.stderr)
    expected = h.read_json(os.path.join(work, "baseline", "summary.json"))

    # Plan places with the street network.
    output = os.path.join(work, "zu Fuß")
    results, feedback = h.run("quartier:planplaces", form(layers, output, NETWORK=streets))
    plan = os.path.join(output, "plan")
    summary = h.read_json(os.path.join(plan, "summary.json"))
    h.check(summary["distance"] == "network" and summary["network"] == expected["network"]
            and h.plan_places(os.path.join(plan, "sites.geojson"))
            == h.plan_places(os.path.join(work, "baseline", "sites.geojson")),
            "the plan and the network's figures are quartier's on the original files: %s"
            % summary["network"])
    h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(plan, "sites.geojson"))
    written = h.read_toml(os.path.join(output, "scenario.toml"))
    h.check(written["input"]["network"] == "inputs/network.geojson" and "network" not in written,
            "scenario.toml names the network inputs/network.geojson, without [network] settings")
    handed = h.read_json(os.path.join(output, "inputs", "network.geojson"))
    h.check(len(handed["features"]) == 5
            and all(set(f["properties"]) <= {"osm_id", "fid"} for f in handed["features"])
            and {f["properties"].get("osm_id") for f in handed["features"]} == {101, 102, 103, 104, 105}
            and handed["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::25832"
            and [f["geometry"]["type"] for f in handed["features"]].count("MultiLineString") == 5,
            "the streets are handed over as MultiLineStrings in EPSG:25832 with their ids only "
            "(not name and highway)")
    outputs = {k: results[k] for k in ("DISTANCE", "NETWORK_KM", "NETWORK_PARTS",
                                        "SITES_OFF_NETWORK", "SITES_UNREACHABLE")}
    h.check(outputs == {"DISTANCE": "network", "NETWORK_KM": 4.3, "NETWORK_PARTS": 1,
                        "SITES_OFF_NETWORK": 1, "SITES_UNREACHABLE": 1},
            "the algorithm's outputs carry the network's figures: %s" % outputs)
    h.check("walked along the street network (4.3 km" in feedback.log()
            and "more than 300 m from every street): 1" in feedback.log(),
            "the log says the distances were walked, with the network's figures")

    added = added_layers(layers)
    h.check(sorted(added) == ["Flussstadt – districts", "Flussstadt – routes", "Flussstadt – sites"],
            "three result layers added: %s" % sorted(added))
    routes = added["Flussstadt – routes"]
    renderer = routes.renderer()
    reference = QgsVectorLayer(routes.source(), "reference", "ogr")
    reference.loadNamedStyle(os.path.join(plan, "routes.qml"))
    kind, classes = h.renderer_summary(routes)
    h.check(kind == "categorizedSymbol" and renderer.classAttribute() == "kind"
            and classes == ["Weg zu Fuß: school"] and classes == h.renderer_summary(reference)[1],
            "the routes layer is styled by quartier's routes.qml: %s on \"%s\" with classes %s"
            % (kind, renderer.classAttribute() if kind == "categorizedSymbol" else "-", classes))
    h.check(os.path.normpath(routes.source()) == os.path.join(plan, "routes.geojson")
            and results["PLAN_ROUTES"] == os.path.join(plan, "routes.geojson")
            and routes.geometryType() == QgsWkbTypes.LineGeometry,
            "the routes layer reads plan/routes.geojson and is the output PLAN_ROUTES: %s, %s, %s"
            % (routes.source(), results["PLAN_ROUTES"], routes.geometryType()))
    ways = {f["site"]: f for f in routes.getFeatures()}
    used = sorted(s for s, places in h.plan_places(os.path.join(plan, "sites.geojson")).items() if places)
    h.check(sorted(ways) == used and "S-Nord-Ost" in ways
            and all(f["kind"] == "school" and f["facility"] == "Grundschule Süd"
                    and f["metres"] >= f["line_metres"] for f in ways.values())
            and ways["S-Nord-Ost"]["metres"] == 1750,
            "one way per site with new places, over the bridge from S-Nord-Ost: %s"
            % {s: (f["metres"], f["line_metres"]) for s, f in ways.items()})
    order = [layer.name() for layer in QgsProject.instance().layerTreeRoot().layerOrder()]
    h.check(order.index("Flussstadt – sites") < order.index("Flussstadt – routes")
            < order.index("Flussstadt – districts"),
            "the routes lie between the sites and the districts: %s" % order[:3])
    sites = added["Flussstadt – sites"]
    names = sites.fields().names()
    walked = {f["id"]: (f["dist_school_m"], f["line_school_m"]) for f in sites.getFeatures()}
    h.check("dist_school_m" in names and "line_school_m" in names
            and walked["S-Süd-West"] == (220, 156) and walked["S-Nord-Ost"] == (1750, 1464)
            and "S-Nord-West" not in walked,
            "the sites layer has dist_school_m (on foot) and line_school_m (straight): %s" % walked)
    image = h.render([sites, routes, added["Flussstadt – districts"]],
                     os.path.join(work, "zu Fuß.png"), size=(600, 600))
    h.check(h.distinct_colours(image, 3) >= 4, "the three layers render")

    # Selected streets only (without the bridge), and a max. distance of 450 m.
    streets.selectByExpression("\"name\" <> 'Mühlenbrücke'")
    selected = sorted(streets.selectedFeatureIds())
    output = os.path.join(work, "ohne Brücke")
    results, _ = h.run("quartier:planplaces", form(
        layers, output, NAME="Ohne Brücke", MAX_SNAP=450,
        NETWORK=QgsProcessingFeatureSourceDefinition(streets.id(), True)))
    plan = os.path.join(output, "plan")
    summary = h.read_json(os.path.join(plan, "summary.json"))
    written = h.read_toml(os.path.join(output, "scenario.toml"))
    handed = h.read_json(os.path.join(output, "inputs", "network.geojson"))
    h.check(len(handed["features"]) == 4 and written["network"] == {"max_snap_m": 450}
            and summary["network"]["max_snap_m"] == 450 and summary["network"]["parts"] == 2
            and summary["network"]["sites_off_network"] == 0,
            "selected streets only: 4 of 5 handed over, in 2 parts; [network] max_snap_m = 450 "
            "puts the meadow site on the network: %s" % summary["network"])
    h.check(results["SITES_UNREACHABLE"] == 3 and results["NETWORK_PARTS"] == 2
            and h.plan_places(os.path.join(plan, "sites.geojson")) == {"S-Süd-Ost": 40, "S-Süd-West": 40},
            "without the bridge, three sites reach no school and the places go south of the "
            "river: %s" % h.plan_places(os.path.join(plan, "sites.geojson")))
    h.verify(binary, os.path.join(output, "scenario.toml"), os.path.join(plan, "sites.geojson"))
    h.check(sorted(streets.selectedFeatureIds()) == selected and not streets.isModified(),
            "the selection of the street layer is as it was")
    streets.removeSelection()

    # Without a network: straight lines, no routes.
    count = len(QgsProject.instance().mapLayers())
    output = os.path.join(work, "Luftlinie")
    results, _ = h.run("quartier:planplaces", form(layers, output, NAME="Luftlinie"))
    straight = added_layers(layers)
    h.check(results["DISTANCE"] == "straight" and results["PLAN_ROUTES"] is None
            and results["NETWORK_KM"] is None and results["SITES_UNREACHABLE"] is None
            and len(QgsProject.instance().mapLayers()) == count + 2
            and "Luftlinie – routes" not in straight
            and not os.path.exists(os.path.join(output, "plan", "routes.geojson"))
            and "network" not in h.read_toml(os.path.join(output, "scenario.toml"))["input"],
            "without a network: straight distances, two layers and no routes")
    h.verify(binary, os.path.join(output, "scenario.toml"),
             os.path.join(output, "plan", "sites.geojson"))
    line_plan = straight["Luftlinie – sites"]
    far = sorted(s for s, places in h.plan_places(os.path.join(output, "plan", "sites.geojson")).items()
                 if places and s in ("S-Nord-West", "S-Wiese"))
    h.check(far, "in a straight line the plan uses a site that is far on foot: %s" % far)

    # Check a plan: the straight-line plan keeps every rule as it was made …
    scenario = os.path.join(output, "scenario.toml")
    scenario_hash = h.file_hash(scenario)
    results, _ = h.run("quartier:checkplan", {
        "PLAN": line_plan, "OFFENDING": os.path.join(work, "Luftlinie.gpkg")})
    h.check(results["VIOLATIONS"] == 0, "the straight-line plan keeps every rule in a straight line")
    # … and breaks the access rule on foot along the network of the form.
    results, feedback = h.run("quartier:checkplan", {
        "PLAN": line_plan, "NETWORK": streets, "OFFENDING": os.path.join(work, "zu Fuß.gpkg")})
    found = offending(results["OFFENDING"])
    h.check(results["VIOLATIONS"] >= 1 and set(found) == set(far)
            and all("school" in message for message in found.values()),
            "checked on foot with the network of the form, the far sites break the access rule: %s"
            % found)
    checked = [line.split(": ", 1)[1] for line in feedback.lines
               if line.startswith("The scenario as checked: ")]
    as_checked = h.read_toml(checked[0]) if checked else {}
    h.check(h.file_hash(scenario) == scenario_hash
            and as_checked.get("input", {}).get("network", "").endswith("/network.geojson")
            and os.path.isabs(as_checked["input"]["districts"])
            and os.path.isfile(as_checked["input"]["facilities"]["school"]),
            "the plan's scenario.toml is unchanged; the scenario as checked names the network "
            "and every layer by its absolute path")
    message, _ = h.run_failing("quartier:checkplan", {
        "PLAN": line_plan, "MAX_SNAP": 450, "OFFENDING": os.path.join(work, "nie.gpkg")})
    h.check("needs a street network" in message,
            "a max. distance without a street network is refused by Check a plan: " + message)
    message, _ = h.run_failing("quartier:planplaces", form(
        layers, os.path.join(work, "nie"), MAX_SNAP=450))
    h.check("needs a street network" in message and not os.path.exists(os.path.join(work, "nie")),
            "…and by Plan places: " + message)

    # The plan made on foot keeps every rule with the network its scenario names; a max.
    # distance of the form goes into the scenario as checked.
    walked_plan = h.project_layers()["Flussstadt – sites"]
    results, feedback = h.run("quartier:checkplan", {
        "PLAN": walked_plan, "MAX_SNAP": 450, "OFFENDING": os.path.join(work, "Fluss.gpkg")})
    checked = [line.split(": ", 1)[1] for line in feedback.lines
               if line.startswith("The scenario as checked: ")]
    as_checked = h.read_toml(checked[0]) if checked else {}
    h.check(results["VIOLATIONS"] == 0 and as_checked.get("network") == {"max_snap_m": 450}
            and as_checked["input"]["network"]
            == os.path.join(work, "zu Fuß", "inputs", "network.geojson").replace(os.sep, "/"),
            "the plan made on foot keeps every rule with its scenario's network and max. 450 m")

    # A scenario file that names the network: a GeoPackage layer, then a Shapefile.
    for name, network, copied in (
            ("GeoPackage", "Straßen.gpkg#Straßen", "inputs/network.gpkg#Straßen"),
            ("Shapefile", "shape/Strassen.shp", "inputs/network.shp")):
        base = os.path.join(folder, name + ".toml")
        with open(base, "w", encoding="utf-8") as handle:
            handle.write(scenario_text(network, name))
        output = os.path.join(work, "aus " + name)
        before = set(h.project_layers())
        results, _ = h.run("quartier:planplaces", {"BASE_SCENARIO": base, "OUTPUT": output})
        summary = h.read_json(os.path.join(output, "plan", "summary.json"))
        written = h.read_toml(os.path.join(output, "scenario.toml"))
        inputs = sorted(os.listdir(os.path.join(output, "inputs")))
        h.check(written["input"]["network"] == copied and summary["network"] == expected["network"]
                and "%s – routes" % name in added_layers(before),
                "a scenario file naming the network as %s: handed over as %s (%s), the same "
                "network, the routes in the project" % (name, copied, ", ".join(inputs)))
        h.verify(binary, os.path.join(output, "scenario.toml"),
                 os.path.join(output, "plan", "sites.geojson"))
    h.exit_qgis()


main()
