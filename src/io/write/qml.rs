//! QGIS layer styles (`.qml`) written next to the GeoJSON layers: QGIS loads a style file
//! with the layer's name as the layer's default style, so the plan opens looking right.
//!
//! - `districts.qml`: graduated fill by places per 1,000 residents, with round class breaks.
//! - `sites.qml`: circles sized by places (area proportional to the total), coloured by
//!   kind: new accommodation, existing accommodation, existing accommodation extended.

/// The colours of the district classes, light to dark (ColorBrewer "Oranges", 5 classes).
const DISTRICT_COLOURS: [&str; 5] = [
    "254,237,222",
    "253,190,133",
    "253,141,60",
    "230,85,13",
    "166,54,3",
];

/// Round class breaks for values from 0 to `max`: 5 classes of a "nice" step (1, 2, 2.5, 5
/// times a power of ten), so the legend reads 0–2, 2–4, … rather than 0–1.87.
pub fn class_breaks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s * 5.0 >= max)
        .unwrap_or(10.0 * magnitude);
    // Rounded to the step's precision so that 3 × 0.2 is 0.6, not 0.6000000000000001.
    let precision = 1e6 / magnitude;
    (0..=5)
        .map(|i| (i as f64 * step * precision).round() / precision)
        .collect()
}

fn number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn german(value: f64) -> String {
    number(value).replace('.', ",")
}

fn fill_symbol(name: usize, colour: &str) -> String {
    format!(
        r#"      <symbol type="fill" name="{name}" alpha="0.85" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="color" value="{colour},255"/>
            <Option type="QString" name="outline_color" value="90,90,90,255"/>
            <Option type="QString" name="outline_style" value="solid"/>
            <Option type="QString" name="outline_width" value="0.3"/>
            <Option type="QString" name="outline_width_unit" value="MM"/>
            <Option type="QString" name="style" value="solid"/>
          </Option>
        </layer>
      </symbol>
"#
    )
}

/// The district style for the largest places-per-1,000 value in the plan.
pub fn districts_qml(max_per_1000: f64) -> String {
    let breaks = class_breaks(max_per_1000);
    let mut ranges = String::new();
    let mut symbols = String::new();
    for (i, pair) in breaks.windows(2).enumerate() {
        // The last class is open upwards so that no district falls outside the legend.
        let upper = if i == 4 { 1e12 } else { pair[1] };
        let label = if i == 4 {
            format!("{} und mehr", german(pair[0]))
        } else {
            format!("{} – {}", german(pair[0]), german(pair[1]))
        };
        ranges += &format!(
            "      <range lower=\"{}\" upper=\"{}\" symbol=\"{i}\" label=\"{label}\" render=\"true\"/>\n",
            number(pair[0]),
            number(upper)
        );
        symbols += &fill_symbol(i, DISTRICT_COLOURS[i]);
    }
    symbols += &fill_symbol(5, "220,220,220");
    format!(
        r#"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Labeling">
  <renderer-v2 type="graduatedSymbol" attr="per_1000" graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">
    <ranges>
{ranges}    </ranges>
    <symbols>
{symbols}    </symbols>
    <source-symbol>
{source}    </source-symbol>
    <classificationMethod id="Pretty"/>
    <legendSettings/>
  </renderer-v2>
  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName="name" fontSize="8" textColor="50,50,50,255" isExpression="0"/>
      <placement placement="1" dist="0"/>
      <rendering scaleVisibility="1" scaleMin="1" scaleMax="60000"/>
    </settings>
  </labeling>
  <layerGeometryType>2</layerGeometryType>
</qgis>
"#,
        source = fill_symbol(0, DISTRICT_COLOURS[0]),
    )
}

fn marker_symbol(name: &str, colour: &str) -> String {
    format!(
        r#"      <symbol type="marker" name="{name}" alpha="0.9" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="color" value="{colour},255"/>
            <Option type="QString" name="name" value="circle"/>
            <Option type="QString" name="outline_color" value="255,255,255,255"/>
            <Option type="QString" name="outline_width" value="0.3"/>
            <Option type="QString" name="size" value="3"/>
            <Option type="QString" name="size_unit" value="MM"/>
          </Option>
          <data_defined_properties>
            <Option type="Map">
              <Option type="QString" name="name" value=""/>
              <Option name="properties" type="Map">
                <Option name="size" type="Map">
                  <Option type="bool" name="active" value="true"/>
                  <Option type="QString" name="expression" value="1.6 + 0.55 * sqrt(coalesce(&quot;total&quot;, 0))"/>
                  <Option type="int" name="type" value="3"/>
                </Option>
              </Option>
              <Option type="QString" name="type" value="collection"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
"#
    )
}

/// The site style: categories by `kind`, size by `total` places.
pub fn sites_qml() -> String {
    let kinds = [
        ("new", "neu", "33,102,172"),
        ("extended", "bestehend, erweitert", "118,42,131"),
        ("existing", "bestehend", "120,120,120"),
    ];
    let mut categories = String::new();
    let mut symbols = String::new();
    for (i, (value, label, colour)) in kinds.iter().enumerate() {
        categories += &format!(
            "      <category value=\"{value}\" symbol=\"{i}\" label=\"{label}\" render=\"true\"/>\n"
        );
        symbols += &marker_symbol(&i.to_string(), colour);
    }
    format!(
        r#"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="kind" symbollevels="0" enableorderby="1" forceraster="0">
    <categories>
{categories}    </categories>
    <symbols>
{symbols}    </symbols>
    <source-symbol>
{source}    </source-symbol>
    <orderby>
      <orderByClause asc="0" nullsFirst="0">"total"</orderByClause>
    </orderby>
  </renderer-v2>
  <layerGeometryType>0</layerGeometryType>
</qgis>
"#,
        source = marker_symbol("0", kinds[0].2),
    )
}

/// A line symbol: solid, 0.6 mm, in one colour.
fn line_symbol(name: usize, colour: &str) -> String {
    format!(
        r#"      <symbol type="line" name="{name}" alpha="0.85" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="line_color" value="{colour},255"/>
            <Option type="QString" name="line_width" value="0.6"/>
            <Option type="QString" name="line_width_unit" value="MM"/>
            <Option type="QString" name="line_style" value="solid"/>
            <Option type="QString" name="capstyle" value="round"/>
            <Option type="QString" name="joinstyle" value="round"/>
          </Option>
        </layer>
      </symbol>
"#
    )
}

/// Colours of the route kinds, in the order of the facility layers.
const ROUTE_COLOURS: [&str; 6] = [
    "230,97,1",
    "94,60,153",
    "27,158,119",
    "217,95,2",
    "117,112,179",
    "102,166,30",
];

/// The style of `routes.geojson`: one colour per facility kind (`kind`), labelled
/// "Weg zur … (zu Fuß)".
pub fn routes_qml(kinds: &[String]) -> String {
    let mut categories = String::new();
    let mut symbols = String::new();
    for (i, kind) in kinds.iter().enumerate() {
        let kind = super::html::escape(kind);
        categories += &format!(
            "      <category value=\"{kind}\" symbol=\"{i}\" label=\"Weg zu Fuß: {kind}\" render=\"true\"/>\n"
        );
        symbols += &line_symbol(i, ROUTE_COLOURS[i % ROUTE_COLOURS.len()]);
    }
    format!(
        r#"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="kind" symbollevels="0" enableorderby="0" forceraster="0">
    <categories>
{categories}    </categories>
    <symbols>
{symbols}    </symbols>
    <source-symbol>
{source}    </source-symbol>
  </renderer-v2>
  <layerGeometryType>1</layerGeometryType>
</qgis>
"#,
        source = line_symbol(0, ROUTE_COLOURS[0]),
    )
}

/// Colours of the levels, darkest first ("open first"), then lighter.
const LEVEL_COLOURS: [&str; 6] = [
    "8,48,107",
    "33,113,181",
    "66,146,198",
    "107,174,214",
    "158,202,225",
    "198,219,239",
];

/// The site style with demand levels: categories by `level` (the level at which a site
/// first gets new places: open first, next, last), size by `total` places; existing
/// accommodation without new places in grey.
pub fn sites_by_level_qml(levels: usize) -> String {
    let mut categories = String::new();
    let mut symbols = String::new();
    for l in 1..=levels {
        let label = match (l, levels) {
            (1, _) => "Stufe 1: zuerst öffnen".to_string(),
            (l, n) if l == n => format!("Stufe {l}: zuletzt öffnen"),
            (l, _) => format!("Stufe {l}: danach öffnen"),
        };
        let colour = LEVEL_COLOURS[(l - 1) * (LEVEL_COLOURS.len() - 1) / (levels - 1).max(1)];
        categories += &format!(
            "      <category value=\"{l}\" symbol=\"{}\" label=\"{label}\" render=\"true\"/>\n",
            l - 1
        );
        symbols += &marker_symbol(&(l - 1).to_string(), colour);
    }
    categories += &format!(
        "      <category value=\"\" symbol=\"{levels}\" label=\"bestehend, ohne neue Plätze\" render=\"true\"/>\n"
    );
    symbols += &marker_symbol(&levels.to_string(), "120,120,120");
    format!(
        r#"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="level" symbollevels="0" enableorderby="1" forceraster="0">
    <categories>
{categories}    </categories>
    <symbols>
{symbols}    </symbols>
    <source-symbol>
{source}    </source-symbol>
    <orderby>
      <orderByClause asc="0" nullsFirst="0">"total"</orderByClause>
    </orderby>
  </renderer-v2>
  <layerGeometryType>0</layerGeometryType>
</qgis>
"#,
        source = marker_symbol("0", LEVEL_COLOURS[0]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_are_round() {
        assert_eq!(class_breaks(9.3), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(class_breaks(11.8), vec![0.0, 2.5, 5.0, 7.5, 10.0, 12.5]);
        assert_eq!(class_breaks(0.0), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(class_breaks(47.0)[5], 50.0);
    }

    #[test]
    fn styles_are_well_formed_enough() {
        let d = districts_qml(9.3);
        assert!(d.contains("attr=\"per_1000\""));
        assert!(d.contains("label=\"2 – 4\""));
        assert!(d.contains("8 und mehr"));
        let s = sites_qml();
        assert!(s.contains("attr=\"kind\""));
        assert_eq!(s.matches("<category ").count(), 3);
        let l = sites_by_level_qml(3);
        assert!(l.contains("attr=\"level\""));
        assert_eq!(l.matches("<category ").count(), 4);
        assert!(l.contains("Stufe 1: zuerst öffnen") && l.contains("Stufe 3: zuletzt öffnen"));
    }
}
