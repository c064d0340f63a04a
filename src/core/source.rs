//! The source record of seed 000 and the rules a registration must pass.
//!
//! Connection details arrive as free JSON (a request body, `--connection`, flags); they are
//! validated here into typed specs, field by field, with messages that name the field. The
//! secret never lives in a spec: it travels beside it as a [`SecretString`] and is stored
//! encrypted by the registry.

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use super::error::{Error, Result};
use super::kind::{Context, Kind, field_errors};
pub use super::kind::{MASK, SecretChange};

pub const NAME_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 500;
pub const TAG_MAX_CHARS: usize = 100;
pub const TAGS_MAX: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Failed,
    Testing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Failed => "failed",
            Status::Testing => "testing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Status::Active, Status::Failed, Status::Testing]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A connection without its secret: the kind's stored form, every default spelled out.
/// Only the kind reads its fields (into its typed spec); everything else goes through the
/// kind's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    kind: Kind,
    stored: Map<String, Json>,
}

impl Connection {
    pub fn new(kind: Kind, stored: Map<String, Json>) -> Connection {
        Connection { kind, stored }
    }

    /// A kind's typed spec as its stored form, for connectors and tests that build one.
    pub fn from_spec(kind: Kind, spec: &impl Serialize) -> Result<Connection> {
        match serde_json::to_value(spec) {
            Ok(Json::Object(stored)) => Ok(Connection { kind, stored }),
            Ok(_) => Err(Error::Internal(format!(
                "a {kind} connection must be stored as an object"
            ))),
            Err(e) => Err(Error::internal("cannot store a connection", e)),
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn stored(&self) -> &Map<String, Json> {
        &self.stored
    }

    /// The kind's typed spec (`PgConnection`, …).
    pub fn spec<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(Json::Object(self.stored.clone())).map_err(|e| {
            Error::internal(
                &format!("registry holds an unreadable {} connection", self.kind),
                e,
            )
        })
    }

    /// The form stored in the registry: no secret, every default spelled out.
    pub fn to_stored_json(&self) -> Json {
        Json::Object(self.stored.clone())
    }

    pub fn from_stored_json(kind: Kind, text: &str) -> Result<Self> {
        match serde_json::from_str(text) {
            Ok(Json::Object(stored)) => Ok(Connection { kind, stored }),
            Ok(_) => Err(Error::Internal(
                "registry holds an unreadable connection: not an object".into(),
            )),
            Err(e) => Err(Error::internal(
                "registry holds an unreadable connection",
                e,
            )),
        }
    }

    /// The form output shows: a stored password appears as [`MASK`], never its value.
    pub fn to_public_json(&self, has_password: bool) -> Json {
        self.kind.public_json(&self.stored, has_password)
    }

    /// A one-line, credential-free summary such as `tdb_reader@db.internal:5432/production`.
    pub fn display_target(&self) -> String {
        self.kind.target(&self.stored)
    }
}

/// A registration, validated: seed 000's request body.
#[derive(Debug)]
pub struct NewSource {
    pub name: String,
    pub connection: Connection,
    pub secret: Option<SecretString>,
    pub description: String,
    pub tags: Vec<String>,
}

/// The seed's request body as it arrives, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub name: Json,
    pub source_type: Json,
    pub connection: Json,
    #[serde(default)]
    pub description: Option<Json>,
    #[serde(default)]
    pub tags: Option<Json>,
}

impl RegisterRequest {
    /// Reads a request body; every problem names the field it is about.
    pub fn from_json_text(text: &str) -> Result<Self> {
        let value: Json = serde_json::from_str(text)
            .map_err(|e| Error::Invalid(format!("request body is not valid JSON: {e}")))?;
        let Json::Object(obj) = &value else {
            return Err(Error::Invalid("request body must be a JSON object".into()));
        };
        for required in ["name", "source_type", "connection"] {
            if !obj.contains_key(required) {
                return Err(Error::Invalid(format!("{required}: field is required")));
            }
        }
        serde_json::from_value(value).map_err(|e| Error::Invalid(format!("request body: {e}")))
    }

    /// Validates the request; `find` resolves `source_type` to a kind of this build.
    pub fn validate(self, find: fn(&str) -> Result<Kind>, cx: &Context<'_>) -> Result<NewSource> {
        let kind = find(&expect_string("source_type", &self.source_type)?)?;
        self.validate_as(kind, cx)
    }

    /// Validates the request as a source of `kind` (its `source_type` already resolved).
    pub fn validate_as(self, kind: Kind, cx: &Context<'_>) -> Result<NewSource> {
        let name = validate_name(&expect_string("name", &self.name)?)?;
        let description = match &self.description {
            None | Some(Json::Null) => String::new(),
            Some(d) => validate_description(&expect_string("description", d)?)?,
        };
        let tags = match &self.tags {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(items)) => {
                let mut tags = Vec::with_capacity(items.len());
                for (i, t) in items.iter().enumerate() {
                    tags.push(expect_string(&format!("tags[{i}]"), t)?);
                }
                validate_tags(tags)?
            }
            Some(_) => return Err(Error::Invalid("tags: must be an array of strings".into())),
        };
        let Json::Object(conn) = self.connection else {
            return Err(Error::Invalid("connection: must be a JSON object".into()));
        };
        let valid = kind.validate(&conn, cx).map_err(|e| field_errors(&e))?;
        let connection = Connection::new(kind, valid.stored);
        let secret = match valid.secret {
            SecretChange::Set(s) => Some(s),
            SecretChange::Keep | SecretChange::Clear => None,
        };
        Ok(NewSource {
            name,
            connection,
            secret,
            description,
            tags,
        })
    }
}

fn expect_string(field: &str, v: &Json) -> Result<String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        _ => Err(Error::Invalid(format!("{field}: must be a string"))),
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

pub fn validate_name(name: &str) -> Result<String> {
    let n = name.chars().count();
    if n == 0 || name.trim().is_empty() {
        return Err(Error::Invalid("name: must not be empty".into()));
    }
    if n > NAME_MAX_CHARS {
        return Err(Error::Invalid(format!(
            "name: at most {NAME_MAX_CHARS} characters allowed, got {n}"
        )));
    }
    if has_control(name) {
        return Err(Error::Invalid(
            "name: control characters are not allowed".into(),
        ));
    }
    if name.trim() != name {
        return Err(Error::Invalid(
            "name: must not start or end with whitespace".into(),
        ));
    }
    Ok(name.to_string())
}

pub fn validate_description(d: &str) -> Result<String> {
    let n = d.chars().count();
    if n > DESCRIPTION_MAX_CHARS {
        return Err(Error::Invalid(format!(
            "description: at most {DESCRIPTION_MAX_CHARS} characters allowed, got {n}"
        )));
    }
    if d.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::Invalid(
            "description: control characters are not allowed".into(),
        ));
    }
    Ok(d.to_string())
}

/// Tags keep their order; repeats are dropped.
pub fn validate_tags(tags: Vec<String>) -> Result<Vec<String>> {
    if tags.len() > TAGS_MAX {
        return Err(Error::Invalid(format!(
            "tags: at most {TAGS_MAX} tags allowed, got {}",
            tags.len()
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let n = t.chars().count();
        if n == 0 || t.trim().is_empty() {
            return Err(Error::Invalid("tags: a tag must not be empty".into()));
        }
        if n > TAG_MAX_CHARS {
            return Err(Error::Invalid(format!(
                "tags: a tag has at most {TAG_MAX_CHARS} characters, got {n}"
            )));
        }
        if has_control(&t) {
            return Err(Error::Invalid(
                "tags: control characters are not allowed".into(),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// A full source record (seed 000's SourceRecord), secrets excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    pub id: String,
    pub name: String,
    pub connection: Connection,
    /// A password is stored (encrypted) for this source.
    pub has_password: bool,
    pub description: String,
    pub tags: Vec<String>,
    pub registered_by: String,
    pub registered_at: String,
    pub status: Status,
}

impl SourceRecord {
    pub fn source_type(&self) -> Kind {
        self.connection.kind()
    }

    /// The full record as `source add/show --json` print it.
    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id,
            "name": self.name,
            "source_type": self.source_type().name(),
            "connection": self.connection.to_public_json(self.has_password),
            "description": self.description,
            "tags": self.tags,
            "registered_by": self.registered_by,
            "registered_at": self.registered_at,
            "status": self.status.as_str(),
        })
    }

    /// The summary `source list --json` prints: no connection details.
    pub fn to_summary_json(&self) -> Json {
        json!({
            "id": self.id,
            "name": self.name,
            "source_type": self.source_type().name(),
            "description": self.description,
            "tags": self.tags,
            "registered_at": self.registered_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded() {
        assert!(validate_name(&"a".repeat(100)).is_ok());
        let e = validate_name(&"a".repeat(101)).unwrap_err();
        assert!(e.detail().starts_with("name:"), "{e}");
        assert!(validate_name("").is_err());
        assert!(validate_name("a\u{1b}[2J").is_err());
        // Multi-byte characters count as one each.
        assert!(validate_name(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn descriptions_and_tags_are_bounded() {
        assert!(validate_description(&"d".repeat(500)).is_ok());
        let e = validate_description(&"d".repeat(501)).unwrap_err();
        assert!(e.detail().starts_with("description:"), "{e}");
        let tags = validate_tags(vec!["a".into(), "b".into(), "a".into()]).unwrap();
        assert_eq!(tags, vec!["a", "b"]);
        assert!(validate_tags(vec!["".into()]).is_err());
    }

    #[test]
    fn register_request_requires_fields() {
        let e = RegisterRequest::from_json_text(r#"{"source_type":"csv","connection":{}}"#)
            .unwrap_err();
        assert_eq!(e.detail(), "name: field is required");
        let e = RegisterRequest::from_json_text("[1]").unwrap_err();
        assert_eq!(e.exit_code(), 10);
    }
}
