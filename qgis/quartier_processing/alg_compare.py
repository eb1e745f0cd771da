"""Compare plans: two output folders side by side with `quartier compare`; the figures in
the log and the page with both maps as the result."""

import os

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
)

from .common import QuartierAlgorithm, help_text

HELP = """<p>Sets two plans side by side with <b>quartier compare</b>: every key figure
with its change, the districts whose places changed most, and the sites added or
dropped. The figures appear in the log; the page with both maps is the result.</p>
<p>Choose the output folders of two runs of <i>Plan places</i> (or their <i>plan/</i>
folders, or any folder that <code>quartier solve</code> wrote).</p>"""


class ComparePlans(QuartierAlgorithm):
    def name(self):
        return "compareplans"

    def displayName(self):
        return self.tr("Compare plans")

    def shortHelpString(self):
        return self.tr(help_text(HELP))

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFile(
            "PLAN_A", self.tr("Plan A (output folder)"),
            behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterFile(
            "PLAN_B", self.tr("Plan B (output folder)"),
            behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Comparison page"), self.tr("HTML files (*.html)")))
        self.addOutput(QgsProcessingOutputString("FIGURES", self.tr("Figures")))

    def processAlgorithm(self, parameters, context, feedback):
        binary = self.find_quartier(feedback)
        a = plan_folder(self.parameterAsString(parameters, "PLAN_A", context))
        b = plan_folder(self.parameterAsString(parameters, "PLAN_B", context))
        page = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        if not page:
            raise QgsProcessingException("Choose where the comparison page goes.")
        os.makedirs(os.path.dirname(os.path.abspath(page)), exist_ok=True)
        result = self.run_quartier(binary, ["compare", a, b, "--html", page], feedback)
        if result.code != 0:
            raise self.failure("compare the plans", result)
        return {"OUTPUT": page, "FIGURES": "\n".join(result.stdout)}


def plan_folder(folder):
    """quartier's output folder: the folder itself, or the plan/ of a Plan places run."""
    folder = os.path.abspath(folder)
    if not os.path.exists(os.path.join(folder, "summary.json")):
        inner = os.path.join(folder, "plan")
        if os.path.exists(os.path.join(inner, "summary.json")):
            return inner
    return folder
