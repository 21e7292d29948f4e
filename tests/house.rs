//! The house keeps its shape: which room (folder) of `src/` may import
//! which, and no two files that import each other, directly or around a
//! circle. The rules are the ones README.md (Architecture) lists; this test
//! reads the imports of every file under `src/` (`crate::…`, `super::…`
//! and the names they bind) and fails on a forbidden arrow, a circle of
//! files or a circle of rooms, naming the files and the import.
//!
//! Test code is not the house: `tests.rs` files and what follows a
//! `#[cfg(test)]` module are left out (a test may use whatever it checks
//! against).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

/// The rooms: a module path's first part, and where it stands.
fn room(module: &[String]) -> &'static str {
    match module.first().map(String::as_str) {
        None => "lib",
        Some("docs") => "docs",
        Some("cli") => "cli",
        Some("error") => "error",
        Some("stream") => "stream",
        Some("model") => "model",
        Some("rules") => "rules",
        Some("plan") => "plan",
        Some("report") => "report",
        Some("condition") => "condition",
        Some("snap") => "snap",
        Some("sources") => "sources",
        Some("bus") => "bus",
        Some("watch") => "watch",
        Some("whatif") => "whatif",
        Some("web") => "web",
        Some("cmd") => "cmd",
        Some(other) => panic!("src/{other}: a room the house rules do not know; add it to tests/house.rs and README.md"),
    }
}

/// The rooms that may only use the ones listed (besides themselves).
const ONLY: &[(&str, &[&str], &str)] = &[
    ("error", &[], "the error type is the ground"),
    (
        "model",
        &["error"],
        "the model imports nothing of ours but error",
    ),
    (
        "stream",
        &["error"],
        "the codec knows no domain and no storage",
    ),
    (
        "plan",
        &["model", "stream", "error"],
        "the engine takes the model and gives results: it imports model, stream and error only",
    ),
];

/// Arrows that must never be: (from, to, why).
const NEVER: &[(&str, &str, &str)] = &[
    ("rules", "plan", "the rules know the model, not the engine"),
    ("rules", "snap", "reading knows no storing"),
    ("snap", "bus", "the store does not know who announces it"),
    ("snap", "plan", "the store knows no plan"),
    ("snap", "whatif", "the store knows no scenarios"),
    ("snap", "report", "the store does not know who shows it"),
    ("report", "web", "a report does not know the page"),
    ("report", "whatif", "a report knows results, not scenarios"),
    ("whatif", "web", "scenarios do not know the page"),
    ("sources", "snap", "pulling and storing meet only in a pipe"),
    ("watch", "plan", "qwatch runs commands, it knows no plan"),
    (
        "condition",
        "plan",
        "the gate checks with the rule book, not the engine",
    ),
];

/// One source file: its path, module path and code without comments and
/// tests.
struct File {
    path: String,
    module: Vec<String>,
    code: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under src/ (`None` for the binaries, which
/// are crates of their own, and for test files).
fn module_of(rel: &Path) -> Option<Vec<String>> {
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().map(String::as_str) == Some("bin") {
        return None;
    }
    let last = parts.last()?.strip_suffix(".rs")?.to_owned();
    if last == "tests" {
        return None;
    }
    let mut m = parts[..parts.len() - 1].to_vec();
    if last != "mod" && last != "lib" {
        m.push(last);
    }
    Some(m)
}

/// The code of a file without comments and without its test module.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            if let Some(next) = lines.peek() {
                if next.trim_start().starts_with("mod ") {
                    // `mod tests;` in another file, or `mod tests { … }` to
                    // the end of the file (the house style puts it last).
                    if next.trim_end().ends_with('{') {
                        break;
                    }
                    lines.next();
                    continue;
                }
            }
        }
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn ident_at(s: &[u8], i: usize) -> Option<(String, usize)> {
    let start = i;
    let mut j = i;
    while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
        j += 1;
    }
    (j > start).then(|| (String::from_utf8_lossy(&s[start..j]).into_owned(), j))
}

/// The paths written from byte `i` on (`a::b::{c, d::e}` is three), each
/// as its segments; and where the path ends.
fn paths_at(s: &[u8], mut i: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix;
    loop {
        if s[i..].starts_with(b"{") {
            i += 1;
            loop {
                while i < s.len() && (s[i] as char).is_whitespace() {
                    i += 1;
                }
                if i >= s.len() || s[i] == b'}' {
                    return i + 1;
                }
                i = paths_at(s, i, path.clone(), out);
                while i < s.len() && (s[i] as char).is_whitespace() {
                    i += 1;
                }
                if i < s.len() && s[i] == b',' {
                    i += 1;
                }
            }
        }
        match ident_at(s, i) {
            Some((id, j)) => {
                path.push(id);
                i = j;
                if s[i..].starts_with(b"::") {
                    i += 2;
                    continue;
                }
                // `x as y`: the alias is of no matter for where it points.
                if s[i..].starts_with(b" as ") {
                    if let Some((_, k)) = ident_at(s, i + 4) {
                        i = k;
                    }
                }
                out.push(path);
                return i;
            }
            None => {
                // `*` or nothing: the path so far.
                if i < s.len() && s[i] == b'*' {
                    i += 1;
                }
                out.push(path);
                return i;
            }
        }
    }
}

/// Where a path written in module `from` points: the longest prefix that is
/// a module of the crate, resolved from `crate::`, `super::`, `self::` or a
/// name bound by a `use` in the file (`aliases`).
fn resolve(
    from: &[String],
    path: &[String],
    modules: &BTreeMap<Vec<String>, String>,
    aliases: &HashMap<String, Vec<String>>,
) -> Option<(Vec<String>, usize)> {
    let mut base: Vec<String>;
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &rest[1..];
        }
        Some("self") => {
            base = from.to_vec();
            rest = &rest[1..];
        }
        Some("super") => {
            base = from.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(name) => {
            base = aliases.get(name)?.clone();
            rest = &rest[1..];
        }
        None => return None,
    }
    let mut used = path.len() - rest.len();
    let mut best = modules.contains_key(&base).then(|| (base.clone(), used));
    for seg in rest {
        base.push(seg.clone());
        used += 1;
        if modules.contains_key(&base) {
            best = Some((base.clone(), used));
        } else {
            break;
        }
    }
    best
}

/// For each file, the files it imports, each with the line that does.
type Edges = BTreeMap<String, BTreeSet<(String, String)>>;

/// The paths a file writes, each with its line.
type Written = Vec<(Vec<String>, String)>;

/// What a `mod.rs` hands on: (its module, a name) -> the path it names.
type Reexports = HashMap<(Vec<String>, String), Vec<String>>;

/// [`resolve`], then through the `pub use` of a `mod.rs` to the file that
/// defines the name (`crate::model::Calendar` is `model/calendar.rs`).
fn target(
    from: &[String],
    path: &[String],
    modules: &BTreeMap<Vec<String>, String>,
    aliases: &HashMap<Vec<String>, HashMap<String, Vec<String>>>,
    reexports: &Reexports,
    depth: usize,
) -> Option<Vec<String>> {
    let (m, used) = resolve(from, path, modules, aliases.get(from)?)?;
    if depth < 8 {
        if let Some(name) = path.get(used) {
            if let Some(to) = reexports.get(&(m.clone(), name.clone())) {
                let mut p = to.clone();
                p.extend(path[used + 1..].iter().cloned());
                if let Some(t) = target(&m, &p, modules, aliases, reexports, depth + 1) {
                    return Some(t);
                }
            }
        }
    }
    Some(m)
}

/// Every file each file imports: a name taken from a `mod.rs` that only
/// hands it on (`pub use`) is an import of the file that defines it; the
/// `pub use` itself and the declarations of submodules are not imports.
fn graph() -> (Vec<File>, Edges) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    let mut files = Vec::new();
    for p in paths {
        let rel = p.strip_prefix(&root).unwrap();
        let Some(module) = module_of(rel) else {
            continue;
        };
        files.push(File {
            path: format!("src/{}", rel.display()),
            module,
            code: code_of(&fs::read_to_string(&p).unwrap()),
        });
    }
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|f| (f.module.clone(), f.path.clone()))
        .collect();
    let mut all_aliases: HashMap<Vec<String>, HashMap<String, Vec<String>>> = HashMap::new();
    let mut reexports: Reexports = HashMap::new();
    let mut all_written: Vec<(&File, Written)> = Vec::new();
    for f in &files {
        let facade = f.path.ends_with("mod.rs") || f.path == "src/lib.rs";
        let s = f.code.as_bytes();
        // Names bound to modules: `mod x;` and `use …::x;` (or `x::{self}`).
        let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
        for line in f.code.lines() {
            let t = line.trim_start();
            let t = t
                .strip_prefix("pub ")
                .or_else(|| t.strip_prefix("pub(crate) "))
                .unwrap_or(t);
            if let Some(name) = t.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                let mut m = f.module.clone();
                m.push(name.trim().to_owned());
                aliases.insert(name.trim().to_owned(), m);
            }
        }
        let mut written: Written = Vec::new();
        let mut i = 0;
        while i < s.len() {
            let at_word = i == 0
                || !(s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_' || s[i - 1] == b':');
            let start = ["crate::", "super::", "self::"]
                .iter()
                .find(|k| at_word && s[i..].starts_with(k.as_bytes()));
            if let Some(k) = start {
                let line_start = f.code[..i].rfind('\n').map_or(0, |p| p + 1);
                let line = f.code[line_start..]
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start();
                let is_use = line.starts_with("use ")
                    || line.starts_with("pub use ")
                    || line.starts_with("pub(crate) use ");
                let reexport = facade && line.starts_with("pub use ");
                let mut found = Vec::new();
                let head = k.trim_end_matches("::").to_owned();
                let end = paths_at(s, i + k.len(), vec![head], &mut found);
                for mut p in found {
                    if p.last().map(String::as_str) == Some("self") {
                        p.pop();
                    }
                    if is_use {
                        if let Some((m, _)) = resolve(&f.module, &p, &modules, &aliases) {
                            if m.last() == p.last() && p.len() > 1 {
                                aliases.insert(p.last().unwrap().clone(), m.clone());
                            }
                        }
                    }
                    if reexport {
                        let name = p.last().unwrap().clone();
                        reexports.insert((f.module.clone(), name), p);
                    } else {
                        written.push((p, line.to_owned()));
                    }
                }
                i = end.max(i + 1);
            } else {
                i += 1;
            }
        }
        // Names bound by `use` then written as `name::…`.
        let mut i = 0;
        while i < s.len() {
            let at_word = i == 0
                || !(s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_' || s[i - 1] == b':');
            if at_word {
                if let Some((id, j)) = ident_at(s, i) {
                    if aliases.contains_key(&id) && s[j..].starts_with(b"::") {
                        let mut found = Vec::new();
                        let end = paths_at(s, j + 2, vec![id.clone()], &mut found);
                        let line_start = f.code[..i].rfind('\n').map_or(0, |p| p + 1);
                        let line = f.code[line_start..]
                            .lines()
                            .next()
                            .unwrap_or("")
                            .trim_start()
                            .to_owned();
                        for p in found {
                            if facade && line.starts_with("pub use ") {
                                let name = p.last().unwrap().clone();
                                reexports.insert((f.module.clone(), name), p);
                            } else {
                                written.push((p, line.clone()));
                            }
                        }
                        i = end.max(j);
                        continue;
                    }
                    i = j;
                    continue;
                }
            }
            i += 1;
        }
        all_aliases.insert(f.module.clone(), aliases);
        all_written.push((f, written));
    }
    let mut edges: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for (f, written) in all_written {
        for (p, line) in written {
            let Some(m) = target(&f.module, &p, &modules, &all_aliases, &reexports, 0) else {
                continue;
            };
            // A file's own submodules are part of it; its parent's
            // declarations are not imports.
            if m == f.module || line.starts_with("mod ") || line.starts_with("pub mod ") {
                continue;
            }
            let to = modules[&m].clone();
            if to != f.path {
                edges.entry(f.path.clone()).or_default().insert((to, line));
            }
        }
    }
    (files, edges)
}

fn room_of_path(files: &[File], path: &str) -> &'static str {
    let f = files.iter().find(|f| f.path == path).unwrap();
    room(&f.module)
}

/// The forbidden arrows of the house, as readable lines.
fn forbidden(files: &[File], edges: &BTreeMap<String, BTreeSet<(String, String)>>) -> Vec<String> {
    let mut bad = Vec::new();
    for (from, tos) in edges {
        let a = room_of_path(files, from);
        for (to, line) in tos {
            let b = room_of_path(files, to);
            if a == b {
                continue;
            }
            if b == "cmd" && !matches!(a, "docs" | "lib") {
                bad.push(format!(
                    "{from} -> {to} ({line}): a library never calls a command"
                ));
            }
            if let Some((_, ok, why)) = ONLY.iter().find(|(r, _, _)| *r == a) {
                if !ok.contains(&b) {
                    bad.push(format!("{from} -> {to} ({line}): {why}"));
                }
            }
            if let Some((_, _, why)) = NEVER.iter().find(|(x, y, _)| *x == a && *y == b) {
                bad.push(format!("{from} -> {to} ({line}): {why}"));
            }
        }
    }
    bad
}

/// The circles of files: each strongly connected set of more than one
/// file (Tarjan), with the arrows inside it.
fn circles(edges: &BTreeMap<String, BTreeSet<(String, String)>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<(String, String)>>,
        index: HashMap<&'a str, usize>,
        low: HashMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        if let Some(tos) = t.edges.get(v) {
            for (w, _) in tos {
                let w = w.as_str();
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let l = t.low[w].min(t.low[v]);
                    t.low.insert(v, l);
                } else if t.on.contains(w) {
                    let l = t.index[w].min(t.low[v]);
                    t.low.insert(v, l);
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut set = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                set.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if set.len() > 1 {
                set.sort();
                t.out.push(set);
            }
        }
    }
    let mut t = T {
        edges,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_room_imports_what_it_must_not() {
    let (files, edges) = graph();
    let bad = forbidden(&files, &edges);
    assert!(
        bad.is_empty(),
        "forbidden imports (see README.md, Architecture):\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn no_files_import_each_other_around_a_circle() {
    let (_, edges) = graph();
    let found = circles(&edges);
    let mut told = Vec::new();
    for set in &found {
        let mut lines = vec![format!("circle of {} files:", set.len())];
        for a in set {
            for (b, line) in edges.get(a).into_iter().flatten() {
                if set.contains(b) {
                    lines.push(format!("    {a} -> {b}: {line}"));
                }
            }
        }
        told.push(lines.join("\n"));
    }
    assert!(found.is_empty(), "{}", told.join("\n"));
}

/// The rooms stand on floors: no room uses one that uses it back, even
/// through other rooms and without a circle of files (`report` reads the
/// store, so the store may not call the report's code).
#[test]
fn no_rooms_use_each_other_around_a_circle() {
    let (files, edges) = graph();
    let mut rooms: Edges = BTreeMap::new();
    for (from, tos) in &edges {
        let a = room_of_path(&files, from);
        for (to, line) in tos {
            let b = room_of_path(&files, to);
            if a != b {
                rooms
                    .entry(a.to_owned())
                    .or_default()
                    .insert((b.to_owned(), format!("{from} -> {to}: {line}")));
            }
        }
    }
    let found = circles(&rooms);
    let mut told = Vec::new();
    for set in &found {
        let mut lines = vec![format!("rooms around a circle: {}", set.join(", "))];
        for a in set {
            for (b, why) in rooms.get(a).into_iter().flatten() {
                if set.contains(b) {
                    lines.push(format!("    {a} -> {b}: {why}"));
                }
            }
        }
        told.push(lines.join("\n"));
    }
    assert!(found.is_empty(), "{}", told.join("\n"));
}

/// The reading itself: the arrows it must find in the code as it is (were
/// the reader blind, the two tests above would pass on anything).
#[test]
fn the_reader_sees_the_arrows_that_are_there() {
    let (_, edges) = graph();
    let has = |a: &str, b: &str| {
        edges
            .get(a)
            .is_some_and(|t| t.iter().any(|(to, _)| to == b))
    };
    // `use crate::model::{…}` in a group, through the `pub use` of
    // model/mod.rs to the files that define the names.
    assert!(has("src/plan/engine.rs", "src/model/calendar.rs"));
    assert!(has("src/plan/engine.rs", "src/model/amount.rs"));
    // `use super::results::…` beside it.
    assert!(has("src/plan/engine.rs", "src/plan/results.rs"));
    // A name bound by `use super::{grid, …}` and called as `grid::staff`.
    assert!(has("src/condition/extract.rs", "src/condition/grid.rs"));
    // A path written in the code, not in a `use`.
    assert!(has("src/bus/server.rs", "src/snap/get.rs"));
    // The reader finds a planted circle and a planted forbidden arrow.
    let mut planted = edges.clone();
    let planted_line = "use crate::plan::engine;".to_owned();
    planted
        .entry("src/model/calendar.rs".into())
        .or_default()
        .insert(("src/plan/engine.rs".into(), planted_line));
    assert!(circles(&planted).iter().any(|c| {
        c.contains(&"src/model/calendar.rs".to_owned())
            && c.contains(&"src/plan/engine.rs".to_owned())
    }));
    let (files, _) = graph();
    assert!(forbidden(&files, &planted)
        .iter()
        .any(|l| l.starts_with("src/model/calendar.rs -> src/plan/engine.rs")));
}
