//! The house stays readable (docs/architecture.md): no two files of `src/` import each other
//! in a circle, and no file grows past about 600 lines, except those listed here with why.
//!
//! Imports are read from the `use` declarations as text: `crate::…`, `super::…`, `self::…`
//! and a module's own children, resolved to the file that holds the longest matching module
//! path. A child's `use super::…` of its `mod.rs` is an import like any other; a module's
//! `mod child;` is not, nor is a `mod.rs` publishing a child's names (`pub use child::X`). Unit tests (`tests.rs`, and everything after `#[cfg(test)]` in a
//! file) are left out: they may look anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files allowed past the line limit, with the reason.
const LONG_FILES: &[(&str, &str)] = &[(
    "solve/model/separable.rs",
    "one algorithm: the nested-levels chain shares the per-district cursor with the stages",
)];
const MAX_LINES: usize = 600;
/// How far past the limit counts as "about 600".
const SLACK: usize = 40;

/// Every `.rs` file under `src/` (but `main.rs`) by its module path (`solve::highs::lazy`).
fn modules() -> BTreeMap<Vec<String>, PathBuf> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<Vec<String>, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut inner = prefix.to_vec();
                inner.push(path.file_name().unwrap().to_string_lossy().into_owned());
                walk(&path, &inner, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut module = prefix.to_vec();
                match name.as_str() {
                    "mod" => {}
                    "lib" if prefix.is_empty() => {}
                    "main" if prefix.is_empty() => continue,
                    _ => module.push(name),
                }
                out.insert(module, path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut out,
    );
    out
}

/// The text of a file's `use` declarations before its unit tests, each as one string.
fn use_declarations(text: &str) -> Vec<String> {
    // The unit tests inside the file (`#[cfg(test)] mod tests { … }`), not a `mod tests;`.
    let code = text
        .match_indices("#[cfg(test)]")
        .find(|(at, tag)| {
            let after = text[at + tag.len()..].trim_start();
            after.starts_with("mod ") && after.lines().next().is_some_and(|l| l.ends_with('{'))
        })
        .map_or(text, |(at, _)| &text[..at]);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in code.lines() {
        let line = line.trim();
        if let Some(declaration) = &mut current {
            declaration.push_str(line);
        } else {
            let rest = line
                .strip_prefix("pub(crate) use ")
                .or_else(|| line.strip_prefix("pub(super) use "))
                .or_else(|| line.strip_prefix("pub use "))
                .or_else(|| line.strip_prefix("use "));
            if let Some(rest) = rest {
                // A `pub use` publishes a name; the file's own code need not use it.
                let marker = if line.starts_with("use ") { "" } else { "pub:" };
                current = Some(format!("{marker}{rest}"));
            }
        }
        if current.as_ref().is_some_and(|c| c.ends_with(';')) {
            out.push(
                current
                    .take()
                    .unwrap()
                    .trim_end_matches(';')
                    // `x as y` keeps its `as` readable once the spaces are gone.
                    .replace(" as ", "@")
                    .replace(' ', ""),
            );
        }
    }
    out
}

/// `a::{b,c::{d,e}}` → `a::b`, `a::c::d`, `a::c::e` (only the module parts matter here).
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len() - 1];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// The module path a `use` path names, from the module `here` (whose file is a `mod.rs`
/// or `lib.rs` when `owns_children`).
fn absolute(path: &str, here: &[String], owns_children: bool) -> Option<Vec<String>> {
    let segments: Vec<String> = path
        .split("::")
        .map(|s| s.split('@').next().unwrap_or(s).to_string())
        .collect();
    // The module the relative path starts from: a file's own module, or its parent for
    // `super` (a `foo.rs` and a `foo/mod.rs` are both module `foo`).
    let mut base: Vec<String> = here.to_vec();
    let mut rest = &segments[..];
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        // A child module of a mod.rs, or an outside crate (std, serde…): left to the caller.
        Some(_) if owns_children => {}
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file that holds the longest prefix of a module path.
fn file_of(path: &[String], modules: &BTreeMap<Vec<String>, PathBuf>) -> Option<Vec<String>> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains_key(p))
}

fn import_graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules = modules();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, file) in &modules {
        if file.file_name().unwrap() == "tests.rs" {
            continue;
        }
        let owns_children = matches!(
            file.file_name().unwrap().to_str(),
            Some("mod.rs") | Some("lib.rs")
        );
        let text = std::fs::read_to_string(file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for declaration in use_declarations(&text) {
            // A mod.rs that publishes a child's names (`pub use child::Thing`) is the
            // child's front door, not its user: the child may import from its parent.
            let (published, declaration) = match declaration.strip_prefix("pub:") {
                Some(rest) => (true, rest.to_string()),
                None => (false, declaration),
            };
            for path in expand(&declaration) {
                if published && owns_children && !path.starts_with("super::") {
                    let first = path.split("::").next().unwrap_or("");
                    let mut child = module.clone();
                    child.push(first.to_string());
                    if modules.keys().any(|k| k.starts_with(&child)) {
                        continue;
                    }
                }
                let Some(target) = absolute(&path, module, owns_children) else {
                    continue;
                };
                // A path that starts with a plain name is a child of a mod.rs, or another
                // crate (std, serde…), which is no file of ours.
                let relative = !["crate::", "super::", "self::"]
                    .iter()
                    .any(|start| path.starts_with(start));
                if relative {
                    let child = &target[..module.len() + 1];
                    if !modules.keys().any(|k| k.starts_with(child)) {
                        continue;
                    }
                }
                if let Some(to) = file_of(&target, &modules) {
                    if &to != module && !to.is_empty() {
                        edges.insert(to);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn no_file_imports_its_own_importers() {
    let graph = import_graph();
    assert!(
        graph.len() > 50,
        "the walk found {} files only",
        graph.len()
    );
    // Depth-first search for a back edge; report the circle it closes.
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
        circles: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = stack.iter().position(|n| n == node) {
            let circle: Vec<String> = stack[at..]
                .iter()
                .chain(std::iter::once(node))
                .map(|m| m.join("::"))
                .collect();
            circles.push(circle.join(" → "));
            return;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, stack, done, circles);
        }
        stack.pop();
        done.insert(node.clone());
    }
    let (mut stack, mut done, mut circles) = (Vec::new(), BTreeSet::new(), Vec::new());
    for node in graph.keys() {
        visit(node, &graph, &mut stack, &mut done, &mut circles);
    }
    assert!(
        circles.is_empty(),
        "files that import each other in a circle (docs/architecture.md says where a shared type goes):\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_circle_check_sees_a_circle() {
    // Two made-up files that import each other must be found: the check can fail.
    let a = use_declarations("use super::b::{Thing, other::More as M};\npub use std::fmt;\n");
    assert_eq!(a, vec!["super::b::{Thing,other::More@M}", "pub:std::fmt"]);
    let paths = expand(&a[0]);
    assert_eq!(paths, vec!["super::b::Thing", "super::b::other::More@M"]);
    let here = vec!["x".to_string(), "a".to_string()];
    assert_eq!(
        absolute(&paths[0], &here, false),
        Some(vec!["x".into(), "b".into(), "Thing".into()])
    );
    assert_eq!(absolute("std::fmt", &here, false), None);
}

#[test]
fn no_file_is_much_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    for file in modules().values() {
        let lines = std::fs::read_to_string(file).unwrap().lines().count();
        let shown = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let allowed = LONG_FILES.iter().any(|(name, _)| *name == shown);
        if lines > MAX_LINES + SLACK && !allowed {
            long.push(format!("src/{shown}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines: split them by what they do (docs/architecture.md), or list them in LONG_FILES with the reason:\n{}",
        long.join("\n")
    );
}
