//! Files as QGIS, GDAL, ArcGIS and Excel on Windows write them: a Shapefile's `.cpg` in every
//! spelling of its encoding, its files with extensions in any case, and the statistics
//! office's table as Excel's "Unicode text". Each case is written here and run through the
//! binary as a planner would: the umlauts come out as they went in, and what quartier
//! cannot read is said.

mod common;

use std::path::Path;

use common::*;
use encoding_rs::Encoding;

fn districts() -> Vec<quartier::model::District> {
    let mut districts = vec![
        square("01", 0.0, 0.0, 1000.0, 3000.0),
        square("02", 1000.0, 0.0, 1000.0, 1000.0),
        square("03", 2000.0, 0.0, 1000.0, 2000.0),
    ];
    districts[0].name = "Amelsbüren".into();
    districts[1].name = "Hölting-Süd".into();
    districts[2].name = "Gießen".into();
    districts
}

fn sites() -> Vec<quartier::model::Site> {
    vec![
        site("Schulstraße 1", 500.0, 500.0, 40),
        site("S-2", 1500.0, 500.0, 40),
        site("S-3", 2500.0, 500.0, 40),
        site("Grüner Weg 4", 2600.0, 600.0, 10),
    ]
}

const NAMES: [&str; 3] = ["Amelsbüren", "Hölting-Süd", "Gießen"];

/// Shapefiles of the city with the text in `encoding` and the .cpg `cpg`, and a scenario.
fn shapefile_city(encoding: &'static Encoding, cpg: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_shapefiles_encoded(dir.path(), &districts(), &sites(), encoding, cpg);
    std::fs::write(dir.path().join("scenario.toml"), SCENARIO).unwrap();
    dir
}

const SCENARIO: &str =
    "[input]\ndistricts = \"districts.shp\"\nsites = \"sites.shp\"\n[demand]\nplaces = 60\n";

/// Solves, verifies and returns the district names and the ids of the sites used, as the
/// output files hold them; stderr must hold nothing but `warnings`.
fn solved_names(dir: &Path, warnings: &[&str]) -> (Vec<String>, Vec<String>) {
    let run = quartier(&["solve", "scenario.toml", "--out", "out"], dir);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let said: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(said.len(), warnings.len(), "{}", run.stderr);
    for (line, part) in said.iter().zip(warnings) {
        assert!(line.contains(part), "{part:?} in {line:?}");
    }
    verifies("scenario.toml", "out", dir);
    let property = |file: &str, key: &str| -> Vec<String> {
        let mut values: Vec<String> = read_json(&dir.join("out").join(file))["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"][key].as_str().unwrap().to_string())
            .collect();
        values.sort();
        values
    };
    let districts = property("districts.geojson", "name");
    let sites = property("sites.geojson", "id");
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    (districts, sites)
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    names.sort();
    names
}

#[test]
fn cpg_encodings_by_every_label_gis_programs_write() {
    let all_ids = sorted(&["Grüner Weg 4", "S-2", "S-3", "Schulstraße 1"]);
    for (encoding, labels) in [
        (
            encoding_rs::WINDOWS_1252,
            &[
                // QGIS writes the name of the encoding chosen when saving, GDAL the
                // ENCODING it was given, ArcGIS "ANSI 1252" or the bare number.
                "windows-1252",
                "Windows-1252",
                "cp1252",
                "CP1252",
                "1252",
                "ANSI 1252",
                "ISO-8859-1",
                "88591",
                "LATIN1",
                "\u{feff}windows-1252\r\n",
            ][..],
        ),
        (encoding_rs::UTF_8, &["UTF-8", "utf8", "65001"][..]),
    ] {
        for label in labels {
            let dir = shapefile_city(encoding, Some(label));
            let (names, ids) = solved_names(dir.path(), &[]);
            assert_eq!(names, sorted(&NAMES), "{label:?}");
            assert!(
                ids.contains(&"Schulstraße 1".to_string())
                    && ids.iter().all(|id| all_ids.contains(id)),
                "{label:?}: {ids:?}"
            );
        }
    }
    // Central European text, as a Polish or Czech office saves it.
    let dir = tempfile::tempdir().unwrap();
    let mut named = districts();
    named[0].name = "Žabovřesky".into();
    write_shapefiles_encoded(
        dir.path(),
        &named,
        &sites(),
        encoding_rs::WINDOWS_1250,
        Some("ANSI 1250"),
    );
    std::fs::write(dir.path().join("scenario.toml"), SCENARIO).unwrap();
    let (names, _) = solved_names(dir.path(), &[]);
    assert!(names.contains(&"Žabovřesky".to_string()), "{names:?}");
}

/// Without a .cpg the .dbf's header says the encoding: GDAL's and QGIS's default (language
/// driver 87, ISO-8859-1), Windows-1252 (3) and UTF-8 (0xF0), or none (0, read as UTF-8).
#[test]
fn without_a_cpg_the_dbf_header_says_the_encoding() {
    for (encoding, driver) in [
        (encoding_rs::WINDOWS_1252, Some(0x57)),
        (encoding_rs::WINDOWS_1252, None),
        (encoding_rs::UTF_8, None),
        (encoding_rs::UTF_8, Some(0)),
    ] {
        let dir = shapefile_city(encoding, None);
        if let Some(driver) = driver {
            for layer in ["districts.dbf", "sites.dbf"] {
                let path = dir.path().join(layer);
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[29] = driver;
                std::fs::write(&path, bytes).unwrap();
            }
        }
        let (names, _) = solved_names(dir.path(), &[]);
        assert_eq!(names, sorted(&NAMES), "{} {driver:?}", encoding.name());
    }
}

/// A .cpg that names no encoding quartier knows is read as the .dbf says, with a warning
/// that names the file and the label and says what the text is read as, from `check` (in its
/// list) and `solve` (on stderr).
#[test]
fn an_unknown_cpg_is_a_warning_that_says_how_the_text_is_read() {
    let dir = shapefile_city(encoding_rs::UTF_8, Some("CP850"));
    std::fs::write(dir.path().join("districts.cpg"), "UTF-8").unwrap();
    let expected = "sites.cpg: names the text encoding \"CP850\", which quartier does not know; the attributes are read as UTF-8 instead, so umlauts may come out wrong: save the layer again in QGIS with the encoding UTF-8";
    let check = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("1 warning about the input") && check.stdout.contains(expected),
        "{}",
        check.stdout
    );
    let (names, _) = solved_names(dir.path(), &[&format!("warning: {expected}")]);
    assert_eq!(names, sorted(&NAMES));

    // A .dbf whose header names a DOS code page (850) that no .cpg overrides: an error
    // naming the Shapefile, never a panic.
    std::fs::remove_file(dir.path().join("sites.cpg")).unwrap();
    let path = dir.path().join("sites.dbf");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[29] = 0x02;
    std::fs::write(&path, bytes).unwrap();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("sites.shp: the .dbf says its text is in code page 850, which quartier cannot read; save the layer again in QGIS with the encoding UTF-8"),
        "{}",
        run.stderr
    );
}

/// `SITES.SHP` with `SITES.DBF`, `SITES.PRJ`, `SITES.CPG` and `SITES.SHX`, as old Windows
/// programs write them, and mixed cases: found by the name, whatever the extension's case.
#[test]
fn shapefile_parts_whatever_the_case_of_their_extensions() {
    let dir = shapefile_city(encoding_rs::WINDOWS_1252, Some("windows-1252"));
    for extension in ["shp", "shx", "dbf", "prj", "cpg"] {
        std::fs::rename(
            dir.path().join(format!("sites.{extension}")),
            dir.path()
                .join(format!("SITES.{}", extension.to_uppercase())),
        )
        .unwrap();
    }
    for (from, to) in [
        ("districts.dbf", "districts.DBF"),
        ("districts.prj", "districts.Prj"),
        ("districts.cpg", "districts.CPG"),
    ] {
        std::fs::rename(dir.path().join(from), dir.path().join(to)).unwrap();
    }
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[input]\ndistricts = \"districts.shp\"\nsites = \"SITES.SHP\"\n[demand]\nplaces = 60\n",
    )
    .unwrap();
    let (names, ids) = solved_names(dir.path(), &[]);
    assert_eq!(names, sorted(&NAMES));
    assert!(ids.contains(&"Schulstraße 1".to_string()), "{ids:?}");
    // The scenario may name the .shp in another case than the file has.
    let text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
    std::fs::write(
        dir.path().join("scenario.toml"),
        text.replace("SITES.SHP", "SITES.shp"),
    )
    .unwrap();
    let (names, _) = solved_names(dir.path(), &[]);
    assert_eq!(names, sorted(&NAMES));

    // A .dbf that is really missing: the message as ever, in the .shp's case.
    std::fs::remove_file(dir.path().join("SITES.DBF")).unwrap();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "SITES.shp: the attribute table SITES.DBF next to it is missing; a Shapefile is read with its .dbf (and .prj for the CRS)"
        ),
        "{}",
        run.stderr
    );
    // The scenario's name in another case finds districts.shp, whose .dbf is named so.
    std::fs::remove_file(dir.path().join("districts.DBF")).unwrap();
    std::fs::write(
        dir.path().join("scenario.toml"),
        "[input]\ndistricts = \"districts.SHP\"\nsites = \"SITES.SHP\"\n[demand]\nplaces = 60\n",
    )
    .unwrap();
    let run = quartier(&["check", "scenario.toml"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("districts.SHP: the attribute table districts.dbf next to it is missing"),
        "{}",
        run.stderr
    );
}

/// The statistics office's table saved from Excel as "Unicode text": UTF-16 (little-endian)
/// with a byte-order mark, tabs between the cells, decimal commas, a totals row. Read
/// whatever `encoding` says (the mark says it); without the mark, the message says that the
/// file looks like UTF-16 and what to set.
#[test]
fn statistics_as_excel_saves_unicode_text() {
    let dir = tempfile::tempdir().unwrap();
    write_layers(dir.path(), &districts(), &sites());
    let table = "Nr\tBezirk\tEinwohner\tSGB II-Quote\r\n1\tAmelsbüren\t3000\t5,5\r\n2\tHölting-Süd\t1000\t21,0\r\n3\tGießen\t2000\t8,25\r\nSumme\tStadt\t6000\t9,1\r\n";
    let utf16: Vec<u8> = table.encode_utf16().flat_map(u16::to_le_bytes).collect();
    std::fs::write(
        dir.path().join("statistik.txt"),
        [&[0xFF, 0xFE][..], &utf16].concat(),
    )
    .unwrap();
    let scenario = |encoding: &str| {
        std::fs::write(
            dir.path().join("scenario.toml"),
            format!(
                "[input]\ndistricts = \"districts.geojson\"\nsites = \"sites.geojson\"\n[input.statistics]\nfile = \"statistik.txt\"\nkey = \"Nr\"\ndecimal = \",\"\n{encoding}\n[fields.districts]\nname = \"Bezirk\"\npopulation = \"Einwohner\"\n[[rules.district]]\nwhere = \"`SGB II-Quote` > 20\"\nmax_new = 5\n[demand]\nplaces = 60\n"
            ),
        )
        .unwrap();
    };
    let totals = "statistik.txt: 1 row matches no district and is not used (a totals row?): line 5 \"Summe\"";
    for encoding in ["", "encoding = \"windows-1252\"", "encoding = \"utf-16\""] {
        scenario(encoding);
        let (names, _) = solved_names(dir.path(), &[totals]);
        assert_eq!(names, sorted(&NAMES), "{encoding:?}");
    }
    let check = quartier(&["check", "scenario.toml"], dir.path());
    assert!(
        check.stdout.contains(
            "district rule where `SGB II-Quote` > 20 (max_new 5): 1 district: 02 Hölting-Süd"
        ),
        "{}",
        check.stdout
    );

    // Without its mark (a tool dropped it): not taken for Windows-1252 text.
    std::fs::write(dir.path().join("statistik.txt"), &utf16).unwrap();
    for encoding in ["", "encoding = \"windows-1252\""] {
        scenario(encoding);
        let run = quartier(&["check", "scenario.toml"], dir.path());
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("statistik.txt: the file looks like UTF-16 text (as Excel saves \"Unicode text\") without a byte-order mark at its start; set encoding = \"utf-16le\" in [input.statistics]"),
            "{}",
            run.stderr
        );
    }
    scenario("encoding = \"utf-16le\"");
    let (names, _) = solved_names(dir.path(), &[totals]);
    assert_eq!(names, sorted(&NAMES));
}
