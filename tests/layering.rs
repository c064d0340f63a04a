//! The arrows between modules (STYLE.md, "Arrows point one way"), checked over the source
//! itself: every `crate::`, `super::` and `self::` path a file names is resolved to the module
//! it reaches, and every external crate path is looked at, so an import that points the
//! wrong way fails here instead of in a review. Comments and string literals are skipped.

use std::path::{Path, PathBuf};

/// Where a rule applies (a module and everything under it, but `except` and their insides,
/// and the module itself only unless `below_only`) and what it may not reach: a module of
/// the crate (`connector`, `tui::ui`) or an external crate (`tokio`).
struct Rule {
    module: &'static [&'static str],
    below_only: bool,
    except: &'static [&'static str],
    internal: Forbidden,
    external: &'static [&'static str],
    why: &'static str,
}

enum Forbidden {
    /// These modules of the crate (`backend`, `tui::ui`) and everything in them.
    These(&'static [&'static str]),
    /// Every top-level module of the crate but the rule's own.
    AllButOwn,
}

/// The engines, the async runtime and the terminal: what `core` must stay free of so it can
/// be used and tested as plain functions.
const RUNTIME_AND_IO_CRATES: &[&str] = &[
    "tokio",
    "tokio_util",
    "tokio_postgres",
    "tokio_postgres_rustls",
    "deadpool_postgres",
    "rusqlite",
    "ratatui",
    "ratatui_textarea",
    "crossterm",
    "arboard",
];

const RULES: &[Rule] = &[
    Rule {
        module: &["core"],
        below_only: false,
        except: &[],
        internal: Forbidden::AllButOwn,
        external: RUNTIME_AND_IO_CRATES,
        why: "core holds plain types and rules: it imports nothing of the crate above it, \
              and no runtime, engine or terminal",
    },
    Rule {
        module: &["registry"],
        below_only: false,
        except: &[],
        internal: Forbidden::These(&["backend", "cli", "tui", "server", "serve"]),
        external: &[],
        why: "the registry sits under the backend and the front ends",
    },
    Rule {
        module: &["connector"],
        below_only: false,
        except: &[],
        internal: Forbidden::These(&["backend", "cli", "tui", "server", "serve", "registry"]),
        external: &[],
        why: "a connector sits under the backend and gets its secret handed in",
    },
    Rule {
        module: &["audit"],
        below_only: false,
        except: &[],
        internal: Forbidden::These(&["backend", "cli", "tui", "server", "serve"]),
        external: &[],
        why: "the audit log sits under the backend and the front ends",
    },
    Rule {
        module: &["backend"],
        below_only: false,
        except: &[],
        internal: Forbidden::These(&["cli", "tui", "server", "serve"]),
        external: &[],
        why: "the backend serves the front ends and knows none of them",
    },
    Rule {
        module: &["cli"],
        below_only: false,
        except: &[],
        internal: Forbidden::These(&["tui", "server", "serve"]),
        external: &[],
        why: "the command line does not call into the terminal UI: main.rs hands it the UI",
    },
    Rule {
        module: &["tui", "ui"],
        below_only: false,
        except: &[],
        internal: Forbidden::These(&[
            "connector",
            "backend",
            "registry",
            "audit",
            "clipboard",
            "file_export",
            "home",
            "cli",
        ]),
        external: &["tokio", "tokio_util"],
        why: "drawing is a pure function of the app's state",
    },
    Rule {
        module: &["tui"],
        below_only: true,
        except: &["tui::ui"],
        internal: Forbidden::These(&["tui::ui"]),
        external: &[],
        why: "the app's state and keys know nothing of the drawing; only the loop in \
              tui/mod.rs hands the state to tui::ui",
    },
];

/// The source with comments removed and string and character literals blanked, newlines
/// kept so line numbers still match.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"') | Some('#')) && starts_word(&chars, i) {
            // A raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some(&ch) => out.push(blank(ch)),
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    out.push(blank(ch));
                }
                i += 1;
            }
            out.push_str("\"\"");
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\''), else a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether `chars[i]` begins a token: `r` of `r"…"` or of `br"…"`, not of `for"`.
fn starts_word(chars: &[char], i: usize) -> bool {
    let free = |at: usize| at == 0 || !is_ident(chars[at - 1]);
    free(i) || (chars[i - 1] == 'b' && free(i - 1))
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A path a file names: its segments as written and the line it starts on.
#[derive(Debug)]
struct Named {
    segments: Vec<String>,
    line: usize,
    /// The module the path is written in (inline `mod x { … }` blocks included).
    within: Vec<String>,
}

/// Every path of the code, with `use` trees (`a::{b, c::d}`) expanded into one per leaf.
fn paths(code: &str, file_module: &[String]) -> Vec<Named> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    // Inline modules: (name, brace depth inside them).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut pending_mod: Option<String> = None;
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '{' => {
                depth += 1;
                if let Some(name) = pending_mod.take() {
                    inline.push((name, depth));
                }
                i += 1;
            }
            '}' => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            ';' => {
                pending_mod = None;
                i += 1;
            }
            c if is_ident(c) && (i == 0 || !is_ident(chars[i - 1])) => {
                let preceded_by_path = i >= 2 && chars[i - 1] == ':' && chars[i - 2] == ':' && {
                    // `::tokio::…` (a leading `::`) starts a path; `a::b` does not start at b.
                    let before = chars[..i - 2].iter().rev().find(|c| !c.is_whitespace());
                    let k = i
                        - 2
                        - chars[..i - 2]
                            .iter()
                            .rev()
                            .take_while(|c| c.is_whitespace())
                            .count();
                    before.is_some_and(|&b| {
                        is_ident(b) || (b == '>' && k >= 2 && chars[k - 2] != '-')
                    })
                };
                let mut within = file_module.to_vec();
                within.extend(inline.iter().map(|(n, _)| n.clone()));
                let start_line = line;
                let (trees, end) = tree(&chars, i, &mut line);
                let word: String = chars[i..].iter().take_while(|c| is_ident(**c)).collect();
                if word == "mod" {
                    let name: String = chars[i + 3..]
                        .iter()
                        .skip_while(|c| c.is_whitespace())
                        .take_while(|c| is_ident(**c))
                        .collect();
                    pending_mod = Some(name);
                }
                if !preceded_by_path {
                    for segments in trees {
                        found.push(Named {
                            segments,
                            line: start_line,
                            within: within.clone(),
                        });
                    }
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    found
}

/// The path starting at `i` (`a::b::{c, d::e}`), as one segment list per leaf, and where
/// it ends. Counts the newlines it crosses.
fn tree(chars: &[char], mut i: usize, line: &mut usize) -> (Vec<Vec<String>>, usize) {
    let mut segments = Vec::new();
    loop {
        let start = i;
        while i < chars.len() && (is_ident(chars[i]) || chars[i] == '*') {
            i += 1;
        }
        segments.push(chars[start..i].iter().collect::<String>());
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if !(chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':')) {
            return (vec![segments], i);
        }
        j += 2;
        while j < chars.len() && chars[j].is_whitespace() {
            if chars[j] == '\n' {
                *line += 1;
            }
            j += 1;
        }
        match chars.get(j) {
            Some('{') => {
                let mut leaves = Vec::new();
                j += 1;
                loop {
                    while j < chars.len() && (chars[j].is_whitespace() || chars[j] == ',') {
                        if chars[j] == '\n' {
                            *line += 1;
                        }
                        j += 1;
                    }
                    match chars.get(j) {
                        None => return (leaves, j),
                        Some('}') => return (leaves, j + 1),
                        Some(&c) if is_ident(c) || c == '*' => {
                            let (inner, end) = tree(chars, j, line);
                            for leaf in inner {
                                let mut full = segments.clone();
                                full.extend(leaf);
                                leaves.push(full);
                            }
                            j = end;
                            // `x as y`: the alias names nothing new.
                            while j < chars.len() && !matches!(chars[j], ',' | '}') {
                                if chars[j] == '\n' {
                                    *line += 1;
                                }
                                j += 1;
                            }
                        }
                        Some(_) => j += 1,
                    }
                }
            }
            Some(&c) if is_ident(c) || c == '*' => i = j,
            // `Vec::<u8>::new`, `f::<T>()`: the path goes on past generics we need not read.
            _ => return (vec![segments], i),
        }
    }
}

/// What a path reaches: `Some(module path from the crate root)` for `crate`, `super` and
/// `self` paths, `None` for anything else (an external crate, a local name).
fn resolve(named: &Named) -> Option<Vec<String>> {
    let mut segs = named.segments.iter();
    let mut at: Vec<String> = match segs.next()?.as_str() {
        "crate" => Vec::new(),
        "self" => named.within.clone(),
        "super" => {
            let mut m = named.within.clone();
            m.pop()?;
            m
        }
        _ => return None,
    };
    let mut rest = segs.peekable();
    while rest.peek().is_some_and(|s| *s == "super") {
        rest.next();
        at.pop()?;
    }
    at.extend(rest.cloned());
    Some(at)
}

/// The module a file under `src/` is: `src/tui/ui/mod.rs` is `tui::ui`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if !matches!(stem, "mod" | "lib" | "main") {
            parts.push(stem.to_string());
        }
    }
    parts
}

/// Every arrow of `text` (a file at `relative`, under `src/`) that breaks a rule, as
/// `file:line: reaches X (why)`. `top` are the crate's top-level modules.
fn violations(relative: &Path, text: &str, top: &[String]) -> Vec<String> {
    let module = module_of(relative);
    let code = code_only(text);
    let mut out = Vec::new();
    for named in paths(&code, &module) {
        for rule in RULES.iter().filter(|r| applies(r, &module)) {
            let bad = match resolve(&named) {
                Some(target) => match rule.internal {
                    Forbidden::These(list) => list.iter().any(|m| is_in(&target, m)),
                    Forbidden::AllButOwn => target
                        .first()
                        .is_some_and(|first| top.contains(first) && first != rule.module[0]),
                },
                None => {
                    named.segments.len() > 1 && rule.external.contains(&named.segments[0].as_str())
                }
            };
            if bad {
                out.push(format!(
                    "{}:{}: names `{}` ({})",
                    relative.display(),
                    named.line,
                    named.segments.join("::"),
                    rule.why
                ));
            }
        }
    }
    out
}

/// Whether the module path `path` is `module` (`tui::ui`) or inside it.
fn is_in(path: &[String], module: &str) -> bool {
    let module: Vec<&str> = module.split("::").collect();
    path.len() >= module.len() && path.iter().zip(&module).all(|(a, b)| a == b)
}

fn applies(rule: &Rule, module: &[String]) -> bool {
    is_in(module, &rule.module.join("::"))
        && !(rule.below_only && module.len() == rule.module.len())
        && !rule.except.iter().any(|e| is_in(module, e))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The crate's top-level modules, from `pub mod x;` / `mod x;` lines of lib.rs.
fn top_modules() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let modules: Vec<String> = code_only(&lib)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(|m| m.trim().to_string())
        })
        .collect();
    assert!(modules.contains(&"core".to_string()), "lib.rs: {modules:?}");
    modules
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_arrow_points_one_way() {
    let top = top_modules();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "found only {} files under src/",
        files.len()
    );
    let mut broken = Vec::new();
    let mut paths_seen = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let relative = file.strip_prefix(src()).unwrap();
        paths_seen += paths(&code_only(&text), &module_of(relative)).len();
        broken.extend(violations(relative, &text, &top));
    }
    assert!(
        paths_seen > 1000,
        "read only {paths_seen} paths: is the scanner broken?"
    );
    assert!(
        broken.is_empty(),
        "imports against the layering:\n{}",
        broken.join("\n")
    );
}

fn top() -> Vec<String> {
    [
        "audit",
        "backend",
        "cli",
        "clipboard",
        "connector",
        "core",
        "registry",
        "tui",
    ]
    .map(String::from)
    .to_vec()
}

fn check(file: &str, text: &str) -> Vec<String> {
    violations(Path::new(file), text, &top())
}

#[test]
fn a_wrong_import_is_caught_in_every_spelling() {
    let caught = [
        ("core/x.rs", "use crate::connector::Progress;"),
        (
            "core/x.rs",
            "use crate::{value::Value, registry::Registry};",
        ),
        (
            "core/x.rs",
            "use crate::{\n    a::b,\n    backend::{protocol::Request, Handle},\n};",
        ),
        ("core/x.rs", "fn f() { tokio::spawn(async {}); }"),
        ("core/x.rs", "use rusqlite::Connection;"),
        ("core/x.rs", "fn f() -> ::ratatui::layout::Rect { todo!() }"),
        ("core/source.rs", "use super::super::audit::AuditLog;"),
        ("core/mod.rs", "pub use crate::tui::app::AppState;"),
        ("cli/mod.rs", "None => crate::tui::run(&ctx.home, None),"),
        (
            "tui/ui/results.rs",
            "fn f(p: &crate::connector::Progress) {}",
        ),
        (
            "tui/ui/results.rs",
            "use super::super::super::backend::Handle;",
        ),
        ("tui/ui/mod.rs", "use crate::backend::protocol::RequestId;"),
        ("tui/ui/mod.rs", "tokio::task::spawn_blocking(f);"),
        ("backend/mod.rs", "use crate::tui::app::AppState;"),
        ("connector/csv/mod.rs", "use crate::registry::Registry;"),
        ("tui/app.rs", "use super::ui::help_rows;"),
        (
            "tui/panes/results.rs",
            "use crate::tui::{action::Motion, ui::theme::Theme};",
        ),
    ];
    for (file, text) in caught {
        assert!(!check(file, text).is_empty(), "{file}: {text:?}");
    }
    let line = check("core/x.rs", "\n\nuse crate::audit::Event;");
    assert!(
        line[0].starts_with("core/x.rs:3: names `crate::audit::Event`"),
        "{line:?}"
    );
}

#[test]
fn what_is_allowed_or_not_code_passes() {
    let fine = [
        (
            "core/x.rs",
            "use crate::core::value::Value;\nuse super::guard;",
        ),
        (
            "core/x.rs",
            "// use crate::connector::Progress;\n/* crate::tui */ fn f() {}",
        ),
        (
            "core/x.rs",
            r#"const S: &str = "crate::registry and tokio::spawn";"#,
        ),
        ("core/x.rs", r##"const S: &str = r#"use crate::tui;"#;"##),
        ("core/x.rs", "let c = '\"'; let d = crate::core::x;"),
        (
            "core/x.rs",
            "fn f<'a>(x: &'a str) -> ratatui_free::X { todo!() }",
        ),
        ("core/x.rs", "mod tests { use super::*; }"),
        (
            "core/sanitize.rs",
            "let w = unicode_width::UnicodeWidthStr::width(s);",
        ),
        (
            "tui/app.rs",
            "use crate::backend::protocol::Request;\nuse super::layout;",
        ),
        (
            "tui/ui/mod.rs",
            "use crate::tui::layout;\nuse crate::core::progress::Progress;",
        ),
        (
            "tui/mod.rs",
            "let b = crate::backend::spawn(home);\nuse ui::render;",
        ),
        (
            "tui/mod.rs",
            "term.draw(|f| crate::tui::ui::render(&app, f))",
        ),
        (
            "tui/ui/results.rs",
            "use crate::tui::ui::layout::inner;\nuse super::fit;",
        ),
        (
            "tui/app.rs",
            "use super::layout;\nuse crate::tui::theme::Theme;",
        ),
        ("cli/query.rs", "use crate::backend::engine::Engine;"),
        (
            "main.rs",
            "std::process::exit(tdb::cli::main(tdb::tui::run, tdb::serve::run));",
        ),
    ];
    for (file, text) in fine {
        assert_eq!(check(file, text), Vec::<String>::new(), "{file}: {text:?}");
    }
}
