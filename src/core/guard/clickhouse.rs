//! ClickHouse's policy: what its table functions and functions may reach. Under the
//! connector's `readonly=1` the server itself refuses writes, `SET` and `SETTINGS`; what
//! `readonly` does not stop is reading from elsewhere: other servers (`remote`, `cluster`),
//! URLs, files, object stores and external databases, or running programs (`executable`).

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::{DeniedFamily, is_trivia};

/// The table functions a query may read from, all inside the server. Any other table
/// function is refused, so one a newer server adds is refused until it is judged here.
pub const TABLE_FUNCTIONS: &[&str] = &[
    "numbers",
    "numbers_mt",
    "zeros",
    "zeros_mt",
    "generaterandom",
    "values",
    "merge",
    "null",
];

/// Names refused wherever they appear, as table functions or calls.
pub const CLICKHOUSE_DENIED: &[DeniedFamily] = &[
    DeniedFamily {
        family: "other servers",
        functions: &["remote", "remotesecure", "cluster", "clusterallreplicas"],
    },
    DeniedFamily {
        family: "files, URLs and object stores",
        functions: &[
            "url",
            "urlcluster",
            "file",
            "filecluster",
            "s3",
            "s3cluster",
            "gcs",
            "cosn",
            "oss",
            "hdfs",
            "hdfscluster",
            "azureblobstorage*",
            "iceberg*",
            "deltalake*",
            "hudi*",
            "input",
            "format",
        ],
    },
    DeniedFamily {
        family: "external databases",
        functions: &[
            "mysql",
            "postgresql",
            "sqlite",
            "mongodb",
            "redis",
            "jdbc",
            "odbc",
            "catboostpool",
        ],
    },
    DeniedFamily {
        family: "programs and dictionary loaders",
        functions: &["executable", "executablepool", "dictionary", "shardbyhash"],
    },
];

/// Words after which a bare `FINAL` is not a table's modifier: the clause keywords a column
/// or an expression may follow.
const NOT_A_TABLE: &[Keyword] = &[
    Keyword::SELECT,
    Keyword::DISTINCT,
    Keyword::WHERE,
    Keyword::PREWHERE,
    Keyword::HAVING,
    Keyword::AND,
    Keyword::OR,
    Keyword::NOT,
    Keyword::BY,
    Keyword::ON,
    Keyword::USING,
    Keyword::FROM,
    Keyword::JOIN,
    Keyword::AS,
    Keyword::CASE,
    Keyword::WHEN,
    Keyword::THEN,
    Keyword::ELSE,
    Keyword::IN,
    Keyword::IS,
    Keyword::LIKE,
    Keyword::ILIKE,
    Keyword::BETWEEN,
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::SAMPLE,
    Keyword::WITH,
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
    Keyword::ALL,
    Keyword::ANY,
    Keyword::ARRAY,
    Keyword::INTERVAL,
];

/// ClickHouse's `FROM t [AS x] FINAL` modifier, which sqlparser 0.63 cannot parse (it reads
/// `t FINAL` as the alias FINAL, and fails on `t AS x FINAL`), removed from what the parser
/// is shown; the text sent keeps it, and the server reads it where it stands. A bare
/// `FINAL` right after a name or a `)` is removed; the server reads such a word as the
/// modifier, or at worst as a column's alias, so it can hide neither a call nor a table.
pub(super) fn drop_final_modifiers(tokens: &mut Vec<TokenWithSpan>) {
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !is_trivia(&tokens[i].token))
        .collect();
    let mut drop = vec![false; tokens.len()];
    for (k, &i) in significant.iter().enumerate() {
        let is_final = matches!(
            &tokens[i].token,
            Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::FINAL
        );
        if !is_final {
            continue;
        }
        let at = |j: Option<usize>| {
            j.and_then(|j| significant.get(j))
                .map(|&j| &tokens[j].token)
        };
        let after_a_name = match at(k.checked_sub(1)) {
            Some(Token::Word(w)) => w.quote_style.is_some() || !NOT_A_TABLE.contains(&w.keyword),
            Some(Token::RParen) => true,
            _ => false,
        };
        let part_of_a_name = matches!(at(Some(k + 1)), Some(Token::Period | Token::LParen));
        drop[i] = after_a_name && !part_of_a_name;
    }
    let mut i = 0;
    tokens.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::super::{Dialect, GuardPolicy, TableName, guard};
    use super::CLICKHOUSE_DENIED;

    const CH: GuardPolicy = GuardPolicy {
        dialect: Dialect::ClickHouse,
        denied: CLICKHOUSE_DENIED,
    };

    fn hits() -> TableName {
        TableName {
            schema: None,
            name: "hits".into(),
        }
    }

    fn refused(sql: &str) -> String {
        match guard(sql, &CH, Some(&hits()), 100) {
            Ok(g) => panic!("accepted {sql}: {}", g.executed_sql),
            Err(e) => {
                assert_eq!(e.exit_code(), 10, "{sql}: {e}");
                e.to_string()
            }
        }
    }

    fn accepted(sql: &str) -> String {
        match guard(sql, &CH, Some(&hits()), 100) {
            Ok(g) => g.executed_sql,
            Err(e) => panic!("refused {sql}: {e}"),
        }
    }

    #[test]
    fn table_functions_outside_the_server_are_refused() {
        for sql in [
            "SELECT * FROM url('http://x/', CSV, 'a String')",
            "SELECT * FROM file('/etc/passwd', CSV, 'a String')",
            "SELECT * FROM remote('h', system.one)",
            "SELECT * FROM remoteSecure('h', system.one)",
            "SELECT * FROM cluster('c', system.one)",
            "SELECT * FROM clusterAllReplicas('c', system.one)",
            "SELECT * FROM s3('http://x/b', 'CSV', 'a String')",
            "SELECT * FROM hdfs('hdfs://x/y', 'CSV', 'a String')",
            "SELECT * FROM mysql('h:3306', 'd', 't', 'u', 'p')",
            "SELECT * FROM postgresql('h:5432', 'd', 't', 'u', 'p')",
            "SELECT * FROM jdbc('x', 'y')",
            "SELECT * FROM odbc('x', 'y')",
            "SELECT * FROM executable('cat', 'CSV', 'a String')",
            "SELECT * FROM input('a String')",
            "SELECT * FROM dictionary('d')",
            "SELECT * FROM someNewFunction(1)",
            "SELECT * FROM db.numbers(3)",
            "SELECT * FROM data WHERE id IN (SELECT a FROM url('http://x/', CSV, 'a String'))",
            "WITH x AS (SELECT * FROM remote('h', system.one)) SELECT * FROM x",
        ] {
            let e = refused(sql);
            assert!(e.contains("table function"), "{sql}: {e}");
        }
        // As calls too, wherever they are.
        let e = refused("SELECT url('http://x/')");
        assert!(e.contains("files, URLs"), "{e}");
    }

    #[test]
    fn settings_outfile_and_formats_are_refused() {
        for sql in [
            "SELECT 1 SETTINGS readonly = 0",
            "SELECT 1 SETTINGS max_execution_time = 0",
            "SELECT * FROM data INTO OUTFILE '/tmp/x'",
            "SELECT 1 FORMAT JSON",
            "INSERT INTO hits VALUES (1)",
            "ALTER TABLE hits DELETE WHERE 1",
            "SET readonly = 0",
            "SELECT 1; SELECT 2",
        ] {
            refused(sql);
        }
        let e = refused("SELECT * FROM data SETTINGS max_threads = 1");
        assert!(e.contains("readonly=1"), "{e}");
    }

    #[test]
    fn clickhouse_syntax_is_accepted() {
        // FINAL stays where it was written, after the alias `data` keeps.
        assert_eq!(
            accepted("SELECT * FROM data FINAL"),
            "SELECT * FROM \"hits\" AS data FINAL LIMIT 101"
        );
        assert_eq!(
            accepted("SELECT data.id FROM data final WHERE data.id > 1"),
            "SELECT data.id FROM \"hits\" AS data final WHERE data.id > 1 LIMIT 101"
        );
        assert_eq!(
            accepted("SELECT d.id FROM data AS d FINAL SAMPLE 1/2"),
            "SELECT d.id FROM \"hits\" AS d FINAL SAMPLE 1/2 LIMIT 101"
        );
        accepted("SELECT * FROM db.events FINAL JOIN data FINAL USING (id)");
        accepted("SELECT * FROM (SELECT * FROM data) FINAL");
        // A column or function named final is still one.
        accepted("SELECT t.final, final(1) FROM data AS t");
        // FINAL can hide nothing: what follows it is still checked.
        let e = refused("SELECT * FROM data FINAL, url('http://x/', CSV, 'a String')");
        assert!(e.contains("table function"), "{e}");
        accepted("SELECT * FROM numbers(10)");
        accepted("SELECT * FROM data SAMPLE 1/10");
        accepted("SELECT id, a FROM data ARRAY JOIN tags AS a");
        accepted("SELECT k, count() FROM data GROUP BY k WITH TOTALS");
        accepted("SELECT arrayMap(x -> x * 2, tags) FROM data");
        // A limit per group is not a row limit, and sqlparser reads no LIMIT after it: the
        // connector still stops reading after limit + 1 rows and kills the query.
        assert_eq!(
            accepted("SELECT id FROM data LIMIT 1 BY k"),
            "SELECT id FROM \"hits\" AS data LIMIT 1 BY k"
        );
        accepted("DESCRIBE data");
        accepted("SHOW TABLES");
    }
}
