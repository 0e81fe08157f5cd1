//! Checks over the sources: no import circle between the crate's top-level modules, and the
//! simulators used only where they are run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Circles still to break: none. The HTTP edge points one way (`app` → `auth`, `guard`,
/// `server` → `api` → `state` → `aggregate` → `vendors`); a new circle fails the test below.
const KNOWN_CIRCLES: &[&[&str]] = &[];

/// The modules that may name the simulators (`crate::sandbox`): the command line and demo
/// mode, which run them. The adapters are one reading of the vendor documents and the
/// simulators another; neither may borrow from the other.
const SIMULATOR_USERS: &[&str] = &["cli", "demo"];

/// Top-level module → the top-level modules its non-test code names through `crate::`.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(src).unwrap();
            let top = relative.components().next().unwrap().as_os_str();
            let module = top.to_string_lossy().trim_end_matches(".rs").to_owned();
            let is_test_file = path.file_name().is_some_and(|name| name == "tests.rs");
            if is_test_file || path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            if ["lib", "main", "layering"].contains(&module.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let named = graph.entry(module.clone()).or_default();
            for target in crate_paths(&text) {
                if target != module {
                    named.insert(target);
                }
            }
        }
    }
    graph
}

/// The first segment of every `crate::…` path in `text`, test modules and comments left out
/// (`use crate::{a::X, b}` counts `a` and `b`).
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default()
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let word = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find("};").unwrap_or(group.len())];
            for item in group.split(',') {
                let name = word(item.trim_start());
                if !name.is_empty() && item.trim_start()[name.len()..].starts_with("::")
                    || name.len() == item.trim().len()
                {
                    found.insert(name);
                }
            }
        } else {
            found.insert(word(rest));
        }
    }
    found.retain(|name| !name.is_empty() && name != "self");
    found
}

/// The graph's circles: its strongly connected parts of two or more modules, each sorted.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    let reaches = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(module) = stack.pop() {
            for next in graph.get(&module).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> = graph
        .keys()
        .map(|module| (module, reaches(module)))
        .collect();
    let mut found = BTreeSet::new();
    for (module, reached) in &reach {
        let circle: Vec<String> = reached
            .iter()
            .filter(|other| reach.get(other).is_some_and(|back| back.contains(*module)))
            .cloned()
            .collect();
        if circle.len() > 1 {
            found.insert(circle);
        }
    }
    found
}

#[test]
fn no_import_circle_between_top_level_modules_but_the_known_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = circles(&imports(&src));
    let known: BTreeSet<Vec<String>> = KNOWN_CIRCLES
        .iter()
        .map(|circle| circle.iter().map(|m| (*m).to_owned()).collect())
        .collect();
    assert_eq!(
        found, known,
        "import circles between top-level modules changed (a new one, or a known one \
         broken: then shorten KNOWN_CIRCLES)"
    );
}

#[test]
fn only_the_command_line_and_demo_mode_name_the_simulators() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let users: BTreeSet<String> = imports(&src)
        .into_iter()
        .filter(|(_, named)| named.contains("sandbox"))
        .map(|(module, _)| module)
        .collect();
    let allowed: BTreeSet<String> = SIMULATOR_USERS.iter().map(|m| (*m).to_owned()).collect();
    assert!(
        users.is_subset(&allowed),
        "modules naming the simulators: {users:?}; only {allowed:?} may"
    );
    // Nor around the re-export, by the simulators crate's own name.
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path != src.join("lib.rs") && path != src.join("layering.rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                assert!(
                    !text.contains("conversation_gateway_simulators"),
                    "{} names the simulators crate",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn a_circle_is_found_where_two_modules_name_each_other() {
    let text = "use crate::{b::X, c};\n// crate::d in a comment\nfn f() { crate::e::g(); }";
    let named: Vec<String> = crate_paths(text).into_iter().collect();
    assert_eq!(named, ["b", "c", "e"]);
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        (
            "b".to_owned(),
            BTreeSet::from(["a".to_owned(), "c".to_owned()]),
        ),
        ("c".to_owned(), BTreeSet::new()),
    ]);
    let found: Vec<Vec<String>> = circles(&graph).into_iter().collect();
    assert_eq!(found, [vec!["a".to_owned(), "b".to_owned()]]);
}
