//! Completion in the editor: the word before the cursor, and what could finish it (the
//! selected source's tables and columns from the schema pane, SQL keywords and functions),
//! best matches first. The popup stays open while typing goes on, narrowing as it goes.

use crate::core::sanitize::for_terminal;
use crate::tui::action::Motion;
use crate::tui::fuzzy::{self, Rank};
use crate::tui::highlight::{FUNCTIONS, KEYWORDS};

use super::move_in_list;
use super::schema::SchemaTree;

/// The popup never lists more than this; typing narrows further.
const MAX_ITEMS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Column,
    Table,
    Keyword,
    Function,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Column => "column",
            Kind::Table => "table",
            Kind::Keyword => "keyword",
            Kind::Function => "function",
        }
    }
}

/// One thing the popup offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What goes into the SQL (a name quoted when it must be).
    pub insert: String,
    /// What the popup shows (safe for the terminal).
    pub label: String,
    pub kind: Kind,
    /// A column's type and table; empty otherwise.
    pub detail: String,
}

/// The open popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The line and the character where the word being completed starts.
    pub row: usize,
    pub start: usize,
    pub prefix: String,
    pub items: Vec<Candidate>,
    pub selected: usize,
}

/// The word (letters, digits, `_`) that ends at character `col` of `line`: where it starts,
/// and its text.
pub fn word_before(line: &str, col: usize) -> (usize, String) {
    let chars: Vec<char> = line.chars().take(col).collect();
    let start = chars
        .iter()
        .rposition(|c| !(c.is_alphanumeric() || *c == '_'))
        .map_or(0, |i| i + 1);
    (start, chars[start..].iter().collect())
}

/// How a candidate sorts: the match, then kind, length and name.
type Ranked = (Rank, (Kind, usize, String));

/// Every candidate for `prefix`, best first: prefix matches before others, then columns,
/// tables, keywords, functions; shorter names first.
pub fn candidates(prefix: &str, tree: Option<&SchemaTree>) -> Vec<Candidate> {
    let mut all: Vec<Candidate> = Vec::new();
    if let Some(tree) = tree {
        let many_tables = tree.tables.len() > 1;
        for t in &tree.tables {
            all.push(Candidate {
                insert: t.sql.clone(),
                label: t.label.clone(),
                kind: Kind::Table,
                detail: t.kind.clone(),
            });
            for c in &t.columns {
                let detail = if many_tables {
                    format!("{} · {}", c.type_label, t.label)
                } else {
                    c.type_label.clone()
                };
                all.push(Candidate {
                    insert: c.sql.clone(),
                    label: c.label.clone(),
                    kind: Kind::Column,
                    detail,
                });
            }
        }
    }
    // Keywords follow the case of what was typed: `sel` becomes `select`.
    let lower = !prefix.is_empty() && prefix.chars().all(|c| !c.is_uppercase());
    for k in KEYWORDS {
        let word = if lower {
            k.to_ascii_lowercase()
        } else {
            (*k).to_string()
        };
        all.push(Candidate {
            insert: word.clone(),
            label: word,
            kind: Kind::Keyword,
            detail: String::new(),
        });
    }
    for f in FUNCTIONS {
        all.push(Candidate {
            insert: format!("{f}("),
            label: format!("{f}()"),
            kind: Kind::Function,
            detail: String::new(),
        });
    }
    let mut ranked: Vec<(Ranked, Candidate)> = all
        .into_iter()
        .filter_map(|c| {
            let r = fuzzy::rank(prefix, &c.label)?;
            Some(((r, (c.kind, c.label.chars().count(), c.label.clone())), c))
        })
        .collect();
    ranked.sort_by(|a, b| fuzzy::by_rank(&a.0, &b.0));
    let mut out: Vec<Candidate> = Vec::new();
    for (_, c) in ranked {
        // A column in several tables is offered once.
        if out.iter().any(|o| o.insert == c.insert && o.kind == c.kind) {
            continue;
        }
        // Nothing to offer for a word that is already complete, nor a name the editor would
        // show otherwise than it is (a bidi override, a control character).
        if c.insert == prefix || for_terminal(&c.insert) != c.insert.as_str() {
            continue;
        }
        out.push(c);
        if out.len() == MAX_ITEMS {
            break;
        }
    }
    out
}

impl Completion {
    /// The popup for the word before the cursor, if anything can finish it.
    pub fn open(
        lines: &[String],
        (row, col): (usize, usize),
        tree: Option<&SchemaTree>,
    ) -> Option<Completion> {
        let line = lines.get(row)?;
        let (start, prefix) = word_before(line, col);
        let items = candidates(&prefix, tree);
        (!items.is_empty()).then_some(Completion {
            row,
            start,
            prefix,
            items,
            selected: 0,
        })
    }

    pub fn selected(&self) -> Option<&Candidate> {
        self.items.get(self.selected)
    }

    pub fn move_cursor(&mut self, motion: Motion, page: usize) {
        self.selected = move_in_list(self.selected, self.items.len(), motion, page);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::schema::{ColumnNode, TableNode};

    fn tree() -> SchemaTree {
        let col = |n: &str, sql: &str| ColumnNode {
            label: n.into(),
            type_label: "TEXT".into(),
            marks: String::new(),
            comment: None,
            sql: sql.into(),
        };
        SchemaTree {
            tables: vec![TableNode {
                label: "data".into(),
                kind: String::new(),
                sql: "data".into(),
                columns: vec![
                    col("customer", "customer"),
                    col("Customer Name", "\"Customer Name\""),
                    col("total", "total"),
                ],
                expanded: true,
            }],
            cursor: 0,
            offset: 0,
        }
    }

    #[test]
    fn the_word_before_the_cursor() {
        assert_eq!(word_before("SELECT cus", 10), (7, "cus".into()));
        assert_eq!(word_before("SELECT t.cu FROM", 11), (9, "cu".into()));
        assert_eq!(word_before("SELECT ", 7), (7, String::new()));
        assert_eq!(word_before("山田x", 3), (0, "山田x".into()));
    }

    #[test]
    fn columns_first_then_keywords_then_scattered() {
        let got: Vec<(String, Kind)> = candidates("cu", Some(&tree()))
            .into_iter()
            .map(|c| (c.insert, c.kind))
            .take(4)
            .collect();
        assert_eq!(
            got,
            [
                ("customer".into(), Kind::Column),
                ("\"Customer Name\"".into(), Kind::Column),
                ("current_date".into(), Kind::Keyword),
                ("current_timestamp".into(), Kind::Keyword),
            ]
        );
        let sel: Vec<String> = candidates("sel", None)
            .into_iter()
            .map(|c| c.insert)
            .collect();
        assert_eq!(sel[0], "select", "lower case follows the typing");
        assert_eq!(candidates("SEL", None)[0].insert, "SELECT");
        let fuzzy: Vec<String> = candidates("ttl", Some(&tree()))
            .into_iter()
            .map(|c| c.insert)
            .collect();
        assert_eq!(fuzzy[0], "total");
    }

    #[test]
    fn names_the_editor_could_not_show_as_they_are_are_not_offered() {
        let mut t = tree();
        t.tables[0].columns.push(ColumnNode {
            label: "cu<U+202E>x".into(),
            type_label: "TEXT".into(),
            marks: String::new(),
            comment: None,
            sql: "\"cu\u{202e}x\"".into(),
        });
        assert!(
            candidates("cu", Some(&t))
                .iter()
                .all(|c| !c.insert.contains('\u{202e}'))
        );
    }

    #[test]
    fn a_complete_word_offers_nothing_more_of_itself() {
        let c = candidates("total", Some(&tree()));
        assert!(c.iter().all(|c| c.insert != "total"));
    }
}
