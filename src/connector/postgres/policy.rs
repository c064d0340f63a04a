//! Which functions a statement may run, decided by the server's own catalog.
//!
//! A deny list cannot keep up with extensions (dblink, tablefunc's crosstab running SQL
//! text, pg_surgery deleting tuples below the transaction) or with functions a superuser
//! wrote. So the rule is an allow list: a name the statement calls must resolve only to
//! PostgreSQL's built-in functions (created by initdb), unless the source's `allow_functions` names the function, its schema-qualified
//! name or its extension. The guard's deny list still applies to built-ins on top (signals,
//! files, advisory locks, SQL text runners, transaction ids).
//!
//! The names come from the guard's walk of the statement ([`Calls`]); the server resolves
//! them with the session's search_path in the statement's own read-only transaction, in the
//! same round trip that sets the timeouts, before the statement is bound or executed.
//! A name is refused when ANY function it could reach with that many arguments is not
//! allowed: overload resolution depends on argument types only the server knows, so the
//! check is conservative.
//!
//! "Built-in" is decided by OID: initdb creates every built-in object below 16384
//! (FirstNormalObjectId), and everything created later (extensions, a superuser's functions,
//! even ones put into pg_catalog) gets a higher one.
//!
//! Operators and casts call functions too. An operator symbol is refused when a visible
//! operator of that name, defined over built-in types, is implemented by a function that is
//! not allowed (`CREATE OPERATOR +++ (int, int)` calling anything); operators over an
//! extension's own types (PostGIS `&&` on geometry, citext `=`) apply only to values of those
//! types and stay usable. A cast is refused when a cast to the named type from a built-in type
//! goes through a function that is not allowed.

use std::sync::LazyLock;

use tokio_postgres::types::{ToSql, Type};

use crate::core::Error;
use crate::core::guard::{Calls, IMPLICIT_OPERATORS, POSTGRES_DENIED};

/// The timeouts (bound, never spliced) and a probe of the policy in one statement, so the
/// check costs no round trip of its own: it rides with the settings, pipelined with the
/// Parse. Every object the policy could refuse was created after initdb (OID 16384 up), so
/// the probe asks only whether a named function, operator or cast is such an object: a few
/// index lookups, cheap to plan on a fresh connection (each `tdb query` is one). Only when it
/// says yes does [`CHECK`] go out to name what is not allowed.
///
/// `$1` timeout in ms; `$2..$5` the called functions (schema or '', name, argument count or
/// -1, field notation); `$6..$7` operators (schema or '', symbol); `$8` cast target types;
/// `$9` the allow list and `$10` the guard's deny list as LIKE patterns. Column 5 is the
/// probe; column 6 is the session's TimeZone (timestamps with time zone are shown in it), and
/// DateStyle is ISO so the server's text of a timestamp is ISO 8601 too.
///
/// Operators and casts a superuser created can reach any function, a denied built-in
/// (`CREATE OPERATOR ### (…, FUNCTION = pg_terminate_backend)`) as well as one of their own,
/// so for them a built-in function is checked against the deny list too.
pub const SET_TIMEOUTS_AND_PROBE: &str = "\
SELECT pg_catalog.set_config('statement_timeout', $1, true),
       pg_catalog.set_config('lock_timeout', $1, true),
       pg_catalog.set_config('idle_in_transaction_session_timeout', $1, true),
       pg_catalog.set_config('standard_conforming_strings', 'on', true),
       pg_catalog.set_config('DateStyle', 'ISO, MDY', true),
       EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
               WHERE p.oid >= 16384 AND p.proname = ANY ($3::text[]))
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator o
                  WHERE o.oid >= 16384 AND o.oprname = ANY ($7::text[])
                    AND o.oprleft < 16384 AND o.oprright < 16384)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast c
                  WHERE c.oid >= 16384 AND c.castfunc <> 0 AND c.castsource < 16384
                    AND c.casttarget IN (SELECT pg_catalog.to_regtype(t)
                                         FROM pg_catalog.unnest($8::text[]) t)),
       pg_catalog.current_setting('TimeZone')";

/// What [`SET_TIMEOUTS_AND_PROBE`] found worth a closer look, judged: sent only when the
/// probe says some named function, operator or cast was created after initdb. Same
/// parameters; its one column lists what is not allowed.
pub const CHECK: &str = "\
SELECT ARRAY(
WITH candidates(oid) AS (
  SELECT p.oid FROM pg_catalog.pg_proc p
  WHERE p.proname = ANY ($3::text[]) AND p.oid >= 16384
  UNION
  SELECT o.oprcode::oid FROM pg_catalog.pg_operator o
  WHERE o.oid >= 16384 AND o.oprname = ANY ($7::text[])
    AND o.oprleft < 16384 AND o.oprright < 16384
  UNION
  SELECT c.castfunc FROM pg_catalog.pg_cast c
  WHERE c.oid >= 16384 AND c.castfunc <> 0 AND c.castsource < 16384
    AND c.casttarget IN (SELECT pg_catalog.to_regtype(t) FROM pg_catalog.unnest($8::text[]) t)
),
procs AS (
  SELECT p.oid, p.proname, p.pronargs, p.pronargdefaults, p.provariadic, p.proargtypes,
         n.nspname, e.extname
  FROM candidates k
  JOIN pg_catalog.pg_proc p ON p.oid = k.oid
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  LEFT JOIN pg_catalog.pg_depend d
         ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
        AND d.objsubid = 0 AND d.deptype = 'e'
  LEFT JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
  WHERE CASE WHEN p.oid < 16384 THEN p.proname::text LIKE ANY ($10::text[])
        ELSE NOT EXISTS (
          SELECT 1 FROM pg_catalog.unnest($9::text[]) a(pattern)
          WHERE p.proname::text LIKE a.pattern
             OR (n.nspname::text || '.' || p.proname::text) LIKE a.pattern
             OR e.extname::text LIKE a.pattern) END
),
offenders(what) AS (
  SELECT pg_catalog.format('function %s.%s%s', pg_catalog.quote_ident(p.nspname),
           pg_catalog.quote_ident(p.proname),
           coalesce(' (extension ' || pg_catalog.quote_ident(p.extname) || ')', ''))
  FROM ROWS FROM (pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]),
                  pg_catalog.unnest($4::int4[]), pg_catalog.unnest($5::bool[])) AS f(nsp, name, nargs, field)
  JOIN procs p ON p.proname = f.name
  WHERE CASE WHEN f.nsp = '' THEN p.nspname = ANY (pg_catalog.current_schemas(true))
             ELSE p.nspname = f.nsp END
    AND (f.nargs < 0
         OR f.nargs BETWEEN p.pronargs - p.pronargdefaults AND p.pronargs
         OR (p.provariadic <> 0 AND f.nargs >= p.pronargs - 1))
    AND (NOT f.field
         OR (p.pronargs = 1 AND EXISTS (SELECT 1 FROM pg_catalog.pg_type t
                                        WHERE t.oid = p.proargtypes[0] AND t.typtype IN ('c', 'p'))))
  UNION
  SELECT pg_catalog.format('operator %s (function %s.%s%s)', o.oprname,
           pg_catalog.quote_ident(p.nspname), pg_catalog.quote_ident(p.proname),
           coalesce(', extension ' || pg_catalog.quote_ident(p.extname), ''))
  FROM ROWS FROM (pg_catalog.unnest($6::text[]), pg_catalog.unnest($7::text[])) AS u(nsp, sym)
  JOIN pg_catalog.pg_operator o ON o.oprname = u.sym
  JOIN pg_catalog.pg_namespace ns ON ns.oid = o.oprnamespace
  JOIN procs p ON p.oid = o.oprcode::oid
  WHERE CASE WHEN u.nsp = '' THEN ns.nspname = ANY (pg_catalog.current_schemas(true))
             ELSE ns.nspname = u.nsp END
    AND o.oprleft < 16384 AND o.oprright < 16384
  UNION
  SELECT pg_catalog.format('cast to %s (function %s.%s%s)', pg_catalog.format_type(c.casttarget, NULL),
           pg_catalog.quote_ident(p.nspname), pg_catalog.quote_ident(p.proname),
           coalesce(', extension ' || pg_catalog.quote_ident(p.extname), ''))
  FROM pg_catalog.unnest($8::text[]) AS t(name)
  JOIN pg_catalog.pg_cast c ON c.casttarget = pg_catalog.to_regtype(t.name)
  JOIN procs p ON p.oid = c.castfunc
  WHERE c.castsource < 16384
)
SELECT what FROM offenders ORDER BY what)";

/// The types of `$1..$10`, for preparing [`SET_TIMEOUTS_AND_PROBE`] and sending [`CHECK`].
pub const PARAM_TYPES: [Type; 10] = [
    Type::TEXT,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::INT4_ARRAY,
    Type::BOOL_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
];

/// The bound values of [`SET_TIMEOUTS_AND_PROBE`] and [`CHECK`], owned so they outlive the request.
pub struct CheckParams {
    timeout_ms: String,
    fn_schemas: Vec<String>,
    fn_names: Vec<String>,
    fn_args: Vec<i32>,
    fn_field: Vec<bool>,
    op_schemas: Vec<String>,
    op_symbols: Vec<String>,
    casts: Vec<String>,
    allowed: Vec<String>,
}

impl CheckParams {
    pub fn new(timeout_ms: String, calls: &Calls, allow_functions: &[String]) -> Self {
        let mut p = CheckParams {
            timeout_ms,
            fn_schemas: Vec::new(),
            fn_names: Vec::new(),
            fn_args: Vec::new(),
            fn_field: Vec::new(),
            op_schemas: Vec::new(),
            op_symbols: Vec::new(),
            casts: calls.casts.iter().cloned().collect(),
            allowed: allow_functions.iter().map(|a| like_pattern(a)).collect(),
        };
        for f in &calls.functions {
            p.fn_schemas.push(f.schema.clone().unwrap_or_default());
            p.fn_names.push(f.name.clone());
            p.fn_args
                .push(f.args.and_then(|n| i32::try_from(n).ok()).unwrap_or(-1));
            p.fn_field.push(f.field_notation);
        }
        let implicit = IMPLICIT_OPERATORS.iter().map(|s| (None, s.to_string()));
        let written = calls
            .operators
            .iter()
            .map(|o| (o.schema.clone(), o.symbol.clone()));
        for (schema, symbol) in implicit.chain(written) {
            p.op_schemas.push(schema.unwrap_or_default());
            p.op_symbols.push(symbol);
        }
        p
    }

    /// The parameters in `$1..$10` order (their types are [`PARAM_TYPES`]).
    pub fn as_params(&self) -> [&(dyn ToSql + Sync); 10] {
        [
            &self.timeout_ms,
            &self.fn_schemas,
            &self.fn_names,
            &self.fn_args,
            &self.fn_field,
            &self.op_schemas,
            &self.op_symbols,
            &self.casts,
            &self.allowed,
            &*DENIED_PATTERNS,
        ]
    }
}

/// The guard's deny list as LIKE patterns, built once.
static DENIED_PATTERNS: LazyLock<Vec<String>> = LazyLock::new(|| {
    POSTGRES_DENIED
        .iter()
        .flat_map(|family| family.functions.iter().map(|f| like_pattern(f)))
        .collect()
});

/// `allow_functions` entries as LIKE patterns: `_` and `%` are literal, a trailing `*` is
/// any suffix.
fn like_pattern(entry: &str) -> String {
    let (body, star) = match entry.strip_suffix('*') {
        Some(body) => (body, true),
        None => (entry, false),
    };
    let mut out = String::with_capacity(body.len() + 2);
    for c in body.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    if star {
        out.push('%');
    }
    out
}

/// The refusal for what the server found, naming each object and how to allow it.
pub fn refusal(offenders: &[String]) -> Error {
    let list = offenders.join("; ");
    Error::rejected(format!(
        "the query may call {list}, which is not built into PostgreSQL. By \
         default only built-in functions run; if this one is safe to run on this source, add \
         its name or extension to the source's allow_functions (tdb source edit … \
         --connection '{{\"allow_functions\":[\"…\"]}}')"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_entries_become_literal_like_patterns() {
        assert_eq!(like_pattern("postgis"), "postgis");
        assert_eq!(like_pattern("st_*"), "st\\_%");
        assert_eq!(like_pattern("public.my_fn"), "public.my\\_fn");
        assert_eq!(like_pattern("100%"), "100\\%");
    }

    #[test]
    fn implicit_comparisons_are_always_checked() {
        let p = CheckParams::new("1000".into(), &Calls::default(), &[]);
        assert_eq!(p.op_symbols, IMPLICIT_OPERATORS.map(String::from));
        assert!(p.fn_names.is_empty());
    }
}
