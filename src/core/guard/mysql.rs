//! The guard's MySQL and MariaDB rules: the functions refused there, and the checks made over
//! the tokens before the parser sees them.
//!
//! What the server runs is the user's own text, so the guard is only as good as the agreement
//! between sqlparser's tokenizer and the server's lexer. They agree on `'…'` and `"…"` strings
//! with backslash escapes, backtick names (a doubled backtick escapes one), `#` comments and
//! `-- ` comments that end at `\n`, and `/* */` comments that do not nest. This holds for the
//! sql_mode the connector must set for the session: neither `ANSI_QUOTES` (with it `"…"` is a
//! name) nor `NO_BACKSLASH_ESCAPES`. Where the two could still part, the SQL is refused:
//!
//! - executable comments: MySQL runs the content of `/*! … */`, and MariaDB that of
//!   `/*M! … */`, as code when the server's version is at least the one written after `!`,
//!   so what runs depends on the server, not on the text. (sqlparser reads `/*!` content as
//!   code and drops the version, and reads `/*M!` as a comment.)
//! - optimizer hints `/*+ … */`: MySQL 8 applies `SET_VAR(…)` and `MAX_EXECUTION_TIME(…)`
//!   from them, undoing the settings the connector made for the statement.
//! - `--` followed by a space that is not ASCII: sqlparser reads a comment there, MySQL reads
//!   two minus signs and goes on with the line as code.
//! - a number written against a name (`0x1g`, `1e5x`): MySQL reads one name there where
//!   sqlparser reads a number and an alias.
//! - a string's quote after an odd run of backslashes: with `NO_BACKSLASH_ESCAPES` the string
//!   would end at that quote, so refusing it makes the string end in the same place whatever
//!   the session's mode (`''` writes a quote).
//!
//! The words that write or lock inside a query (`INTO`, `FOR UPDATE`, `FOR SHARE`, `LOCK IN
//! SHARE MODE`, `PROCEDURE`) are reserved in MySQL, so unquoted and not after a `.` they can
//! mean nothing else; they, `:=` and `NEXT VALUE FOR` are refused over the tokens, because
//! sqlparser cannot parse some of these forms at all and the user should hear what was
//! refused rather than a syntax error.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Whitespace, Word};

use super::{DeniedFamily, LineIndex, ONLY_SELECT, refuse};
use crate::core::error::{Error, Result};

/// MySQL's and MariaDB's built-in functions with effects beyond reading a snapshot. Stored
/// functions and UDFs are refused by the connector on the server unless `allow_functions`
/// names them; the UDF families below are listed too, so naming them in `allow_functions`
/// by mistake still cannot reach them.
///
/// Deliberately NOT listed: `sleep` (it holds a snapshot like any slow query; the statement
/// timeout bounds it, and tests need it for cancel), `lastval` (MariaDB's `LASTVAL(s)` reads
/// the value this session last took, like `PREVIOUS VALUE FOR`), `uuid_short`, `uuid`,
/// `rand` (they compute a value), `name_const` (names a column), `found_rows`,
/// `row_count`, `connection_id` (they read the session).
pub const MYSQL_DENIED: &[DeniedFamily] = &[
    DeniedFamily {
        // LOAD_FILE reads any file the server's account can, within secure_file_priv.
        family: "server files",
        functions: &["load_file"],
    },
    DeniedFamily {
        // Named locks outlive the statement and the read-only transaction: they are held
        // by the session until released, so a pooled connection would keep them. The two
        // probes only read, but watch other sessions' locks, which exploring data never needs.
        family: "named locks",
        functions: &[
            "get_lock",
            "release_lock",
            "release_all_locks",
            "is_free_lock",
            "is_used_lock",
            // MySQL's locking service UDFs.
            "service_get_read_locks",
            "service_get_write_locks",
            "service_release_locks",
        ],
    },
    DeniedFamily {
        // They block until a replica reaches a position: a wait on the replication stream,
        // not on data.
        family: "replication waits",
        functions: &[
            "master_pos_wait",
            "master_gtid_wait",
            "source_pos_wait",
            "wait_for_executed_gtid_set",
            "wait_until_sql_thread_after_gtids",
            "wsrep_sync_wait_upto_gtid",
        ],
    },
    DeniedFamily {
        // MySQL 8's failover and group replication functions change the replication
        // configuration (they write its tables and switch primaries).
        family: "replication control",
        functions: &["asynchronous_connection_failover_*", "group_replication_*"],
    },
    DeniedFamily {
        // BENCHMARK(n, expr) evaluates expr n times: a CPU burner by design.
        family: "benchmark",
        functions: &["benchmark"],
    },
    DeniedFamily {
        // MariaDB's sequences: each call advances the sequence (a write that survives
        // the rollback). NEXT VALUE FOR is refused over the tokens.
        family: "sequences",
        functions: &["nextval", "setval"],
    },
    DeniedFamily {
        // LAST_INSERT_ID(expr) sets the value the session's next LAST_INSERT_ID() returns,
        // on a pooled connection other queries share. (The list goes by name, so the
        // reading form goes too; a read-only session has inserted nothing to read.)
        family: "session state",
        functions: &["last_insert_id"],
    },
    DeniedFamily {
        // lib_mysqludf_sys runs shell commands as the server's account.
        family: "shell commands",
        functions: &["sys_exec", "sys_eval", "sys_get", "sys_set"],
    },
    DeniedFamily {
        // UDFs of MySQL's keyring, audit log, firewall and version token plugins change
        // the server's keys, filters, rules and tokens.
        family: "server plugin control",
        functions: &[
            "keyring_key_*",
            "audit_log_*",
            "set_firewall_*",
            "mysql_firewall_*",
            "version_tokens_*",
        ],
    },
];

/// The first keyword of the statements MySQL reads without writing: queries, `EXPLAIN`,
/// `DESCRIBE` and `SHOW`. `None` stands for a parenthesis.
pub(super) fn opens_a_read(first: Option<Keyword>) -> bool {
    matches!(
        first,
        None | Some(
            Keyword::SELECT
                | Keyword::WITH
                | Keyword::VALUES
                | Keyword::TABLE
                | Keyword::EXPLAIN
                | Keyword::DESCRIBE
                | Keyword::DESC
                | Keyword::SHOW
        )
    )
}

/// The seed's refusal of what is not a query, naming the statement by its first word and
/// the keywords after it (`SET STATEMENT`, `LOCK TABLES`, `CREATE TEMPORARY TABLE`).
pub(super) fn not_a_query(tokens: &[TokenWithSpan]) -> Error {
    let words: Vec<String> = code(tokens)
        .enumerate()
        .map_while(|(i, t)| match &t.token {
            Token::Word(w)
                if w.quote_style.is_none() && (i == 0 || w.keyword != Keyword::NoKeyword) =>
            {
                Some(w.value.to_ascii_uppercase())
            }
            _ => None,
        })
        .take(3)
        .collect();
    if words.is_empty() {
        return refuse(ONLY_SELECT);
    }
    refuse(format!("{ONLY_SELECT}, not {}", words.join(" ")))
}

const EXECUTABLE_COMMENT: &str = "executable comments (/*! … */, /*M! … */) are not allowed: \
     the server runs their content as SQL";

/// The lexical checks described in the module's documentation, and the words that write or
/// lock, for SQL that opens as a read (anything else is refused as not a query).
pub(super) fn check_tokens(sql: &str, tokens: &[TokenWithSpan]) -> Result<()> {
    check_lexing(sql, tokens)?;
    if !opens_a_read(super::first_keyword(tokens)) {
        return Err(not_a_query(tokens));
    }
    check_words(tokens)
}

fn check_lexing(sql: &str, tokens: &[TokenWithSpan]) -> Result<()> {
    let index = LineIndex::new(sql);
    // sqlparser replaces a `/*! … */` comment by the tokens of its content, positioned from
    // the comment's start and without the `/*!` and version digits, or by nothing when the
    // content is empty; either way the tokens stop covering the text end to end.
    let mut at = Location { line: 1, column: 1 };
    let mut previous: Option<&Token> = None;
    for t in tokens {
        if t.token == Token::EOF {
            continue;
        }
        if t.span.start != at {
            return Err(refuse(EXECUTABLE_COMMENT));
        }
        at = t.span.end;
        if let (Some(Token::Number(..) | Token::HexStringLiteral(_)), Token::Word(w)) =
            (previous, &t.token)
            && w.quote_style.is_none()
        {
            return Err(refuse(format!(
                "a number written against a name (…{}) reads as one name in MySQL; put a \
                 space between them",
                w.value
            )));
        }
        previous = Some(&t.token);
        match &t.token {
            Token::Whitespace(Whitespace::MultiLineComment(text)) => {
                if text.starts_with("M!") || text.starts_with("m!") || text.starts_with('!') {
                    return Err(refuse(EXECUTABLE_COMMENT));
                }
                if text.starts_with('+') {
                    return Err(refuse(
                        "optimizer hints (/*+ … */) are not allowed: MySQL applies SET_VAR and \
                         MAX_EXECUTION_TIME from them",
                    ));
                }
            }
            Token::Whitespace(Whitespace::SingleLineComment { prefix, comment })
                if prefix == "--"
                    && !comment.is_empty()
                    && !comment.starts_with(|c: char| c.is_ascii_whitespace()) =>
            {
                return Err(refuse(
                    "a -- comment must start with an ASCII space or tab: MySQL does not read \
                     `--` followed by other characters as a comment",
                ));
            }
            Token::Whitespace(_)
            | Token::Word(Word {
                quote_style: None, ..
            }) => {}
            _ => {
                let (Some(start), Some(end)) = (index.byte(t.span.start), index.byte(t.span.end))
                else {
                    return Err(refuse(EXECUTABLE_COMMENT));
                };
                check_string_escapes(&sql[start..end])?;
            }
        }
    }
    if index.byte(at) != Some(sql.len()) {
        return Err(refuse(EXECUTABLE_COMMENT));
    }
    Ok(())
}

/// Refuses a string literal (`'…'`, `"…"`, `N'…'`, `X'…'`, `_utf8mb4'…'`) in which a quote
/// of its own kind follows an odd run of backslashes, the one place where backslash escapes
/// decide where the string ends. Backtick names have no backslash escapes.
fn check_string_escapes(raw: &str) -> Result<()> {
    let Some(quote) = raw.chars().find(|c| matches!(c, '\'' | '"' | '`')) else {
        return Ok(());
    };
    if quote == '`' {
        return Ok(());
    }
    let mut backslashes = 0usize;
    for c in raw.chars() {
        if c == quote && backslashes % 2 == 1 {
            return Err(refuse(format!(
                "a backslash before a quote in a string (\\{quote}) is not allowed: whether it \
                 ends the string depends on the server's sql_mode; write {quote}{quote} instead"
            )));
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    Ok(())
}

/// The tokens that are not whitespace or comments.
fn code(tokens: &[TokenWithSpan]) -> impl Iterator<Item = &TokenWithSpan> {
    tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
}

fn check_words(tokens: &[TokenWithSpan]) -> Result<()> {
    let code: Vec<&Token> = code(tokens).map(|t| &t.token).collect();
    // An unquoted keyword not written after a `.` (where MySQL takes reserved words as
    // names: `t.lock`).
    let keyword = |i: usize| match code.get(i) {
        Some(Token::Word(w))
            if w.quote_style.is_none()
                && (i == 0 || !matches!(code.get(i - 1), Some(Token::Period))) =>
        {
            Some(w.keyword)
        }
        _ => None,
    };
    for (i, token) in code.iter().enumerate() {
        if **token == Token::Assignment {
            return Err(refuse(
                "assigning a user variable (@var := …) is not allowed (tdb only reads)",
            ));
        }
        let refusal = match keyword(i) {
            Some(Keyword::INTO) => {
                "SELECT … INTO (OUTFILE, DUMPFILE or variables) is not allowed (tdb only reads)"
            }
            Some(Keyword::FOR) => match keyword(i + 1) {
                Some(Keyword::UPDATE) => {
                    "locking clause FOR UPDATE is not allowed (tdb only reads)"
                }
                Some(Keyword::SHARE) => "locking clause FOR SHARE is not allowed (tdb only reads)",
                Some(Keyword::CONNECTION) => {
                    "EXPLAIN FOR CONNECTION is not allowed: tdb explains only the query it is given"
                }
                _ => continue,
            },
            Some(Keyword::LOCK) => {
                "locking clause LOCK IN SHARE MODE is not allowed (tdb only reads)"
            }
            Some(Keyword::PROCEDURE) => "a PROCEDURE clause is not allowed (it runs a procedure)",
            Some(Keyword::NEXT)
                if keyword(i + 1) == Some(Keyword::VALUE)
                    && keyword(i + 2) == Some(Keyword::FOR) =>
            {
                "NEXT VALUE FOR is not allowed (it advances a sequence)"
            }
            _ => continue,
        };
        return Err(refuse(refusal));
    }
    Ok(())
}

/// SHOW and DESCRIBE take no calls and no subqueries: sqlparser reads most SHOW forms into a
/// list of words and drops what follows (`SHOW TABLE STATUS WHERE f(x)`), so a parenthesis
/// there would be code nobody checked.
pub(super) fn check_show(tokens: &[TokenWithSpan]) -> Result<()> {
    if code(tokens).any(|t| t.token == Token::LParen) {
        return Err(refuse(
            "SHOW and DESCRIBE cannot call functions or hold subqueries here; \
             query information_schema with SELECT instead",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{
        Calls, DEFAULT_LIMIT, Dialect, FunctionCall, GuardPolicy, Guarded, TableName, guard,
    };
    use super::*;

    const MY: GuardPolicy = GuardPolicy {
        dialect: Dialect::MySql,
        denied: MYSQL_DENIED,
    };

    fn orders() -> TableName {
        TableName {
            schema: Some("shop".into()),
            name: "orders".into(),
        }
    }

    fn run(sql: &str) -> Result<Guarded> {
        guard(sql, &MY, Some(&orders()), DEFAULT_LIMIT)
    }

    fn executed(sql: &str) -> String {
        match run(sql) {
            Ok(g) => g.executed_sql,
            Err(e) => panic!("{sql:?} was refused: {e}"),
        }
    }

    fn refusal(sql: &str) -> String {
        match run(sql) {
            Err(Error::Rejected(m)) => m.to_string(),
            other => panic!("{sql:?} was not refused: {other:?}"),
        }
    }

    /// One test per hostile input: `name: sql => a fragment of the refusal`.
    macro_rules! refused {
        ($($name:ident: $sql:expr => $fragment:expr;)+) => {$(
            #[test]
            fn $name() {
                let msg = refusal($sql);
                assert!(msg.contains($fragment), "{:?}: want {:?} in {:?}", $sql, $fragment, msg);
            }
        )+};
    }

    /// One test per accepted input, with the exact SQL that will run.
    macro_rules! passes {
        ($($name:ident: $sql:expr => $expected:expr;)+) => {$(
            #[test]
            fn $name() {
                assert_eq!(executed($sql), $expected, "{:?}", $sql);
            }
        )+};
    }

    // ---- statements that are not queries, named ----

    refused! {
        not_a_query_set: "SET @a = 1" => "Only SELECT statements are allowed, not SET";
        not_a_query_set_statement: "SET STATEMENT max_statement_time=0 FOR SELECT 1" => "allowed, not SET STATEMENT";
        not_a_query_set_session: "SET SESSION sql_mode = ''" => "not SET SESSION";
        not_a_query_set_names: "SET NAMES latin1" => "not SET NAMES";
        not_a_query_handler: "HANDLER orders OPEN" => "not HANDLER";
        not_a_query_do: "DO get_lock('x', 1)" => "not DO";
        not_a_query_lock_tables: "LOCK TABLES orders READ" => "not LOCK TABLES";
        not_a_query_unlock_tables: "UNLOCK TABLES" => "not UNLOCK TABLES";
        not_a_query_call: "CALL cleanup()" => "not CALL";
        not_a_query_create_temporary_table: "CREATE TEMPORARY TABLE t (id int)" => "not CREATE TEMPORARY TABLE";
        not_a_query_create_temporary_table_as: "CREATE TEMPORARY TABLE t SELECT * FROM orders" => "not CREATE TEMPORARY TABLE";
        not_a_query_use: "USE mysql" => "not USE";
        not_a_query_insert: "INSERT INTO orders VALUES (1)" => "not INSERT INTO";
        not_a_query_replace: "REPLACE INTO orders VALUES (1)" => "not REPLACE INTO";
        not_a_query_load_data: "LOAD DATA INFILE '/etc/passwd' INTO TABLE orders" => "not LOAD DATA";
        not_a_query_kill: "KILL QUERY 5" => "not KILL QUERY";
        not_a_query_after_comment: "/* SELECT */ # x\nDELETE FROM orders" => "not DELETE FROM";
        not_a_query_analyze_select_mariadb: "ANALYZE SELECT 1" => "not ANALYZE SELECT";
        not_a_query_xa: "XA START 'x'" => "not XA START";
        not_a_query_explain_delete: "EXPLAIN DELETE FROM orders" => "Only SELECT statements are allowed";
        not_a_query_with_delete: "WITH x AS (SELECT 1) DELETE FROM orders" => "Only SELECT statements are allowed";
        multi_statement: "SELECT 1; DELETE FROM orders" => "multiple statements are not allowed (found 2)";
        multi_statement_after_hash_comment: "SELECT 1 # c\n; SELECT 2" => "(found 2)";
    }

    // ---- writes and locks inside queries ----

    refused! {
        into_outfile: "SELECT * FROM orders INTO OUTFILE '/tmp/x'" => "SELECT … INTO (OUTFILE, DUMPFILE or variables) is not allowed";
        into_dumpfile: "SELECT note FROM orders LIMIT 1 INTO DUMPFILE '/tmp/x'" => "INTO (OUTFILE";
        into_outfile_before_from: "SELECT * INTO OUTFILE '/tmp/x' FROM orders" => "INTO (OUTFILE";
        into_variable: "SELECT id INTO @a FROM orders LIMIT 1" => "INTO (OUTFILE, DUMPFILE or variables)";
        into_variables_in_union_branch: "SELECT 1 UNION SELECT 2 INTO @a" => "INTO (OUTFILE";
        into_in_subquery: "SELECT * FROM (SELECT 1 INTO @a) t" => "INTO (OUTFILE";
        for_update: "SELECT * FROM orders FOR UPDATE" => "locking clause FOR UPDATE is not allowed";
        for_update_in_subquery: "SELECT * FROM orders WHERE id IN (SELECT id FROM orders FOR UPDATE)" => "FOR UPDATE";
        for_update_lower_case: "select * from orders for update nowait" => "FOR UPDATE";
        for_share: "SELECT * FROM orders FOR SHARE SKIP LOCKED" => "locking clause FOR SHARE";
        lock_in_share_mode: "SELECT * FROM orders LOCK IN SHARE MODE" => "locking clause LOCK IN SHARE MODE";
        lock_in_share_mode_in_cte: "WITH l AS (SELECT * FROM orders LOCK IN SHARE MODE) SELECT * FROM l" => "LOCK IN SHARE MODE";
        assignment_in_select_list: "SELECT @a := 1" => "assigning a user variable (@var := …) is not allowed";
        assignment_in_where: "SELECT id FROM orders WHERE (@n := @n + 1) > 0" => "assigning a user variable";
        assignment_in_subquery: "SELECT * FROM orders, (SELECT @n := 0) init" => "assigning a user variable";
        assignment_to_system_variable: "SELECT @@session.max_statement_time := 0" => "assigning a user variable";
        procedure_analyse: "SELECT * FROM orders PROCEDURE ANALYSE()" => "PROCEDURE clause";
        next_value_for: "SELECT NEXT VALUE FOR s" => "NEXT VALUE FOR is not allowed (it advances a sequence)";
        next_value_for_in_where: "SELECT id FROM orders WHERE id = next value for s" => "NEXT VALUE FOR";
        explain_into: "EXPLAIN SELECT 1 INTO @a" => "INTO (OUTFILE";
        explain_for_connection: "EXPLAIN FOR CONNECTION 1" => "EXPLAIN FOR CONNECTION is not allowed";
        explain_analyze_denied_function: "EXPLAIN ANALYZE SELECT get_lock('x', 1)" => "(named locks)";
    }

    // ---- functions ----

    refused! {
        fn_load_file: "SELECT load_file('/etc/passwd')" => "calls load_file (server files)";
        fn_get_lock_in_where: "SELECT * FROM orders WHERE get_lock('x', 10)" => "calls get_lock (named locks)";
        fn_get_lock_upper_case: "SELECT GET_LOCK('x', 1)" => "calls GET_LOCK (named locks)";
        fn_get_lock_backticks: "SELECT `get_lock`('x', 1)" => "(named locks)";
        fn_get_lock_qualified: "SELECT mysql.get_lock('x', 1)" => "(named locks)";
        fn_release_all_locks: "SELECT RELEASE_ALL_LOCKS()" => "(named locks)";
        fn_is_used_lock_in_order_by: "SELECT id FROM orders ORDER BY is_used_lock('x')" => "(named locks)";
        fn_master_pos_wait: "SELECT master_pos_wait('log', 4)" => "(replication waits)";
        fn_master_gtid_wait: "SELECT MASTER_GTID_WAIT('0-1-1', 1)" => "(replication waits)";
        fn_source_pos_wait: "SELECT source_pos_wait('log', 4)" => "(replication waits)";
        fn_group_replication: "SELECT group_replication_set_as_primary('x')" => "(replication control)";
        fn_benchmark: "SELECT BENCHMARK(100000000, MD5('a'))" => "calls BENCHMARK (benchmark)";
        fn_nextval: "SELECT nextval(s)" => "(sequences)";
        fn_setval_in_cte: "WITH x AS (SELECT setval(s, 1)) SELECT * FROM x" => "(sequences)";
        fn_last_insert_id_setter: "SELECT LAST_INSERT_ID(5)" => "(session state)";
        fn_sys_exec: "SELECT sys_exec('rm -rf /')" => "(shell commands)";
        fn_keyring: "SELECT keyring_key_remove('k', 'u')" => "(server plugin control)";
        fn_in_json_table: "SELECT * FROM JSON_TABLE(load_file('/etc/passwd'), '$' COLUMNS (a INT PATH '$')) j" => "(server files)";
    }

    // ---- comments and quotes where the server and sqlparser could part ----

    refused! {
        executable_comment: "SELECT 1 /*! , get_lock('x', 1) */" => "executable comments (/*! … */, /*M! … */) are not allowed";
        executable_comment_with_version: "SELECT 1 /*!50000 , sleep(1) */ FROM orders" => "executable comments";
        executable_comment_empty: "SELECT 1 /*!*/ FROM orders" => "executable comments";
        executable_comment_version_only: "SELECT 1 /*!99999*/" => "executable comments";
        executable_comment_mariadb: "SELECT 1 /*M!100000 , get_lock('x', 1) */" => "executable comments";
        executable_comment_multi_line: "SELECT 1 /*!\n, get_lock('x', 1)\n*/" => "executable comments";
        optimizer_hint: "SELECT /*+ MAX_EXECUTION_TIME(0) */ * FROM orders" => "optimizer hints (/*+ … */) are not allowed";
        optimizer_hint_set_var: "SELECT /*+ SET_VAR(max_statement_time = 0) */ 1" => "optimizer hints";
        dash_comment_with_unicode_space: "SELECT 1 --\u{a0}, get_lock('x', 1)" => "a -- comment must start with an ASCII space";
        backslash_quote_single: "SELECT 'a\\', get_lock('x', 1), '" => "a backslash before a quote in a string (\\') is not allowed";
        backslash_quote_double: "SELECT \"a\\\"b\"" => "(\\\") is not allowed";
        backslash_quote_after_escaped_backslash: "SELECT 'a\\\\\\'b'" => "backslash before a quote";
        backslash_quote_hex_literal: "SELECT X'\\'', 1" => "backslash before a quote";
        show_with_call: "SHOW TABLE STATUS WHERE get_lock('x', 1)" => "SHOW and DESCRIBE cannot call functions";
        show_variables_with_call: "SHOW VARIABLES WHERE Variable_name = get_lock('x', 1)" => "SHOW and DESCRIBE cannot call";
        show_columns_with_subquery: "SHOW COLUMNS FROM orders WHERE Field IN (SELECT get_lock('x', 1))" => "SHOW and DESCRIBE";
        number_against_name_hex: "SELECT 0x1g(1)" => "a number written against a name (…g)";
        number_against_name_empty_hex: "SELECT 0xget_lock('x', 1)" => "a number written against a name";
        number_against_name_float: "SELECT 1e5x FROM orders" => "a number written against a name";
        show_with_assignment: "SHOW TABLES WHERE @a := 1" => "assigning a user variable";
    }

    // ---- accepted ----

    passes! {
        ok_data_alias: "SELECT * FROM data" => "SELECT * FROM `shop`.`orders` AS data LIMIT 101";
        ok_data_any_case_and_backticks: "SELECT `DATA`.id FROM `DATA` JOIN Data d ON d.id = `DATA`.id"
            => "SELECT `DATA`.id FROM `shop`.`orders` AS `DATA` JOIN `shop`.`orders` d ON d.id = `DATA`.id LIMIT 101";
        ok_data_shadowed_by_cte: "WITH data AS (SELECT 1 AS id) SELECT * FROM data" => "WITH data AS (SELECT 1 AS id) SELECT * FROM data LIMIT 101";
        ok_limit_comma_kept: "SELECT * FROM data LIMIT 5, 10" => "SELECT * FROM `shop`.`orders` AS data LIMIT 5, 10";
        ok_limit_offset_kept: "SELECT * FROM orders LIMIT 10 OFFSET 5" => "SELECT * FROM orders LIMIT 10 OFFSET 5";
        ok_limit_after_rollup: "SELECT status, count(*) FROM data GROUP BY status WITH ROLLUP"
            => "SELECT status, count(*) FROM `shop`.`orders` AS data GROUP BY status WITH ROLLUP LIMIT 101";
        ok_limit_on_union: "SELECT 1 UNION SELECT 2" => "SELECT 1 UNION SELECT 2 LIMIT 101";
        ok_show_no_limit: "SHOW TABLES" => "SHOW TABLES";
        ok_show_columns_like: "SHOW FULL COLUMNS FROM orders LIKE 'i%'" => "SHOW FULL COLUMNS FROM orders LIKE 'i%'";
        ok_show_index: "SHOW INDEX FROM orders" => "SHOW INDEX FROM orders";
        ok_describe_no_limit: "DESCRIBE orders;" => "DESCRIBE orders";
        ok_explain_no_limit: "EXPLAIN SELECT * FROM data" => "EXPLAIN SELECT * FROM `shop`.`orders` AS data";
        ok_describe_select: "DESCRIBE SELECT 1" => "DESCRIBE SELECT 1";
        ok_hash_comment_dropped_at_end: "SELECT 1 # get_lock('x', 1)" => "SELECT 1 LIMIT 101";
        ok_comments_hide_words: "SELECT id -- INTO OUTFILE '/x'\n, 2 # FOR UPDATE\nFROM data /* ; DELETE */"
            => "SELECT id -- INTO OUTFILE '/x'\n, 2 # FOR UPDATE\nFROM `shop`.`orders` AS data LIMIT 101";
        ok_dash_comment_then_newline: "SELECT 1 --\nFROM orders" => "SELECT 1 --\nFROM orders LIMIT 101";
        ok_strings_hide_words: "SELECT \"; DELETE FROM orders\", 'INTO OUTFILE', 'it''s', \"dq\"\"x\", 'a\\\\', '\\n'"
            => "SELECT \"; DELETE FROM orders\", 'INTO OUTFILE', 'it''s', \"dq\"\"x\", 'a\\\\', '\\n' LIMIT 101";
        ok_reserved_words_as_names: "SELECT t.lock, t.into, `for`, `update` FROM t"
            => "SELECT t.lock, t.into, `for`, `update` FROM t LIMIT 101";
        ok_variables_read: "SELECT @a, @@version, @@session.sql_mode, @a = 1" => "SELECT @a, @@version, @@session.sql_mode, @a = 1 LIMIT 101";
        ok_sleep_and_lastval: "SELECT sleep(0), lastval(s)" => "SELECT sleep(0), lastval(s) LIMIT 101";
        ok_for_in_substring_and_json_table: "SELECT SUBSTRING(status FROM 1 FOR 2), j.n FROM orders, JSON_TABLE('[1]', '$[*]' COLUMNS (n FOR ORDINALITY)) j"
            => "SELECT SUBSTRING(status FROM 1 FOR 2), j.n FROM orders, JSON_TABLE('[1]', '$[*]' COLUMNS (n FOR ORDINALITY)) j LIMIT 101";
        ok_numbers_and_names: "SELECT 0x41, 1e5, 2.5, 123abc, 1 AS x, b'01', X'41'" => "SELECT 0x41, 1e5, 2.5, 123abc, 1 AS x, b'01', X'41' LIMIT 101";
        ok_plain_block_comment: "SELECT /* note */ 1" => "SELECT /* note */ 1 LIMIT 101";
        ok_crlf_tabs_and_form_feed: "SELECT\tid\r\nFROM data\x0c# c\r\n" => "SELECT\tid\r\nFROM `shop`.`orders` AS data LIMIT 101";
        ok_multi_line_string_and_comment: "SELECT 'a\nb', /* x\ny */ 2 FROM data"
            => "SELECT 'a\nb', /* x\ny */ 2 FROM `shop`.`orders` AS data LIMIT 101";
        ok_non_ascii_names_and_strings: "SELECT 'é€😀', café, `naïve col` FROM `tablé` WHERE x = 'ü'"
            => "SELECT 'é€😀', café, `naïve col` FROM `tablé` WHERE x = 'ü' LIMIT 101";
        ok_backslash_escapes_that_do_not_touch_quotes: "SELECT 'a\\\\', 'c:\\\\dir', '\\%', \"\\\\\"" => "SELECT 'a\\\\', 'c:\\\\dir', '\\%', \"\\\\\" LIMIT 101";
        ok_other_quote_after_backslash: "SELECT \"it\\'s\"" => "SELECT \"it\\'s\" LIMIT 101";
    }

    #[test]
    fn data_table_name_is_quoted_with_backticks() {
        let table = TableName {
            schema: Some("my db".into()),
            name: "x`; DROP TABLE y; #".into(),
        };
        let g = guard("SELECT * FROM data", &MY, Some(&table), DEFAULT_LIMIT).unwrap();
        assert_eq!(
            g.executed_sql,
            "SELECT * FROM `my db`.`x``; DROP TABLE y; #` AS data LIMIT 101"
        );
        let table = TableName {
            schema: None,
            name: "a``b".into(),
        };
        let g = guard("SELECT * FROM data", &MY, Some(&table), DEFAULT_LIMIT).unwrap();
        assert_eq!(g.executed_sql, "SELECT * FROM `a````b` AS data LIMIT 101");
    }

    #[test]
    fn describe_and_show_create_name_the_data_table() {
        assert_eq!(executed("DESCRIBE data"), "DESCRIBE `shop`.`orders`");
        assert_eq!(executed("desc `DATA`"), "desc `shop`.`orders`");
        assert_eq!(
            executed("SHOW CREATE TABLE data"),
            "SHOW CREATE TABLE `shop`.`orders`"
        );
        assert_eq!(
            executed("SHOW FULL COLUMNS FROM data"),
            "SHOW FULL COLUMNS FROM `shop`.`orders`"
        );
        assert_eq!(
            executed("SHOW COLUMNS IN data LIKE 'i%'"),
            "SHOW COLUMNS IN `shop`.`orders` LIKE 'i%'"
        );
        // Another table, or one qualified, is left as written.
        assert_eq!(executed("DESCRIBE shop.data"), "DESCRIBE shop.data");
        assert_eq!(executed("DESCRIBE items"), "DESCRIBE items");
        let g = guard("DESCRIBE data", &MY, None, DEFAULT_LIMIT).unwrap();
        assert_eq!(g.executed_sql, "DESCRIBE data");
    }

    #[test]
    fn limit_follows_the_request() {
        let g = guard("SELECT 1", &MY, None, 1).unwrap();
        assert_eq!(g.executed_sql, "SELECT 1 LIMIT 2");
        let g = guard("SELECT 1 LIMIT 0, 5000", &MY, None, 7).unwrap();
        assert_eq!(g.executed_sql, "SELECT 1 LIMIT 0, 5000");
        assert_eq!(g.limit, 7);
    }

    #[test]
    fn calls_fold_function_names_and_keep_database_names() {
        let g = run(
            "SELECT Upper(status), `MyFunc`(1, 2), Shop.Price(id), o.total, count(*) \
                     FROM orders o WHERE JSON_LENGTH(payload) > 0",
        )
        .unwrap();
        let call = |schema: Option<&str>, name: &str, args| FunctionCall {
            schema: schema.map(String::from),
            name: name.into(),
            args: Some(args),
            field_notation: false,
        };
        let got: Vec<_> = g.calls.functions.iter().cloned().collect();
        assert_eq!(
            got,
            [
                call(None, "count", 0),
                call(None, "json_length", 1),
                call(None, "myfunc", 2),
                call(None, "upper", 1),
                call(Some("Shop"), "price", 1),
            ]
        );
    }

    #[test]
    fn show_and_describe_call_nothing() {
        for sql in [
            "SHOW TABLES",
            "DESCRIBE orders",
            "SHOW VARIABLES LIKE 'max%'",
        ] {
            assert_eq!(run(sql).unwrap().calls, Calls::default(), "{sql}");
        }
    }

    #[test]
    fn deny_list_entries_are_lower_case_and_families_named() {
        for family in MYSQL_DENIED {
            assert!(!family.family.is_empty());
            assert!(!family.functions.is_empty());
            for f in family.functions {
                assert_eq!(*f, f.to_ascii_lowercase(), "{f}");
                assert!(!f.trim_end_matches('*').contains('*'), "{f}");
            }
        }
        assert_eq!(
            super::super::denied_family(
                MYSQL_DENIED,
                "Group_Replication_Switch_To_Single_Primary_Mode"
            ),
            Some("replication control")
        );
        for allowed in [
            "sleep",
            "lastval",
            "uuid_short",
            "name_const",
            "lower",
            "found_rows",
        ] {
            assert_eq!(
                super::super::denied_family(MYSQL_DENIED, allowed),
                None,
                "{allowed}"
            );
        }
    }
}
