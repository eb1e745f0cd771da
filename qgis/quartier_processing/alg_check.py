"""Check a plan: `quartier verify` on a sites layer the planner edited; every violation in
the log, and a layer of the sites that break a rule. With a street network chosen in the
form, the plan is checked with distances on foot along it (the scenario as it is, with
that network)."""

import os
import re
import uuid

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant

from . import layers
from . import scenario as sc
from .common import QuartierAlgorithm, help_text, input_hints

VIOLATION = "  ✗ "

# The site (or plan feature) a violation line of `quartier verify` is about.
SITE = re.compile(r'^site "(?P<id>.*?)"(?::| gets | was | appears )')
UNKNOWN = re.compile(r': feature (?P<feature>\d+) has site id "(?P<id>.*)", which is not in')
DISTRICT = re.compile(r'^district (?P<id>.*?) ".*": .* exceed the share cap')

HELP = """<p>Audits a plan against every rule of its scenario with <b>quartier verify</b>,
for example a plan's <i>sites</i> layer after you changed places, deleted sites or added
sites from the sites layer (unsaved edits count as they are shown).</p>
<p>Every violation is listed in the log with the amounts, and the sites that break a rule
come back as a layer with the column <i>violation</i> (sites in a district over its share
cap are listed too). An empty layer means the plan keeps every rule.</p>
<p><b>Scenario</b>: leave it empty for a plan made by <i>Plan places</i>: the
<i>scenario.toml</i> next to its <i>plan/</i> folder is used.</p>
<p><b>Street network</b> (optional): a line layer of the streets and footpaths. With it, the
access rule is checked with the ways on foot along the streets, also for a plan that was
made with straight-line distances. Empty: the scenario's own network, if it names one.
The max. distance to the street network (under Advanced parameters; default: the
scenario's, else 300 m) says how far a site or facility may lie from the nearest street.</p>"""


class CheckPlan(QuartierAlgorithm):
    def name(self):
        return "checkplan"

    def displayName(self):
        return self.tr("Check a plan")

    def shortHelpString(self):
        return self.tr(help_text(HELP))

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterVectorLayer(
            "PLAN", self.tr("Plan sites layer (with id and places)"),
            [QgsProcessing.TypeVectorPoint]))
        self.addParameter(QgsProcessingParameterFile(
            "SCENARIO", self.tr("Scenario file of the plan (empty: the scenario.toml of its "
                                "output folder)"), extension="toml", optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "NETWORK", self.tr("Street network (walk distances to facilities; empty: the "
                               "scenario's)"),
            [QgsProcessing.TypeVectorLine], optional=True))
        max_snap = QgsProcessingParameterNumber(
            "MAX_SNAP", self.tr("Max. distance to the street network in metres (default: the "
                                "scenario's, else 300)"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=1)
        max_snap.setFlags(max_snap.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        max_snap.setMetadata({"widget_wrapper": {"decimals": 0}})
        self.addParameter(max_snap)
        self.addParameter(QgsProcessingParameterFeatureSink(
            "OFFENDING", self.tr("Sites that break a rule"), QgsProcessing.TypeVectorPoint))
        self.addOutput(QgsProcessingOutputNumber("VIOLATIONS", self.tr("Violations")))
        self.addOutput(QgsProcessingOutputString("REPORT", self.tr("quartier verify's report")))

    def processAlgorithm(self, parameters, context, feedback):
        binary = self.find_quartier(feedback)
        layer = self.parameterAsVectorLayer(parameters, "PLAN", context)
        if layer is None:
            raise QgsProcessingException("Choose the plan's sites layer.")
        scenario_path = self.optional_string(parameters, "SCENARIO", context)
        plan_file = layers.source_path(layer)
        if not scenario_path:
            scenario_path = scenario_of(plan_file)
            if scenario_path is None:
                raise QgsProcessingException(
                    "No scenario file was given, and none was found next to the layer \"%s\" "
                    "(%s). Choose the scenario file the plan was made with."
                    % (layer.name(), plan_file or "not a file"))
            feedback.pushInfo("Scenario: %s" % scenario_path)

        if layers.is_plain_geojson(layer):
            plan_path = plan_file
        else:
            folder = _temp_folder()
            plan_path = os.path.join(folder, "plan_sites.geojson")
            why = "has unsaved edits" if layer.isModified() else "is not a GeoJSON file"
            feedback.pushInfo("The layer \"%s\" %s: it is checked as shown, through %s"
                              % (layer.name(), why, plan_path))
            layers.export_geojson(layer, plan_path, "plan", layer.name(), context, feedback)

        id_field = site_id_field(scenario_path)
        names = {}
        if not self._unset(parameters, "NETWORK") or not self._unset(parameters, "MAX_SNAP"):
            scenario_path, names = self.with_network(scenario_path, parameters, context, feedback)

        result = self.run_quartier(binary, ["verify", scenario_path, plan_path], feedback)
        if result.code not in (0, 1) or (result.code == 1 and not result.stdout):
            raise self.failure("check the plan", result, input_hints(result, names))
        report = list(result.stdout)
        if plan_path != plan_file:
            # Name the layer, not the temporary file it was handed over in, in the
            # violations and in the report.
            shown = 'the layer "%s"' % layer.name()
            report = [line.replace(plan_path, shown) for line in report]
        violations = [line[len(VIOLATION):] for line in report if line.startswith(VIOLATION)]
        for violation in violations:
            feedback.reportError(violation, False)
        if result.code == 0:
            feedback.pushInfo("The plan keeps every rule.")
        else:
            feedback.pushInfo("%d violation%s found." % (len(violations), "" if len(violations) == 1 else "s"))

        plan = QgsVectorLayer(plan_path, "plan", "ogr")
        offending = offending_features(plan, violations, id_field)
        fields = QgsFields(plan.fields())
        fields.append(QgsField("violation", QVariant.String))
        sink, dest = self.parameterAsSink(parameters, "OFFENDING", context, fields,
                                          plan.wkbType(), plan.crs())
        if sink is None:
            raise QgsProcessingException("The layer of offending sites cannot be written.")
        for feature, messages in offending:
            out = QgsFeature(fields)
            out.setGeometry(feature.geometry())
            out.setAttributes(list(feature.attributes()) + ["; ".join(messages)])
            sink.addFeature(out, QgsFeatureSink.FastInsert)
        return {
            "OFFENDING": dest,
            "VIOLATIONS": len(violations),
            "REPORT": "\n".join(report),
        }

    def with_network(self, scenario_path, parameters, context, feedback):
        """The plan's scenario with the form's street network and max. distance, written to a
        temporary folder with every input path made absolute; its path and {file: layer}."""
        if not sc.can_read_toml():
            raise QgsProcessingException(
                "Checking with a street network from the form needs Python 3.11 or the "
                "'tomli' package, and this QGIS runs Python without either. Name the street "
                "network in the scenario file instead ([input] network = \"streets.gpkg\").")
        try:
            data = sc.read_scenario(scenario_path)
        except sc.ScenarioError as error:
            raise QgsProcessingException(str(error))
        base_dir = os.path.dirname(os.path.abspath(scenario_path))
        for key, path in sc.input_files(data):
            sc.set_path(data, key, _absolute(base_dir, path))
        data.pop("output", None)  # verify writes nothing

        folder = _temp_folder()
        names = {}
        network = self.parameterAsSource(parameters, "NETWORK", context)
        if network is not None:
            layer = self.parameterAsVectorLayer(parameters, "NETWORK", context)
            shown = layer.name() if layer is not None else str(parameters.get("NETWORK"))
            target = os.path.join(folder, "network.geojson")
            written = layers.export_geojson(network, target, "network", shown, context, feedback,
                                            keep=layers.NETWORK_FIELDS)
            named = target.replace(os.sep, "/")
            sc.set_path(data, "input.network", named)
            names[named] = shown
            feedback.pushInfo("Distances on foot along the street network \"%s\" (%d features, "
                              "handed to quartier as %s)" % (shown, written, target))
        elif not isinstance(sc.get_path(data, "input.network"), str):
            raise QgsProcessingException(
                "A max. distance to the street network needs a street network: choose the "
                "street network layer, or a scenario file whose [input] names one.")
        max_snap = self.optional_number(parameters, "MAX_SNAP", context)
        if max_snap is not None:
            data = sc.merge(data, {"network": {
                "max_snap_m": int(max_snap) if max_snap.is_integer() else max_snap}})

        path = os.path.join(folder, "scenario.toml")
        text = sc.to_toml(data, [
            "The scenario %s," % scenario_path,
            "checked by the QGIS plugin with the street network of its form.",
        ])
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        feedback.pushInfo("The scenario as checked: %s" % path)
        return path, names


def _temp_folder():
    folder = os.path.join(QgsProcessingUtils.tempFolder(), "quartier-" + uuid.uuid4().hex[:8])
    os.makedirs(folder)
    return folder


def _absolute(base_dir, path):
    """A scenario's input path (relative to its folder) as an absolute path with forward
    slashes, which quartier reads on every system; a GeoPackage's #layer stays."""
    return os.path.abspath(os.path.join(base_dir, path)).replace(os.sep, "/")


def scenario_of(plan_file):
    """The scenario.toml of the output folder that a plan's sites.geojson lies in."""
    if not plan_file:
        return None
    folder = os.path.dirname(plan_file)
    for candidate in (os.path.join(os.path.dirname(folder), "scenario.toml"),
                      os.path.join(folder, "scenario.toml")):
        if os.path.isfile(candidate):
            return candidate
    return None


def site_id_field(scenario_path):
    """[fields.sites] id of the scenario ('id' when unset or unreadable)."""
    if not sc.can_read_toml():
        return "id"
    try:
        data = sc.read_scenario(scenario_path)
    except sc.ScenarioError:
        return "id"
    value = sc.get_path(data, "fields.sites.id")
    return value if isinstance(value, str) and value else "id"


def offending_features(plan, violations, id_field):
    """(feature, messages) for every feature of the plan that a violation names: by site id,
    by feature number (ids unknown to the scenario), or by district (share cap)."""
    by_site, by_feature, by_district = {}, {}, {}
    for message in violations:
        site = SITE.match(message)
        unknown = UNKNOWN.search(message)
        district = DISTRICT.match(message)
        if site:
            by_site.setdefault(site.group("id"), []).append(message)
        elif unknown:
            by_feature.setdefault(int(unknown.group("feature")), []).append(message)
        elif district:
            by_district.setdefault(district.group("id"), []).append(message)
    names = plan.fields().names()
    found = []
    for index, feature in enumerate(plan.getFeatures()):
        messages = list(by_feature.get(index, []))
        site_id = _text(feature[id_field]) if id_field in names else None
        if site_id is None and "id" in names:
            site_id = _text(feature["id"])
        if site_id is not None:
            messages += by_site.get(site_id, [])
        if by_district and "district" in names and _places(feature) > 0:
            messages += by_district.get(_text(feature["district"]), [])
        if messages:
            found.append((feature, messages))
    return found


def _text(value):
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return None
    return str(value).strip()


def _places(feature):
    try:
        return float(feature["places"] or 0)
    except (KeyError, TypeError, ValueError):
        return 0.0
