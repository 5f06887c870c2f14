//! The house rules a reader can check by reading the source, checked here so they stay
//! true: ARCHITECTURE.md's module map names every source file and asset and nothing that
//! is gone, every file it points to is there, and no file in `src/web/`, `src/config/` or
//! `src/domain/` imports one that imports it back.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` (relative to the crate root, with `/`), whose name ends in one
/// of `exts`.
fn files(dir: &str, exts: &[&str]) -> Vec<String> {
    fn walk(path: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(path).expect("a readable directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root().join(dir), &mut found);
    let mut names: Vec<String> = found
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(root()).expect("under the root");
            rel.to_string_lossy().replace('\\', "/")
        })
        .filter(|p| exts.iter().any(|e| p.ends_with(e)))
        .collect();
    names.sort();
    names
}

/// The module map's rows: the backticked names in the first cell, and in the second.
fn module_map() -> Vec<(Vec<String>, Vec<String>)> {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let section = text
        .split("\n## Module map")
        .nth(1)
        .expect("a module map section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let mut cells = line.trim_matches('|').splitn(2, '|');
            let paths = ticked(cells.next().unwrap_or(""));
            let held = ticked(cells.next().unwrap_or(""));
            (paths, held)
        })
        .collect()
}

/// The `code` spans of `cell`.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// A file is on the map when a row names it whole; when a row's first cell names a file in
/// the same folder and then this one by its bare name (`src/domain/tickets.rs`,
/// `passwords.rs`); or when a folder row (`src/web/`) names its path below the folder
/// (`api/create`, or `api/` for `api/mod.rs`) in its second cell. A folder's own `mod.rs` is
/// its row, and unit tests kept beside their module (`<module>/tests.rs`) go with it.
fn on_map(file: &str, rows: &[(Vec<String>, Vec<String>)]) -> bool {
    let (dir, name) = file.rsplit_once('/').expect("a file in a folder");
    if name == "tests.rs" && dir.starts_with("src/") {
        return true;
    }
    let dir = format!("{dir}/");
    rows.iter().any(|(paths, held)| {
        let sibling = paths
            .iter()
            .any(|p| p.starts_with(&dir) && !p.ends_with('/'));
        paths.iter().any(|p| p == file)
            || (sibling && paths.iter().any(|p| p == name))
            || paths.iter().any(|folder| {
                let Some(below) = file
                    .strip_prefix(folder.as_str())
                    .filter(|_| folder.ends_with('/'))
                else {
                    return false;
                };
                let stem = below.rsplit_once('.').map_or(below, |(s, _)| s);
                let module = stem.strip_suffix("/mod").map(|m| format!("{m}/"));
                below == "mod.rs"
                    || held
                        .iter()
                        .any(|h| h == stem || h == below || Some(h) == module.as_ref())
            })
    })
}

#[test]
fn the_module_map_names_every_source_file_and_asset_and_nothing_that_is_gone() {
    let rows = module_map();
    assert!(rows.len() > 20, "the module map was not found: {rows:?}");
    let mut sources = files("src", &[".rs"]);
    sources.extend(files("assets", &[".js", ".css"]));
    sources.extend(files("tests", &[".rs"]));
    sources.extend(files("bench", &[".rs"]));
    let missing: Vec<&String> = sources.iter().filter(|f| !on_map(f, &rows)).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's module map does not name {missing:#?}"
    );
    let gone: Vec<&String> = rows
        .iter()
        .flat_map(|(paths, _)| paths)
        .filter(|p| p.contains('/') && !root().join(p).exists())
        .collect();
    assert!(
        gone.is_empty(),
        "the module map names what is gone: {gone:#?}"
    );
}

#[test]
fn every_file_architecture_md_points_to_is_there() {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let gone: Vec<String> = ticked(&text)
        .into_iter()
        .filter(|t| t.contains('/') && t.ends_with(".rs"))
        .filter(|t| !t.contains(['<', ' ', '*']))
        .filter(|t| !root().join(t).exists() && !root().join("src").join(t).exists())
        .collect();
    assert!(
        gone.is_empty(),
        "ARCHITECTURE.md points to what is gone: {gone:#?}"
    );
}

/// The `use` paths of a source file outside its `#[cfg(test)]` part, `{a, b::{c}}`
/// groups expanded.
fn use_paths(source: &str) -> Vec<String> {
    fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
        let Some(open) = tree.find('{') else {
            let path = tree.split(" as ").next().unwrap_or(tree).trim();
            let path = path.strip_suffix("::self").unwrap_or(path);
            out.push(format!("{prefix}{path}"));
            return;
        };
        let head = format!("{prefix}{}", &tree[..open]);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&head, inner[start..i].trim(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        if !inner[start..].trim().is_empty() {
            expand(&head, inner[start..].trim(), out);
        }
    }
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    let mut out = Vec::new();
    for statement in code.split("use ").skip(1) {
        let Some(end) = statement.find(';') else {
            continue;
        };
        let tree: String = statement[..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if tree.starts_with("crate::") || tree.starts_with("super::") {
            expand("", &tree, &mut out);
        }
    }
    out
}

/// The module path of a file under `src/` (`src/web/api/mod.rs` → `["web", "api"]`).
fn module_of(file: &str) -> Vec<String> {
    let rel = file.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The file a `use` path in `from` leads to: the longest prefix of it that is a module.
fn target(from: &str, path: &str, modules: &BTreeMap<Vec<String>, String>) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").collect();
    let mut base = match parts.first() {
        Some(&"crate") => Vec::new(),
        Some(&"super") => {
            let mut m = module_of(from);
            while parts.first() == Some(&"super") {
                m.pop();
                parts.remove(0);
            }
            parts.insert(0, "");
            m
        }
        _ => return None,
    };
    parts.remove(0);
    let mut found = modules.get(&base).cloned();
    for part in parts {
        base.push(part.to_owned());
        match modules.get(&base) {
            Some(file) => found = Some(file.clone()),
            None => break,
        }
    }
    found
}

/// The folders held to the rule (a unit-test file beside its module is part of it). The
/// store is not yet: its `mod.rs` is the hub its transactions are written against.
const FOLDERS: [&str; 3] = ["src/web/", "src/config/", "src/domain/"];

#[test]
fn no_file_in_web_config_or_domain_imports_one_that_imports_it_back() {
    let sources = files("src", &[".rs"]);
    let modules: BTreeMap<Vec<String>, String> =
        sources.iter().map(|f| (module_of(f), f.clone())).collect();
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let checked =
        |f: &String| FOLDERS.iter().any(|d| f.starts_with(d)) && !f.ends_with("/tests.rs");
    for file in sources.iter().filter(|f| checked(f)) {
        let source = fs::read_to_string(root().join(file)).expect("a source file");
        let targets: BTreeSet<String> = use_paths(&source)
            .iter()
            .filter_map(|p| target(file, p, &modules))
            .filter(|t| t != file && checked(t))
            .collect();
        let mut targets: BTreeSet<String> = targets;
        // A folder's `mod.rs` uses what it declares (it mounts or re-exports it), so a child
        // that imports its `mod.rs` closes a loop.
        if file.ends_with("/mod.rs") {
            let folder = module_of(file);
            for line in source.lines() {
                let declared = line
                    .trim()
                    .trim_start_matches("pub ")
                    .strip_prefix("mod ")
                    .and_then(|rest| rest.strip_suffix(';'));
                if let Some(child) = declared {
                    let mut module = folder.clone();
                    module.push(child.to_owned());
                    targets.extend(modules.get(&module).cloned());
                }
            }
        }
        imports.insert(file.clone(), targets);
    }
    assert!(imports.len() > 20, "src/web/ was not read: {imports:?}");
    // A cycle of any length shows as a file that reaches itself.
    let mut cycles = Vec::new();
    for start in imports.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = imports[start].iter().collect();
        while let Some(next) = stack.pop() {
            if next == start {
                cycles.push(start.clone());
                break;
            }
            if seen.insert(next) {
                stack.extend(imports.get(next).into_iter().flatten());
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "these files reach themselves through their imports: {cycles:#?}"
    );
}
