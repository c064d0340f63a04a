//! A source as a form holds it while someone types: every field as text, the password
//! apart. The rules are the registry's own ([`validate_name`], [`parse_connection`], …):
//! this module only maps them onto fields, so the form shows each problem next to the field
//! it is about, and turns a finished draft into a registration or an edit.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value as Json};

use super::Result;
use super::source::{
    Connection, NewSource, RegisterRequest, SourceRecord, SourceType, parse_connection,
    validate_description, validate_name, validate_tags,
};

/// A typed password. Requests carry it to the backend, so it compares and clones like a
/// field; its `Debug` shows only a mask, so it never reaches a log.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn new(text: &str) -> Password {
        Password(SecretString::from(text))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Password) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl Eq for Password {}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Password({})", super::source::MASK)
    }
}

/// What a source form holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDraft {
    pub name: String,
    pub source_type: SourceType,
    /// Connection fields as typed: text, `has_header` a boolean; empty fields left out, the
    /// password never in here.
    pub connection: Map<String, Json>,
    /// A password typed in the form (`None`: leave the stored one as it is).
    pub password: Option<Password>,
    pub description: String,
    /// Tags as typed, separated by commas.
    pub tags: String,
}

/// A field's name and the problem with it, the field's name taken off the message.
pub type Problem = (String, String);

impl SourceDraft {
    /// A draft holding a stored source, for editing it: every connection field as the form
    /// shows it, no password (a stored one stays unless another is typed).
    pub fn from_record(rec: &SourceRecord) -> SourceDraft {
        let mut m = Map::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.into(), Json::String(v));
        };
        match &rec.connection {
            Connection::Postgres(c) => {
                put("host", c.host.clone());
                put("port", c.port.to_string());
                put("dbname", c.dbname.clone());
                put("user", c.user.clone());
                if let Some(var) = &c.password_env {
                    put("password_env", var.clone());
                }
                if let Some(t) = &c.table {
                    put("table", t.clone());
                }
                put("schema", c.schema.clone());
                put("sslmode", c.sslmode.as_str().into());
                put("connect_timeout_s", c.connect_timeout_s.to_string());
                put("statement_timeout_s", c.statement_timeout_s.to_string());
            }
            Connection::Csv(c) => {
                put("path", c.path.to_string_lossy().into_owned());
                put(
                    "delimiter",
                    match c.delimiter {
                        '\t' => "\\t".into(),
                        d => d.to_string(),
                    },
                );
                m.insert("has_header".into(), Json::Bool(c.has_header));
            }
        }
        SourceDraft {
            name: rec.name.clone(),
            source_type: rec.source_type(),
            connection: m,
            password: None,
            description: rec.description.clone(),
            tags: rec.tags.join(", "),
        }
    }

    /// The tags typed, split at commas, blanks dropped.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect()
    }

    fn connection_with_password(&self) -> Map<String, Json> {
        let mut conn = self.connection.clone();
        if let Some(p) = &self.password {
            conn.insert(
                "password".into(),
                Json::String(p.0.expose_secret().to_string()),
            );
        }
        conn
    }

    /// The registration this draft asks for, as `tdb source add --from-json` would read it.
    pub fn register_request(&self) -> RegisterRequest {
        RegisterRequest {
            name: Json::String(self.name.clone()),
            source_type: Json::String(self.source_type.as_str().into()),
            connection: Json::Object(self.connection_with_password()),
            description: Some(Json::String(self.description.clone())),
            tags: Some(Json::Array(
                self.tag_list().into_iter().map(Json::String).collect(),
            )),
        }
    }

    /// The validated registration; relative paths resolve against `cwd`.
    pub fn to_new_source(&self, cwd: &Path) -> Result<NewSource> {
        self.register_request().validate(cwd)
    }

    /// Every problem of the draft, by field. The registry's rules stop at the first problem
    /// of a connection, so each problem found is set aside (its field replaced by a value
    /// that passes) and the rest checked again, until the connection passes.
    pub fn problems(&self, cwd: &Path) -> Vec<Problem> {
        let mut out = Vec::new();
        if let Err(e) = validate_name(&self.name) {
            out.push(split(e.detail()));
        }
        if let Err(e) = validate_description(&self.description) {
            out.push(split(e.detail()));
        }
        if let Err(e) = validate_tags(self.tag_list()) {
            out.push(split(e.detail()));
        }
        let mut conn = self.connection_with_password();
        // Each round sets one field aside, so this many rounds always suffice.
        for _ in 0..=conn.len() + 3 {
            let Err(e) = parse_connection(self.source_type, &conn, cwd) else {
                break;
            };
            let (field, message) = split(e.detail());
            if out.iter().any(|(f, _)| *f == field) {
                break; // setting it aside did not help: report what is known
            }
            set_aside(&mut conn, &field);
            out.push((field, message));
        }
        out
    }

    /// The connection changes since `before` (the draft the form started from), as the
    /// merge patch `Registry::edit` takes: changed fields with their value, emptied ones as
    /// `null`, the password only when one was typed.
    pub fn connection_patch(&self, before: &SourceDraft) -> Map<String, Json> {
        let keys: BTreeSet<&String> = self
            .connection
            .keys()
            .chain(before.connection.keys())
            .collect();
        let mut patch = Map::new();
        for k in keys {
            let now = self.connection.get(k);
            if now != before.connection.get(k) {
                patch.insert(k.clone(), now.cloned().unwrap_or(Json::Null));
            }
        }
        if let Some(p) = &self.password {
            // A typed password replaces `password_env` by itself; naming `password_env` in
            // the same patch would make the edit drop the new password.
            patch.remove("password_env");
            patch.insert(
                "password".into(),
                Json::String(p.0.expose_secret().to_string()),
            );
        }
        patch
    }
}

/// `connection.port: must be …` as `("port", "must be …")`.
fn split(detail: &str) -> Problem {
    let rest = detail.strip_prefix("connection.").unwrap_or(detail);
    match rest.split_once(": ") {
        Some((field, message)) if !field.contains(' ') => (field.into(), message.into()),
        _ => (String::new(), detail.into()),
    }
}

/// Replaces a field found wrong by a value that passes, so the next check looks further.
fn set_aside(conn: &mut Map<String, Json>, field: &str) {
    let mut put = |k: &str, v: &str| {
        conn.insert(k.into(), Json::String(v.into()));
    };
    match field {
        // Stand-ins for what the URL would have given.
        "url" => {
            conn.remove("url");
            for k in ["host", "dbname", "user"] {
                conn.entry(k)
                    .or_insert_with(|| Json::String("placeholder".into()));
            }
        }
        "host" | "dbname" | "user" => put(field, "placeholder"),
        // A file every Unix system has, readable by anyone.
        "path" => put(field, "/dev/null"),
        _ => {
            conn.remove(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(source_type: SourceType, conn: Json) -> SourceDraft {
        let Json::Object(connection) = conn else {
            panic!("an object")
        };
        SourceDraft {
            name: "orders".into(),
            source_type,
            connection,
            password: None,
            description: String::new(),
            tags: String::new(),
        }
    }

    fn fields(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|(f, _)| f.as_str()).collect()
    }

    #[test]
    fn every_wrong_field_is_named_not_only_the_first() {
        let mut d = draft(
            SourceType::Postgres,
            json!({"host": "db", "port": "99999", "sslmode": "on", "connect_timeout_s": "x"}),
        );
        d.name = String::new();
        d.tags = "a, , b".into();
        let p = d.problems(Path::new("/"));
        assert_eq!(
            fields(&p),
            [
                "name",
                "port",
                "sslmode",
                "connect_timeout_s",
                "dbname",
                "user"
            ]
        );
        assert_eq!(p[0].1, "must not be empty");
        assert_eq!(p[1].1, "must be a whole number from 1 to 65535");
        assert_eq!(p[4].1, "field is required");
    }

    #[test]
    fn a_url_replaces_the_separate_fields() {
        let d = draft(
            SourceType::Postgres,
            json!({"url": "postgres://u@db/prod", "table": "orders"}),
        );
        assert!(d.problems(Path::new("/")).is_empty());
        let d = draft(
            SourceType::Postgres,
            json!({"url": "mysql://u@db/prod", "port": "0"}),
        );
        assert_eq!(fields(&d.problems(Path::new("/"))), ["port", "url"]);
        let d = draft(
            SourceType::Postgres,
            json!({"url": "postgres://u@db/prod", "host": "other"}),
        );
        let p = d.problems(Path::new("/"));
        assert_eq!(fields(&p), ["url"]);
        assert!(p[0].1.starts_with("give either url or host"), "{p:?}");
    }

    #[test]
    fn csv_paths_resolve_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let d = draft(
            SourceType::Csv,
            json!({"path": "missing.csv", "delimiter": ";;"}),
        );
        let p = d.problems(dir.path());
        assert_eq!(fields(&p), ["path", "delimiter"]);
        assert!(p[0].1.starts_with("no such file"), "{p:?}");
        std::fs::write(dir.path().join("a.csv"), "x\n1\n").unwrap();
        let d = draft(
            SourceType::Csv,
            json!({"path": "a.csv", "has_header": false}),
        );
        assert!(d.problems(dir.path()).is_empty());
        let new = d.to_new_source(dir.path()).unwrap();
        assert_eq!(new.name, "orders");
    }

    #[test]
    fn the_password_never_prints_and_conflicts_with_password_env() {
        let mut d = draft(
            SourceType::Postgres,
            json!({"host": "h", "dbname": "d", "user": "u", "password_env": "PGPASS"}),
        );
        d.password = Some(Password::new("hunter2"));
        assert!(!format!("{d:?}").contains("hunter2"));
        let p = d.problems(Path::new("/"));
        assert_eq!(fields(&p), ["password_env"]);
        assert!(!p[0].1.contains("hunter2"));
    }

    #[test]
    fn an_edit_patches_only_what_changed() {
        let rec = SourceRecord {
            id: "s1".into(),
            name: "orders".into(),
            connection: Connection::Postgres(crate::core::source::PgConnection {
                host: "db".into(),
                port: 5432,
                dbname: "prod".into(),
                user: "reader".into(),
                password_env: Some("PGPASS".into()),
                table: Some("orders".into()),
                schema: "public".into(),
                sslmode: Default::default(),
                connect_timeout_s: 10,
                statement_timeout_s: 30,
                allow_functions: Vec::new(),
            }),
            has_password: false,
            description: String::new(),
            tags: vec!["a".into(), "b".into()],
            registered_by: "x".into(),
            registered_at: "y".into(),
            status: crate::core::source::Status::Active,
        };
        let before = SourceDraft::from_record(&rec);
        assert_eq!(before.tags, "a, b");
        assert!(before.problems(Path::new("/")).is_empty());
        let mut after = before.clone();
        after.connection.insert("port".into(), json!("6432"));
        after.connection.remove("table");
        assert_eq!(
            Json::Object(after.connection_patch(&before)),
            json!({"port": "6432", "table": null})
        );
        after.connection.remove("password_env");
        after.password = Some(Password::new("pw"));
        assert_eq!(
            Json::Object(after.connection_patch(&before)),
            json!({"port": "6432", "table": null, "password": "pw"})
        );
    }
}
