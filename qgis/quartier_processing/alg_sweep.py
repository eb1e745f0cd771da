"""Sweep scenarios: one scenario file, run with `quartier sweep` for every combination of
the values of one or two of its keys; sweep.csv comes into the project as a table and the
page with the curves is the result."""

import os

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
)

from .common import QuartierAlgorithm, help_text

#: The keys a planner varies most, as the form offers them (any other by its dotted path).
KEYS = [
    "demand.places",
    "rules.max_per_site",
    "rules.max_share",
    "rules.radius.metres",
    "rules.radius.max_places",
    "objective.spread_metres",
    "solver.time_limit_s",
]
OTHER = "another key (type it below)"

HELP = """<p>Runs one scenario many times with <b>quartier sweep</b>: for every value of a
key (and every combination with the values of a second key), a complete plan with the
same rules as <i>Plan places</i>. The table of all runs comes into the project
(<i>sweep.csv</i>: the values, status, places placed, shortfall, dissimilarity D, worst
district, sites used, each stage's optimum), and the page with the curves of D, the
shortfall, the worst district and the sites used against the first key is the result.</p>
<p><b>Scenario file</b>: the <i>scenario.toml</i> of a <i>Plan places</i> run, or any
scenario file. <b>Values</b>: a list <code>30, 50, 80</code> or a range
<code>1000..4000:250</code> (from 1,000 to 4,000 in steps of 250, both ends included);
decimals with a point. Every run is checked before the first one starts.</p>"""


class SweepScenarios(QuartierAlgorithm):
    def name(self):
        return "sweepscenarios"

    def displayName(self):
        return self.tr("Sweep scenarios")

    def shortHelpString(self):
        return self.tr(help_text(HELP))

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFile(
            "SCENARIO", self.tr("Scenario file"), extension="toml"))
        self.addParameter(QgsProcessingParameterEnum(
            "KEY_1", self.tr("Vary"), options=KEYS + [OTHER], defaultValue=0))
        self.addParameter(QgsProcessingParameterString(
            "OTHER_1", self.tr("…another key (dotted path, e.g. rules.access.school)"),
            optional=True))
        self.addParameter(QgsProcessingParameterString(
            "VALUES_1", self.tr("Values (1000..4000:250 or 30, 50, 80)")))
        self.addParameter(QgsProcessingParameterEnum(
            "KEY_2", self.tr("and vary (optional)"), options=KEYS + [OTHER],
            optional=True, allowMultiple=False))
        self.addParameter(QgsProcessingParameterString(
            "OTHER_2", self.tr("…another key"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            "VALUES_2", self.tr("Values of the second key"), optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            "GERMAN_CSV", self.tr("sweep.csv for a German spreadsheet (semicolons, decimal "
                                  "commas)"), defaultValue=False))
        self.addParameter(QgsProcessingParameterFolderDestination(
            "OUTPUT", self.tr("Output folder")))
        self.addOutput(QgsProcessingOutputHtml("PAGE", self.tr("Sweep (curves and table)")))
        self.addOutput(QgsProcessingOutputFile("TABLE", self.tr("sweep.csv")))
        self.addOutput(QgsProcessingOutputNumber("RUNS", self.tr("Runs")))

    def vary(self, parameters, context, slot):
        """`KEY=VALUES` for slot 1 or 2; None for an empty second slot."""
        values = self.optional_string(parameters, "VALUES_%d" % slot, context)
        if self._unset(parameters, "KEY_%d" % slot):
            if values:
                raise QgsProcessingException(
                    "Values of the second key are given, but no second key is chosen.")
            return None
        choice = self.parameterAsEnum(parameters, "KEY_%d" % slot, context)
        key = KEYS[choice] if choice < len(KEYS) else self.optional_string(
            parameters, "OTHER_%d" % slot, context)
        if not key:
            raise QgsProcessingException(
                "\"%s\" is chosen for key %d: type the key's dotted path (such as "
                "rules.access.school)." % (OTHER, slot))
        if not values:
            raise QgsProcessingException(
                "Give the values of %s: a list (30, 50, 80) or a range (1000..4000:250)." % key)
        return "%s=%s" % (key, values.replace(" ", ""))

    def processAlgorithm(self, parameters, context, feedback):
        binary = self.find_quartier(feedback)
        scenario = os.path.abspath(self.parameterAsFile(parameters, "SCENARIO", context))
        folder = os.path.abspath(self.parameterAsString(parameters, "OUTPUT", context))
        args = ["sweep", scenario, "--out", folder]
        for slot in (1, 2):
            vary = self.vary(parameters, context, slot)
            if vary:
                args += ["--vary", vary]
        if self.parameterAsBoolean(parameters, "GERMAN_CSV", context):
            args += ["--csv", "de"]
        result = self.run_quartier(binary, args, feedback,
                                   cwd=os.path.dirname(scenario))
        if result.code != 0:
            raise self.failure("run the sweep", result)
        table = os.path.join(folder, "sweep.csv")
        page = os.path.join(folder, "sweep.html")
        name = os.path.splitext(os.path.basename(scenario))[0]
        first = result.stdout[0] if result.stdout else ""
        if ": sweep of " in first:
            name = first.split(": sweep of ")[0]
        details = QgsProcessingContext.LayerDetails("%s – sweep" % name, context.project(), "TABLE")
        details.forceName = True
        context.addLayerToLoadOnCompletion(table, details)
        with open(table, encoding="utf-8") as handle:
            runs = max(0, sum(1 for _ in handle) - 1)
        return {"PAGE": page, "TABLE": table, "RUNS": runs, "OUTPUT": folder}
