//! The statements of an editor's text, found with sqlparser's tokenizer for the source's
//! dialect (the one the guard parses with), so a `;` inside a string, a quoted name, a
//! comment or a dollar-quoted body does not end a statement.

use std::ops::Range;

use sqlparser::tokenizer::{Token, Tokenizer};

use super::guard::{Dialect, parser_dialect};
use super::splice::{LineColumn, LineIndex};

/// One statement of a text: the bytes from its first token to its last (comments and
/// blanks around it and its `;` left out), and where its separator ends, so a cursor
/// just after the `;` still belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: Range<usize>,
    pub until: usize,
}

/// The statements of `sql` in order. Text the tokenizer cannot read (an unclosed string)
/// is one statement, so running it reports the tokenizer's error where the guard does.
pub fn split(sql: &str, dialect: Dialect) -> Vec<Piece> {
    let Ok(tokens) = Tokenizer::new(parser_dialect(dialect), sql).tokenize_with_location() else {
        return whole(sql);
    };
    let index = LineIndex::new(sql);
    let mut out = Vec::new();
    let mut current: Option<Range<usize>> = None;
    for t in &tokens {
        let (Some(start), Some(end)) = (index.byte(t.span.start), index.byte(t.span.end)) else {
            return whole(sql);
        };
        match &t.token {
            Token::SemiColon => {
                if let Some(text) = current.take() {
                    out.push(Piece { text, until: end });
                }
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => match &mut current {
                Some(r) => r.end = end,
                None => current = Some(start..end),
            },
        }
    }
    if let Some(text) = current {
        out.push(Piece {
            text,
            until: sql.len(),
        });
    }
    out
}

fn whole(sql: &str) -> Vec<Piece> {
    let start = sql.len() - sql.trim_start().len();
    let end = sql.trim_end().len();
    if start >= end {
        return Vec::new();
    }
    vec![Piece {
        text: start..end,
        until: sql.len(),
    }]
}

/// The statement a cursor at byte `at` stands in (or just after, before the next one
/// starts); the last one when the cursor is past them all.
pub fn at(sql: &str, dialect: Dialect, at: usize) -> Option<Piece> {
    let pieces = split(sql, dialect);
    let last = pieces.last().cloned();
    pieces.into_iter().find(|p| at <= p.until).or(last)
}

/// The 1-based line and column (in characters) of byte `offset`.
pub fn line_column(text: &str, offset: usize) -> LineColumn {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineColumn {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Moves a place in a statement (`at`, from 1) to the same place in the text the
/// statement was taken from, where the statement began at `start`.
pub fn shift(at: LineColumn, start: LineColumn) -> LineColumn {
    if at.line <= 1 {
        LineColumn {
            line: start.line,
            column: start.column + at.column.saturating_sub(1),
        }
    } else {
        LineColumn {
            line: start.line + at.line - 1,
            column: at.column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str, d: Dialect) -> Vec<&str> {
        split(sql, d).into_iter().map(|p| &sql[p.text]).collect()
    }

    #[test]
    fn semicolons_in_strings_comments_and_dollar_quotes_do_not_split() {
        let sql =
            "SELECT 'a;b' AS x; -- one; two\nSELECT $$ ; $$, \"c;d\" FROM t;\n/* ; */ SELECT 3";
        assert_eq!(
            texts(sql, Dialect::Postgres),
            [
                "SELECT 'a;b' AS x",
                "SELECT $$ ; $$, \"c;d\" FROM t",
                "SELECT 3"
            ]
        );
        assert_eq!(
            texts("SELECT `a;b` FROM t; SELECT 'x\\';y'", Dialect::MySql),
            ["SELECT `a;b` FROM t", "SELECT 'x\\';y'"]
        );
        assert_eq!(texts(" ;; \n", Dialect::Sqlite), Vec::<&str>::new());
        assert_eq!(texts("SELECT 'open", Dialect::Sqlite), ["SELECT 'open"]);
    }

    #[test]
    fn the_cursor_picks_its_statement() {
        let sql = "SELECT 1;\nSELECT 'é';\n\nSELECT 3";
        let pick = |at| at_text(sql, at);
        assert_eq!(pick(0), "SELECT 1");
        assert_eq!(pick(9), "SELECT 1", "just after the `;`");
        assert_eq!(pick(12), "SELECT 'é'");
        assert_eq!(pick(sql.len()), "SELECT 3");
        assert_eq!(pick(sql.find("\n\n").unwrap() + 1), "SELECT 3");
    }

    fn at_text(sql: &str, at: usize) -> &str {
        let p = super::at(sql, Dialect::Postgres, at).unwrap();
        &sql[p.text]
    }

    #[test]
    fn places_move_to_the_whole_text() {
        let text = "SELECT 1;\n  SELECT x\nFROM t";
        let start = line_column(text, text.find("SELECT x").unwrap());
        assert_eq!(start, LineColumn { line: 2, column: 3 });
        let lc = |line, column| LineColumn { line, column };
        assert_eq!(shift(lc(1, 8), start), lc(2, 10));
        assert_eq!(shift(lc(2, 6), start), lc(3, 6));
    }
}
