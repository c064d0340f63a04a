//! The plan view: how the engine would run the statement under the editor's cursor, as a
//! tree of steps with their cost, rows and relation. Each engine explains itself in its
//! own way; this turns what each one answers into the same lines:
//!
//! - PostgreSQL: `EXPLAIN (FORMAT JSON)`, or with `ANALYZE` the statement is run (inside
//!   the read-only transaction every query gets) and the times and rows it really took
//!   are shown beside the estimates.
//! - SQLite: `EXPLAIN QUERY PLAN`, whose rows name their parent.
//! - MySQL and MariaDB: `EXPLAIN`'s table, one line per row; `EXPLAIN ANALYZE` (MySQL
//!   8.0.18 and later) answers an indented tree of text.
//! - ClickHouse: `EXPLAIN`'s indented lines of text.

use std::time::Instant;

use serde_json::Value as Json;

use crate::backend::protocol::RequestId;
use crate::core::guard::Dialect;
use crate::core::sanitize::for_terminal;
use crate::core::value::ResultSet;

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    /// How deep in the tree (0: the top).
    pub depth: usize,
    /// What the step does and on what: `Seq Scan on orders`, `SCAN data`.
    pub text: String,
    /// Its figures: `cost 0.00..35.50 · rows 2,550`; empty when the engine gives none.
    pub detail: String,
}

/// A whole plan: its steps, and what the engine adds at the end (planning time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub lines: Vec<PlanLine>,
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub enum PlanState {
    Running { id: RequestId, started: Instant },
    Done(Plan),
    Failed(String),
}

/// The open plan view.
#[derive(Debug)]
pub struct PlanView {
    pub source_id: String,
    /// The source's name, safe for the terminal.
    pub source: String,
    pub dialect: Dialect,
    /// The statement explained, as the editor holds it.
    pub statement: String,
    /// Whether the statement was run (`EXPLAIN ANALYZE`), not only planned.
    pub analyze: bool,
    pub state: PlanState,
    pub scroll: u16,
}

impl PlanView {
    /// The lines the view shows below its statement: the steps and the notes.
    pub fn rows(&self) -> usize {
        match &self.state {
            PlanState::Done(p) => p.lines.len() + p.notes.len(),
            PlanState::Running { .. } | PlanState::Failed(_) => 1,
        }
    }

    pub fn waits_for(&self, id: RequestId) -> bool {
        matches!(self.state, PlanState::Running { id: r, .. } if r == id)
    }
}

/// The SQL that explains `statement` on an engine of `dialect`; with `analyze`, the one
/// that runs it too, or why that engine cannot.
pub fn explain_sql(dialect: Dialect, statement: &str, analyze: bool) -> Result<String, String> {
    Ok(match (dialect, analyze) {
        (Dialect::Postgres, false) => format!("EXPLAIN (FORMAT JSON) {statement}"),
        (Dialect::Postgres, true) => format!("EXPLAIN (ANALYZE, FORMAT JSON) {statement}"),
        (Dialect::Sqlite, false) => format!("EXPLAIN QUERY PLAN {statement}"),
        (Dialect::MySql | Dialect::ClickHouse | Dialect::DuckDb, false) => {
            format!("EXPLAIN {statement}")
        }
        (Dialect::MySql | Dialect::DuckDb, true) => format!("EXPLAIN ANALYZE {statement}"),
        (Dialect::Sqlite, true) => {
            return Err("SQLite plans a query without running it: no EXPLAIN ANALYZE".into());
        }
        (Dialect::ClickHouse, true) => {
            return Err("ClickHouse has no EXPLAIN ANALYZE; its plan is shown".into());
        }
    })
}

/// Reads an engine's answer to [`explain_sql`] into a plan.
pub fn read_plan(dialect: Dialect, result: &ResultSet) -> Result<Plan, String> {
    let named = |name: &str| {
        result
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    };
    match dialect {
        Dialect::Postgres if result.columns.len() == 1 => {
            let text: String = result
                .rows
                .iter()
                .filter_map(|r| r.first()?.to_text())
                .collect::<Vec<_>>()
                .join("\n");
            from_postgres_json(&text)
        }
        Dialect::Sqlite => match (named("id"), named("parent"), named("detail")) {
            (Some(id), Some(parent), Some(detail)) => {
                Ok(from_parent_links(result.rows.iter().map(|r| {
                    let int = |i: usize| {
                        r.get(i)
                            .and_then(|v| v.to_text())
                            .and_then(|t| t.parse::<i64>().ok())
                            .unwrap_or(0)
                    };
                    let text = r.get(detail).and_then(|v| v.to_text()).unwrap_or_default();
                    (int(id), int(parent), text)
                })))
            }
            _ => Ok(from_table(result)),
        },
        // DuckDB draws its plan as a tree of boxes in one text cell.
        Dialect::DuckDb if named("explain_value").is_some() => {
            let at = named("explain_value").unwrap_or(0);
            Ok(from_indented(
                result
                    .rows
                    .iter()
                    .filter_map(|r| r.get(at)?.to_text())
                    .flat_map(|t| t.lines().map(String::from).collect::<Vec<_>>()),
            ))
        }
        _ if result.columns.len() == 1 => Ok(from_indented(
            result
                .rows
                .iter()
                .filter_map(|r| r.first()?.to_text())
                .flat_map(|t| t.lines().map(String::from).collect::<Vec<_>>()),
        )),
        _ => Ok(from_table(result)),
    }
}

/// `12.5` as `12.50`, as PostgreSQL prints costs; whole numbers of rows as `2,550`.
fn number(v: Option<&Json>, decimals: usize) -> Option<String> {
    let n = v?.as_f64()?;
    Some(if decimals == 0 {
        let n = n.round() as i64;
        let digits = crate::core::value::thousands(n.unsigned_abs());
        if n < 0 { format!("-{digits}") } else { digits }
    } else {
        format!("{n:.decimals$}")
    })
}

/// PostgreSQL's JSON plan: `[{"Plan": {…, "Plans": […]}, "Planning Time": …}]`.
fn from_postgres_json(text: &str) -> Result<Plan, String> {
    let json: Json = serde_json::from_str(text)
        .map_err(|e| format!("the server's plan is not the JSON expected: {e}"))?;
    let top = json
        .as_array()
        .and_then(|a| a.first())
        .ok_or("the server's plan is not the JSON expected: no plan in it")?;
    let root = top
        .get("Plan")
        .ok_or("the server's plan is not the JSON expected: no \"Plan\"")?;
    let mut plan = Plan::default();
    walk_postgres(root, 0, &mut plan.lines);
    for key in ["Planning Time", "Execution Time"] {
        if let Some(ms) = number(top.get(key), 3) {
            plan.notes.push(format!("{key}: {ms} ms"));
        }
    }
    Ok(plan)
}

fn walk_postgres(node: &Json, depth: usize, out: &mut Vec<PlanLine>) {
    let s = |key: &str| node.get(key).and_then(Json::as_str);
    let mut text = s("Node Type").unwrap_or("?").to_string();
    if let Some(join) = s("Join Type")
        && join != "Inner"
    {
        text = format!("{text} ({})", join.to_lowercase());
    }
    if let Some(index) = s("Index Name") {
        text.push_str(&format!(" using {index}"));
    }
    if let Some(rel) = s("Relation Name").or(s("CTE Name")).or(s("Function Name")) {
        text.push_str(&format!(" on {rel}"));
        if let Some(alias) = s("Alias")
            && alias != rel
        {
            text.push_str(&format!(" {alias}"));
        }
    }
    let mut detail = Vec::new();
    if let (Some(a), Some(b)) = (
        number(node.get("Startup Cost"), 2),
        number(node.get("Total Cost"), 2),
    ) {
        detail.push(format!("cost {a}..{b}"));
    }
    if let Some(rows) = number(node.get("Plan Rows"), 0) {
        detail.push(format!("rows {rows}"));
    }
    if let (Some(time), Some(rows)) = (
        number(node.get("Actual Total Time"), 3),
        number(node.get("Actual Rows"), 0),
    ) {
        let loops = number(node.get("Actual Loops"), 0).unwrap_or_else(|| "1".into());
        detail.push(format!("actual {time} ms · {rows} rows × {loops}"));
    } else if node.get("Actual Loops").is_some() {
        detail.push("never executed".into());
    }
    if let Some(filter) = s("Filter").or(s("Index Cond")).or(s("Hash Cond")) {
        detail.push(filter.to_string());
    }
    out.push(PlanLine {
        depth,
        text: for_terminal(&text).into_owned(),
        detail: for_terminal(&detail.join(" · ")).into_owned(),
    });
    for child in node
        .get("Plans")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        walk_postgres(child, depth + 1, out);
    }
}

/// Rows that name their parent's id (SQLite's `EXPLAIN QUERY PLAN`), in the order the
/// engine gives them (each after its parent).
fn from_parent_links(rows: impl Iterator<Item = (i64, i64, String)>) -> Plan {
    let mut depths: Vec<(i64, usize)> = Vec::new();
    let mut plan = Plan::default();
    for (id, parent, text) in rows {
        let depth = depths
            .iter()
            .rev()
            .find(|(i, _)| *i == parent)
            .map_or(0, |(_, d)| d + 1);
        depths.push((id, depth));
        plan.lines.push(PlanLine {
            depth,
            text: for_terminal(&text).into_owned(),
            detail: String::new(),
        });
    }
    plan
}

/// Lines whose indentation is their depth (ClickHouse's `EXPLAIN`, MySQL's `EXPLAIN
/// ANALYZE`): each deeper indent one level down, whatever its width.
fn from_indented(lines: impl Iterator<Item = String>) -> Plan {
    let mut indents: Vec<usize> = Vec::new();
    let mut plan = Plan::default();
    for line in lines {
        let text = line.trim_start();
        if text.is_empty() {
            continue;
        }
        let indent = line.chars().take_while(|c| c.is_whitespace()).count();
        while indents.last().is_some_and(|i| *i >= indent) {
            indents.pop();
        }
        let depth = indents.len();
        indents.push(indent);
        let text = text.strip_prefix("-> ").unwrap_or(text);
        plan.lines.push(PlanLine {
            depth,
            text: for_terminal(text).into_owned(),
            detail: String::new(),
        });
    }
    plan
}

/// A table of steps (MySQL's `EXPLAIN`): a line per row, `column value` for each column
/// that has one.
fn from_table(result: &ResultSet) -> Plan {
    let mut plan = Plan::default();
    for row in &result.rows {
        let parts: Vec<String> = result
            .columns
            .iter()
            .zip(row)
            .filter_map(|(c, v)| Some(format!("{} {}", c.name, v.to_text()?)))
            .collect();
        let mut parts = parts.into_iter();
        let text = parts.next().unwrap_or_default();
        plan.lines.push(PlanLine {
            depth: 0,
            text: for_terminal(&text).into_owned(),
            detail: for_terminal(&parts.collect::<Vec<_>>().join(" · ")).into_owned(),
        });
    }
    plan
}

/// What goes before each line to draw the tree: `├─ `, `└─ `, and `│  ` for each
/// ancestor that has a later sibling.
pub fn tree_prefixes(depths: &[usize]) -> Vec<String> {
    (0..depths.len())
        .map(|i| {
            let d = depths[i];
            // Whether a later line comes back to `level` before going above it.
            let continues = |level: usize| {
                depths[i + 1..]
                    .iter()
                    .take_while(|&&x| x >= level)
                    .any(|&x| x == level)
            };
            let mut prefix = String::new();
            for level in 1..d {
                prefix.push_str(if continues(level) { "│  " } else { "   " });
            }
            if d > 0 {
                prefix.push_str(if continues(d) { "├─ " } else { "└─ " });
            }
            prefix
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::{Column, Value};

    fn result(columns: &[&str], rows: Vec<Vec<Value>>) -> ResultSet {
        ResultSet {
            columns: columns
                .iter()
                .map(|c| Column {
                    name: (*c).into(),
                    type_name: "text".into(),
                })
                .collect(),
            rows,
            truncated: false,
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn each_engine_gets_its_own_explain() {
        let pg = |a| explain_sql(Dialect::Postgres, "SELECT 1", a).unwrap();
        assert_eq!(pg(false), "EXPLAIN (FORMAT JSON) SELECT 1");
        assert_eq!(pg(true), "EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1");
        assert_eq!(
            explain_sql(Dialect::Sqlite, "SELECT 1", false).unwrap(),
            "EXPLAIN QUERY PLAN SELECT 1"
        );
        assert_eq!(
            explain_sql(Dialect::MySql, "SELECT 1", true).unwrap(),
            "EXPLAIN ANALYZE SELECT 1"
        );
        assert!(explain_sql(Dialect::Sqlite, "SELECT 1", true).is_err());
        assert!(explain_sql(Dialect::ClickHouse, "SELECT 1", true).is_err());
    }

    #[test]
    fn a_postgres_json_plan_becomes_a_tree_with_costs_and_relations() {
        let json = r#"[{"Plan": {"Node Type": "Hash Join", "Join Type": "Left",
            "Startup Cost": 1.5, "Total Cost": 40.25, "Plan Rows": 2550,
            "Actual Total Time": 0.5, "Actual Rows": 3, "Actual Loops": 1,
            "Hash Cond": "(o.customer_id = c.id)",
            "Plans": [
              {"Node Type": "Seq Scan", "Relation Name": "orders", "Alias": "o",
               "Startup Cost": 0, "Total Cost": 30.5, "Plan Rows": 2550,
               "Actual Total Time": 0.1, "Actual Rows": 3, "Actual Loops": 1},
              {"Node Type": "Index Scan", "Relation Name": "customers", "Alias": "customers",
               "Index Name": "customers_pkey", "Startup Cost": 0.15, "Total Cost": 8.17,
               "Plan Rows": 1, "Actual Loops": 0}
            ]}, "Planning Time": 0.123, "Execution Time": 0.9}]"#;
        let plan = read_plan(
            Dialect::Postgres,
            &result(&["QUERY PLAN"], vec![vec![text(json)]]),
        )
        .unwrap();
        let lines: Vec<(usize, &str, &str)> = plan
            .lines
            .iter()
            .map(|l| (l.depth, l.text.as_str(), l.detail.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (
                    0,
                    "Hash Join (left)",
                    "cost 1.50..40.25 · rows 2,550 · actual 0.500 ms · 3 rows × 1 · (o.customer_id = c.id)"
                ),
                (
                    1,
                    "Seq Scan on orders o",
                    "cost 0.00..30.50 · rows 2,550 · actual 0.100 ms · 3 rows × 1"
                ),
                (
                    1,
                    "Index Scan using customers_pkey on customers",
                    "cost 0.15..8.17 · rows 1 · never executed"
                ),
            ]
        );
        assert_eq!(
            plan.notes,
            ["Planning Time: 0.123 ms", "Execution Time: 0.900 ms"]
        );
        let bad = read_plan(
            Dialect::Postgres,
            &result(&["QUERY PLAN"], vec![vec![text("{")]]),
        );
        assert!(bad.unwrap_err().contains("not the JSON expected"));
    }

    #[test]
    fn sqlite_rows_nest_under_the_parent_they_name() {
        let row = |id: i64, parent: i64, d: &str| {
            vec![Value::Int(id), Value::Int(parent), Value::Int(0), text(d)]
        };
        let plan = read_plan(
            Dialect::Sqlite,
            &result(
                &["id", "parent", "notused", "detail"],
                vec![
                    row(2, 0, "CO-ROUTINE t"),
                    row(5, 2, "SCAN data"),
                    row(12, 0, "SCAN t"),
                    row(14, 0, "USE TEMP B-TREE FOR ORDER BY"),
                ],
            ),
        )
        .unwrap();
        let depths: Vec<usize> = plan.lines.iter().map(|l| l.depth).collect();
        assert_eq!(depths, [0, 1, 0, 0]);
        assert_eq!(plan.lines[1].text, "SCAN data");
    }

    #[test]
    fn indented_text_and_tables_become_lines() {
        let plan = read_plan(
            Dialect::ClickHouse,
            &result(
                &["explain"],
                vec![
                    vec![text("Expression ((Projection + Before ORDER BY))")],
                    vec![text("  Filter (WHERE)")],
                    vec![text("    ReadFromMergeTree (default.orders)")],
                    vec![text("  Limit")],
                ],
            ),
        )
        .unwrap();
        let depths: Vec<usize> = plan.lines.iter().map(|l| l.depth).collect();
        assert_eq!(depths, [0, 1, 2, 1]);
        // MySQL's EXPLAIN ANALYZE: one cell of indented lines.
        let plan = read_plan(
            Dialect::MySql,
            &result(
                &["EXPLAIN"],
                vec![vec![text(
                    "-> Filter: (o.total > 10)  (cost=1.2 rows=3)\n    -> Table scan on o  (actual time=0.02..0.03 rows=9 loops=1)",
                )]],
            ),
        )
        .unwrap();
        assert_eq!(plan.lines[1].depth, 1);
        assert_eq!(
            plan.lines[1].text,
            "Table scan on o  (actual time=0.02..0.03 rows=9 loops=1)"
        );
        let plan = read_plan(
            Dialect::MySql,
            &result(
                &["id", "select_type", "table", "key", "rows"],
                vec![vec![
                    Value::Int(1),
                    text("SIMPLE"),
                    text("orders"),
                    Value::Null,
                    Value::Int(9),
                ]],
            ),
        )
        .unwrap();
        assert_eq!(plan.lines[0].text, "id 1");
        assert_eq!(
            plan.lines[0].detail,
            "select_type SIMPLE · table orders · rows 9"
        );
    }

    #[test]
    fn prefixes_draw_the_tree() {
        let got = tree_prefixes(&[0, 1, 2, 2, 1, 2, 0]);
        assert_eq!(got, ["", "├─ ", "│  ├─ ", "│  └─ ", "└─ ", "   └─ ", ""]);
    }

    #[test]
    fn hostile_names_from_the_server_are_made_safe() {
        let json = r#"[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "x\u001b[31m\u202e"}}]"#;
        let plan = read_plan(
            Dialect::Postgres,
            &result(&["QUERY PLAN"], vec![vec![text(json)]]),
        )
        .unwrap();
        assert!(!plan.lines[0].text.contains('\u{1b}'));
        assert!(!plan.lines[0].text.contains('\u{202e}'));
    }
}
