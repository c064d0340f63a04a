//! A result prepared for drawing. Everything a frame needs per cell (the text made safe for
//! the terminal, already cut to its column, and its width) is computed once when the result
//! arrives, so drawing a frame only copies the visible cells into the buffer.

use std::borrow::Cow;
use std::cmp::Ordering;

use std::fmt::Write as _;

use crate::core::sanitize::{display_width, fit_to_width, for_terminal, truncate_to_width};
use crate::core::value::{ResultSet, Value};

/// The widest a column gets; longer values are cut with `…` (Enter shows them whole).
pub const MAX_COL_WIDTH: usize = 40;
/// The most of one value the grid looks at (the detail view shows all of it).
const MAX_RAW_BYTES: usize = 4096;
/// What a NULL cell shows (dimmed, so it differs from the text "NULL" and from "").
pub const NULL_TEXT: &str = "NULL";
/// Columns are separated by ` │ `.
pub const SEPARATOR: &str = " │ ";
pub const SEPARATOR_WIDTH: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Null,
    Number,
    Text,
}

/// Where a cell's display text sits in the grid's arena.
#[derive(Debug, Clone, Copy)]
struct CellRef {
    start: u32,
    len: u32,
    width: u16,
    kind: CellKind,
}

/// A cell as the renderer needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell<'a> {
    pub text: &'a str,
    pub width: u16,
    pub kind: CellKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridColumn {
    /// The name, made safe and cut to the column width.
    pub header: String,
    pub header_width: u16,
    pub width: u16,
    /// Every non-NULL value is a number: the header aligns right like the values.
    pub numeric: bool,
}

#[derive(Debug, Clone)]
pub struct Grid {
    /// The rows as they came, for the full value of a cell (and copying).
    pub result: ResultSet,
    pub columns: Vec<GridColumn>,
    arena: String,
    cells: Vec<CellRef>,
    /// Where each shown row came in the result, so a sort can be undone.
    arrival: Vec<u32>,
    /// The column the shown rows are sorted by, if any (see [`Grid::sort`]).
    pub sort: Option<(usize, SortDir)>,
    /// Per column: a value that is not NULL was seen, and every such value was a number
    /// (then the column aligns right), kept so rows added later count too.
    seen_value: Vec<bool>,
    numbers_only: Vec<bool>,
}

/// Which way a sorted column runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

impl SortDir {
    pub fn arrow(self) -> &'static str {
        match self {
            SortDir::Asc => "↑",
            SortDir::Desc => "↓",
        }
    }
}

/// The width of text that went through [`for_terminal`]: ASCII is one column a byte.
fn width_of(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        display_width(s)
    }
}

impl Grid {
    pub fn new(result: ResultSet) -> Grid {
        let ResultSet {
            columns: result_columns,
            rows,
            truncated,
        } = result;
        let ncols = result_columns.len();
        let columns: Vec<GridColumn> = result_columns
            .iter()
            .map(|c| {
                let safe = for_terminal(&c.name);
                let header = truncate_to_width(&safe, MAX_COL_WIDTH).into_owned();
                let w = width_of(&header) as u16;
                GridColumn {
                    header,
                    header_width: w,
                    width: w.max(1),
                    numeric: false,
                }
            })
            .collect();
        let mut grid = Grid {
            result: ResultSet {
                columns: result_columns,
                rows: Vec::new(),
                truncated,
            },
            columns,
            arena: String::with_capacity(rows.len() * ncols * 8),
            cells: Vec::with_capacity(rows.len() * ncols),
            arrival: Vec::new(),
            sort: None,
            seen_value: vec![false; ncols],
            numbers_only: vec![true; ncols],
        };
        grid.push_rows(rows);
        grid
    }

    /// Adds rows that arrived after the others (the next page of the result) at the end;
    /// a sort on shows them in its order. Columns widen to fit them.
    pub fn append(&mut self, rows: Vec<Vec<Value>>) {
        let sort = self.sort;
        if sort.is_some() {
            self.sort(None);
        }
        self.push_rows(rows);
        if sort.is_some() {
            self.sort(sort);
        }
    }

    /// Prepares the cells of `rows` and adds them, in arrival order.
    fn push_rows(&mut self, rows: Vec<Vec<Value>>) {
        let first = self.result.rows.len() as u32;
        let mut scratch = String::new();
        self.cells.reserve(rows.len() * self.columns.len());
        for row in &rows {
            for (ci, col) in self.columns.iter_mut().enumerate() {
                let value = row.get(ci).unwrap_or(&Value::Null);
                let (raw, kind): (&str, CellKind) = match value {
                    Value::Null => (NULL_TEXT, CellKind::Null),
                    Value::Text(s) => (s, CellKind::Text),
                    Value::Numeric(s) | Value::Number(s) => (s, CellKind::Number),
                    Value::Int(i) => {
                        scratch.clear();
                        let _ = write!(scratch, "{i}");
                        (&scratch, CellKind::Number)
                    }
                    other => {
                        scratch = other.to_text().unwrap_or_default();
                        let kind = if other.is_number() {
                            CellKind::Number
                        } else {
                            CellKind::Text
                        };
                        (&scratch, kind)
                    }
                };
                if kind != CellKind::Null {
                    self.seen_value[ci] = true;
                    if kind != CellKind::Number {
                        self.numbers_only[ci] = false;
                    }
                }
                // A huge value is shown by its start: only that much is made safe and
                // measured (the cut is marked whatever happens after).
                let (raw, cut_raw) = match raw.len() > MAX_RAW_BYTES {
                    true => (&raw[..raw.floor_char_boundary(MAX_RAW_BYTES)], true),
                    false => (raw, false),
                };
                let safe = for_terminal(raw);
                // Cutting at the maximum is exact: a column narrower than the maximum holds
                // no cell wider than itself.
                let (mut shown, mut width) = fit_to_width(&safe, MAX_COL_WIDTH);
                if cut_raw && !shown.ends_with('…') {
                    let (s, w) = fit_to_width(&shown, MAX_COL_WIDTH - 1);
                    (shown, width) = (Cow::Owned(format!("{s}…")), w + 1);
                }
                col.width = col.width.max(width as u16);
                let start = self.arena.len() as u32;
                self.arena.push_str(&shown);
                self.cells.push(CellRef {
                    start,
                    len: shown.len() as u32,
                    width: width as u16,
                    kind,
                });
            }
        }
        for (ci, col) in self.columns.iter_mut().enumerate() {
            col.numeric = self.numbers_only[ci] && self.seen_value[ci];
        }
        let n = rows.len() as u32;
        self.arrival.extend(first..first + n);
        self.result.rows.extend(rows);
    }

    /// Puts the rows in the order of column `col` (`Some`), or back in the order they came
    /// (`None`). Client side, on the rows fetched only: a truncated result is not the
    /// table's order. Numbers compare as numbers, text without regard to case first; NULLs
    /// go last either way. Ties keep their arrival order.
    pub fn sort(&mut self, sort: Option<(usize, SortDir)>) {
        let sort = sort.filter(|(c, _)| *c < self.columns.len());
        let mut perm: Vec<usize> = (0..self.rows()).collect();
        match sort {
            None => perm.sort_by_key(|&i| self.arrival[i]),
            Some((col, dir)) => {
                let keys: Vec<SortKey> = self
                    .result
                    .rows
                    .iter()
                    .map(|r| SortKey::of(r.get(col).unwrap_or(&Value::Null)))
                    .collect();
                perm.sort_by(|&a, &b| {
                    let ord = match (&keys[a], &keys[b]) {
                        (SortKey::Null, SortKey::Null) => Ordering::Equal,
                        (SortKey::Null, _) => Ordering::Greater,
                        (_, SortKey::Null) => Ordering::Less,
                        (x, y) if dir == SortDir::Asc => x.cmp(y),
                        (x, y) => y.cmp(x),
                    };
                    ord.then(self.arrival[a].cmp(&self.arrival[b]))
                });
            }
        }
        self.sort = sort;
        self.permute(&perm);
    }

    /// The column a `column:text` filter names, and the text it looks for.
    fn split_filter<'a>(&self, needle: &'a str) -> (Option<usize>, &'a str) {
        match needle.split_once(':') {
            Some((name, rest)) => match self
                .result
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(name.trim()))
            {
                Some(col) => (Some(col), rest),
                None => (None, needle),
            },
            None => (None, needle),
        }
    }

    /// The text a filter looks for, without the `column:` it may name.
    pub fn needle_of<'a>(&self, needle: &'a str) -> &'a str {
        self.split_filter(needle).1
    }

    /// The shown rows holding `needle`, ignoring case: in any column, or with
    /// `column:text` (a column's name, any case) in that column only. NULL matches nothing.
    pub fn matching(&self, needle: &str) -> Vec<usize> {
        let (only, text) = self.split_filter(needle);
        let text = text.to_lowercase();
        self.result
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| {
                row.iter().enumerate().any(|(c, v)| {
                    only.is_none_or(|o| o == c)
                        && v.to_text()
                            .is_some_and(|t| t.to_lowercase().contains(&text))
                })
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Keeps only the shown rows `rows` (in that order); the rest are dropped.
    pub fn keep(&mut self, rows: &[usize]) {
        self.permute(rows);
    }

    /// Where the row that arrived `n`th is shown now.
    pub fn shown_position(&self, arrival: u32) -> Option<usize> {
        self.arrival.iter().position(|a| *a == arrival)
    }

    /// The arrival position of the row shown at `row`.
    pub fn arrival_of(&self, row: usize) -> Option<u32> {
        self.arrival.get(row).copied()
    }

    /// Shows row `perm[i]` at `i`, for the rows, their prepared cells and their arrival.
    fn permute(&mut self, perm: &[usize]) {
        let ncols = self.columns.len();
        let mut rows: Vec<Option<Vec<Value>>> = std::mem::take(&mut self.result.rows)
            .into_iter()
            .map(Some)
            .collect();
        self.result.rows = perm.iter().filter_map(|&i| rows[i].take()).collect();
        if ncols > 0 {
            let cells = std::mem::take(&mut self.cells);
            self.cells = perm
                .iter()
                .flat_map(|&i| cells[i * ncols..(i + 1) * ncols].iter().copied())
                .collect();
        }
        self.arrival = perm.iter().map(|&i| self.arrival[i]).collect();
    }

    pub fn rows(&self) -> usize {
        self.result.rows.len()
    }

    pub fn cell(&self, row: usize, col: usize) -> Option<Cell<'_>> {
        if col >= self.columns.len() {
            return None;
        }
        let r = self.cells.get(row * self.columns.len() + col)?;
        let start = r.start as usize;
        Some(Cell {
            text: &self.arena[start..start + r.len as usize],
            width: r.width,
            kind: r.kind,
        })
    }

    /// The columns drawn from `first` on in `width` terminal columns, as
    /// (column, x offset, drawn width); the last may be cut short.
    pub fn layout_columns(&self, first: usize, width: usize) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        let mut x = 0;
        for (ci, col) in self.columns.iter().enumerate().skip(first) {
            if x >= width {
                break;
            }
            let w = (col.width as usize).min(width - x);
            out.push((ci, x, w));
            x += col.width as usize + SEPARATOR_WIDTH;
        }
        out
    }

    /// The smallest first column at or before `first` whose columns up to the last still
    /// fit in `width`: scrolled right in a wider pane, the columns on the left come back.
    pub fn fill_from(&self, first: usize, width: usize) -> usize {
        let mut first = first.min(self.columns.len().saturating_sub(1));
        let mut used: usize = self.columns[first..]
            .iter()
            .map(|c| c.width as usize + SEPARATOR_WIDTH)
            .sum();
        while first > 0 {
            let w = self.columns[first - 1].width as usize + SEPARATOR_WIDTH;
            if used + w > width + SEPARATOR_WIDTH {
                break;
            }
            used += w;
            first -= 1;
        }
        first
    }

    /// The first column to draw so that column `cursor` is fully visible in `width`,
    /// moving as little as possible from `first`.
    pub fn first_column_showing(&self, first: usize, cursor: usize, width: usize) -> usize {
        if cursor >= self.columns.len() {
            return 0; // no columns at all (`SELECT FROM t` has none)
        }
        if cursor < first {
            return cursor;
        }
        let end_of = |from: usize| -> usize {
            self.columns[from..=cursor]
                .iter()
                .map(|c| c.width as usize + SEPARATOR_WIDTH)
                .sum::<usize>()
                - SEPARATOR_WIDTH
        };
        let mut first = first;
        while first < cursor && end_of(first) > width {
            first += 1;
        }
        first
    }
}

/// What a cell sorts by. Variants are ordered as a mixed column sorts them: booleans,
/// numbers, then everything else by its text.
#[derive(Debug)]
enum SortKey {
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Text folded to lower case, then the text itself to order what differs only in case.
    Text(String, String),
    Null,
}

impl SortKey {
    fn of(v: &Value) -> SortKey {
        match v {
            Value::Null => SortKey::Null,
            Value::Bool(b) => SortKey::Bool(*b),
            Value::Int(i) => SortKey::Int(*i),
            Value::Float(f) => SortKey::Float(*f),
            Value::Float4(f) => SortKey::Float(crate::core::value::f32_digits(*f)),
            Value::Numeric(s) | Value::Number(s) => match s.parse::<f64>() {
                Ok(f) => SortKey::Float(f),
                Err(_) => SortKey::text(s.clone()),
            },
            other => SortKey::text(other.to_text().unwrap_or_default()),
        }
    }

    fn text(s: String) -> SortKey {
        SortKey::Text(s.to_lowercase(), s)
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Bool(_) => 0,
            SortKey::Int(_) | SortKey::Float(_) => 1,
            SortKey::Text(..) => 2,
            SortKey::Null => 3,
        }
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Bool(a), SortKey::Bool(b)) => a.cmp(b),
            (SortKey::Int(a), SortKey::Int(b)) => a.cmp(b),
            (SortKey::Int(a), SortKey::Float(b)) => (*a as f64).total_cmp(b),
            (SortKey::Float(a), SortKey::Int(b)) => a.total_cmp(&(*b as f64)),
            (SortKey::Float(a), SortKey::Float(b)) => a.total_cmp(b),
            (SortKey::Text(la, a), SortKey::Text(lb, b)) => la.cmp(lb).then_with(|| a.cmp(b)),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::Column;

    fn rs(rows: Vec<Vec<Value>>) -> ResultSet {
        ResultSet {
            columns: vec![
                Column {
                    name: "id".into(),
                    type_name: "int8".into(),
                },
                Column {
                    name: "note".into(),
                    type_name: "text".into(),
                },
            ],
            rows,
            truncated: false,
        }
    }

    #[test]
    fn cells_are_made_safe_and_cut_once() {
        let long = "x".repeat(100);
        let g = Grid::new(rs(vec![
            vec![
                Value::Int(7),
                Value::Text("a\u{1b}]0;t\u{7}\r\u{202E}".into()),
            ],
            vec![Value::Null, Value::Text(long)],
            vec![Value::Int(-12), Value::Text(String::new())],
        ]));
        assert_eq!(g.columns[0].width, 4, "NULL is four wide");
        assert!(g.columns[0].numeric);
        assert!(!g.columns[1].numeric);
        assert_eq!(g.columns[1].width as usize, MAX_COL_WIDTH);
        let c = g.cell(0, 1).unwrap();
        assert_eq!(c.text, "a␛]0;t\\x07␍<U+202E>");
        assert_eq!(c.kind, CellKind::Text);
        let cut = g.cell(1, 1).unwrap();
        assert!(cut.text.ends_with('…'));
        assert_eq!(cut.width as usize, MAX_COL_WIDTH);
        assert_eq!(g.cell(1, 0).unwrap().kind, CellKind::Null);
        assert_eq!(g.cell(2, 1).unwrap().text, "");
        assert_eq!(g.cell(2, 1).unwrap().kind, CellKind::Text);
        assert_eq!(g.cell(3, 0), None);
    }

    #[test]
    fn huge_values_are_cut_from_their_start() {
        let mut huge = "\u{200B}".repeat(MAX_RAW_BYTES); // each shows as <U+200B>
        huge.push_str(&"y".repeat(10 * MAX_RAW_BYTES));
        let short_start = format!("ab{}", "\u{301}".repeat(MAX_RAW_BYTES)); // zero-width marks
        let g = Grid::new(rs(vec![
            vec![Value::Int(1), Value::Text(huge)],
            vec![Value::Float(2.5), Value::Text(short_start)],
        ]));
        let c = g.cell(0, 1).unwrap();
        assert!(c.text.starts_with("<U+200B>") && c.text.ends_with('…'));
        assert_eq!(c.width as usize, MAX_COL_WIDTH);
        let c = g.cell(1, 1).unwrap();
        assert!(
            c.text.ends_with('…'),
            "cut is marked even when the start is narrow"
        );
        assert_eq!(g.cell(1, 0).unwrap().text, "2.5");
        assert_eq!(g.cell(1, 0).unwrap().kind, CellKind::Number);
    }

    #[test]
    fn a_result_without_columns_draws_nothing_and_does_not_panic() {
        let g = Grid::new(ResultSet {
            columns: vec![],
            rows: vec![vec![], vec![]],
            truncated: false,
        });
        assert_eq!(g.rows(), 2);
        assert_eq!(g.cell(0, 0), None);
        assert_eq!(g.first_column_showing(0, 0, 80), 0);
        assert!(g.layout_columns(0, 80).is_empty());
    }

    #[test]
    fn wide_characters_count_two_columns() {
        let g = Grid::new(rs(vec![vec![Value::Int(1), Value::Text("山田 👩‍💻".into())]]));
        assert_eq!(g.cell(0, 1).unwrap().width, 7);
        assert_eq!(g.columns[1].width, 7);
    }

    #[test]
    fn horizontal_scrolling_keeps_the_cursor_column_whole() {
        let g = Grid::new(rs(vec![vec![Value::Int(1), Value::Text("y".repeat(30))]]));
        let w0 = g.columns[0].width as usize;
        assert_eq!(g.first_column_showing(0, 1, w0 + SEPARATOR_WIDTH + 30), 0);
        assert_eq!(g.first_column_showing(0, 1, 20), 1);
        assert_eq!(g.first_column_showing(1, 0, 20), 0);
        let cols = g.layout_columns(0, w0 + SEPARATOR_WIDTH + 10);
        assert_eq!(cols, vec![(0, 0, w0), (1, w0 + SEPARATOR_WIDTH, 10)]);
    }

    #[test]
    fn sorting_is_numeric_nulls_last_and_undoable() {
        let mut g = Grid::new(rs(vec![
            vec![Value::Int(10), Value::Text("b".into())],
            vec![Value::Null, Value::Text("A".into())],
            vec![Value::Int(9), Value::Null],
            vec![Value::Int(-1), Value::Text("a".into())],
        ]));
        let col = |g: &Grid, c| {
            (0..g.rows())
                .map(|r| g.cell(r, c).unwrap().text.to_string())
                .collect::<Vec<_>>()
        };
        g.sort(Some((0, SortDir::Asc)));
        assert_eq!(col(&g, 0), ["-1", "9", "10", "NULL"], "numbers as numbers");
        assert_eq!(
            col(&g, 1),
            ["a", "NULL", "b", "A"],
            "cells move with their row"
        );
        g.sort(Some((0, SortDir::Desc)));
        assert_eq!(
            col(&g, 0),
            ["10", "9", "-1", "NULL"],
            "NULLs last both ways"
        );
        g.sort(Some((1, SortDir::Asc)));
        assert_eq!(
            col(&g, 1),
            ["A", "a", "b", "NULL"],
            "case folded, then exact"
        );
        assert_eq!(g.result.rows[0][0], Value::Null, "the values move too");
        g.sort(None);
        assert_eq!(col(&g, 0), ["10", "NULL", "9", "-1"], "back as they came");
        assert_eq!(g.shown_position(3), Some(3));
        g.sort(Some((5, SortDir::Asc)));
        assert_eq!(g.sort, None, "no such column: not sorted");
    }
}
