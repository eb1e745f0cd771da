"""Plan places: the form becomes a scenario file, quartier solves it, and the plan comes
back into the project as styled layers: sites, districts and, with a street network, the
ways on foot from the sites to the facilities.

The output folder D the planner picks gets:

    D/scenario.toml     the scenario that ran (repeat it with `quartier solve scenario.toml` in D)
    D/inputs/           the layers as handed to quartier (GeoJSON)
    D/plan/             quartier's output folder: sites.geojson, districts.geojson, their
                        .qml styles, summary.json, report.html (and routes.geojson with
                        routes.qml when the scenario has a street network)

Everything is first written to a hidden folder in D and moved into place only when
quartier has solved (and verified) the plan, so a failed or cancelled run leaves D as it
was. The plugin replaces only what it wrote itself (scenario.toml beginning with its
marker line, inputs/, plan/) and never a file that a layer of the project reads.
"""

import datetime
import os
import shutil
import uuid

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputFolder,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from . import layers, runner
from . import scenario as sc
from .common import QuartierAlgorithm, help_text, input_hints, read_summary

#: Facility layers in the form; a scenario file may name more.
FACILITY_SLOTS = 4

#: How quartier's steps share the progress bar between export (0–10 %) and verify (95 %+).
PHASES = [
    ("reading", 0.0, 0.35),
    ("reprojecting", 0.35, 0.38),
    ("finding", 0.38, 0.45),
    ("nearest", 0.45, 0.5),
    ("applying", 0.5, 0.55),
    ("solving", 0.55, 0.95),
    ("writing", 0.95, 1.0),
]

#: Decimals shown in the form's number fields (metres and seconds whole, shares finer).
DECIMALS = {"MAX_SHARE": 4, "RADIUS_METRES": 0, "ACCESS_": 0, "SEATS_PER_PLACE": 2,
            "SPREAD_METRES": 0, "TIME_LIMIT": 0, "MAX_SNAP": 0}

DISTRICT_FIELDS = [
    ("DISTRICT_ID", "id", "District id field", QgsProcessingParameterField.Any),
    ("DISTRICT_NAME", "name", "District name field", QgsProcessingParameterField.Any),
    ("DISTRICT_POPULATION", "population", "Population field", QgsProcessingParameterField.Numeric),
    ("DISTRICT_WEIGHT", "weight", "Weight field for the fair share (default: population)",
     QgsProcessingParameterField.Numeric),
    ("DISTRICT_EXISTING", "existing", "Field of places that exist already (missing = 0)",
     QgsProcessingParameterField.Numeric),
]

SITE_FIELDS = [
    ("SITE_ID", "id", "Site id field", QgsProcessingParameterField.Any),
    ("SITE_CAPACITY", "capacity", "Capacity field", QgsProcessingParameterField.Numeric),
    ("SITE_STATUS", "status", "Status field (candidate | existing | excluded)",
     QgsProcessingParameterField.String),
    ("SITE_OCCUPIED", "occupied", "Occupied places field", QgsProcessingParameterField.Numeric),
    ("SITE_MIN_PLACES", "min_places", "Minimum places field (if used at all)",
     QgsProcessingParameterField.Numeric),
    ("SITE_COST", "cost", "Cost per place field", QgsProcessingParameterField.Numeric),
]

FACILITY_FIELDS = [
    ("FACILITY_ID", "id", "Facility id field (the same in every facility layer)",
     QgsProcessingParameterField.Any),
    ("FACILITY_SEATS", "seats", "Free seats field of schools or Kitas",
     QgsProcessingParameterField.Numeric),
]

HELP = """<p>Places the new refugee accommodation places evenly across the districts with
<b>quartier</b>, under the rules you set, and adds the plan to the project: the sites with
their new places and the districts shaded by places per 1,000 residents.</p>
<p><b>Layers</b> may be in any format QGIS reads; they are handed to quartier as GeoJSON
(with their CRS). Pick the fields where your layers use other names than quartier's
(<i>id, name, population; id, capacity, status, occupied, min_places, cost</i>); an empty
field picker means quartier's name. Facility layers (schools, Kitas, stops) each get a
<i>kind</i> (default: the layer name), used by the access and seats rules.</p>
<p><b>Street network</b> (optional): a line layer of the streets and footpaths. With it,
distances from the sites to the facilities are the ways on foot along the streets, not
straight lines, and the plan gets a layer of <i>routes</i>: the way from each site with
new places to its nearest facility of each kind. Sites and facilities farther from every
street than the max. distance (default 300 m, under Advanced parameters) count as off the
network.</p>
<p><b>Demand</b>: the number of new places, or demand levels (<i>1000, 2000, 3000</i>) for
an uncertain forecast, with optional weights (<i>0.5, 0.3, 0.2</i>).</p>
<p><b>Starting from a scenario file</b>: its values are the defaults, and every field you
fill in wins. 0 switches a rule of the file off (share cap, spacing radius, seats, time
limit).</p>
<p><b>Output folder</b>: <i>scenario.toml</i> (the scenario that ran; in a terminal,
<code>quartier solve scenario.toml</code> in that folder repeats the run), <i>inputs/</i>
(the layers as quartier read them) and <i>plan/</i> (quartier's result with
<i>report.html</i>). A failed or cancelled run leaves the folder as it was.</p>
<p>Right-click the algorithm and choose <i>Execute as Batch Process</i> to run a sweep over
several demands or rules, one output folder per row; <i>Compare plans</i> then sets two of
them side by side.</p>"""


class PlanPlaces(QuartierAlgorithm):
    def name(self):
        return "planplaces"

    def displayName(self):
        return self.tr("Plan places")

    def shortHelpString(self):
        return self.tr(help_text(HELP))

    def initAlgorithm(self, config=None):
        advanced = QgsProcessingParameterDefinition.FlagAdvanced

        def add(parameter, flags=0):
            if flags:
                parameter.setFlags(parameter.flags() | flags)
            decimals = DECIMALS.get(parameter.name().rstrip("0123456789"))
            if decimals is not None:
                parameter.setMetadata({"widget_wrapper": {"decimals": decimals}})
            self.addParameter(parameter)

        add(QgsProcessingParameterFile(
            "BASE_SCENARIO", self.tr("Start from a scenario file (optional; the form's values win)"),
            extension="toml", optional=True))
        add(QgsProcessingParameterString(
            "NAME", self.tr("Scenario name"), optional=True))

        add(QgsProcessingParameterFeatureSource(
            "DISTRICTS", self.tr("Districts layer (polygons with population)"),
            [QgsProcessing.TypeVectorPolygon], optional=True))
        for name, _key, label, kind in DISTRICT_FIELDS:
            add(QgsProcessingParameterField(
                name, self.tr(label), parentLayerParameterName="DISTRICTS", type=kind,
                optional=True))

        add(QgsProcessingParameterFeatureSource(
            "SITES", self.tr("Sites layer (candidate and existing accommodation)"),
            [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon], optional=True))
        for name, _key, label, kind in SITE_FIELDS:
            add(QgsProcessingParameterField(
                name, self.tr(label), parentLayerParameterName="SITES", type=kind,
                optional=True))

        add(QgsProcessingParameterNumber(
            "PLACES", self.tr("Demand: new places"), QgsProcessingParameterNumber.Integer,
            optional=True, minValue=1))
        add(QgsProcessingParameterString(
            "LEVELS", self.tr("…or demand levels, increasing (1000, 2000, 3000)"),
            optional=True))
        add(QgsProcessingParameterString(
            "WEIGHTS", self.tr("Weights of the levels (0.5, 0.3, 0.2; default equal)"),
            optional=True))

        add(QgsProcessingParameterNumber(
            "MAX_PER_SITE", self.tr("Rule: at most places per site, occupied included (default 50)"),
            QgsProcessingParameterNumber.Integer, optional=True, minValue=1))
        add(QgsProcessingParameterNumber(
            "MAX_SHARE", self.tr("Rule: share cap, of a district's residents (0.015 = 1.5 %; 0 = off)"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=0, maxValue=1))
        add(QgsProcessingParameterNumber(
            "RADIUS_METRES", self.tr("Rule: spacing radius in metres (0 = off)"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=0))
        add(QgsProcessingParameterNumber(
            "RADIUS_MAX_PLACES", self.tr("Rule: at most places within the spacing radius"),
            QgsProcessingParameterNumber.Integer, optional=True, minValue=0))

        for slot in range(1, FACILITY_SLOTS + 1):
            flags = advanced if slot > 2 else 0
            add(QgsProcessingParameterFeatureSource(
                "FACILITY_%d" % slot, self.tr("Facility layer %d (schools, Kitas, stops)") % slot,
                [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon], optional=True),
                flags)
            add(QgsProcessingParameterString(
                "KIND_%d" % slot, self.tr("Kind of facility layer %d (default: the layer name)") % slot,
                optional=True), flags)
            add(QgsProcessingParameterNumber(
                "ACCESS_%d" % slot,
                self.tr("Rule: access, new places within metres of a facility of kind %d") % slot,
                QgsProcessingParameterNumber.Double, optional=True, minValue=0), flags)
        for name, _key, label, kind in FACILITY_FIELDS:
            add(QgsProcessingParameterField(
                name, self.tr(label), parentLayerParameterName="FACILITY_1", type=kind,
                optional=True), advanced)
        add(QgsProcessingParameterFeatureSource(
            "NETWORK", self.tr("Street network (walk distances to facilities)"),
            [QgsProcessing.TypeVectorLine], optional=True))
        add(QgsProcessingParameterNumber(
            "MAX_SNAP", self.tr("Max. distance to the street network in metres (default 300)"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=1), advanced)
        add(QgsProcessingParameterString(
            "SEATS_KIND", self.tr("Rule: seats, the facility kind with free seats (school)"),
            optional=True))
        add(QgsProcessingParameterNumber(
            "SEATS_PER_PLACE", self.tr("Rule: seats, children per place (0.25; 0 = off)"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=0))

        add(QgsProcessingParameterString(
            "STAGES", self.tr("Objective: stages after shortfall, evenness (fair, worst, spread, access, cost)"),
            optional=True))
        add(QgsProcessingParameterNumber(
            "SPREAD_METRES", self.tr("Objective: spread, radius of the neighbourhoods in metres"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=0))
        add(QgsProcessingParameterString(
            "ACCESS_KINDS", self.tr("Objective: access, facility kinds (default: every kind)"),
            optional=True))
        add(QgsProcessingParameterNumber(
            "TIME_LIMIT", self.tr("Solver time limit in seconds (0 = none)"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=0))
        add(QgsProcessingParameterCrs(
            "METRIC_CRS", self.tr("CRS for distances in metres (default: UTM zone of the data)"),
            optional=True), advanced)
        add(QgsProcessingParameterBoolean(
            "VERIFY", self.tr("Audit the plan with quartier verify"), defaultValue=True), advanced)
        add(QgsProcessingParameterFolderDestination(
            "OUTPUT", self.tr("Output folder (scenario.toml, inputs/, plan/)")))

        self.addOutput(QgsProcessingOutputVectorLayer(
            "PLAN_SITES", self.tr("Plan: sites"), QgsProcessing.TypeVectorPoint))
        self.addOutput(QgsProcessingOutputVectorLayer(
            "PLAN_DISTRICTS", self.tr("Plan: districts"), QgsProcessing.TypeVectorPolygon))
        self.addOutput(QgsProcessingOutputVectorLayer(
            "PLAN_ROUTES", self.tr("Plan: routes on foot (with a street network)"),
            QgsProcessing.TypeVectorLine))
        self.addOutput(QgsProcessingOutputFolder("PLAN_FOLDER", self.tr("quartier's output folder")))
        self.addOutput(QgsProcessingOutputFile("SCENARIO_FILE", self.tr("Scenario file that ran")))
        # A file, not QgsProcessingOutputHtml: QGIS 3.22's batch dialog fails on HTML outputs.
        self.addOutput(QgsProcessingOutputFile("REPORT", self.tr("Report (report.html)")))
        self.addOutput(QgsProcessingOutputString("STATUS", self.tr("Status (optimal | time_limit)")))
        self.addOutput(QgsProcessingOutputNumber("PLACED", self.tr("New places placed")))
        self.addOutput(QgsProcessingOutputNumber("SHORTFALL", self.tr("Shortfall")))
        self.addOutput(QgsProcessingOutputString(
            "LEVELS_PLACED", self.tr("With demand levels: places placed per level")))
        self.addOutput(QgsProcessingOutputString(
            "LEVELS_DISSIMILARITY", self.tr("With demand levels: dissimilarity D per level")))
        self.addOutput(QgsProcessingOutputNumber(
            "SELECTED_DISTRICTS", self.tr("Districts planned for (with a selection)")))
        self.addOutput(QgsProcessingOutputNumber("SITES_USED", self.tr("Sites used")))
        self.addOutput(QgsProcessingOutputNumber("DISSIMILARITY", self.tr("Dissimilarity D")))
        self.addOutput(QgsProcessingOutputString(
            "DISTANCE", self.tr("Distances to facilities (network | straight)")))
        self.addOutput(QgsProcessingOutputNumber("NETWORK_KM", self.tr("Street network: km")))
        self.addOutput(QgsProcessingOutputNumber(
            "NETWORK_PARTS", self.tr("Street network: connected parts")))
        self.addOutput(QgsProcessingOutputNumber(
            "SITES_OFF_NETWORK", self.tr("Sites off the street network")))
        self.addOutput(QgsProcessingOutputNumber(
            "SITES_UNREACHABLE", self.tr("Sites excluded: no facility reachable on foot")))

    # --- the run ---------------------------------------------------------------------------

    def processAlgorithm(self, parameters, context, feedback):
        binary = self.find_quartier(feedback)
        base_path = self.optional_string(parameters, "BASE_SCENARIO", context)
        base = {}
        if base_path:
            base_path = os.path.abspath(base_path)
            try:
                base = sc.read_scenario(base_path)
            except sc.ScenarioError as error:
                raise QgsProcessingException(str(error))
            feedback.pushInfo("Starting from %s" % base_path)
        base_dir = os.path.dirname(base_path) if base_path else None

        # The layers as picked, with their selections (filled by `build`).
        self.picked = []
        try:
            data, layer_plan = self.build(parameters, context, base, base_dir)
        except sc.ScenarioError as error:
            raise QgsProcessingException(str(error))
        for what, chosen in self.picked:
            if chosen.selected is not None:
                feedback.pushInfo("%s: the layer \"%s\"%s" % (what, chosen.shown, chosen.selection()))

        folder = os.path.abspath(self.parameterAsString(parameters, "OUTPUT", context))
        self.check_folder(folder, context)

        created = not os.path.exists(folder)
        staging = os.path.join(folder, ".quartier-run-" + uuid.uuid4().hex[:8])
        try:
            os.makedirs(os.path.join(staging, "inputs"))
        except OSError as error:
            # The planner chose the folder, not the working folder inside it.
            raise QgsProcessingException(
                "Cannot write into the output folder %s: %s. Choose a folder you may write to."
                % (folder, error.strerror or error))
        done = False
        try:
            result = self.run_in(staging, binary, parameters, context, feedback, data,
                                 layer_plan, base_path)
            self.commit(staging, folder)
            done = True
        except runner.Cancelled:
            raise QgsProcessingException(
                "Cancelled: quartier was stopped; nothing was written to %s and nothing was "
                "added to the project." % folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if not done and created:
                try:
                    os.rmdir(folder)  # only when empty: the folder did not exist before
                except OSError:
                    pass
        results = self.results(folder, result, context, feedback)
        districts = [chosen for what, chosen in self.picked
                     if what == "Districts" and chosen.selected is not None]
        if districts:
            chosen = districts[0]
            feedback.pushWarning(
                "This plan is for the selected districts only: %d of the %d districts of "
                "\"%s\". Every new place lies in them (placed: %s, shortfall: %s), and the "
                "fair shares are shares of their residents alone."
                % (chosen.selected, chosen.total, chosen.shown, results.get("PLACED"),
                   results.get("SHORTFALL")))
            results["SELECTED_DISTRICTS"] = chosen.selected
        return results

    def build(self, parameters, context, base, base_dir):
        """The scenario as a dict (without [input]) and the layers to hand to quartier:
        (key path, ('source', feature source, layer name) | ('file', path))."""
        data = {k: v for k, v in base.items() if k not in ("input", "output")}
        number = self.optional_number
        integer = self.optional_int
        text = self.optional_string

        fields = {"districts": {}, "sites": {}, "facilities": {}}
        for table, mapping in (("districts", DISTRICT_FIELDS), ("sites", SITE_FIELDS),
                               ("facilities", FACILITY_FIELDS)):
            for name, key, _label, _kind in mapping:
                fields[table][key] = self.optional_field(parameters, name, context)

        name = text(parameters, "NAME", context)
        data = sc.merge(data, {
            "name": name,
            "fields": fields,
        })

        places = integer(parameters, "PLACES", context)
        levels = sc.parse_whole_numbers(text(parameters, "LEVELS", context), "demand levels")
        weights = sc.parse_numbers(text(parameters, "WEIGHTS", context), "weights of the levels")
        sc.apply_demand(data, places, levels, weights)

        rules = {}
        rules["max_per_site"] = integer(parameters, "MAX_PER_SITE", context)
        share = number(parameters, "MAX_SHARE", context)
        rules["max_share"] = sc.REMOVE if share == 0 else share
        metres = number(parameters, "RADIUS_METRES", context)
        max_places = integer(parameters, "RADIUS_MAX_PLACES", context)
        if metres == 0:
            rules["radius"] = sc.REMOVE
        elif metres is not None or max_places is not None:
            rules["radius"] = {"metres": _whole(metres), "max_places": max_places}
        seats_kind = text(parameters, "SEATS_KIND", context)
        per_place = number(parameters, "SEATS_PER_PLACE", context)
        if per_place == 0:
            rules["seats"] = sc.REMOVE
        elif seats_kind is not None or per_place is not None:
            rules["seats"] = {"kind": seats_kind, "per_place": per_place}

        layer_plan = []
        for key in ("districts", "sites"):
            source = self.parameterAsSource(parameters, key.upper(), context)
            if source is not None:
                chosen = layers.picked(self, parameters, key.upper(), context)
                self.picked.append((key.capitalize(), chosen))
                layer_plan.append(("input." + key, ("source", source, chosen.shown), key))
            elif "input" in base and isinstance(base["input"].get(key), str):
                layer_plan.append(("input." + key, ("file", _resolve(base_dir, base["input"][key])), key))
            else:
                raise sc.ScenarioError(
                    "choose a %s layer (or a scenario file that names one)" % key)

        kinds = {}
        base_facilities = base.get("input", {}).get("facilities", {})
        for kind, path in base_facilities.items():
            kinds[kind] = ("file", _resolve(base_dir, path))
        access = {}
        for slot in range(1, FACILITY_SLOTS + 1):
            source = self.parameterAsSource(parameters, "FACILITY_%d" % slot, context)
            kind = text(parameters, "KIND_%d" % slot, context)
            metres = number(parameters, "ACCESS_%d" % slot, context)
            if source is not None:
                chosen = layers.picked(self, parameters, "FACILITY_%d" % slot, context)
                shown = chosen.shown
                self.picked.append(("Facilities", chosen))
                kind = kind or sc.kind_name(shown)
                if kind in kinds and kinds[kind][0] == "source":
                    raise sc.ScenarioError(
                        "two facility layers have the kind \"%s\"; give each its own kind" % kind)
                kinds[kind] = ("source", source, shown)
            elif kind is None and metres is not None:
                raise sc.ScenarioError(
                    "an access distance for facility %d needs its layer or its kind" % slot)
            if metres is not None:
                if kind not in kinds:
                    raise sc.ScenarioError(
                        "access names the facility kind \"%s\", but there is no facility layer "
                        "of that kind%s" % (kind, _known(kinds)))
                access[kind] = _whole(metres)
        if access:
            rules["access"] = access
        stems = set()
        for kind, how in kinds.items():
            stem = "facility_" + sc.file_stem(kind)
            while stem in stems:
                stem += "_"
            stems.add(stem)
            layer_plan.append(("input.facilities." + kind, how, stem))
        network = self.parameterAsSource(parameters, "NETWORK", context)
        base_network = base.get("input", {}).get("network")
        if network is not None:
            chosen = layers.picked(self, parameters, "NETWORK", context)
            shown = chosen.shown
            self.picked.append(("Street network", chosen))
            layer_plan.append(("input.network", ("source", network, shown), "network"))
        elif isinstance(base_network, str):
            layer_plan.append(("input.network", ("file", _resolve(base_dir, base_network)), "network"))
        max_snap = number(parameters, "MAX_SNAP", context)
        if max_snap is not None and network is None and not isinstance(base_network, str):
            raise sc.ScenarioError(
                "a max. distance to the street network needs a street network layer (or a "
                "scenario file that names one)")
        statistics = base.get("input", {}).get("statistics")
        if isinstance(statistics, dict) and isinstance(statistics.get("file"), str):
            layer_plan.append(("input.statistics.file",
                               ("file", _resolve(base_dir, statistics["file"])), "statistics"))

        objective = {}
        objective["stages"] = sc.parse_stages(text(parameters, "STAGES", context))
        objective["spread_metres"] = _whole(number(parameters, "SPREAD_METRES", context))
        objective["access_kinds"] = sc.parse_names(text(parameters, "ACCESS_KINDS", context))
        time_limit = number(parameters, "TIME_LIMIT", context)
        solver = {"time_limit_s": sc.REMOVE if time_limit == 0 else time_limit}
        data = sc.merge(data, {"rules": rules, "objective": objective, "solver": solver,
                               "network": {"max_snap_m": _whole(max_snap)}})

        # The fair share follows the population unless a weight is named; say so in the file,
        # so that a population field under another name is also the weight.
        district_fields = data.get("fields", {}).get("districts", {})
        if "population" in district_fields and "weight" not in district_fields:
            district_fields["weight"] = district_fields["population"]

        radius = data.get("rules", {}).get("radius")
        if isinstance(radius, dict) and set(radius) != {"metres", "max_places"}:
            raise sc.ScenarioError(
                "the spacing rule needs both the radius in metres and the places within it")
        seats = data.get("rules", {}).get("seats")
        if isinstance(seats, dict) and set(seats) != {"kind", "per_place"}:
            raise sc.ScenarioError(
                "the seats rule needs both the facility kind and the children per place")

        metric = self.parameterAsCrs(parameters, "METRIC_CRS", context)
        input_extra = {k: v for k, v in base.get("input", {}).items()
                       if k in ("crs", "metric_crs")}
        if metric.isValid():
            input_extra["metric_crs"] = metric.authid()
        if isinstance(statistics, dict):
            input_extra["statistics"] = dict(statistics)
        if not data.get("name"):
            demand = data["demand"]
            if "levels" in demand:
                data["name"] = "Plan for %s places (levels)" % "/".join(str(v) for v in demand["levels"])
            else:
                data["name"] = "Plan for %s places" % demand["places"]
        data["input"] = input_extra
        return data, layer_plan

    def check_folder(self, folder, context):
        """Refuses an output folder whose scenario.toml, inputs/ or plan/ the plugin did not
        write, or whose files a layer of the project reads."""
        ours = [os.path.join(folder, n) for n in ("scenario.toml", "inputs", "plan")]
        scenario_file = ours[0]
        if os.path.exists(scenario_file):
            with open(scenario_file, "r", encoding="utf-8", errors="replace") as handle:
                first = handle.readline().rstrip("\r\n")
            if first != sc.MARKER:
                raise QgsProcessingException(
                    "The output folder %s holds a scenario.toml that this plugin did not "
                    "write; choose another (or an empty) output folder, so that nothing of "
                    "yours is replaced." % folder)
        else:
            taken = [p for p in ours[1:] if os.path.exists(p)]
            if taken:
                raise QgsProcessingException(
                    "The output folder %s already holds %s, not written by this plugin; "
                    "choose another (or an empty) output folder, so that nothing of yours is "
                    "replaced." % (folder, " and ".join(os.path.basename(p) + "/" for p in taken)))
        project = context.project()
        if project is not None:
            reading = layers.layers_reading_from(project, ours)
            if reading:
                names = ", ".join("\"%s\" (%s)" % (n, p) for n, p in reading)
                raise QgsProcessingException(
                    "The project has layers that read files this run would replace: %s. "
                    "Choose another output folder, or remove those layers from the project "
                    "first." % names)

    def run_in(self, staging, binary, parameters, context, feedback, data, layer_plan, base_path):
        inputs = os.path.join(staging, "inputs")
        names = {}
        count = len(layer_plan)
        for index, (key, how, stem) in enumerate(layer_plan):
            if how[0] == "source":
                _, source, shown = how
                target = os.path.join(inputs, stem + ".geojson")
                feedback.setProgressText("Handing the layer \"%s\" to quartier" % shown)

                def progress(share, index=index):
                    feedback.setProgress(10.0 * (index + share) / count)

                keep = layers.NETWORK_FIELDS if key == "input.network" else None
                written = layers.export_geojson(
                    source, target, key.split(".")[-1], shown, context, feedback, progress, keep)
                feedback.pushInfo("inputs/%s.geojson: %d features of the layer \"%s\""
                                  % (stem, written, shown))
                names["inputs/%s.geojson" % stem] = shown
            else:
                path = how[1]
                try:
                    target = layers.copy_layer_file(path, inputs, stem)
                except OSError as error:
                    raise QgsProcessingException(
                        "The scenario file names %s = \"%s\", which cannot be read: %s"
                        % (key, path, error.strerror or error))
                feedback.pushInfo("inputs/%s: copied from %s" % (os.path.basename(target), path))
            if feedback.isCanceled():
                raise runner.Cancelled()
            sc.set_path(data, key, sc.relative_or_absolute(target, staging))
        data["output"] = {"dir": "plan"}

        now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        header = [
            sc.MARKER[2:],
            "Plan places, %s%s." % (now, ", started from " + base_path if base_path else ""),
            "Repeat this run in a terminal, in this folder:",
            "  quartier solve scenario.toml",
            "The plan goes to plan/ ([output] dir); inputs/ holds the layers as quartier read them.",
        ]
        text = sc.to_toml(data, header)
        with open(os.path.join(staging, "scenario.toml"), "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        feedback.pushInfo("scenario.toml:\n" + text)

        result = self.run_quartier(binary, ["solve", "scenario.toml", "--out", "plan"], feedback,
                          cwd=staging, progress_range=(10.0, 95.0), phases=PHASES)
        if result.code != 0:
            raise self.failure("solve the scenario", result, input_hints(result, names))
        if self.parameterAsBoolean(parameters, "VERIFY", context):
            feedback.setProgressText("Auditing the plan with quartier verify")
            audit = self.run_quartier(binary, ["verify", "scenario.toml", "plan/sites.geojson"], feedback,
                             cwd=staging, progress_range=(95.0, 100.0))
            if audit.code != 0:
                raise self.failure(
                    "confirm the plan: quartier verify found the plan breaks a rule, which is a "
                    "fault of quartier; please report it with the output folder", audit)
        return result

    def commit(self, staging, folder):
        """Moves scenario.toml, inputs/ and plan/ from the staging folder into place,
        replacing the plugin's own earlier ones."""
        names = ["inputs", "plan", "scenario.toml"]
        trash = os.path.join(staging, "previous")
        os.makedirs(trash)
        moved = []
        try:
            for name in names:
                if os.path.exists(os.path.join(folder, name)):
                    os.replace(os.path.join(folder, name), os.path.join(trash, name))
                    moved.append(name)
            for name in names:
                os.replace(os.path.join(staging, name), os.path.join(folder, name))
        except OSError as error:
            for name in moved:  # put the earlier run back
                if not os.path.exists(os.path.join(folder, name)):
                    os.replace(os.path.join(trash, name), os.path.join(folder, name))
            raise QgsProcessingException(
                "The plan was solved but cannot be moved into %s: %s" % (folder, error))

    def results(self, folder, result, context, feedback):
        plan = os.path.join(folder, "plan")
        summary = read_summary(plan) or {}
        network = summary.get("network") or {}
        name = summary.get("scenario") or "quartier"
        sites = os.path.join(plan, "sites.geojson")
        districts = os.path.join(plan, "districts.geojson")
        # Only with a street network (and [network] routes not switched off). Processing
        # adds the layers in the order of their paths, each above the last: the ways on foot
        # lie over the districts and under the sites.
        routes = os.path.join(plan, "routes.geojson")
        routes = routes if os.path.exists(routes) else None
        loaded = [(districts, "districts", "PLAN_DISTRICTS"), (sites, "sites", "PLAN_SITES")]
        if routes:
            loaded.append((routes, "routes", "PLAN_ROUTES"))
        taken = set()
        if context.project() is not None:
            taken = {layer.name() for layer in context.project().mapLayers().values()}
        for path, label, output in loaded:
            # A second run with the same scenario name gets "(2)", and so on: two layers
            # of one name cannot be told apart in the layers panel.
            shown = "%s – %s" % (name, label)
            count = 1
            while shown in taken:
                count += 1
                shown = "%s – %s (%d)" % (name, label, count)
            details = QgsProcessingContext.LayerDetails(shown, context.project(), output)
            # The scenario's name, also where Processing prefers file names ("sites" of
            # every plan would look alike in the layers panel).
            details.forceName = True
            details.setPostProcessor(layers.styler_for(path))
            context.addLayerToLoadOnCompletion(path, details)
        feedback.pushInfo("The plan is in %s; the layers are added to the project with "
                          "quartier's styles." % plan)
        if network:
            feedback.pushInfo(
                "Distances to facilities were walked along the street network (%s km, "
                "connected parts: %s); sites off the network (more than %s m from every "
                "street): %s." % (network.get("km"), network.get("parts"),
                                  _whole(network.get("max_snap_m")),
                                  network.get("sites_off_network")))
        levels = summary.get("levels") or []
        for number, level in enumerate(levels, start=1):
            feedback.pushInfo(
                "Level %d: %s of %s places placed, dissimilarity D = %s, %s sites used"
                % (number, level.get("placed"), level.get("places"),
                   _rounded(level.get("dissimilarity")), level.get("sites_used")))
        return {
            "LEVELS_PLACED": ", ".join(str(level.get("placed")) for level in levels) or None,
            "LEVELS_DISSIMILARITY": ", ".join(
                str(_rounded(level.get("dissimilarity"))) for level in levels) or None,
            "OUTPUT": folder,
            "PLAN_SITES": sites,
            "PLAN_DISTRICTS": districts,
            "PLAN_FOLDER": plan,
            "SCENARIO_FILE": os.path.join(folder, "scenario.toml"),
            "REPORT": os.path.join(plan, "report.html"),
            "STATUS": summary.get("status"),
            "PLACED": summary.get("placed"),
            "SHORTFALL": summary.get("shortfall"),
            "SITES_USED": summary.get("sites_used"),
            "DISSIMILARITY": summary.get("dissimilarity"),
            "PLAN_ROUTES": routes,
            "DISTANCE": summary.get("distance"),
            "NETWORK_KM": network.get("km"),
            "NETWORK_PARTS": network.get("parts"),
            "SITES_OFF_NETWORK": network.get("sites_off_network"),
            "SITES_UNREACHABLE": (summary.get("sites_excluded") or {}).get("unreachable"),
        }


def _rounded(value):
    """A figure to four decimals for the log and the outputs (None stays None)."""
    return round(value, 4) if isinstance(value, float) else value


def _whole(value):
    """Metres as an integer when whole (500 rather than 500.0 in the scenario file)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _resolve(base_dir, path):
    return os.path.normpath(os.path.join(base_dir or "", path))


def _known(kinds):
    if not kinds:
        return " (there are no facility layers)"
    return " (kinds: %s)" % ", ".join(sorted(kinds))
