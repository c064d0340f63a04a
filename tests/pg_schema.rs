//! `tdb source schema --json` against a real server: types as PostgreSQL spells them
//! (`format_type`, modifiers and domains included) the same for a one-table and a
//! whole-database source, with NOT NULL, primary and foreign keys and comments.

mod common;

use common::pg;
use common::process::{add_postgres_source, tdb};
use serde_json::{Value, json};

fn schema(home: &std::path::Path, source: &str) -> Value {
    let out = tdb(home)
        .args(["source", "schema", source, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn columns_carry_the_servers_spelling_keys_and_comments_in_both_shapes() {
    let c = pg::shared();
    let db = pg::unique("schema");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    c.psql(
        &db,
        "CREATE DOMAIN year AS integer CHECK (VALUE > 1900);
         CREATE TABLE customers (id int PRIMARY KEY, name varchar(45) NOT NULL);
         CREATE TABLE orders (
           id bigint PRIMARY KEY,
           customer_id int NOT NULL REFERENCES customers (id),
           total numeric(20,10),
           made year,
           code char(3),
           at timestamptz(3),
           tags text[]
         );
         COMMENT ON COLUMN orders.total IS 'in euros';",
    );
    let home = tempfile::tempdir().unwrap();
    let home = home.path().join("home");
    for (name, table) in [("one", Some("orders")), ("all", None)] {
        let mut conn = c.connection_json(&db, pg::SUPERUSER, c.superuser_password());
        if let Some(t) = table {
            conn["table"] = json!(t);
        }
        add_postgres_source(&home, name, conn);
    }
    let want = json!([
        {"name": "id", "type": "bigint", "not_null": true, "primary_key": true, "references": null, "comment": null},
        {"name": "customer_id", "type": "integer", "not_null": true, "primary_key": false,
         "references": "public.customers(id)", "comment": null},
        {"name": "total", "type": "numeric(20,10)", "not_null": false, "primary_key": false, "references": null, "comment": "in euros"},
        {"name": "made", "type": "year", "not_null": false, "primary_key": false, "references": null, "comment": null},
        {"name": "code", "type": "character(3)", "not_null": false, "primary_key": false, "references": null, "comment": null},
        {"name": "at", "type": "timestamp(3) with time zone", "not_null": false, "primary_key": false, "references": null, "comment": null},
        {"name": "tags", "type": "text[]", "not_null": false, "primary_key": false, "references": null, "comment": null},
    ]);
    assert_eq!(schema(&home, "one")["columns"], want);
    let all = schema(&home, "all");
    let tables = all["tables"].as_array().unwrap();
    let orders = tables
        .iter()
        .find(|t| t["name"] == "orders")
        .expect("orders listed");
    assert_eq!(orders["columns"], want, "the same spelling in both shapes");
    let customers = tables.iter().find(|t| t["name"] == "customers").unwrap();
    assert_eq!(customers["columns"][1]["type"], "character varying(45)");
}
