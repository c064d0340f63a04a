//! Completion in the editor: the word before the cursor, and what could finish it (the
//! selected source's tables and columns from the schema pane, SQL keywords and functions),
//! best matches first. The popup stays open while typing goes on, narrowing as it goes.

use crate::core::sanitize::for_terminal;
use crate::tui::action::Motion;
use crate::tui::fuzzy::{self, Rank};
use crate::tui::highlight::{FUNCTIONS, KEYWORDS};
use crate::tui::panes::sql_context::{self, Previous, SqlContext};

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
    /// The table a column belongs to (or a table's own label); empty otherwise.
    pub table: String,
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

/// Keywords that usually come right after a keyword (`ORDER` → `BY`).
const FOLLOWS: &[(&str, &[&str])] = &[
    ("ORDER", &["BY"]),
    ("GROUP", &["BY"]),
    ("PARTITION", &["BY"]),
    ("LEFT", &["JOIN", "OUTER"]),
    ("RIGHT", &["JOIN", "OUTER"]),
    ("FULL", &["JOIN", "OUTER"]),
    ("OUTER", &["JOIN"]),
    ("INNER", &["JOIN"]),
    ("CROSS", &["JOIN"]),
    ("NATURAL", &["JOIN"]),
    ("IS", &["NULL", "NOT", "TRUE", "FALSE"]),
    ("NOT", &["NULL", "IN", "EXISTS", "LIKE", "ILIKE", "BETWEEN"]),
    ("UNION", &["ALL", "SELECT"]),
    ("NULLS", &["FIRST", "LAST"]),
    ("WITH", &["RECURSIVE"]),
    ("SELECT", &["DISTINCT"]),
];

/// How a candidate sorts: prefix matches before the rest (fuzzy), then what the place in
/// the statement wants first, then how well it matched, its length and name.
type Ranked = (bool, u8, Rank, usize, String);

/// Where each kind goes for what the cursor follows (smaller first).
fn priority(c: &Candidate, ctx: &SqlContext, used: &[String]) -> u8 {
    let uses = |table: &str| used.iter().any(|u| same_table(u, table));
    match (&ctx.previous, c.kind) {
        _ if ctx.wants_table => match c.kind {
            Kind::Table => 0,
            Kind::Keyword => 1,
            Kind::Column => 2,
            Kind::Function => 3,
        },
        (Previous::Keyword(k), Kind::Keyword)
            if FOLLOWS.iter().any(|(w, next)| {
                w == k && next.iter().any(|n| n.eq_ignore_ascii_case(&c.label))
            }) =>
        {
            0
        }
        (Previous::Nothing | Previous::Value, _) => match c.kind {
            Kind::Keyword => 1,
            Kind::Column if uses(&c.table) => 2,
            Kind::Column => 3,
            Kind::Function => 4,
            Kind::Table => 5,
        },
        (Previous::Keyword(_) | Previous::Separator, _) => match c.kind {
            Kind::Column if uses(&c.table) => 1,
            Kind::Column => 2,
            Kind::Function => 3,
            Kind::Keyword => 4,
            Kind::Table => 5,
        },
    }
}

/// Whether a table written in the SQL (`orders`, `public.orders`, `"Orders"`) is the one
/// the schema pane shows as `label`.
fn same_table(written: &str, label: &str) -> bool {
    let last = |s: &str| s.rsplit('.').next().unwrap_or(s).to_lowercase();
    written.eq_ignore_ascii_case(label) || last(written) == last(label)
}

/// The columns `x.` names: of a CTE or subquery called `x`, or of the table `x` is an
/// alias of, or of the table `x`; `None` when the statement and the schema do not say.
fn columns_of(q: &str, ctx: &SqlContext, tree: Option<&SchemaTree>) -> Option<Vec<Candidate>> {
    let q = q.to_lowercase();
    let target = ctx.aliases.get(&q).cloned().unwrap_or_else(|| q.clone());
    let derived = ctx
        .derived
        .get(&q)
        .or_else(|| ctx.derived.get(&target.to_lowercase()));
    if let Some(cols) = derived.filter(|c| !c.is_empty()) {
        return Some(
            cols.iter()
                .map(|c| Candidate {
                    insert: c.clone(),
                    label: for_terminal(c).into_owned(),
                    kind: Kind::Column,
                    detail: target.clone(),
                    table: target.clone(),
                })
                .collect(),
        );
    }
    let table = tree?
        .tables
        .iter()
        .find(|t| same_table(&target, &t.label))?;
    Some(
        table
            .columns
            .iter()
            .map(|c| Candidate {
                insert: c.sql.clone(),
                label: c.label.clone(),
                kind: Kind::Column,
                detail: c.type_label.clone(),
                table: table.label.clone(),
            })
            .collect(),
    )
}

/// Every candidate for `prefix` at the place `ctx` describes, best first: after `x.` only
/// the columns of `x`; after FROM/JOIN tables (and CTEs) first; after a keyword that
/// another usually follows (`ORDER`), those keywords first; after an expression keywords;
/// else
/// columns (those of the statement's tables first), functions, keywords, tables.
pub fn candidates(prefix: &str, tree: Option<&SchemaTree>, ctx: &SqlContext) -> Vec<Candidate> {
    let mut all: Vec<Candidate> = Vec::new();
    let qualified = ctx
        .qualifier
        .as_deref()
        .and_then(|q| columns_of(q, ctx, tree));
    if let Some(cols) = qualified {
        all = cols;
    } else {
        if let Some(tree) = tree {
            let many_tables = tree.tables.len() > 1;
            for t in &tree.tables {
                all.push(Candidate {
                    insert: t.sql.clone(),
                    label: t.label.clone(),
                    kind: Kind::Table,
                    detail: t.kind.clone(),
                    table: t.label.clone(),
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
                        table: t.label.clone(),
                    });
                }
            }
        }
        // The statement's own CTEs are tables too.
        let mut ctes: Vec<&String> = ctx.derived.keys().collect();
        ctes.sort();
        for name in ctes {
            all.push(Candidate {
                insert: name.clone(),
                label: for_terminal(name).into_owned(),
                kind: Kind::Table,
                detail: "CTE".into(),
                table: name.clone(),
            });
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
                table: String::new(),
            });
        }
        for f in FUNCTIONS {
            all.push(Candidate {
                insert: format!("{f}("),
                label: format!("{f}()"),
                kind: Kind::Function,
                detail: String::new(),
                table: String::new(),
            });
        }
    }
    let used: Vec<String> = ctx
        .tables
        .iter()
        .chain(ctx.aliases.values())
        .cloned()
        .collect();
    let mut ranked: Vec<(Ranked, Candidate)> = all
        .into_iter()
        .filter_map(|c| {
            let r = fuzzy::rank(prefix, &c.label)?;
            let p = priority(&c, ctx, &used);
            Some((
                (
                    r != Rank::Prefix,
                    p,
                    r,
                    c.label.chars().count(),
                    c.label.clone(),
                ),
                c,
            ))
        })
        .collect();
    ranked.sort_by(|a, b| a.0.cmp(&b.0));
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
        // The byte where the word starts, in the whole text.
        let before: usize = lines[..row].iter().map(|l| l.len() + 1).sum();
        let in_line = line
            .char_indices()
            .nth(start)
            .map_or(line.len(), |(b, _)| b);
        let text = lines.join("\n");
        let at = before + in_line;
        let (statement, offset) = sql_context::statement_at(&text, at);
        let ctx = sql_context::analyse(statement, at - offset);
        let items = candidates(&prefix, tree, &ctx);
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

    fn none() -> SqlContext {
        SqlContext::default()
    }

    /// A database of `orders` and `customers`.
    fn shop() -> SchemaTree {
        let col = |n: &str| ColumnNode {
            label: n.into(),
            type_label: "int4".into(),
            marks: String::new(),
            comment: None,
            sql: n.into(),
        };
        let table = |n: &str, cols: &[&str]| TableNode {
            label: n.into(),
            kind: "table".into(),
            sql: n.into(),
            columns: cols.iter().map(|c| col(c)).collect(),
            expanded: false,
        };
        SchemaTree {
            tables: vec![
                table("orders", &["id", "customer_id", "ordered_at"]),
                table("customers", &["id", "name", "country"]),
            ],
            cursor: 0,
            offset: 0,
        }
    }

    /// What the popup offers with the cursor at `|`.
    fn offered(sql: &str) -> Vec<(String, Kind)> {
        let lines: Vec<String> = sql.lines().map(String::from).collect();
        let row = lines.iter().position(|l| l.contains('|')).unwrap();
        let col = lines[row].chars().position(|c| c == '|').unwrap();
        let mut lines = lines;
        lines[row] = lines[row].replace('|', "");
        Completion::open(&lines, (row, col), Some(&shop()))
            .map(|c| c.items.into_iter().map(|i| (i.insert, i.kind)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn after_from_and_join_tables_come_first() {
        let got = offered("SELECT * FROM |");
        assert_eq!(got[0], ("orders".into(), Kind::Table), "shorter first");
        assert_eq!(got[1], ("customers".into(), Kind::Table));
        let got = offered("SELECT * FROM orders o JOIN c|");
        assert_eq!(got[0], ("customers".into(), Kind::Table));
        // A CTE of the statement is a table there too.
        let got = offered("WITH recent AS (SELECT id FROM orders) SELECT * FROM re|");
        assert_eq!(got[0], ("recent".into(), Kind::Table));
    }

    #[test]
    fn after_an_alias_and_a_dot_only_its_columns() {
        let got = offered("SELECT c.| FROM orders o JOIN customers c ON c.id = o.customer_id");
        assert_eq!(
            got,
            [
                ("id".into(), Kind::Column),
                ("name".into(), Kind::Column),
                ("country".into(), Kind::Column),
            ]
        );
        let got = offered("SELECT o.or| FROM orders AS o");
        assert_eq!(
            got,
            [
                ("ordered_at".into(), Kind::Column),
                ("customer_id".into(), Kind::Column),
            ],
            "the prefix first, then the fuzzy match"
        );
        // A table's own name works as its qualifier; an unknown one falls back to all.
        assert_eq!(offered("SELECT orders.cu| FROM orders")[0].0, "customer_id");
        assert!(offered("SELECT zz.i| FROM orders").len() > 1);
        // Columns of a CTE and of a subquery in FROM, across lines.
        let got = offered("WITH totals(who, amount) AS (SELECT 1, 2)\nSELECT t.| FROM totals t");
        assert_eq!(
            got,
            [
                ("who".into(), Kind::Column),
                ("amount".into(), Kind::Column)
            ]
        );
        let got = offered("SELECT s.| FROM (SELECT name AS who, id FROM customers) s");
        assert_eq!(
            got,
            [("id".into(), Kind::Column), ("who".into(), Kind::Column)]
        );
    }

    #[test]
    fn keywords_after_keywords_and_after_an_expression() {
        assert_eq!(offered("SELECT * FROM orders ORDER |")[0].0, "BY");
        assert_eq!(offered("SELECT * FROM orders o LEFT |")[0].0, "JOIN");
        let is: Vec<String> = offered("SELECT * FROM orders WHERE id IS |")
            .into_iter()
            .take(4)
            .map(|(w, _)| w)
            .collect();
        assert_eq!(is, ["NOT", "NULL", "TRUE", "FALSE"]);
        // After an expression a keyword is likely: `f` is FROM before any column.
        assert_eq!(offered("SELECT id f|")[0], ("from".into(), Kind::Keyword));
        // After SELECT or a comma, columns: those of the statement's tables first.
        let got = offered("SELECT id, | FROM customers");
        assert_eq!(got[0].1, Kind::Column);
        assert!(
            ["id", "name", "country"].contains(&got[0].0.as_str()),
            "a column of customers first: {got:?}"
        );
        assert_eq!(offered("SELECT n| FROM customers")[0].0, "name");
        // Prefix matches before fuzzy ones, whatever their kind.
        let got = offered("SELECT * FROM orders ORDER BY cid|");
        assert!(got.iter().all(|(_, k)| *k == Kind::Column), "{got:?}");
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
        let got: Vec<(String, Kind)> = candidates("cu", Some(&tree()), &none())
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
        let sel: Vec<String> = candidates("sel", None, &none())
            .into_iter()
            .map(|c| c.insert)
            .collect();
        assert_eq!(sel[0], "select", "lower case follows the typing");
        assert_eq!(candidates("SEL", None, &none())[0].insert, "SELECT");
        let fuzzy: Vec<String> = candidates("ttl", Some(&tree()), &none())
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
            candidates("cu", Some(&t), &none())
                .iter()
                .all(|c| !c.insert.contains('\u{202e}'))
        );
    }

    #[test]
    fn a_complete_word_offers_nothing_more_of_itself() {
        let c = candidates("total", Some(&tree()), &none());
        assert!(c.iter().all(|c| c.insert != "total"));
    }
}
