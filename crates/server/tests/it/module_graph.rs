//! The server's source tree keeps its shape: no two modules import each other (directly or
//! round a longer cycle), at the level of files and of top-level modules, and no source file
//! is over 500 lines (in the other crates of the workspace, none without its tests). Read from
//! the source, so it needs no hub.
//!
//! An edge is a `crate::…` or `super::…` path (in a `use` or inline, groups expanded) from one
//! module to another, outside `#[cfg(test)]`. A parent's references to its own children by
//! relative path (`mod.rs` wiring their routes) are not edges; `lib.rs`, the composition root
//! that wires every door, is neither source nor target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

const MAX_LINES: usize = 500;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, by module path (`a/b.rs` and `a/b/mod.rs` are `a::b`).
fn modules(root: &Path, dir: &Path, out: &mut BTreeMap<Module, PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            modules(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut segs: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segs.last().is_some_and(|s| s == "mod" || s == "lib") {
                segs.pop();
            }
            out.insert(segs, path);
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The code of a file without its tests and line comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads `ident(::ident)*` and an optional `::{…}` group at `s[i..]`, pushing every full path
/// (prefix included) into `out`. Returns where it stopped.
fn path_tree(s: &[char], mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix.to_vec();
    loop {
        let start = i;
        while i < s.len() && is_ident(s[i]) {
            i += 1;
        }
        if i > start {
            path.push(s[start..i].iter().collect());
        }
        if s[i..].starts_with(&[':', ':', '{']) {
            i += 3;
            loop {
                while s[i].is_whitespace() || s[i] == ',' {
                    i += 1;
                }
                if s[i] == '}' {
                    return i + 1;
                }
                i = path_tree(s, i, &path, out);
                // Skip `as name` and anything else up to the next item.
                let mut depth = 0;
                while depth > 0 || (s[i] != ',' && s[i] != '}') {
                    match s[i] {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    i += 1;
                }
            }
        }
        if s[i..].starts_with(&[':', ':']) && i + 2 < s.len() && is_ident(s[i + 2]) {
            i += 2;
            continue;
        }
        out.push(path);
        return i;
    }
}

/// The `crate::` and `super::` paths in a module's code, made absolute.
fn paths(module: &Module, code: &str) -> Vec<Vec<String>> {
    let s: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let word_start = i == 0 || !is_ident(s[i - 1]);
        let rest = &s[i..];
        if word_start
            && (rest.starts_with(&['c', 'r', 'a', 't', 'e', ':', ':'])
                || rest.starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']))
        {
            let mut found = Vec::new();
            i = path_tree(&s, i, &[], &mut found);
            for p in found {
                let mut abs: Vec<String> = Vec::new();
                let mut segs = p.into_iter().peekable();
                if segs.peek().is_some_and(|s| s == "crate") {
                    segs.next();
                } else {
                    abs = module.clone();
                    while segs.peek().is_some_and(|s| s == "super") {
                        segs.next();
                        abs.pop();
                    }
                }
                abs.extend(segs);
                out.push(abs);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The module a path names: its longest prefix that is a module.
fn resolve(mods: &BTreeMap<Module, PathBuf>, path: &[String]) -> Module {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| mods.contains_key(p))
        .unwrap_or_default()
}

fn edges(mods: &BTreeMap<Module, PathBuf>) -> BTreeSet<(Module, Module)> {
    let mut edges = BTreeSet::new();
    for (module, file) in mods {
        if module.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for path in paths(module, &code(&text)) {
            let target = resolve(mods, &path);
            if !target.is_empty() && &target != module {
                edges.insert((module.clone(), target));
            }
        }
    }
    edges
}

/// A cycle in the graph, if there is one.
fn cycle(edges: &BTreeSet<(Module, Module)>) -> Option<Vec<Module>> {
    fn visit(
        v: &Module,
        graph: &BTreeMap<&Module, Vec<&Module>>,
        done: &mut BTreeSet<Module>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(at) = stack.iter().position(|s| s == v) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(v.clone());
            return Some(cycle);
        }
        if done.contains(v) {
            return None;
        }
        stack.push(v.clone());
        for w in graph.get(v).into_iter().flatten() {
            if let Some(c) = visit(w, graph, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(v.clone());
        None
    }
    let mut graph: BTreeMap<&Module, Vec<&Module>> = BTreeMap::new();
    for (a, b) in edges {
        graph.entry(a).or_default().push(b);
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|v| visit(v, &graph, &mut done, &mut Vec::new()))
}

fn show(cycle: &[Module]) -> String {
    cycle
        .iter()
        .map(|m| m.join("::"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[test]
fn no_two_server_modules_import_each_other() {
    let root = src();
    let mut mods = BTreeMap::new();
    modules(&root, &root, &mut mods);
    let files = edges(&mods);
    // Sanity: the parser sees the imports that are certainly there.
    assert!(files.contains(&(
        vec!["rutter".into(), "batch_job".into()],
        vec!["jobs".into()]
    )));
    assert!(files.contains(&(vec!["state".into()], vec!["jobs".into()])));
    if let Some(c) = cycle(&files) {
        panic!("import cycle between server modules: {}", show(&c));
    }
    let top: BTreeSet<(Module, Module)> = files
        .iter()
        .map(|(a, b)| (a[..1].to_vec(), b[..1].to_vec()))
        .filter(|(a, b)| a != b)
        .collect();
    if let Some(c) = cycle(&top) {
        panic!(
            "import cycle between top-level server modules: {}",
            show(&c)
        );
    }
}

#[test]
fn no_server_source_file_is_over_500_lines() {
    let root = src();
    let mut mods = BTreeMap::new();
    modules(&root, &root, &mut mods);
    let long: Vec<String> = mods
        .values()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines})", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

/// The same bound over every other crate of the workspace, counting a file's code before its
/// `#[cfg(test)]` module. Test-only files (`tests.rs`, the store conformance suite) are exempt.
#[test]
fn no_workspace_source_file_is_over_500_lines_without_its_tests() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut long = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let krate = krate.unwrap().path();
        let root = krate.join("src");
        // The server has its own, stricter test above; the conformance suite is all tests.
        if !root.is_dir() || krate.ends_with("server") || krate.ends_with("store-tests") {
            continue;
        }
        let mut mods = BTreeMap::new();
        modules(&root, &root, &mut mods);
        for f in mods.values().filter(|f| !f.ends_with("tests.rs")) {
            let text = std::fs::read_to_string(f).unwrap();
            let lines = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .lines()
                .count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines})", f.display()));
            }
        }
    }
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}
