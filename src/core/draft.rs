//! A source as a form holds it while someone types: every field as text, the password
//! apart. The rules are the registry's own ([`validate_name`], the kind's
//! [`KindRules::validate`], …): this module only maps them onto fields, so the form shows
//! each problem next to the field it is about, and turns a finished draft into a
//! registration or an edit.

use std::collections::BTreeSet;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value as Json};

use super::Result;
#[cfg(doc)]
use super::kind::KindRules;
use super::kind::{Context, Kind};
use super::source::{
    NewSource, RegisterRequest, SourceRecord, validate_description, validate_name, validate_tags,
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
    pub source_type: Kind,
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
        let kind = rec.connection.kind();
        let m = kind.to_form(rec.connection.stored());
        SourceDraft {
            name: rec.name.clone(),
            source_type: kind,
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
            source_type: Json::String(self.source_type.name().into()),
            connection: Json::Object(self.connection_with_password()),
            description: Some(Json::String(self.description.clone())),
            tags: Some(Json::Array(
                self.tag_list().into_iter().map(Json::String).collect(),
            )),
        }
    }

    /// The validated registration; paths resolve through `cx`.
    pub fn to_new_source(&self, cx: &Context<'_>) -> Result<NewSource> {
        self.register_request().validate_as(self.source_type, cx)
    }

    /// Every problem of the draft, by field (the connection's fields by their key).
    pub fn problems(&self, cx: &Context<'_>) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut field = |e: crate::core::Error| {
            let detail = e.detail();
            out.push(match detail.split_once(": ") {
                Some((field, message)) => (field.to_string(), message.to_string()),
                None => (String::new(), detail.to_string()),
            });
        };
        if let Err(e) = validate_name(&self.name) {
            field(e);
        }
        if let Err(e) = validate_description(&self.description) {
            field(e);
        }
        if let Err(e) = validate_tags(self.tag_list()) {
            field(e);
        }
        if let Err(errors) = self
            .source_type
            .validate(&self.connection_with_password(), cx)
        {
            out.extend(errors.into_iter().map(|e| (e.field, e.message)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::guard::{Dialect, GuardPolicy, SQLITE_DENIED};
    use crate::core::kind::{FieldError, FieldSpec, Fields, KindRules, SecretChange, Validated};
    use crate::core::source::{Connection, Status};
    use serde_json::json;
    use std::path::Path;

    /// A kind with one required field and a password, standing for any.
    struct Test;

    const FIELDS: &[FieldSpec] = &[
        FieldSpec::text("host", "host", "").required(),
        FieldSpec::text("port", "port", "")
            .input(crate::core::kind::Input::Number { min: 1, max: 9 }),
        FieldSpec::text("password", "password", "").input(crate::core::kind::Input::Secret),
        FieldSpec::text("password_env", "password env", ""),
    ];

    impl KindRules for Test {
        fn name(&self) -> &'static str {
            "test"
        }
        fn about(&self) -> &'static str {
            "a test kind"
        }
        fn fields(&self) -> &'static [FieldSpec] {
            FIELDS
        }
        fn validate(
            &self,
            input: &Map<String, Json>,
            _cx: &Context<'_>,
        ) -> std::result::Result<Validated, Vec<FieldError>> {
            let mut f = Fields::new(input, "test", FIELDS);
            let host = f.required_text("host");
            let port = f.number("port", 1, 9);
            let password = f.string("password");
            let env = f.text("password_env");
            if password.is_some() && env.is_some() {
                f.error(
                    "password_env",
                    "give either password or password_env, not both",
                );
            }
            let secret = match password {
                Some(p) => SecretChange::Set(SecretString::from(p)),
                None => SecretChange::Keep,
            };
            f.finish(
                || json!({"host": host, "port": port.unwrap_or(1), "password_env": env}),
                secret,
            )
        }
        fn target(&self, stored: &Map<String, Json>) -> String {
            stored["host"].to_string()
        }
        fn policy(&self) -> GuardPolicy {
            GuardPolicy {
                dialect: Dialect::Sqlite,
                denied: SQLITE_DENIED,
            }
        }
    }

    static TEST: Test = Test;
    fn cx() -> Context<'static> {
        Context {
            cwd: Path::new("/"),
            user_home: None,
        }
    }

    fn draft(conn: Json) -> SourceDraft {
        let Json::Object(connection) = conn else {
            panic!("an object")
        };
        SourceDraft {
            name: "orders".into(),
            source_type: Kind(&TEST),
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
        let mut d = draft(json!({"port": "99"}));
        d.name = String::new();
        d.tags = "a, b\u{7}".into();
        let p = d.problems(&cx());
        assert_eq!(fields(&p), ["name", "tags", "host", "port"]);
        assert_eq!(p[0].1, "must not be empty");
        assert_eq!(p[2].1, "field is required");
        assert_eq!(p[3].1, "must be a whole number from 1 to 9");
        let d = draft(json!({"host": "h"}));
        assert!(d.problems(&cx()).is_empty());
        assert_eq!(d.to_new_source(&cx()).unwrap().name, "orders");
    }

    #[test]
    fn the_password_never_prints_and_conflicts_with_password_env() {
        let mut d = draft(json!({"host": "h", "password_env": "PGPASS"}));
        d.password = Some(Password::new("hunter2"));
        assert!(!format!("{d:?}").contains("hunter2"));
        let p = d.problems(&cx());
        assert_eq!(fields(&p), ["password_env"]);
        assert!(!p[0].1.contains("hunter2"));
    }

    #[test]
    fn an_edit_patches_only_what_changed() {
        let Json::Object(stored) = json!({"host": "db", "port": 5, "password_env": "PGPASS"})
        else {
            panic!()
        };
        let rec = SourceRecord {
            id: "s1".into(),
            name: "orders".into(),
            connection: Connection::new(Kind(&TEST), stored),
            has_password: false,
            description: String::new(),
            tags: vec!["a".into(), "b".into()],
            registered_by: "x".into(),
            registered_at: "y".into(),
            status: Status::Active,
        };
        let before = SourceDraft::from_record(&rec);
        assert_eq!(before.tags, "a, b");
        assert_eq!(
            Json::Object(before.connection.clone()),
            json!({"host": "db", "port": "5", "password_env": "PGPASS"})
        );
        assert!(before.problems(&cx()).is_empty());
        let mut after = before.clone();
        after.connection.insert("port".into(), json!("6"));
        after.connection.remove("host");
        assert_eq!(
            Json::Object(after.connection_patch(&before)),
            json!({"host": null, "port": "6"})
        );
        after.connection.remove("password_env");
        after.password = Some(Password::new("pw"));
        assert_eq!(
            Json::Object(after.connection_patch(&before)),
            json!({"host": null, "port": "6", "password": "pw"})
        );
    }
}
