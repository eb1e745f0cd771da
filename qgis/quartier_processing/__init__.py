"""quartier for QGIS: a Processing provider that runs the quartier program (plan places,
check a plan, compare plans) on the layers of the project."""


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    from .plugin import QuartierPlugin

    return QuartierPlugin(iface)
