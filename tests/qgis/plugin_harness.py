"""Shared by the plugin tests (tests/qgis/plugin_*.py, run by tests/qgis_plugin.rs).

Each test starts real QGIS headless with a fresh profile in its work folder, installs the
plugin from its zip with QGIS's own "Install from ZIP" code, starts Processing, and sets
the provider's "quartier executable" setting to the binary under test. Checks print
"ok ..." lines; the first failure prints "FAIL ..." and exits 1. A test that cannot run
yet (a scenario key the binary does not know) prints "SKIP ..." and exits 0.
"""

import json
import os
import subprocess
import sys
import tomllib

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.append("/usr/share/qgis/python/plugins")  # the processing framework
sys.path.append("/usr/share/qgis/python")  # pyplugin_installer

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
)
from qgis.PyQt.QtCore import QCoreApplication, QSettings  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(ROOT, "data", "musterstadt")
SCENARIOS = os.path.join(ROOT, "scenarios")

_app = None


def fail(message):
    print("FAIL " + message, flush=True)
    os._exit(1)


def check(condition, message):
    if not condition:
        fail(message)
    print("ok " + message, flush=True)


def skip(message):
    print("SKIP " + message, flush=True)
    os._exit(0)


class Stub:
    """Stands in for QGIS's iface where the plugin installer reports to it."""

    def __init__(self):
        self.messages = []
        self.metadata = []

    def pluginManagerInterface(self):  # noqa: N802
        return self

    def pushMessage(self, text, level=0):  # noqa: N802
        self.messages.append(text)

    def addPluginMetadata(self, metadata):  # noqa: N802
        self.metadata.append(metadata)

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class Session:
    def __init__(self, work, plugins_dir, iface):
        self.work = work
        self.plugins_dir = plugins_dir
        self.iface = iface


def start(zip_path, work, binary, gui=False):
    """QGIS with a fresh profile in `work`, the plugin installed from `zip_path`."""
    global _app
    profile = os.path.join(work, "profile")
    # QGIS keeps its settings in the profile folder; without this, QgsSettings would write
    # to the user's own configuration.
    QCoreApplication.setOrganizationName("QGIS")
    QCoreApplication.setOrganizationDomain("qgis.org")
    QCoreApplication.setApplicationName("QGIS3")
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, profile)
    _app = QgsApplication([], True, profile)
    _app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()

    import qgis.utils

    plugins_dir = os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "plugins")
    os.makedirs(plugins_dir, exist_ok=True)
    qgis.utils.home_plugin_path = plugins_dir
    qgis.utils.plugin_paths = [plugins_dir]
    sys.path.insert(0, plugins_dir)
    iface = Stub()
    qgis.utils.iface = iface
    import pyplugin_installer.installer as installer

    installer.iface = iface
    installer.QgsPluginInstaller().installFromZipFile(zip_path)
    if "quartier_processing" not in qgis.utils.active_plugins:
        fail("the plugin did not start after Install from ZIP: %s" % iface.messages)
    set_binary(binary)
    return Session(work, plugins_dir, iface)


def set_binary(path):
    from processing.core.ProcessingConfig import ProcessingConfig

    ProcessingConfig.setSettingValue("QUARTIER_EXECUTABLE", path)


class Recorder(QgsProcessingFeedback):
    """Keeps everything the algorithm reports, as the Processing log would show it."""

    def __init__(self, cancel_at_progress=None):
        super().__init__()
        self.lines = []
        self.errors = []
        self.progress = []
        self.texts = []
        self.cancel_at_progress = cancel_at_progress

    def pushInfo(self, text):  # noqa: N802
        self.lines.append(text)

    def pushWarning(self, text):  # noqa: N802
        self.lines.append(text)

    def pushCommandInfo(self, text):  # noqa: N802
        self.lines.append(text)

    def pushDebugInfo(self, text):  # noqa: N802
        self.lines.append(text)

    def pushConsoleInfo(self, text):  # noqa: N802
        self.lines.append(text)

    def reportError(self, text, fatal=False):  # noqa: N802
        self.errors.append(text)
        self.lines.append(text)

    def setProgressText(self, text):  # noqa: N802
        self.texts.append(text)

    def setProgress(self, value):  # noqa: N802
        self.progress.append(value)
        super().setProgress(value)
        if self.cancel_at_progress is not None and value >= self.cancel_at_progress:
            self.cancel()

    def log(self):
        return "\n".join(self.lines)


def run(algorithm, parameters, load=True, feedback=None):
    """Runs an algorithm as the Processing dialog does (results loaded into the project
    when `load`); returns (results, feedback) or raises QgsProcessingException."""
    import processing
    from processing.gui.Postprocessing import handleAlgorithmResults

    feedback = feedback or Recorder()
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    context.setFeedback(feedback)
    if load:
        results = processing.run(
            algorithm, parameters, feedback=feedback, context=context,
            onFinish=lambda alg, ctx, fb: handleAlgorithmResults(alg, ctx, fb, True, parameters))
    else:
        results = processing.run(algorithm, parameters, feedback=feedback, context=context)
    return results, feedback


def run_failing(algorithm, parameters):
    """Runs an algorithm that must fail; returns (exception text, feedback)."""
    feedback = Recorder()
    try:
        run(algorithm, parameters, feedback=feedback)
    except QgsProcessingException as error:
        return str(error), feedback
    fail("%s did not fail with %s" % (algorithm, parameters))


def quartier(binary, *args, cwd=None):
    return subprocess.run([os.path.abspath(binary)] + list(args), cwd=cwd, capture_output=True,
                          text=True)


def read_text(path, limit=-1):
    with open(path, encoding="utf-8") as handle:
        return handle.read(limit)


def verify(binary, scenario, sites):
    """The independent checker on a plan: `quartier verify` must find nothing."""
    done = quartier(binary, "verify", scenario, sites)
    check(done.returncode == 0 and "the plan keeps every rule" in done.stdout,
          "quartier verify finds %s keeps every rule%s" % (
              os.path.relpath(sites, os.path.dirname(os.path.dirname(sites))),
              "" if done.returncode == 0 else ":\n" + done.stdout + done.stderr))
    return done.stdout


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_toml(path):
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def snapshot(layer):
    """Everything about a layer that a run must not change."""
    features = sorted(
        (str(f.id()), [str(a) for a in f.attributes()], f.geometry().asWkt(3))
        for f in layer.getFeatures())
    return (layer.name(), layer.source(), layer.featureCount(), layer.isModified(),
            layer.renderer().type() if layer.renderer() else None, features)


def file_hash(path):
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def project_layers():
    return {layer.name(): layer for layer in QgsProject.instance().mapLayers().values()}


def renderer_summary(layer):
    renderer = layer.renderer()
    kind = renderer.type()
    if kind == "graduatedSymbol":
        classes = [r.label() for r in renderer.ranges()]
    elif kind == "categorizedSymbol":
        classes = [c.label() for c in renderer.categories()]
    else:
        classes = []
    return kind, classes


def exit_qgis():
    """Leaves without Python's teardown: QGIS can crash or hang while Python destroys its
    objects at exit, and the checks are done. QGIS's temporary folders are in TMPDIR,
    which tests/qgis_plugin.rs points into the test's own temporary folder."""
    sys.stdout.flush()
    os._exit(0)


def demo_layers(work):
    """The demo city as a city office would have it, added to the project: districts as a
    Shapefile in windows-1252 with German field names and numeric ids, sites in a
    GeoPackage, schools as a scratch layer in a CRS without an EPSG code, stops as a CSV
    of Web Mercator coordinates, Kitas as the original GeoJSON."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsCoordinateTransformContext,
        QgsFeature,
        QgsField,
        QgsFields,
        QgsVectorFileWriter,
        QgsVectorLayer,
        QgsWkbTypes,
    )
    from qgis.PyQt.QtCore import QVariant

    folder = os.path.join(work, "city office")
    os.makedirs(folder, exist_ok=True)

    def source(name):
        layer = QgsVectorLayer(os.path.join(DEMO, name + ".geojson"), name, "ogr")
        if not layer.isValid():
            fail("cannot open the demo layer " + name)
        return layer

    def write(layer, renames, types, path, driver, encoding, crs=None, geometry=None):
        fields = QgsFields()
        for old, new in renames:
            field = QgsField(layer.fields().field(old))
            field.setName(new)
            if new in types:
                field.setType(types[new])
                field.setTypeName("")
            if field.type() == QVariant.String:
                field.setLength(80)
            fields.append(field)
        options = QgsVectorFileWriter.SaveVectorOptions()
        options.driverName = driver
        options.fileEncoding = encoding
        if driver == "CSV":
            options.layerOptions = ["GEOMETRY=AS_XY", "SEPARATOR=SEMICOLON"]
        target = crs or layer.crs()
        writer = QgsVectorFileWriter.create(
            path, fields, layer.wkbType() if geometry is None else geometry, target,
            QgsCoordinateTransformContext(),
            options)
        transform = QgsCoordinateTransform(layer.crs(), target, QgsCoordinateTransformContext())
        for feature in layer.getFeatures():
            out = QgsFeature(fields)
            values = []
            for old, new in renames:
                value = feature[old]
                if types.get(new) == QVariant.Int and value is not None:
                    value = int(value)
                values.append(value)
            out.setAttributes(values)
            geometry = feature.geometry()
            geometry.transform(transform)
            out.setGeometry(geometry)
            writer.addFeature(out)
        del writer

    districts_path = os.path.join(folder, "Stadtteile.shp")
    write(source("districts"),
          [("id", "BEZ_NR"), ("name", "BEZ_NAME"), ("population", "EINWOHNER"),
           ("existing", "BESTAND"), ("welfare_share", "SGB2_ANT")],
          {"BEZ_NR": QVariant.Int}, districts_path, "ESRI Shapefile", "windows-1252")
    sites_path = os.path.join(folder, "Liegenschaften.gpkg")
    write(source("sites"),
          [("id", "objekt_id"), ("capacity", "plaetze"), ("status", "status"),
           ("occupied", "belegt"), ("min_places", "min_plaetze"), ("kind", "art"),
           ("cost", "kosten")],
          {}, sites_path, "GPKG", "UTF-8", geometry=QgsWkbTypes.Unknown)
    stops_path = os.path.join(folder, "Haltestellen.csv")
    write(source("stops"), [("id", "id"), ("name", "name")], {}, stops_path, "CSV", "UTF-8",
          QgsCoordinateReferenceSystem("EPSG:3857"))

    layers = {
        "Stadtteile": QgsVectorLayer(districts_path, "Stadtteile", "ogr"),
        "Liegenschaften": QgsVectorLayer(sites_path + "|layername=Liegenschaften",
                                         "Liegenschaften", "ogr"),
        "Haltestellen": QgsVectorLayer(
            "file://%s?delimiter=;&xField=X&yField=Y&crs=EPSG:3857" % stops_path,
            "Haltestellen", "delimitedtext"),
        "Kitas": QgsVectorLayer(os.path.join(DEMO, "kitas.geojson"), "Kitas", "ogr"),
    }
    # Schools as a scratch layer in a transverse Mercator projection given as PROJ text.
    custom = QgsCoordinateReferenceSystem.fromProj(
        "+proj=tmerc +lat_0=0 +lon_0=7.5 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs")
    schools = source("schools")
    scratch = QgsVectorLayer("Point?field=id:string&field=name:string&field=seats:integer",
                             "Grundschulen", "memory")
    scratch.setCrs(custom)
    transform = QgsCoordinateTransform(schools.crs(), custom, QgsCoordinateTransformContext())
    features = []
    for feature in schools.getFeatures():
        out = QgsFeature(scratch.fields())
        out.setAttributes([feature["id"], feature["name"], feature["seats"]])
        geometry = feature.geometry()
        geometry.transform(transform)
        out.setGeometry(geometry)
        features.append(out)
    scratch.dataProvider().addFeatures(features)
    layers["Grundschulen"] = scratch
    for name, layer in layers.items():
        if not layer.isValid():
            fail("the test layer %s is not valid" % name)
        QgsProject.instance().addMapLayer(layer)
    return layers


def render(layers, png, size=(1000, 800), crs="EPSG:25832"):
    """Renders layers (top first) as QGIS draws them, in `crs` (the city's own, as in the
    planners' projects), to a PNG; returns the image."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers(layers)
    target = QgsCoordinateReferenceSystem(crs)
    settings.setDestinationCrs(target)
    transform = QgsCoordinateTransform(layers[-1].crs(), target, QgsProject.instance())
    extent = transform.transformBoundingBox(layers[-1].extent())
    extent.scale(1.05)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(*size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    if not image.save(png, "png"):
        fail("could not save " + png)
    return image


def distinct_colours(image, step=7):
    colours = set()
    for x in range(0, image.width(), step):
        for y in range(0, image.height(), step):
            colours.add(image.pixel(x, y))
    return len(colours)


def plan_places(by_site_file):
    """{site id: new places} of a plan's sites.geojson."""
    data = read_json(by_site_file)
    return {str(f["properties"]["id"]): f["properties"]["places"] for f in data["features"]}


def demo_parameters(layers, output, **extra):
    """Plan places on the city office's layers, with the field pickers for its names."""
    parameters = {
        "DISTRICTS": layers["Stadtteile"],
        "DISTRICT_ID": "BEZ_NR",
        "DISTRICT_NAME": "BEZ_NAME",
        "DISTRICT_POPULATION": "EINWOHNER",
        "DISTRICT_EXISTING": "BESTAND",
        "SITES": layers["Liegenschaften"],
        "SITE_ID": "objekt_id",
        "SITE_CAPACITY": "plaetze",
        "SITE_OCCUPIED": "belegt",
        "SITE_MIN_PLACES": "min_plaetze",
        "SITE_COST": "kosten",
        "PLACES": 2300,
        "MAX_PER_SITE": 50,
        "OUTPUT": output,
    }
    parameters.update(extra)
    return parameters


def transform(source, target):
    from qgis.core import QgsCoordinateTransform

    return QgsCoordinateTransform(source, target, QgsProject.instance())
