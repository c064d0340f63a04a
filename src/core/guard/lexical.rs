//! The PostgreSQL statements sqlparser cannot parse but the server reads as queries
//! (`xmlelement(name …)`, `ROWS FROM`, `COLLATION FOR`, an empty `SELECT`, window `EXCLUDE`,
//! `t*`, `trim(LEADING FROM x)`, operators after typed literals), checked over the tokens
//! instead of a tree.
//!
//! Why not libpg_query (`pg_query`): its C build, bindgen and protobuf would roughly double a
//! clean CI build on a 2-core machine for eight statement shapes. This path is conservative
//! instead: exactly one statement that starts as a query, no word that writes or locks
//! anywhere outside strings and quoted names, and every name that could be a call (`f(`,
//! `s.f(`, `x.f`, an operator symbol, a `::type` or typed literal) goes into the same
//! [`Calls`] the tree walk fills, so the deny list, the built-in-only rule on the server
//! and `allow_functions` apply unchanged. What cannot be judged lexically (`OPERATOR(…)`,
//! a `data` anywhere but right after FROM or JOIN) is refused rather than guessed at.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Word};

use super::{
    Calls, DeniedFamily, FunctionCall, Guarded, LineIndex, OperatorUse, TableName, denied_family,
    refuse, splice,
};
use crate::core::error::Result;

/// Words that write, lock or create wherever they appear in a query: data-modifying CTEs,
/// `SELECT … INTO`, `FOR UPDATE` / `FOR SHARE`, `RETURNING`.
const WRITE_WORDS: &[&str] = &[
    "insert",
    "update",
    "delete",
    "merge",
    "into",
    "share",
    "returning",
    "copy",
    "call",
    "do",
    "lock",
    "truncate",
];

/// Operator symbols `LIKE`, `ILIKE` and `SIMILAR TO` stand for.
const PATTERN_OPERATORS: [&str; 6] = ["~~", "~~*", "!~~", "!~~*", "~", "!~"];

/// The statement guarded from its tokens, or `None` when it does not even start as one
/// query (the parser's error is then the one to show).
pub(super) fn guard(
    sql: &str,
    denied: &'static [DeniedFamily],
    data_table: Option<&TableName>,
    limit: Option<usize>,
) -> Option<Result<Guarded>> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .with_unescape(true)
        .tokenize_with_location()
        .ok()?;
    let code: Vec<&TokenWithSpan> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .collect();
    let explain = is_word(code.first(), "explain");
    let query_start = if explain {
        explain_options_end(&code)?
    } else {
        0
    };
    let Some(Token::Word(first)) = code.get(query_start).map(|t| &t.token) else {
        return None;
    };
    if first.quote_style.is_some()
        || !["select", "with", "values", "table"].contains(&lower(first).as_str())
    {
        return None;
    }
    Some(check(sql, denied, &code, data_table, limit, explain))
}

fn is_word(t: Option<&&TokenWithSpan>, want: &str) -> bool {
    word(t).is_some_and(|w| w.quote_style.is_none() && lower(w) == want)
}

/// Where the query of `EXPLAIN [ANALYZE] [VERBOSE] …` or `EXPLAIN (options) …` starts.
fn explain_options_end(code: &[&TokenWithSpan]) -> Option<usize> {
    let mut i = 1;
    if code.get(i).map(|t| &t.token) == Some(&Token::LParen) {
        let close = code[i..].iter().position(|t| t.token == Token::RParen)?;
        return Some(i + close + 1);
    }
    while ["analyze", "analyse", "verbose"]
        .iter()
        .any(|w| is_word(code.get(i), w))
    {
        i += 1;
    }
    Some(i)
}

fn lower(w: &Word) -> String {
    w.value.to_ascii_lowercase()
}

/// The name as the server looks it up: unquoted names fold to lower case.
fn lookup(w: &Word) -> String {
    match w.quote_style {
        None => lower(w),
        Some(_) => w.value.clone(),
    }
}

fn word<'a>(t: Option<&&'a TokenWithSpan>) -> Option<&'a Word> {
    match t.map(|t| &t.token) {
        Some(Token::Word(w)) => Some(w),
        _ => None,
    }
}

fn check(
    sql: &str,
    denied: &'static [DeniedFamily],
    code: &[&TokenWithSpan],
    data_table: Option<&TableName>,
    limit: Option<usize>,
    explain: bool,
) -> Result<Guarded> {
    // Only trailing semicolons: anything after one is a second statement.
    let end = code
        .iter()
        .rposition(|t| t.token != Token::SemiColon)
        .map_or(0, |i| i + 1);
    let code = &code[..end];
    if code.iter().any(|t| t.token == Token::SemiColon) {
        return Err(refuse(
            "multiple statements are not allowed; send one SELECT",
        ));
    }
    // Balanced, so the text cannot close the subquery it is wrapped in.
    let mut depth = 0i64;
    for t in code {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            break;
        }
    }
    if depth != 0 {
        return Err(refuse("unbalanced parentheses"));
    }
    let index = LineIndex::new(sql);
    let mut calls = Calls::default();
    // Without a tree the statement's own LIMIT cannot be found, so the whole statement
    // becomes a subquery with the row limit outside; EXPLAIN gets none (it would change the
    // plan shown) and the connector reads at most `limit + 1` rows of any statement.
    let mut edits = Vec::new();
    let limited = limit.filter(|_| !explain);
    if limited.is_some() {
        edits.push(splice::Edit {
            start: 0,
            end: 0,
            text: "SELECT * FROM (\n".into(),
        });
    }
    for (i, t) in code.iter().enumerate() {
        let next = code.get(i + 1);
        let prev = i.checked_sub(1).and_then(|p| code.get(p));
        match &t.token {
            Token::Word(w) => {
                if w.quote_style.is_none() {
                    let lw = lower(w);
                    if WRITE_WORDS.contains(&lw.as_str()) {
                        return Err(refuse(format!(
                            "{} is not allowed in a query (tdb only reads)",
                            lw.to_ascii_uppercase()
                        )));
                    }
                    if lw == "operator" {
                        return Err(refuse(
                            "OPERATOR(…) is not supported in this statement; write the operator",
                        ));
                    }
                    if ["like", "ilike", "similar"].contains(&lw.as_str()) {
                        for symbol in PATTERN_OPERATORS {
                            calls.operators.insert(OperatorUse {
                                schema: None,
                                symbol: symbol.into(),
                            });
                        }
                    }
                }
                if let Some(table) = data_table
                    && is_data(w)
                    && let Some(edit) = data_edit(sql, &index, table, prev, t, next)?
                {
                    edits.push(edit);
                }
                // The schema of `schema.name`, when this word is the name.
                let qualifier = match (prev.map(|p| &p.token), i.checked_sub(2)) {
                    (Some(Token::Period), Some(q)) => word(code.get(q)),
                    _ => None,
                };
                match next.map(|n| &n.token) {
                    Some(Token::LParen) => {
                        if let Some(family) = denied_family(denied, &w.value) {
                            return Err(refuse(format!("the query calls {w} ({family})")));
                        }
                        calls.functions.insert(FunctionCall {
                            schema: qualifier.map(lookup),
                            name: lookup(w),
                            args: None,
                            field_notation: false,
                        });
                    }
                    // A typed literal (`inet '10.0.0.1'`) is a cast of the string.
                    Some(
                        Token::SingleQuotedString(_)
                        | Token::EscapedStringLiteral(_)
                        | Token::DollarQuotedString(_)
                        | Token::UnicodeStringLiteral(_),
                    ) => {
                        calls.casts.insert(qualified(qualifier, w));
                    }
                    _ => {}
                }
                // `x.name` (not a call): for a row `x`, PostgreSQL calls `name(x)`.
                if matches!(prev.map(|p| &p.token), Some(Token::Period))
                    && !matches!(next.map(|n| &n.token), Some(Token::LParen))
                {
                    if let Some(family) = denied_family(denied, &w.value) {
                        return Err(refuse(format!("the query calls {w} ({family})")));
                    }
                    calls.functions.insert(FunctionCall {
                        schema: None,
                        name: lookup(w),
                        args: Some(1),
                        field_notation: true,
                    });
                }
            }
            Token::DoubleColon => {
                if let Some(target) = word(next) {
                    let target = match (code.get(i + 2).map(|t| &t.token), word(code.get(i + 3))) {
                        (Some(Token::Period), Some(name)) => qualified(Some(target), name),
                        _ => qualified(None, target),
                    };
                    calls.casts.insert(target);
                }
            }
            other => {
                let symbol = other.to_string();
                if !symbol.is_empty() && symbol.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c)) {
                    calls.operators.insert(OperatorUse {
                        schema: None,
                        symbol,
                    });
                }
            }
        }
    }

    let keep = code
        .last()
        .and_then(|t| index.byte(t.span.end))
        .ok_or_else(|| refuse("no SQL statement found"))?;
    if let Some(limit) = limited {
        edits.push(splice::Edit {
            start: keep,
            end: keep,
            text: format!("\n) AS tdb_q LIMIT {}", limit + 1),
        });
    }
    let (executed_sql, positions) = splice::apply(sql, keep, &edits);
    Ok(Guarded {
        executed_sql,
        limit: limit.unwrap_or(usize::MAX),
        calls,
        positions,
    })
}

/// `data` as the tree walk reads it: unquoted in any case, or quoted exactly.
fn is_data(w: &Word) -> bool {
    match w.quote_style {
        None => w.value.eq_ignore_ascii_case("data"),
        Some(_) => w.value == "data",
    }
}

const UNRESOLVED_DATA: &str = "`data` is resolved here only right after FROM or JOIN (or as \
     `data.column` of it) in a statement beyond tdb's SQL parser: name the table itself";

/// The source's table for a `data` written right after FROM or JOIN, aliased `data` unless
/// the user gave it an alias; `data.column` needs nothing. Anywhere else (a CTE named
/// `data`, `FROM a, data`, a column) it cannot be told apart without a tree: refused.
fn data_edit(
    sql: &str,
    index: &LineIndex<'_>,
    table: &TableName,
    prev: Option<&&TokenWithSpan>,
    t: &TokenWithSpan,
    next: Option<&&TokenWithSpan>,
) -> Result<Option<splice::Edit>> {
    let after_from = word(prev)
        .is_some_and(|p| p.quote_style.is_none() && ["from", "join"].contains(&lower(p).as_str()));
    let next_token = next.map(|n| &n.token);
    if !after_from {
        return match next_token {
            Some(Token::Period) => Ok(None),
            _ => Err(refuse(UNRESOLVED_DATA)),
        };
    }
    if matches!(next_token, Some(Token::Period | Token::LParen)) {
        return Err(refuse(UNRESOLVED_DATA));
    }
    let aliased = word(next).is_some_and(|n| {
        n.quote_style.is_some() || lower(n) == "as" || n.keyword == Keyword::NoKeyword
    });
    let (Some(start), Some(end)) = (index.byte(t.span.start), index.byte(t.span.end)) else {
        return Err(refuse(super::UNSPLICEABLE));
    };
    let mut text = super::target_text(table, super::Dialect::Postgres);
    if !aliased {
        text.push_str(" AS ");
        text.push_str(&sql[start..end]);
    }
    Ok(Some(splice::Edit { start, end, text }))
}

fn qualified(schema: Option<&Word>, name: &Word) -> String {
    match schema {
        Some(s) => format!("{s}.{name}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::guard::POSTGRES_DENIED;

    fn run(sql: &str) -> Result<Guarded> {
        guard(sql, POSTGRES_DENIED, None, Some(100))
            .unwrap_or_else(|| panic!("{sql:?} is not read over tokens"))
    }

    fn refusal(sql: &str) -> String {
        match run(sql) {
            Ok(g) => panic!("{sql:?} accepted as {:?}", g.executed_sql),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn explain_of_such_a_statement_gets_no_limit_and_the_same_checks() {
        for sql in [
            "EXPLAIN SELECT COLLATION FOR ('a')",
            "EXPLAIN ANALYZE VERBOSE SELECT COLLATION FOR ('a')",
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT COLLATION FOR ('a')",
        ] {
            assert_eq!(run(sql).unwrap().executed_sql, sql);
        }
        assert!(refusal("EXPLAIN ANALYZE SELECT xmlelement(name x, 1) INTO t").contains("INTO"));
        assert!(
            guard(
                "EXPLAIN (ANALYZE) DELETE FROM t",
                POSTGRES_DENIED,
                None,
                Some(100)
            )
            .is_none()
        );
    }

    #[test]
    fn the_text_cannot_close_the_subquery_it_is_wrapped_in() {
        let e = refusal("SELECT 1) AS x, COLLATION FOR ('a') FROM (SELECT 2");
        assert!(e.contains("unbalanced"), "{e}");
    }

    #[test]
    fn only_what_starts_as_one_query_is_read() {
        assert!(guard("DELETE FROM t", POSTGRES_DENIED, None, Some(100)).is_none());
        assert!(guard("\"select\" 1", POSTGRES_DENIED, None, Some(100)).is_none());
        assert!(guard("(SELECT 1)", POSTGRES_DENIED, None, Some(100)).is_none());
        assert!(run("-- a comment\nselect").is_ok());
    }

    #[test]
    fn writes_locks_and_second_statements_are_refused() {
        for (sql, why) in [
            ("WITH d AS (DELETE FROM t RETURNING 1) SELECT", "DELETE"),
            ("SELECT COLLATION FOR ('a') INTO t2", "INTO"),
            ("SELECT * FROM t* FOR KEY SHARE", "SHARE"),
            ("SELECT * FROM t* FOR NO KEY UPDATE", "UPDATE"),
            ("SELECT; SELECT 1", "multiple statements"),
            (
                "SELECT 1 OPERATOR(public.+) 2, COLLATION FOR ('a')",
                "OPERATOR",
            ),
            (
                "SELECT xmlelement(name x, lo_import('/etc/passwd'))",
                "lo_import",
            ),
            (
                "SELECT xmlelement(name x, (t).pg_reload_conf) FROM t",
                "pg_reload_conf",
            ),
        ] {
            let e = refusal(sql);
            assert!(e.contains(why), "{sql:?}: {e}");
        }
        // Inside strings and quoted names the words are data.
        assert!(run("SELECT 'delete', \"into\", $$update$$, COLLATION FOR ('a')").is_ok());
    }

    #[test]
    fn every_possible_call_is_collected_for_the_server_check() {
        let g =
            run("SELECT s.f(1), g(x.col), inet '1.2.3.4' << y::public.mytype, a ILIKE b FROM t*")
                .unwrap();
        let has_fn = |schema: Option<&str>, name: &str, field: bool| {
            g.calls.functions.iter().any(|c| {
                c.schema.as_deref() == schema && c.name == name && c.field_notation == field
            })
        };
        assert!(has_fn(Some("s"), "f", false));
        assert!(has_fn(None, "g", false));
        assert!(has_fn(None, "col", true));
        assert!(g.calls.casts.contains("inet"));
        assert!(g.calls.casts.contains("public.mytype"));
        for op in ["<<", "*", "~~*"] {
            assert!(
                g.calls.operators.iter().any(|o| o.symbol == op),
                "{op}: {:?}",
                g.calls.operators
            );
        }
    }

    #[test]
    fn the_statement_runs_under_the_limit_and_positions_map_back() {
        let g = run("SELECT\n  COLLATION FOR (x) ; -- done").unwrap();
        assert_eq!(
            g.executed_sql,
            "SELECT * FROM (\nSELECT\n  COLLATION FOR (x)\n) AS tdb_q LIMIT 101"
        );
        // The server counts `x` from the start of the sent text; the user wrote it on line 2,
        // column 18.
        let sent = g.executed_sql.find("(x)").unwrap() + 2;
        assert_eq!(
            g.positions.written_location(sent),
            Some(crate::core::splice::LineColumn {
                line: 2,
                column: 18
            })
        );
    }

    #[test]
    fn data_after_from_or_join_is_the_table_and_anywhere_else_refused() {
        let table = TableName {
            schema: Some("public".into()),
            name: "orders".into(),
        };
        let sent = |sql: &str| {
            guard(sql, POSTGRES_DENIED, Some(&table), Some(100))
                .unwrap()
                .map(|g| g.executed_sql)
        };
        assert_eq!(
            sent("SELECT COLLATION FOR (data.a) FROM data WHERE a > 1").unwrap(),
            "SELECT * FROM (\nSELECT COLLATION FOR (data.a) FROM \"public\".\"orders\" AS data \
             WHERE a > 1\n) AS tdb_q LIMIT 101"
        );
        assert_eq!(
            sent("SELECT * FROM t* JOIN \"data\" d ON true").unwrap(),
            "SELECT * FROM (\nSELECT * FROM t* JOIN \"public\".\"orders\" d ON true\n) AS tdb_q \
             LIMIT 101"
        );
        for sql in [
            "WITH data AS (SELECT 1) SELECT COLLATION FOR (a) FROM data",
            "SELECT COLLATION FOR (a) FROM t, data",
            "SELECT data, COLLATION FOR (a) FROM t",
            "SELECT COLLATION FOR (a) FROM ONLY data",
        ] {
            let e = sent(sql).unwrap_err();
            assert!(e.to_string().contains("name the table"), "{sql:?}: {e}");
        }
        // Without a table, `data` is a name like any other.
        assert!(
            guard(
                "SELECT COLLATION FOR (a) FROM data",
                POSTGRES_DENIED,
                None,
                Some(100)
            )
            .unwrap()
            .is_ok()
        );
    }
}
