"""Layers in and out: any layer QGIS reads becomes a GeoJSON file quartier reads, and the
result layers come back into the project with quartier's styles.

quartier reads GeoJSON with the legacy "crs" member (EPSG codes), so a layer in a CRS with
an EPSG code keeps its coordinates and gets that member; a layer in any other CRS (a
custom projection, ESRI codes) is converted to WGS 84 (EPSG:4326), which QGIS and quartier
transform the same way. Every attribute is written as it is, in UTF-8, so ids (text or
numbers) and names with umlauts reach quartier unchanged.
"""

import os
import shutil

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsFields,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingUtils,
    QgsProviderRegistry,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)

WGS84 = "EPSG:4326"

#: The only fields of a street network handed to quartier: those it names a line by in its
#: messages (its own id, the OSM id of an extract, a GeoPackage's fid). A city's street
#: layer has many more, which quartier would not read.
NETWORK_FIELDS = ("id", "osm_id", "fid")


def target_crs(crs):
    """The CRS the exported file is written in: the layer's own when it has an EPSG code
    (quartier reads it from the "crs" member), else WGS 84."""
    if not crs.isValid():
        return None
    authid = crs.authid()
    if authid.upper().startswith("EPSG:"):
        return crs
    return QgsCoordinateReferenceSystem(WGS84)


class Picked:
    """A layer parameter as the planner picked it: the layer's name as the project shows
    it, and with "Selected features only", how many of its features are selected."""

    def __init__(self, shown, selected=None, total=None):
        self.shown = shown
        self.selected = selected
        self.total = total

    def selection(self):
        """" (3 of 45 selected)" for a selection, else ""."""
        if self.selected is None:
            return ""
        return " (%d of %d selected)" % (self.selected, self.total)


def picked(algorithm, parameters, key, context):
    """The layer behind parameter `key` and how it was picked. QGIS 3.22 returns no layer
    from parameterAsVectorLayer for a feature source with "Selected features only": the
    layer is then found from the source definition. An empty selection is an error that
    names the layer."""
    value = parameters.get(key)
    layer = algorithm.parameterAsVectorLayer(parameters, key, context)
    only_selected = False
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        only_selected = value.selectedFeaturesOnly
        if layer is None:
            source = value.source
            source = source.staticValue() if hasattr(source, "staticValue") else source
            layer = QgsProcessingUtils.mapLayerFromString(str(source), context)
    if layer is None:
        return Picked(str(value))
    if not only_selected:
        return Picked(layer.name())
    selected = layer.selectedFeatureCount()
    if selected == 0:
        raise QgsProcessingException(
            "No feature of %s is selected, and \"Selected features only\" is ticked for it. "
            "Select the features to plan for, or untick \"Selected features only\"."
            % layer.name())
    return Picked(layer.name(), selected, layer.featureCount())


def export_geojson(source, path, what, layer_name, context, feedback, progress=None, keep=None):
    """Writes the features of a feature source (a layer, or its selected features) to a
    GeoJSON file for quartier; returns the number of features written. `keep`: the only
    fields to write, where the layer has them (None: every field)."""
    crs = source.sourceCrs()
    target = target_crs(crs)
    if target is None:
        raise QgsProcessingException(
            "The %s layer \"%s\" has no coordinate reference system. Set it in the layer's "
            "properties (Source → Assigned coordinate reference system), then run again."
            % (what, layer_name)
        )
    transform = None
    if target != crs:
        transform = QgsCoordinateTransform(crs, target, context.transformContext())
        feedback.pushInfo(
            "%s layer \"%s\": %s has no EPSG code, so it is handed to quartier in WGS 84 "
            "(EPSG:4326)" % (what.capitalize(), layer_name, crs.description() or crs.toWkt()[:60])
        )
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GeoJSON"
    options.fileEncoding = "UTF-8"
    options.layerOptions = ["RFC7946=NO", "WRITE_NAME=NO"]
    geometry_type = QgsWkbTypes.flatType(source.wkbType())
    fields = source.fields()
    columns = list(range(fields.count()))
    if keep is not None:
        columns = [i for i in (fields.indexOf(name) for name in keep) if i >= 0]
        fields = QgsFields()
        for index in columns:
            fields.append(source.fields().at(index))
    writer = QgsVectorFileWriter.create(
        path, fields, geometry_type, target, context.transformContext(), options
    )
    if writer.hasError() != QgsVectorFileWriter.NoError:
        raise QgsProcessingException(
            "Cannot write %s: %s" % (path, writer.errorMessage())
        )
    total = source.featureCount()
    count = 0
    request = QgsFeatureRequest()
    if keep is not None:
        request.setSubsetOfAttributes(columns)
    try:
        for feature in source.getFeatures(request):
            if feedback.isCanceled():
                break
            out = QgsFeature(fields)
            attributes = feature.attributes()
            out.setAttributes([attributes[i] for i in columns])
            geometry = feature.geometry()
            if not geometry.isNull():
                geometry = type(geometry)(geometry)
                geometry.get().dropZValue()
                geometry.get().dropMValue()
                if transform is not None:
                    geometry.transform(transform)
                out.setGeometry(geometry)
            if not writer.addFeature(out, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(
                    "Cannot write feature %d of the %s layer \"%s\" to %s: %s"
                    % (count, what, layer_name, path, writer.errorMessage())
                )
            count += 1
            if progress is not None and total > 0 and count % 500 == 0:
                progress(count / total)
    finally:
        del writer
    _check_crs_member(path, target)
    return count


#: The files of a Shapefile that quartier reads besides the .shp (any case, as Windows
#: writes them).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def split_layer_name(path):
    """'streets.gpkg#Straßen' as ('streets.gpkg', '#Straßen'); any other path as (path, '')."""
    at = path.lower().rfind(".gpkg#")
    if at < 0:
        return path, ""
    return path[:at + len(".gpkg")], path[at + len(".gpkg"):]


def copy_layer_file(path, folder, stem):
    """Copies a layer file that a scenario names (GeoJSON, `file.gpkg#layer`, a Shapefile
    with its .dbf, .prj and .cpg, a CSV table) into `folder` as `stem` with its extension;
    returns the path to name in the scenario (with the GeoPackage's layer). Raises OSError."""
    file, layer = split_layer_name(path)
    extension = os.path.splitext(file)[1] or ".geojson"
    target = os.path.join(folder, stem + extension)
    shutil.copyfile(file, target)
    if extension.lower() == ".shp":
        base = os.path.splitext(os.path.basename(file))[0]
        source_dir = os.path.dirname(file) or "."
        for name in sorted(os.listdir(source_dir)):
            own, ext = os.path.splitext(name)
            if own == base and ext.lower() in SHAPEFILE_PARTS and ext.lower() != ".shp":
                shutil.copyfile(os.path.join(source_dir, name), os.path.join(folder, stem + ext))
    return target + layer


def _check_crs_member(path, crs):
    # quartier reads a layer without "crs" member as [input] crs or WGS 84; make sure the
    # file says what it is, so that neither guess is ever needed.
    with open(path, "r", encoding="utf-8") as handle:
        head = handle.read(4096)
    if '"crs"' not in head:
        raise QgsProcessingException(
            "%s was written without its CRS (%s); quartier would misread it" % (path, crs.authid())
        )


def source_path(layer):
    """The file a layer reads, or None (databases, memory layers, web services)."""
    if layer is None:
        return None
    try:
        parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    except Exception:  # noqa: BLE001 - a provider without URI decoding
        return None
    path = parts.get("path") if parts else None
    return os.path.abspath(path) if path else None


def is_plain_geojson(layer):
    """True when quartier can read the layer's file as QGIS shows it: a whole GeoJSON file,
    without a filter, unsaved edits or a layer name inside the file."""
    if layer is None or layer.providerType() != "ogr":
        return False
    path = source_path(layer)
    if not path or not path.lower().endswith((".geojson", ".json")):
        return False
    parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
    if parts.get("layerName") or parts.get("layerId") not in (None, ""):
        return False
    return not layer.subsetString() and not layer.isModified()


def layers_reading_from(project, paths):
    """Layers of the project whose file lies at or under one of `paths`."""
    found = []
    roots = [os.path.abspath(p) for p in paths]
    for layer in project.mapLayers().values():
        path = source_path(layer)
        if not path:
            continue
        for root in roots:
            if path == root or path.startswith(root + os.sep):
                found.append((layer.name(), path))
                break
    return found


#: Post-processors must outlive the algorithm that made them (Processing calls them after
#: the algorithm object may be gone), so they are kept here, one per result file.
_STYLERS = {}


class StyleFromQml(QgsProcessingLayerPostProcessorInterface):
    """Applies the .qml file quartier wrote next to a result layer once it is in the
    project (Processing itself loads result layers without their default style)."""

    def __init__(self, qml):
        super().__init__()
        self.qml = qml

    def postProcessLayer(self, layer, context, feedback):
        if not isinstance(layer, QgsVectorLayer) or not os.path.exists(self.qml):
            return
        message, ok = layer.loadNamedStyle(self.qml)
        if not ok:
            feedback.reportError("The style %s was not applied: %s" % (self.qml, message), False)
        layer.triggerRepaint()


def styler_for(layer_path):
    qml = os.path.splitext(layer_path)[0] + ".qml"
    styler = StyleFromQml(qml)
    _STYLERS[os.path.abspath(layer_path)] = styler
    return styler
