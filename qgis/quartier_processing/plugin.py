"""The plugin object QGIS loads: it registers the Processing provider and removes it again."""

from qgis.core import QgsApplication

from .provider import QuartierProvider


class QuartierPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):
        # Called by QGIS for plugins with hasProcessingProvider=yes (also by qgis_process).
        if self.provider is None:
            self.provider = QuartierProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
