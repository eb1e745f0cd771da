"""The plugin zip installs as "Install from ZIP" installs it, into a fresh QGIS profile,
and registers the Processing provider "quartier" with its three algorithms, the form's
field pickers for every field mapping of the scenario, the street network and its max.
distance in Plan places and Check a plan, and the setting for the binary;
unloading the plugin removes them again.

Usage: python3 plugin_install.py PLUGIN_ZIP WORK_DIR QUARTIER VERSION
"""

import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import plugin_harness as h  # noqa: E402

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
)

FIELD_MAPPINGS = {
    "DISTRICT_ID": ("DISTRICTS", "id"),
    "DISTRICT_NAME": ("DISTRICTS", "name"),
    "DISTRICT_POPULATION": ("DISTRICTS", "population"),
    "DISTRICT_WEIGHT": ("DISTRICTS", "weight"),
    "DISTRICT_EXISTING": ("DISTRICTS", "existing"),
    "SITE_ID": ("SITES", "id"),
    "SITE_CAPACITY": ("SITES", "capacity"),
    "SITE_STATUS": ("SITES", "status"),
    "SITE_OCCUPIED": ("SITES", "occupied"),
    "SITE_MIN_PLACES": ("SITES", "min_places"),
    "SITE_COST": ("SITES", "cost"),
    "FACILITY_ID": ("FACILITY_1", "id"),
    "FACILITY_SEATS": ("FACILITY_1", "seats"),
}


def main():
    zip_path, work, binary, version = sys.argv[1:5]
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        metadata = archive.read("quartier_processing/metadata.txt").decode("utf-8")
    h.check(all(n.startswith("quartier_processing/") for n in names)
            and "quartier_processing/__init__.py" in names and "quartier_processing/icon.svg" in names
            and not [n for n in names if "__pycache__" in n or n.endswith(".pyc")],
            "the zip holds the folder quartier_processing/ at its root (%d entries)" % len(names))
    h.check("version=%s\n" % version in metadata and "hasProcessingProvider=yes" in metadata,
            "metadata.txt has the crate's version %s and hasProcessingProvider=yes" % version)

    session = h.start(zip_path, work, binary)
    installed = os.path.join(session.plugins_dir, "quartier_processing")
    h.check(os.path.isfile(os.path.join(installed, "metadata.txt"))
            and any("installed successfully" in m for m in session.iface.messages),
            "Install from ZIP unpacked it into the profile's plugins folder")
    described = [m for m in session.iface.metadata if m.get("id") == "quartier_processing"]
    h.check(described and described[0]["error"] == "" and described[0]["version_installed"] == version
            and described[0]["name"] == "quartier",
            "the plugin manager reads its metadata without error")

    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("quartier")
    h.check(provider is not None and provider.name() == "quartier" and not provider.icon().isNull(),
            "the provider \"quartier\" is registered, with its icon")
    algorithms = {a.id(): a.displayName() for a in provider.algorithms()}
    h.check(algorithms == {"quartier:planplaces": "Plan places", "quartier:checkplan": "Check a plan",
                           "quartier:compareplans": "Compare plans",
                           "quartier:sweepscenarios": "Sweep scenarios"},
            "its algorithms: %s" % ", ".join(sorted(algorithms.values())))
    plan = registry.algorithmById("quartier:planplaces")
    for name, (parent, key) in FIELD_MAPPINGS.items():
        parameter = plan.parameterDefinition(name)
        if not isinstance(parameter, QgsProcessingParameterField) or parameter.parentLayerParameterName() != parent:
            h.fail("Plan places has no field picker %s on %s for [fields] %s" % (name, parent, key))
    h.check(True, "Plan places has a field picker for each of the %d field mappings" % len(FIELD_MAPPINGS))
    names = [p.name() for p in plan.parameterDefinitions()]
    for expected in ("BASE_SCENARIO", "PLACES", "LEVELS", "WEIGHTS", "MAX_PER_SITE", "MAX_SHARE",
                     "RADIUS_METRES", "RADIUS_MAX_PLACES", "ACCESS_1", "SEATS_KIND", "SEATS_PER_PLACE",
                     "STAGES", "SPREAD_METRES", "ACCESS_KINDS", "TIME_LIMIT", "OUTPUT"):
        if expected not in names:
            h.fail("Plan places has no parameter " + expected)
    h.check(True, "Plan places has the demand, rules, objective and solver parameters")
    for algorithm in (plan, registry.algorithmById("quartier:checkplan")):
        network = algorithm.parameterDefinition("NETWORK")
        max_snap = algorithm.parameterDefinition("MAX_SNAP")
        h.check(isinstance(network, QgsProcessingParameterFeatureSource)
                and network.dataTypes() == [QgsProcessing.TypeVectorLine]
                and network.flags() & QgsProcessingParameterDefinition.FlagOptional
                and not network.flags() & QgsProcessingParameterDefinition.FlagAdvanced
                and isinstance(max_snap, QgsProcessingParameterNumber)
                and max_snap.flags() & QgsProcessingParameterDefinition.FlagAdvanced
                and max_snap.flags() & QgsProcessingParameterDefinition.FlagOptional
                and "street network" in algorithm.shortHelpString().lower(),
                "%s has an optional street network (a line layer) and, under Advanced "
                "parameters, the max. distance to it" % algorithm.displayName())
    outputs = [o.name() for o in plan.outputDefinitions()]
    h.check(all(name in outputs for name in ("PLAN_ROUTES", "DISTANCE", "NETWORK_KM", "NETWORK_PARTS",
                                             "SITES_OFF_NETWORK", "SITES_UNREACHABLE")),
            "Plan places outputs the routes layer and the street network's figures")
    h.check(not plan.shortHelpString() == "" and "batch" in plan.shortHelpString().lower(),
            "Plan places explains itself in the dialog's help panel")

    from processing.core.ProcessingConfig import ProcessingConfig

    setting = ProcessingConfig.settings.get("QUARTIER_EXECUTABLE")
    h.check(setting is not None and setting.description == "quartier executable" and setting.group == "quartier"
            and ProcessingConfig.getSetting("QUARTIER_EXECUTABLE") == binary,
            "the setting \"quartier executable\" is in the provider's settings")

    import qgis.utils

    qgis.utils.unloadPlugin("quartier_processing")
    h.check(registry.providerById("quartier") is None and "QUARTIER_EXECUTABLE" not in ProcessingConfig.settings,
            "unloading the plugin removes the provider and its setting")
    qgis.utils.loadPlugin("quartier_processing")
    qgis.utils.startPlugin("quartier_processing")
    h.check(registry.providerById("quartier") is not None
            and ProcessingConfig.getSetting("QUARTIER_EXECUTABLE") == binary,
            "loading it again registers the provider with the saved setting")
    h.exit_qgis()


main()
