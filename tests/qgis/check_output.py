"""Opens a quartier output folder in real QGIS (headless) the way a planner would: adds
sites.geojson and districts.geojson, checks that the default styles next to them were
applied, the feature counts and the CRS, and renders the map to a PNG.

Usage: python3 check_output.py OUTPUT_DIR EXPECTED_SITES EXPECTED_DISTRICTS PNG
Prints one line per check; exits 1 on the first failure.
"""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def fail(message):
    print("FAIL " + message)
    sys.exit(1)


def main():
    out, sites_expected, districts_expected, png = sys.argv[1:5]
    app = QgsApplication([], False)
    app.initQgis()
    layers = {}
    for name, expected, renderer in [
        ("districts", int(districts_expected), "graduatedSymbol"),
        ("sites", int(sites_expected), "categorizedSymbol"),
    ]:
        layer = QgsVectorLayer(os.path.join(out, name + ".geojson"), name, "ogr")
        if not layer.isValid():
            fail(name + ": QGIS cannot open the layer")
        if layer.featureCount() != expected:
            fail("%s: %d features, expected %d" % (name, layer.featureCount(), expected))
        authid = layer.crs().authid()
        if authid not in ("EPSG:4326", "OGC:CRS84"):
            fail("%s: CRS %s, expected WGS 84" % (name, authid))
        # QGIS applies NAME.qml next to NAME.geojson as the default style when a layer is
        # added; loadDefaultStyle is that same step.
        message, ok = layer.loadDefaultStyle()
        if not ok:
            fail("%s: default style not loaded: %s" % (name, message))
        kind = layer.renderer().type()
        if kind != renderer:
            fail("%s: renderer %s, expected %s" % (name, kind, renderer))
        print("ok %s: %d features, %s, %s" % (name, layer.featureCount(), authid, kind))
        layers[name] = layer
        QgsProject.instance().addMapLayer(layer)
    ranges = layers["districts"].renderer().ranges()
    print("ok districts legend: " + "; ".join(r.label() for r in ranges))
    categories = layers["sites"].renderer().categories()
    print("ok sites legend: " + "; ".join(c.label() for c in categories))
    extent = QgsRectangle(layers["districts"].extent())
    extent.scale(1.05)
    settings = QgsMapSettings()
    settings.setLayers([layers["sites"], layers["districts"]])
    settings.setDestinationCrs(layers["districts"].crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(1000, 800))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    if not job.renderedImage().save(png, "png"):
        fail("could not save " + png)
    print("ok rendered " + png)
    app.exitQgis()


main()
