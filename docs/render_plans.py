"""Two quartier plans side by side, as QGIS draws them, in one PNG for docs/spread-and-access.md.

Usage (headless, with the system's Python that has python3-qgis):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 docs/render_plans.py BEFORE_DIR AFTER_DIR OUT.png \
        [BEFORE_LABEL AFTER_LABEL]

BEFORE_DIR and AFTER_DIR are output folders of `quartier solve` (sites.geojson,
districts.geojson, their .qml styles and summary.json). Each folder's layers are loaded with
the styles lying next to them, as QGIS applies them when a planner drags the files into a
map (districts shaded by places per 1,000 residents, sites as circles sized by places; see
apply_size_expression for the circle sizes), and both plans are rendered at the same
extent in EPSG:25832. The titles give each
plan's largest number of new places within the spread radius of any site, read from
summary.json (`max_new_within_m`), so the picture always says what the run found, after a
label ("file order" and "spread stage" unless given); a red circle of that radius marks
where it occurs, when the count from sites.geojson agrees with quartier's.

`make docs-pictures` solves scenarios/muenster.toml and scenarios/spread.toml and runs this
script to write docs/spread-before-after.png.
"""
import json
import os
import sys
import xml.etree.ElementTree as ElementTree

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

try:
    from qgis.core import (
        QgsApplication,
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsExpressionContext,
        QgsExpressionContextUtils,
        QgsFeature,
        QgsFields,
        QgsField,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsProject,
        QgsProperty,
        QgsRectangle,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QPointF, QRectF, QSize, Qt, QVariant
    from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter, QPen
except ImportError as error:
    sys.stderr.write(
        "error: QGIS's Python bindings are missing (%s); install python3-qgis "
        "(make test-deps) and run this script with /usr/bin/python3\n" % error
    )
    sys.exit(2)

WIDTH, HEIGHT = 1600, 800
HEADER = 78  # title and subtitle above each map
FOOTER = 54  # legend below both maps
MAP_HEIGHT = HEIGHT - HEADER - FOOTER
PANEL = WIDTH // 2
CRS = "EPSG:25832"


def fail(message):
    sys.stderr.write("error: " + message + "\n")
    sys.exit(2)


def load_plan(folder):
    """The two layers of an output folder with their styles, and its summary."""
    layers = {}
    for name in ("districts", "sites"):
        path = os.path.join(folder, name + ".geojson")
        if not os.path.exists(path):
            fail("%s is missing: is %s an output folder of quartier solve?" % (path, folder))
        layer = QgsVectorLayer(path, os.path.basename(folder) + " " + name, "ogr")
        if not layer.isValid():
            fail("QGIS cannot open " + path)
        # NAME.qml next to NAME.geojson is the layer's default style: QGIS applies it when
        # the layer is added to a map; loadDefaultStyle is that same step.
        message, ok = layer.loadDefaultStyle()
        if not ok:
            fail("the style next to %s was not applied: %s" % (path, message))
        if name == "sites":
            apply_size_expression(layer, os.path.join(folder, name + ".qml"))
        QgsProject.instance().addMapLayer(layer)
        layers[name] = layer
    summary_path = os.path.join(folder, "summary.json")
    try:
        with open(summary_path, encoding="utf-8") as file:
            summary = json.load(file)
    except (OSError, ValueError) as error:
        fail("cannot read %s: %s" % (summary_path, error))
    return layers, summary


def apply_size_expression(layer, qml):
    """Sizes the site circles by places as sites.qml says.

    sites.qml (quartier 0.4.0) writes the size expression as a data-defined property of the
    whole marker symbol, where QGIS (3.22 at least) does not read it: loaded as it is, every
    circle has the same size. Where QGIS dropped it, the same expression is set here the
    way QGIS itself stores it (on the symbol's layers); a style that QGIS reads needs nothing.
    """
    renderer = layer.renderer()
    if renderer is None or renderer.type() != "categorizedSymbol":
        return
    expression = None
    for option in ElementTree.parse(qml).iter("Option"):
        if option.get("name") == "size" and option.get("type") == "Map":
            for inner in option.iter("Option"):
                if inner.get("name") == "expression":
                    expression = inner.get("value")
    if not expression:
        return
    categories = renderer.categories()
    for index, category in enumerate(categories):
        symbol = category.symbol().clone()
        if not symbol.dataDefinedSize().isActive():
            symbol.setDataDefinedSize(QgsProperty.fromExpression(expression))
            renderer.updateCategorySymbol(index, symbol)
            if index == 0:
                sys.stderr.write(
                    "note: QGIS did not read the size expression of %s; circles sized by "
                    "%s as the style intends\n" % (qml, expression)
                )


def common_extent(plans, target):
    """The districts of both plans in the target CRS, with a small margin."""
    extent = QgsRectangle()
    extent.setMinimal()
    for layers, _ in plans:
        layer = layers["districts"]
        transform = QgsCoordinateTransform(layer.crs(), target, QgsProject.instance())
        extent.combineExtentWith(transform.transformBoundingBox(layer.extent()))
    extent.scale(1.04)
    return extent


def render(layers, target, extent):
    """One plan as QGIS draws it; returns the image and the metres per pixel."""
    settings = QgsMapSettings()
    settings.setLayers([layers["sites"], layers["districts"]])  # top first
    settings.setDestinationCrs(target)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(PANEL, MAP_HEIGHT))
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage(), settings


def spread_figure(summary):
    within = summary.get("max_new_within_m")
    if not within:
        fail("summary.json has no max_new_within_m (a quartier older than 0.4.0?)")
    return within["places"], within["metres"]


def densest_neighbourhood(sites, target, metres, expected):
    """The site around which the most new places lie within `metres` (straight-line, in the
    metric CRS), counted from sites.geojson; None unless the count is the one quartier
    reported, so the picture never marks a neighbourhood quartier did not find."""
    transform = QgsCoordinateTransform(sites.crs(), target, QgsProject.instance())
    points = []
    for feature in sites.getFeatures():
        point = transform.transform(feature.geometry().centroid().asPoint())
        points.append((point, feature["places"] or 0))
    best = None
    for centre, _ in points:
        count = sum(places for point, places in points if centre.distance(point) <= metres)
        if best is None or count > best[1]:
            best = (centre, count)
    if best is None or best[1] != expected:
        sys.stderr.write(
            "note: the densest neighbourhood counted here (%s) is not quartier's (%d); "
            "no circle drawn\n" % (best[1] if best else "none", expected)
        )
        return None
    return best[0]


def draw_neighbourhood(painter, left, settings, centre, metres, places):
    """A red circle of the spread radius around the densest neighbourhood, with its count."""
    pixel = settings.mapToPixel().transform(centre)
    radius = metres / settings.mapUnitsPerPixel()
    x, y = left + pixel.x(), HEADER + pixel.y()
    painter.setBrush(Qt.NoBrush)
    painter.setPen(QPen(QColor(200, 20, 20), 3))
    painter.drawEllipse(QPointF(x, y), radius, radius)
    font = QFont("DejaVu Sans")
    font.setPixelSize(18)
    font.setBold(True)
    painter.setFont(font)
    text = thousands(places)
    box = QRectF(x + radius * 0.7 + 2, y - radius * 0.7 - 26, painter.fontMetrics().horizontalAdvance(text) + 10, 24)
    painter.setPen(QPen(QColor(200, 20, 20), 1.5))
    painter.setBrush(QColor(255, 255, 255, 230))
    painter.drawRect(box)
    painter.drawText(box, Qt.AlignCenter, text)


def metres_text(metres):
    return ("%d" % metres) if float(metres).is_integer() else ("%g" % metres)


def thousands(number):
    return "{:,}".format(number)


def site_diameter_px(sites, total, dpi):
    """Diameter in pixels of a site with `total` places, from the style's own size
    expression (sites.qml sizes circles by places)."""
    renderer = sites.renderer()
    # Keep the list: a category returned by categories() is a copy that owns its symbol.
    categories = renderer.categories() if renderer.type() == "categorizedSymbol" else []
    symbol = categories[0].symbol() if categories else renderer.symbol()
    prop = symbol.dataDefinedSize()
    fields = QgsFields()
    fields.append(QgsField("total", QVariant.Int))
    feature = QgsFeature(fields)
    feature.setAttribute("total", total)
    context = QgsExpressionContext()
    context.appendScope(QgsExpressionContextUtils.globalScope())
    context.setFields(fields)
    context.setFeature(feature)
    size_mm, ok = prop.valueAsDouble(context, symbol.size())
    return (size_mm if ok else symbol.size()) * dpi / 25.4


def draw_header(painter, left, title, subtitle):
    painter.setPen(QColor(20, 20, 20))
    font = QFont("DejaVu Sans")
    font.setPixelSize(24)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRectF(left + 16, 8, PANEL - 32, 34), Qt.AlignLeft | Qt.AlignVCenter, title)
    font.setPixelSize(16)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(QColor(70, 70, 70))
    painter.drawText(QRectF(left + 16, 42, PANEL - 32, 26), Qt.AlignLeft | Qt.AlignVCenter, subtitle)


def draw_scale_bar(painter, left, metres, metres_per_px):
    """A bar as long as the spread radius, bottom left of a map."""
    length = metres / metres_per_px
    x = left + 20
    y = HEADER + MAP_HEIGHT - 22
    painter.setPen(QPen(QColor(20, 20, 20), 3))
    painter.drawLine(QPointF(x, y), QPointF(x + length, y))
    painter.drawLine(QPointF(x, y - 6), QPointF(x, y + 6))
    painter.drawLine(QPointF(x + length, y - 6), QPointF(x + length, y + 6))
    font = QFont("DejaVu Sans")
    font.setPixelSize(14)
    painter.setFont(font)
    painter.drawText(QRectF(x + length + 8, y - 12, 120, 24), Qt.AlignLeft | Qt.AlignVCenter, metres_text(metres) + " m")


def draw_legend(painter, sites, districts, dpi):
    """Circle sizes and colours of the sites, shades of the districts (from the styles)."""
    font = QFont("DejaVu Sans")
    font.setPixelSize(15)
    painter.setFont(font)
    middle = HEIGHT - FOOTER / 2
    x = 20.0
    painter.setPen(QColor(20, 20, 20))
    painter.drawText(QRectF(x, middle - 12, 70, 24), Qt.AlignLeft | Qt.AlignVCenter, "places:")
    x += 66
    colour = QColor(33, 102, 172)
    renderer = sites.renderer()
    categories = renderer.categories() if renderer.type() == "categorizedSymbol" else []
    if categories:
        colour = categories[0].symbol().color()
    for total in (5, 10, 25, 50):
        diameter = site_diameter_px(sites, total, dpi)
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.setBrush(colour)
        painter.drawEllipse(QPointF(x + diameter / 2, middle), diameter / 2, diameter / 2)
        x += diameter + 6
        painter.setPen(QColor(20, 20, 20))
        painter.drawText(QRectF(x, middle - 12, 40, 24), Qt.AlignLeft | Qt.AlignVCenter, str(total))
        x += 34
    if categories:
        for category in categories:
            diameter = site_diameter_px(sites, 25, dpi)
            painter.setPen(QPen(QColor(255, 255, 255), 1))
            painter.setBrush(category.symbol().color())
            painter.drawEllipse(QPointF(x + diameter / 2, middle), diameter / 2, diameter / 2)
            x += diameter + 6
            painter.setPen(QColor(20, 20, 20))
            label = category.label()
            width = painter.fontMetrics().horizontalAdvance(label)
            painter.drawText(QRectF(x, middle - 12, width + 4, 24), Qt.AlignLeft | Qt.AlignVCenter, label)
            x += width + 22
    district_renderer = districts.renderer()
    if district_renderer.type() == "graduatedSymbol":
        painter.setPen(QColor(20, 20, 20))
        label = "places per 1,000 residents:"
        width = painter.fontMetrics().horizontalAdvance(label)
        painter.drawText(QRectF(x, middle - 12, width + 4, 24), Qt.AlignLeft | Qt.AlignVCenter, label)
        x += width + 10
        bands = district_renderer.ranges()
        for band in bands:
            painter.setPen(QPen(QColor(90, 90, 90), 1))
            painter.setBrush(band.symbol().color())
            painter.drawRect(QRectF(x, middle - 9, 24, 18))
            x += 30
            painter.setPen(QColor(20, 20, 20))
            width = painter.fontMetrics().horizontalAdvance(band.label())
            painter.drawText(QRectF(x, middle - 12, width + 4, 24), Qt.AlignLeft | Qt.AlignVCenter, band.label())
            x += width + 14


def main():
    if len(sys.argv) not in (4, 6):
        sys.stderr.write(__doc__)
        sys.exit(2)
    before_dir, after_dir, png = sys.argv[1:4]
    labels = sys.argv[4:6] if len(sys.argv) == 6 else ["file order", "spread stage"]
    app = QgsApplication([], False)
    app.initQgis()
    plans = [load_plan(before_dir), load_plan(after_dir)]
    target = QgsCoordinateReferenceSystem(CRS)
    extent = common_extent(plans, target)

    canvas = QImage(WIDTH, HEIGHT, QImage.Format_ARGB32)
    canvas.fill(QColor(255, 255, 255))
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    dpi = 96.0
    for index, ((layers, summary), label) in enumerate(zip(plans, labels)):
        image, settings = render(layers, target, extent)
        dpi = settings.outputDpi()
        left = index * PANEL
        painter.drawImage(left, HEADER, image)
        places, metres = spread_figure(summary)
        centre = densest_neighbourhood(layers["sites"], target, metres, places)
        if centre is not None:
            draw_neighbourhood(painter, left, settings, centre, metres, places)
        title = "%s: at most %s new places within %s m" % (label, thousands(places), metres_text(metres))
        subtitle = "%s new places at %s sites, dissimilarity D = %.4f" % (
            thousands(summary["placed"]),
            thousands(summary["sites_used"]),
            summary["dissimilarity"],
        )
        draw_header(painter, left, title, subtitle)
        draw_scale_bar(painter, left, metres, settings.mapUnitsPerPixel())
    painter.setPen(QPen(QColor(160, 160, 160), 2))
    painter.drawLine(PANEL, 0, PANEL, HEIGHT - FOOTER)
    painter.drawLine(0, HEIGHT - FOOTER, WIDTH, HEIGHT - FOOTER)
    draw_legend(painter, plans[1][0]["sites"], plans[1][0]["districts"], dpi)
    painter.end()
    if not canvas.save(png, "png"):
        fail("could not write " + png)
    print("written " + png)
    app.exitQgis()


main()
