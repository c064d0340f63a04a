//! The read-only SQL guard: decides whether a user's SQL may run, and rewrites it for
//! execution (the `data` alias, the row limit).
//!
//! The guard is the first of two walls. The connector runs what the guard returns inside a
//! read-only transaction with timeouts, so a write that slips past here still fails on the
//! server. The guard exists for what a read-only transaction does NOT stop (signalling other
//! backends, advisory locks, server files, dblink, configuration, WAL and slot control) and
//! to give the user a precise refusal instead of a server error.
//!
//! Everything works on sqlparser's tree, never on text: the tree is checked with a
//! [`Visitor`] that sees every node at every depth, rewritten with a [`VisitorMut`], and
//! printed back. Comments vanish in the print, so nothing hidden in a comment can reach the
//! server, and what runs is exactly what was checked (the printed SQL is parsed and checked
//! once more before it is returned).

use std::collections::HashMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, LimitClause, ObjectName, ObjectNamePart, Query, Select, SetExpr, Statement,
    TableAlias, TableFactor, UnaryOperator, Value, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::error::{Error, Result};

/// The SQL dialect a source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
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
    /// The checked tree printed back: `data` resolved, `LIMIT limit+1` added when the
    /// query had no limit of its own, comments gone.
    pub executed_sql: String,
    /// The request's row limit; the connector reads at most `limit + 1` rows so it can tell
    /// whether the result was truncated.
    pub limit: usize,
}

/// The prefix of every refusal, as the seed's API answers it.
pub const REFUSAL_PREFIX: &str = "SQL validation failed: ";

/// The seed's message for anything that is not a query.
pub const ONLY_SELECT: &str = "SQL validation failed: Only SELECT statements are allowed";

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
/// and keeps the rule simple. The list applies to both dialects for the same reason.
///
/// Deliberately NOT listed: `pg_sleep`, `pg_sleep_for`, `pg_sleep_until`. They only hold a
/// read-only snapshot, exactly like any slow query, and the connector's
/// `statement_timeout` bounds them; tests also need them to exercise cancel and timeouts.
/// Read-only functions (`currval`, `lastval`, `current_setting`, `pg_current_logfile`) are
/// allowed. Extension functions are listed where their effect escapes the read-only
/// transaction (dblink, pg_background, aws_s3, http).
pub const DENIED_FUNCTIONS: &[DeniedFamily] = &[
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
            // SQLite's eval extension runs SQL strings.
            "eval",
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
];

/// The family that denies `name` (the last part of a called name), if any.
pub fn denied_family(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    DENIED_FUNCTIONS
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
    Error::Invalid(format!("{REFUSAL_PREFIX}{detail}"))
}

/// Checks `sql` and returns it rewritten for execution, or the refusal to show the user.
///
/// `data_table` is the table behind the `data` alias (`None` leaves `data` alone, for
/// sources without one). `limit` is the request's row limit, 1 to [`MAX_LIMIT`].
pub fn guard(
    sql: &str,
    dialect: Dialect,
    data_table: Option<&TableName>,
    limit: usize,
) -> Result<Guarded> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(limit_error(limit));
    }
    check_text(sql)?;
    let mut query = parse_one_query(sql, dialect)?;
    check_query(&query)?;
    if let Some(table) = data_table {
        resolve_data_alias(&mut query, dialect, table);
    }
    apply_limit(&mut query, dialect, limit);
    let executed_sql = query.to_string();
    // What runs is the printed text, so it must pass the same checks as the input did. A
    // printer that dropped quotes or escapes would show up here as a refusal, not as SQL
    // that differs from what was checked.
    let reparsed = parse_one_query(&executed_sql, dialect)?;
    check_query(&reparsed)?;
    Ok(Guarded {
        executed_sql,
        limit,
    })
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

fn parser_dialect(dialect: Dialect) -> &'static dyn sqlparser::dialect::Dialect {
    match dialect {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Sqlite => &SQLiteDialect {},
    }
}

fn parse_error(err: ParserError) -> Error {
    let detail = match err {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
        ParserError::RecursionLimitExceeded => "the SQL is nested too deeply".to_string(),
    };
    refuse(format!("could not parse SQL: {detail}"))
}

/// Parses `sql` into exactly one query (`SELECT`, `WITH … SELECT`, `VALUES`, a set
/// operation, or a lone `TABLE name`).
fn parse_one_query(sql: &str, dialect: Dialect) -> Result<Query> {
    let parser_dialect = parser_dialect(dialect);
    let tokens = Tokenizer::new(parser_dialect, sql)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| refuse(format!("could not parse SQL: {e}")))?;
    if dialect == Dialect::Postgres {
        reject_unicode_identifiers(&tokens)?;
    }
    if let Some(query) = lone_table_command(&tokens, parser_dialect) {
        return Ok(query);
    }
    let first = first_keyword(&tokens);
    let mut statements = match Parser::new(parser_dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
    {
        Ok(statements) => statements,
        Err(_) if first == Some(Keyword::TABLE) => {
            return Err(refuse(
                "TABLE is only supported on its own, as TABLE name; write SELECT * FROM … instead",
            ));
        }
        // A statement sqlparser cannot parse (`VACUUM (…)`, `LISTEN`, PL/pgSQL `DO`) is
        // still not a query: say so with the seed's message rather than a syntax error.
        Err(_) if !opens_a_query(first) => return Err(Error::Invalid(ONLY_SELECT.into())),
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
    let Statement::Query(query) = statement else {
        return Err(Error::Invalid(ONLY_SELECT.into()));
    };
    // `WITH x AS (…) DELETE …` parses as a query whose body is the DELETE.
    if matches!(
        *query.body,
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_)
    ) {
        return Err(Error::Invalid(ONLY_SELECT.into()));
    }
    Ok(*query)
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
        None | Some(Keyword::SELECT | Keyword::WITH | Keyword::VALUES | Keyword::TABLE)
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

/// sqlparser 0.63 cannot parse a statement-level `TABLE name` (and its parser for `TABLE`
/// inside set operations loses quotes), so the lone form is built here as the tree of
/// `SELECT * FROM name`, which PostgreSQL defines it to mean.
fn lone_table_command(
    tokens: &[TokenWithSpan],
    dialect: &dyn sqlparser::dialect::Dialect,
) -> Option<Query> {
    let mut words = tokens
        .iter()
        .filter(|t| !is_trivia(&t.token))
        .collect::<Vec<_>>();
    while words.last().is_some_and(|t| t.token == Token::SemiColon) {
        words.pop();
    }
    let Some((first, rest)) = words.split_first() else {
        return None;
    };
    match &first.token {
        Token::Word(w) if w.keyword == Keyword::TABLE && w.quote_style.is_none() => {}
        _ => return None,
    }
    let ident = |t: &TokenWithSpan| match &t.token {
        Token::Word(w) => Some(w.clone().into_ident(t.span)),
        _ => None,
    };
    let parts = match rest {
        [name] => vec![ident(name)?],
        [schema, dot, name] if dot.token == Token::Period => vec![ident(schema)?, ident(name)?],
        _ => return None,
    };
    let mut statements = Parser::parse_sql(dialect, "SELECT * FROM t").ok()?;
    let Some(Statement::Query(mut query)) = statements.pop() else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let from = select.from.first_mut()?;
    let TableFactor::Table { name, .. } = &mut from.relation else {
        return None;
    };
    *name = ObjectName::from(parts);
    Some(*query)
}

/// Walks the whole tree and refuses anything that is not a plain read.
fn check_query(query: &Query) -> Result<()> {
    match query.visit(&mut Checker) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(err) => Err(err),
    }
}

/// The read-only rules, applied at every depth: CTEs, subqueries in any clause, FROM and
/// LATERAL, set operation branches.
struct Checker;

impl Checker {
    fn check_function_name(&self, name: &ObjectName) -> ControlFlow<Error> {
        let last = match name.0.last() {
            Some(ObjectNamePart::Identifier(ident)) => ident.value.as_str(),
            // A name computed by a function (IDENTIFIER(…)) cannot be judged.
            Some(ObjectNamePart::Function(_)) | None => {
                return ControlFlow::Break(refuse(format!(
                    "the query calls a function with a computed name ({name})"
                )));
            }
        };
        match denied_family(last) {
            Some(family) => {
                ControlFlow::Break(refuse(format!("the query calls {name} ({family})")))
            }
            None => ControlFlow::Continue(()),
        }
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
        if query.for_clause.is_some()
            || query.settings.is_some()
            || query.format_clause.is_some()
            || !query.pipe_operators.is_empty()
        {
            return ControlFlow::Break(refuse("unsupported clause after the query"));
        }
        if contains_table_command(&query.body) {
            return ControlFlow::Break(refuse(
                "TABLE … is only supported as a whole statement; write SELECT * FROM … instead",
            ));
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
            Expr::Function(function) => self.check_function_name(&function.name),
            _ => ControlFlow::Continue(()),
        }
    }

    /// Table functions in FROM and LATERAL are calls too.
    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Error> {
        match factor {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.check_function_name(name),
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

/// Replaces each unqualified table reference `data` that no CTE in scope shadows by the
/// source's table, keeping `data` as the alias so `data.col` still resolves.
fn resolve_data_alias(query: &mut Query, dialect: Dialect, table: &TableName) {
    let mut resolver = DataAlias {
        dialect,
        target: target_name(table),
        scopes: Vec::new(),
        cte_scopes: HashMap::new(),
    };
    // The resolver never breaks.
    let _ = query.visit(&mut resolver);
}

fn target_name(table: &TableName) -> ObjectName {
    let mut parts = Vec::with_capacity(2);
    if let Some(schema) = &table.schema {
        parts.push(Ident::with_quote('"', schema.as_str()));
    }
    parts.push(Ident::with_quote('"', table.name.as_str()));
    ObjectName::from(parts)
}

/// Tracks, per query on the walk, whether a CTE named `data` is visible there.
struct DataAlias {
    dialect: Dialect,
    target: ObjectName,
    /// One entry per query being walked: is `data` shadowed inside it?
    scopes: Vec<bool>,
    /// CTE bodies not yet reached, by address, with whether `data` is shadowed in them.
    /// A CTE body sees only the CTEs before it unless the WITH is recursive.
    cte_scopes: HashMap<*const Query, bool>,
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
            if alias.is_none() {
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
/// a truncated result from a complete one; a limit the user wrote is kept.
fn apply_limit(query: &mut Query, dialect: Dialect, limit: usize) {
    if query.fetch.is_some() {
        return;
    }
    let wanted = Expr::value(Value::Number((limit + 1).to_string(), false));
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(wanted),
                offset: None,
                limit_by: Vec::new(),
            });
        }
        Some(LimitClause::LimitOffset { limit: user, .. }) => {
            if user.as_ref().is_none_or(|e| means_no_limit(e, dialect)) {
                *user = Some(wanted);
            }
        }
        Some(LimitClause::OffsetCommaLimit { .. }) => {}
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
