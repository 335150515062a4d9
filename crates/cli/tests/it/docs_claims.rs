//! The documents claim only what exists: every file and every function or type that
//! `docs/rules-to-code.md` names for a clause is in the tree (a rename leaves no stale map).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `oversight/{reconciliation,anomaly}.rs` → both paths.
fn expand(path: &str) -> Vec<String> {
    match (path.find('{'), path.find('}')) {
        (Some(open), Some(close)) if open < close => path[open + 1..close]
            .split(',')
            .map(|part| format!("{}{part}{}", &path[..open], &path[close + 1..]))
            .collect(),
        _ => vec![path.to_string()],
    }
}

/// A path as the map writes it: from the repository's root, or (after the first mention of
/// a crate) relative to some crate's `src/` — `permission/grant.rs`.
fn exists(root: &Path, path: &str) -> bool {
    if let Some(dir) = path.strip_suffix("/*.toml") {
        return root.join(dir).is_dir();
    }
    if root.join(path).exists() {
        return true;
    }
    std::fs::read_dir(root.join("crates")).unwrap().any(|c| {
        let c = c.unwrap().path();
        c.join("src").join(path).exists() || c.join(path).exists()
    })
}

#[test]
fn rules_to_code_names_only_files_and_items_that_exist() {
    let root = root();
    let map = std::fs::read_to_string(root.join("docs/rules-to-code.md")).unwrap();
    let mut files = Vec::new();
    sources(&root.join("crates"), &mut files);
    let code: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let word = |w: &str| {
        code.match_indices(w).any(|(i, _)| {
            let before = code[..i].chars().next_back();
            let after = code[i + w.len()..].chars().next();
            let edge = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            edge(before) && edge(after)
        })
    };
    let mut missing = Vec::new();
    let mut checked = (0, 0);
    for quoted in map.split('`').skip(1).step_by(2) {
        let is_path = quoted.contains('/')
            && !quoted.contains(' ')
            && !quoted.starts_with('/')
            && (quoted.contains('.') || quoted.ends_with('/'));
        let is_item = quoted.chars().next().is_some_and(char::is_alphabetic)
            && quoted
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == ':');
        if is_path {
            for path in expand(quoted) {
                checked.0 += 1;
                if !exists(&root, &path) {
                    missing.push(format!("file {path}"));
                }
            }
        } else if is_item {
            for part in quoted.split("::").filter(|p| !p.is_empty()) {
                checked.1 += 1;
                if !word(part) {
                    missing.push(format!("item {part}"));
                }
            }
        }
    }
    // The map names dozens of each: a parse that finds none proves nothing.
    assert!(checked.0 >= 40 && checked.1 >= 40, "{checked:?}");
    assert!(
        missing.is_empty(),
        "docs/rules-to-code.md names {missing:?}"
    );
}
