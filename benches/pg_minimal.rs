//! The floor for `benches/query_pg_bench.sh`: the least a program can do to print 1,000 rows
//! of a PostgreSQL query as JSON (connect, one prepared query, serialize), with no registry,
//! guard, audit or type mapping. tdb's figure is read against it and against psql.
//!
//!   pg_minimal "host=127.0.0.1 port=5432 user=bench dbname=bench" "SELECT * FROM big LIMIT 1000"

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(conninfo), Some(sql)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: pg_minimal CONNINFO SQL");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        let rows = client.query(sql.as_str(), &[]).await.expect("query");
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let mut list = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut m = serde_json::Map::new();
            for (i, c) in row.columns().iter().enumerate() {
                let v: Option<String> = row.try_get::<_, Option<String>>(i).ok().flatten();
                m.insert(
                    c.name().to_string(),
                    v.map_or(serde_json::Value::Null, Into::into),
                );
            }
            list.push(serde_json::Value::Object(m));
        }
        serde_json::to_writer(&mut out, &list).expect("write");
        writeln!(out).expect("write");
    });
}
