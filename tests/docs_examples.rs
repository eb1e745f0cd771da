//! The pages are tests: README.md and docs/*.md show real commands and real outputs, and
//! this file keeps them real.
//!
//! - Every code block marked `console` runs with trycmd against the built binary: each
//!   `$ quartier …` line, its output (stdout and stderr together) compared with the lines
//!   under it, its exit code with 0 or the `? N` line. A changed message or figure fails
//!   here until the page says the same (`TRYCMD=overwrite` writes the new output into the
//!   page, for review). Blocks that are not run carry another language (`sh`, `toml`,
//!   `text`): trycmd would take an unmarked block for one to run.
//! - Every relative link of those pages leads to a file, and every `#anchor` to a heading
//!   of the page it names (GitHub's anchor rules).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, then docs/*.md in name order.
fn pages() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/ is readable")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    let mut pages = vec![repo().join("README.md")];
    pages.extend(docs);
    pages
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a folder in the sandbox");
    for entry in std::fs::read_dir(from).expect("read a folder to copy") {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file into the sandbox");
        }
    }
}

#[test]
fn documented_commands_print_what_the_pages_show() {
    // The pages show commands as a user types them in the repository root (`scenarios/…`,
    // output to `out/…`). They run in a fresh folder holding copies of what they read, so
    // the paths stay the same and nothing is written into the repository. trycmd runs a
    // Markdown case in the test process's current folder: it has no setting for it.
    let sandbox = tempfile::tempdir().expect("a temporary folder");
    for dir in ["data", "scenarios"] {
        copy_dir(&repo().join(dir), &sandbox.path().join(dir));
    }
    std::env::set_current_dir(sandbox.path()).expect("enter the sandbox");
    // The debug switches (QUARTIER_TRACE, QUARTIER_HIGHS_LOG, …) print on stderr, which
    // trycmd compares with the page: the commands run as a user runs them, without.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("QUARTIER_") {
            std::env::remove_var(key);
        }
    }
    let quartier = Path::new(env!("CARGO_BIN_EXE_quartier"));

    // The README first: its worked example writes out/muenster/, which the guides on
    // spread and access and on checking plans read. trycmd runs the cases (pages) of one
    // run in parallel, the commands of one page in order.
    let mut guides = pages();
    let readme = guides.remove(0);
    trycmd::TestCases::new()
        .register_bin("quartier", quartier)
        .case(readme)
        .run();
    let cases = trycmd::TestCases::new();
    cases.register_bin("quartier", quartier);
    for page in guides {
        cases.case(page);
    }
    cases.run();

    // Every plan the pages solved passes the independent checker.
    let mut checked = 0;
    for entry in std::fs::read_dir("out").expect("the pages solved into out/") {
        let folder = entry.expect("a folder of out/").path();
        if !folder.join("summary.json").exists() {
            continue; // a generated city, not a plan
        }
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let scenario = Path::new("scenarios").join(format!("{name}.toml"));
        let verify = std::process::Command::new(quartier)
            .args(["verify", "--quiet"])
            .arg(&scenario)
            .arg(folder.join("sites.geojson"))
            .output()
            .expect("run quartier verify");
        assert!(
            verify.status.success(),
            "the plan in out/{name} breaks a rule of {}:\n{}",
            scenario.display(),
            String::from_utf8_lossy(&verify.stdout)
        );
        checked += 1;
    }
    assert!(
        checked >= 4,
        "only {checked} plans were solved on the pages"
    );
}

/// GitHub's anchor of a heading: the text as shown (links and code marks gone), lower
/// case, spaces to '-', every other character that is not a letter, digit, '-' or '_'
/// dropped.
fn anchor(heading: &str) -> String {
    let mut shown = String::new();
    let mut rest = heading;
    // `[text](target)` shows as `text`.
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|i| open + i) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|i| close + i) else {
            break;
        };
        shown.push_str(&rest[..open]);
        shown.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    shown.push_str(rest);
    shown
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The lines of a page outside fenced code blocks, with their line numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            lines.push((i + 1, line));
        }
    }
    lines
}

/// The anchors of a page's headings; a repeated heading gets -1, -2, … as on GitHub.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    for (_, line) in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = anchor(&line[hashes..]);
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.push(if *count == 0 {
            base
        } else {
            format!("{base}-{count}")
        });
        *count += 1;
    }
    anchors
}

/// The link targets of a line: whatever stands between `](` and the next `)`.
fn link_targets(line: &str) -> Vec<&str> {
    line.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &line[i + 2..];
            rest.find(')').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn every_link_between_the_pages_leads_to_a_file_and_a_heading() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read a page");
        let dir = page.parent().expect("a page lies in a folder");
        let name = page
            .strip_prefix(repo())
            .unwrap_or(&page)
            .display()
            .to_string();
        for (number, line) in prose(&text) {
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, fragment) = match target.split_once('#') {
                    Some((file, fragment)) => (file, Some(fragment)),
                    None => (target, None),
                };
                let linked = if file.is_empty() {
                    page.clone()
                } else {
                    dir.join(file)
                };
                if !linked.exists() {
                    broken.push(format!("{name}:{number}: {target}: no such file"));
                    continue;
                }
                let Some(fragment) = fragment else { continue };
                let linked_text = std::fs::read_to_string(&linked).unwrap_or_default();
                if !anchors(&linked_text).iter().any(|a| a == fragment) {
                    broken.push(format!("{name}:{number}: {target}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_follow_githubs_rules() {
    assert_eq!(
        anchor(" Small-area statistics: the office's table and a fair-share key"),
        "small-area-statistics-the-offices-table-and-a-fair-share-key"
    );
    assert_eq!(
        anchor(" [Checking a plan](docs/checking-plans.md)"),
        "checking-a-plan"
    );
    assert_eq!(
        anchor(" quartier in QGIS (without a terminal)"),
        "quartier-in-qgis-without-a-terminal"
    );
    assert_eq!(
        anchors("# A\n```toml\n# not a heading\n```\n## A\n"),
        ["a", "a-1"]
    );
}
