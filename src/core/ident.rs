//! Writing a table or column name into SQL so it means exactly that name: PostgreSQL folds
//! unquoted names to lower case and refuses reserved words, so `Order ID`, `Users` and `user`
//! only work quoted. PostgreSQL and SQLite quote with `"`, MySQL with backticks.

use std::borrow::Cow;

use super::guard::Dialect;

/// Words PostgreSQL reserves (its "reserved" and "reserved, can be function or type"
/// keywords), plus the few SQLite refuses as bare names.
const RESERVED: &[&str] = &[
    "all",
    "alter",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "autoincrement",
    "between",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "do",
    "drop",
    "else",
    "end",
    "escape",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "glob",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "index",
    "initially",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "match",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "regexp",
    "returning",
    "right",
    "select",
    "session_user",
    "set",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "transaction",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// `name` as SQL: bare when it is a plain lower-case name that is not reserved, else in
/// double quotes with inner quotes doubled.
pub fn quote_ident(name: &str) -> Cow<'_, str> {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&name);
    if plain {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    }
}

/// `schema.name`, each part quoted as needed.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// [`quote_ident`] in a dialect's own quotes: MySQL's backticks (its `"…"` is a string),
/// where a plain name may have capitals (they are kept as written).
pub fn quote_ident_in(name: &str, dialect: Dialect) -> Cow<'_, str> {
    match dialect {
        Dialect::MySql => {
            let mut chars = name.chars();
            let plain = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !RESERVED.contains(&name.to_ascii_lowercase().as_str());
            if plain {
                Cow::Borrowed(name)
            } else {
                Cow::Owned(format!("`{}`", name.replace('`', "``")))
            }
        }
        // Names are case-sensitive; inside quotes a backslash escapes.
        Dialect::ClickHouse => {
            let mut chars = name.chars();
            let plain = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if plain {
                Cow::Borrowed(name)
            } else {
                Cow::Owned(format!(
                    "\"{}\"",
                    name.replace('\\', "\\\\").replace('"', "\\\"")
                ))
            }
        }
        Dialect::Postgres | Dialect::Sqlite | Dialect::DuckDb => quote_ident(name),
    }
}

/// [`qualified`] in a dialect's quotes.
pub fn qualified_in(schema: &str, name: &str, dialect: Dialect) -> String {
    format!(
        "{}.{}",
        quote_ident_in(schema, dialect),
        quote_ident_in(name, dialect)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_names_take_backticks() {
        assert_eq!(quote_ident_in("Orders", Dialect::MySql), "Orders");
        assert_eq!(
            quote_ident_in("order items", Dialect::MySql),
            "`order items`"
        );
        assert_eq!(quote_ident_in("a`b", Dialect::MySql), "`a``b`");
        assert_eq!(quote_ident_in("Select", Dialect::MySql), "`Select`");
        assert_eq!(
            qualified_in("shop", "Order Items", Dialect::MySql),
            "shop.`Order Items`"
        );
        assert_eq!(quote_ident_in("Orders", Dialect::Postgres), "\"Orders\"");
    }

    #[test]
    fn plain_names_stay_bare() {
        assert_eq!(quote_ident("orders"), "orders");
        assert_eq!(quote_ident("_tmp2"), "_tmp2");
    }

    #[test]
    fn names_that_need_quotes_get_them() {
        assert_eq!(quote_ident("Order ID"), "\"Order ID\"");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("2024"), "\"2024\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident(""), "\"\"");
        assert_eq!(quote_ident("café"), "\"café\"");
        assert_eq!(qualified("Sales", "order"), "\"Sales\".\"order\"");
    }
}
