"""The Processing provider "quartier": its algorithms and its setting, the path of the
quartier program."""

from qgis.core import QgsProcessingProvider

from . import runner
from .alg_check import CheckPlan
from .alg_compare import ComparePlans
from .alg_plan import PlanPlaces
from .alg_sweep import SweepScenarios
from .common import icon


class QuartierProvider(QgsProcessingProvider):
    def id(self):
        return "quartier"

    def name(self):
        return "quartier"

    def longName(self):
        return "quartier: even placement of refugee accommodation across districts"

    def icon(self):
        return icon()

    def load(self):
        from processing.core.ProcessingConfig import ProcessingConfig, Setting

        ProcessingConfig.settingIcons[self.name()] = self.icon()
        ProcessingConfig.addSetting(Setting(
            self.name(), runner.SETTING, "quartier executable", "",
            valuetype=Setting.FILE))
        ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        from processing.core.ProcessingConfig import ProcessingConfig

        ProcessingConfig.removeSetting(runner.SETTING)

    def warningMessage(self):  # noqa: N802
        # Shown in red when an algorithm starts, before it fails for want of the program.
        try:
            runner.find_binary()
        except runner.NotFound as error:
            return str(error)
        return ""

    def loadAlgorithms(self):
        for algorithm in (PlanPlaces(), CheckPlan(), ComparePlans(), SweepScenarios()):
            self.addAlgorithm(algorithm)
