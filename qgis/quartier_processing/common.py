"""What the three algorithms share: the icon, finding and running the binary, reading
optional form values, and turning quartier's failures into Processing failures."""

import json
import os

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication, QVariant
from qgis.PyQt.QtGui import QIcon

from . import runner

HERE = os.path.dirname(__file__)


def icon():
    return QIcon(os.path.join(HERE, "icon.svg"))


class QuartierAlgorithm(QgsProcessingAlgorithm):
    """Base of the provider's algorithms."""

    def tr(self, text):
        return QCoreApplication.translate("quartier", text)

    def icon(self):
        return icon()

    def createInstance(self):
        return type(self)()

    def helpUrl(self):
        return ""

    def validateInputCrs(self, parameters, context):  # noqa: N802
        # quartier reprojects every layer itself; layers in different CRSs are normal (districts
        # from the statistics office in WGS 84, sites from the cadastre in EPSG:25832), so
        # Processing need not ask whether to go on.
        return True

    # --- optional form values: None when the planner left the field empty ---------------

    @staticmethod
    def _unset(parameters, name):
        value = parameters.get(name)
        if isinstance(value, QVariant):  # NULL, as the dialog gives empty fields
            return value.isNull()
        return value is None or (isinstance(value, str) and not value.strip())

    def optional_number(self, parameters, name, context):
        if self._unset(parameters, name):
            return None
        return self.parameterAsDouble(parameters, name, context)

    def optional_int(self, parameters, name, context):
        if self._unset(parameters, name):
            return None
        return self.parameterAsInt(parameters, name, context)

    def optional_string(self, parameters, name, context):
        if self._unset(parameters, name):
            return None
        text = self.parameterAsString(parameters, name, context).strip()
        return text or None

    def optional_field(self, parameters, name, context):
        if self._unset(parameters, name):
            return None
        fields = self.parameterAsFields(parameters, name, context)
        return fields[0] if fields else None

    # --- the binary ----------------------------------------------------------------------

    def find_quartier(self, feedback):
        try:
            path = runner.find_binary()
        except runner.NotFound as error:
            raise QgsProcessingException(str(error))
        shown = runner.version(path)
        if shown is None:
            raise QgsProcessingException(
                "%s does not answer to --version: it does not look like the quartier program. "
                "Set the path of quartier in Settings → Options → Processing → Providers → "
                "quartier → quartier executable." % path
            )
        feedback.pushInfo("%s (%s)" % (shown, path))
        return path

    def run_quartier(self, binary, args, feedback, **kwargs):
        try:
            return runner.run(binary, args, feedback, **kwargs)
        except runner.NotFound as error:
            raise QgsProcessingException(str(error))

    @staticmethod
    def failure(what, result, hints=()):
        """The exception for a failed run: quartier's own message, then what it means."""
        if result.code == runner.BAD_INPUT:
            head = "quartier could not %s: the input is not valid (exit code 2)" % what
        else:
            head = "quartier could not %s (exit code %d)" % (what, result.code)
        text = head + ":\n" + result.error_text()
        for hint in hints:
            text += "\n" + hint
        return QgsProcessingException(text)


def read_summary(folder):
    path = os.path.join(folder, "summary.json")
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def help_text(html):
    """The help panel shows line breaks as they are; the source wraps its lines."""
    return " ".join(html.split())


def input_hints(result, names):
    """Which project layer a file of quartier's message is ({file as named: layer name})."""
    hints = []
    text = result.error_text()
    for path, shown in names.items():
        if path in text:
            hints.append(
                "%s is the layer \"%s\" as handed to quartier; feature N is the (N+1)-th "
                "feature in the layer's order (open its attribute table)." % (path, shown))
    return hints
