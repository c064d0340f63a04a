//! What every source kind tells the rest of tdb about itself: its connection fields, the
//! rules that turn typed input into its stored form, how it shows in lists and JSON, and
//! the guard policy its SQL is checked with. Each kind implements [`KindRules`] in its own
//! connector folder; nothing outside that folder names a kind.
//!
//! These are rules only: validation here never touches the disk or the network (the form
//! runs it on every keystroke). Checks that do (does the file exist, is it a regular file)
//! belong to the connector's `admit`, `test` and `prepare`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde_json::{Map, Value as Json, json};

use super::error::{Error, Result};
pub use super::guard::GuardPolicy;

/// What output shows in place of any secret.
pub const MASK: &str = "********";

/// How a connection field is typed in and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    /// Never shown, never stored in the connection (encrypted beside it).
    Secret,
    /// A whole number in a range.
    Number {
        min: u64,
        max: u64,
    },
    /// One of a few words.
    Choice(&'static [&'static str]),
    /// `true` or `false`.
    Bool,
    /// A list of strings (JSON array; a repeatable flag).
    List,
}

/// One connection field of a kind, as the form and the command line offer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The key in the connection JSON (`connect_timeout_s`).
    pub key: &'static str,
    /// The form's label (`connect timeout`).
    pub label: &'static str,
    /// The form's placeholder and the flag's value hint.
    pub placeholder: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
    pub input: Input,
    pub required: bool,
    /// The value used when none is given, as the user would type it.
    pub default: Option<&'static str>,
}

impl FieldSpec {
    pub const fn text(key: &'static str, label: &'static str, help: &'static str) -> FieldSpec {
        FieldSpec {
            key,
            label,
            placeholder: "",
            help,
            input: Input::Text,
            required: false,
            default: None,
        }
    }

    pub const fn input(mut self, input: Input) -> FieldSpec {
        self.input = input;
        self
    }

    pub const fn placeholder(mut self, placeholder: &'static str) -> FieldSpec {
        self.placeholder = placeholder;
        self
    }

    pub const fn required(mut self) -> FieldSpec {
        self.required = true;
        self
    }

    pub const fn default(mut self, value: &'static str) -> FieldSpec {
        self.default = Some(value);
        self
    }

    pub fn is_secret(&self) -> bool {
        self.input == Input::Secret
    }
}

/// A problem with one field (`field` is the connection key, or `""` for the connection as a
/// whole). Shown as `connection.port: must be …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "connection: {}", self.message)
        } else {
            write!(f, "connection.{}: {}", self.field, self.message)
        }
    }
}

/// Several field problems as the one error the command line reports (every field named,
/// the first first).
pub fn field_errors(errors: &[FieldError]) -> Error {
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    Error::Invalid(text.join("; "))
}

/// What the secret of a connection is, as validated from input.
#[derive(Debug)]
pub enum SecretChange {
    /// The input said nothing about a password.
    Keep,
    /// A new password to store.
    Set(SecretString),
    /// Drop any stored password (e.g. `password_env` now names where it comes from).
    Clear,
}

/// A connection as validated: the stored form (no secret, every default spelled out) and
/// what to do with the secret.
#[derive(Debug)]
pub struct Validated {
    pub stored: Map<String, Json>,
    pub secret: SecretChange,
}

/// Where validation resolves what the user typed: relative paths against the working
/// directory, `~/` against the user's home. Given by the caller, so the rules read nothing.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub cwd: &'a Path,
    pub user_home: Option<&'a Path>,
}

impl Context<'_> {
    /// `~/x` in the user's home, a relative path under the working directory.
    pub fn resolve(&self, typed: &str) -> PathBuf {
        match (typed.strip_prefix("~/"), self.user_home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => self.cwd.join(typed),
        }
    }
}

/// What the UI needs to know about a stored connection's shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// No `table`: `data` names nothing, the schema lists every table.
    pub whole_database: bool,
    /// Where unqualified names resolve (`public`), so the schema browser can insert `orders`
    /// rather than `public.orders`.
    pub default_schema: Option<String>,
}

/// The rules of one source kind. Implemented once per kind, in its connector's folder.
pub trait KindRules: Send + Sync + 'static {
    /// The `source_type` (`postgres`).
    fn name(&self) -> &'static str;

    /// Other names `source_type` accepts for this kind (`postgresql`).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// One line for help: what a source of this kind is.
    fn about(&self) -> &'static str;

    /// Every connection field, in the order the form and the JSON show them.
    fn fields(&self) -> &'static [FieldSpec];

    /// Checks a connection object, naming every field that is wrong, and returns the
    /// stored form. Reads nothing: paths are resolved through `cx`.
    fn validate(
        &self,
        input: &Map<String, Json>,
        cx: &Context<'_>,
    ) -> Result<Validated, Vec<FieldError>>;

    /// A one-line, credential-free summary such as `reader@db.internal:5432/production`.
    fn target(&self, stored: &Map<String, Json>) -> String;

    /// The SQL dialect and deny list the guard applies.
    fn policy(&self) -> GuardPolicy;

    /// How the SQL is spoken, when it is not the engine a user would guess from the kind
    /// (a CSV file is queried with DuckDB's SQL).
    fn sql_note(&self) -> Option<&'static str> {
        None
    }

    fn shape(&self, stored: &Map<String, Json>) -> Shape {
        Shape {
            whole_database: stored.get("table").is_some_and(Json::is_null),
            default_schema: None,
        }
    }

    /// What a new editor for a source starts with: something that runs at once.
    fn starter_sql(&self, stored: &Map<String, Json>, label: &str) -> String {
        let _ = (stored, label);
        "SELECT * FROM data".to_string()
    }

    /// The input an edit validates: the stored form with `patch` merged in (a `null`
    /// removes a key). A kind whose fields stand for each other (a URL for host and port)
    /// removes what the patch replaces.
    fn merge(&self, stored: &Map<String, Json>, patch: &Map<String, Json>) -> Map<String, Json> {
        merge_patch(stored, patch)
    }

    /// The form's text for each field of a stored connection.
    fn to_form(&self, stored: &Map<String, Json>) -> Map<String, Json> {
        let mut out = Map::new();
        for f in self.fields() {
            let Some(v) = stored.get(f.key) else { continue };
            let v = match (f.input, v) {
                (_, Json::Null) | (Input::Secret, _) => continue,
                (Input::Bool, Json::Bool(_)) | (Input::List, _) => v.clone(),
                (_, Json::String(_)) => v.clone(),
                (_, other) => Json::String(other.to_string()),
            };
            out.insert(f.key.to_string(), v);
        }
        out
    }

    /// The connection as output shows it: every stored field in the kind's order, a stored
    /// secret as [`MASK`], never its value.
    fn public_json(&self, stored: &Map<String, Json>, has_secret: bool) -> Json {
        let mut m = Map::new();
        for f in self.fields() {
            if f.is_secret() {
                if has_secret {
                    m.insert(f.key.to_string(), json!(MASK));
                }
            } else if let Some(v) = stored.get(f.key) {
                m.insert(f.key.to_string(), v.clone());
            }
        }
        Json::Object(m)
    }

    /// Whether sources of this kind take a password.
    fn takes_password(&self) -> bool {
        self.fields().iter().any(FieldSpec::is_secret)
    }
}

/// A merge patch: `null` removes a key (except a secret's, which clears it).
pub fn merge_patch(stored: &Map<String, Json>, patch: &Map<String, Json>) -> Map<String, Json> {
    let mut merged = stored.clone();
    for (k, v) in patch {
        if v.is_null() && k != "password" {
            merged.remove(k);
        } else {
            merged.insert(k.clone(), v.clone());
        }
    }
    merged
}

/// A source kind, compared and shown by its name.
#[derive(Clone, Copy)]
pub struct Kind(pub &'static dyn KindRules);

impl Kind {
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn rules(self) -> &'static dyn KindRules {
        self.0
    }
}

impl Deref for Kind {
    type Target = dyn KindRules;

    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        self.0.name() == other.0.name()
    }
}

impl Eq for Kind {}

impl Hash for Kind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name().hash(state);
    }
}

impl fmt::Debug for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kind({})", self.0.name())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// Reads the fields of a connection object, keeping every problem instead of stopping at
/// the first, so a form can show each beside its field.
pub struct Fields<'a> {
    input: &'a Map<String, Json>,
    pub errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// Starts reading `input`, refusing keys that are not among `known`.
    pub fn new(input: &'a Map<String, Json>, kind: &str, known: &[FieldSpec]) -> Fields<'a> {
        let mut errors = Vec::new();
        for k in input.keys() {
            if !known.iter().any(|f| f.key == k) {
                let names: Vec<&str> = known.iter().map(|f| f.key).collect();
                errors.push(FieldError::new(
                    &k.escape_debug().to_string(),
                    format!(
                        "unknown field for a {kind} source (fields: {})",
                        names.join(", ")
                    ),
                ));
            }
        }
        Fields { input, errors }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError::new(field, message));
        }
    }

    /// The field is present (and not `null`).
    pub fn given(&self, field: &str) -> bool {
        self.input.get(field).is_some_and(|v| !v.is_null())
    }

    pub fn is_null(&self, field: &str) -> bool {
        self.input.get(field).is_some_and(Json::is_null)
    }

    /// A string field as given, `None` when absent or `null`.
    pub fn string(&mut self, field: &str) -> Option<String> {
        match self.input.get(field) {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(field, "must be a string");
                None
            }
        }
    }

    /// A text field that must not be empty or hold control characters.
    pub fn text(&mut self, field: &str) -> Option<String> {
        let v = self.string(field);
        self.check_text(field, v, false)
    }

    /// Like [`Fields::text`], and missing is an error.
    pub fn required_text(&mut self, field: &str) -> Option<String> {
        let v = self.string(field);
        self.check_text(field, v, true)
    }

    /// Checks a text value for `field` wherever it came from (a URL may carry it): not
    /// empty, no control characters, and present when `required`.
    pub fn check_text(&mut self, field: &str, v: Option<String>, required: bool) -> Option<String> {
        let bad_already = self.errors.iter().any(|e| e.field == field);
        match v {
            None => {
                if required && !bad_already {
                    self.error(field, "field is required");
                }
                None
            }
            Some(v) if v.trim().is_empty() => {
                self.error(field, "must not be empty");
                None
            }
            Some(v) if v.chars().any(char::is_control) => {
                self.error(field, "control characters are not allowed");
                None
            }
            Some(v) => Some(v),
        }
    }

    /// A whole number from `min` to `max` (a number or its digits as a string).
    pub fn number(&mut self, field: &str, min: u64, max: u64) -> Option<u64> {
        let n = match self.input.get(field) {
            None | Some(Json::Null) => return None,
            Some(Json::Number(n)) => n.as_u64(),
            Some(Json::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(field, format!("must be a whole number from {min} to {max}"));
                None
            }
        }
    }

    /// `true`/`false`, as JSON or as the words.
    pub fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.input.get(field) {
            None | Some(Json::Null) => None,
            Some(Json::Bool(b)) => Some(*b),
            Some(Json::String(s)) if s == "true" || s == "false" => Some(s == "true"),
            Some(_) => {
                self.error(field, "must be true or false");
                None
            }
        }
    }

    /// One of `choices`.
    pub fn choice(&mut self, field: &str, choices: &[&'static str]) -> Option<&'static str> {
        let v = self.string(field)?;
        match choices.iter().find(|c| **c == v) {
            Some(c) => Some(c),
            None => {
                self.error(
                    field,
                    format!(
                        "invalid {field} \"{}\" (use {})",
                        v.escape_debug(),
                        or_list(choices)
                    ),
                );
                None
            }
        }
    }

    /// Finishes: the stored form, or every problem found.
    pub fn finish(
        self,
        stored: impl FnOnce() -> Json,
        secret: SecretChange,
    ) -> Result<Validated, Vec<FieldError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        match stored() {
            Json::Object(stored) => Ok(Validated { stored, secret }),
            _ => Err(vec![FieldError::new("", "cannot be stored")]),
        }
    }
}

/// `a, b or c`.
pub fn or_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Json) -> Map<String, Json> {
        match v {
            Json::Object(m) => m,
            _ => Map::new(),
        }
    }

    const KNOWN: [FieldSpec; 3] = [
        FieldSpec::text("host", "host", "").required(),
        FieldSpec::text("port", "port", "").input(Input::Number { min: 1, max: 9 }),
        FieldSpec::text("mode", "mode", "").input(Input::Choice(&["a", "b", "c"])),
    ];

    #[test]
    fn every_problem_is_kept_by_field() {
        let input = obj(json!({"port": "12", "mode": "z", "extra": 1}));
        let mut f = Fields::new(&input, "test", &KNOWN);
        assert_eq!(f.required_text("host"), None);
        assert_eq!(f.number("port", 1, 9), None);
        assert_eq!(f.choice("mode", &["a", "b", "c"]), None);
        let shown: Vec<String> = f.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "connection.extra: unknown field for a test source (fields: host, port, mode)",
                "connection.host: field is required",
                "connection.port: must be a whole number from 1 to 9",
                "connection.mode: invalid mode \"z\" (use a, b or c)",
            ]
        );
    }

    #[test]
    fn paths_resolve_without_reading_anything() {
        let cx = Context {
            cwd: Path::new("/work"),
            user_home: Some(Path::new("/home/a")),
        };
        assert_eq!(cx.resolve("x.csv"), Path::new("/work/x.csv"));
        assert_eq!(cx.resolve("~/x.csv"), Path::new("/home/a/x.csv"));
        assert_eq!(cx.resolve("/abs/x.csv"), Path::new("/abs/x.csv"));
    }

    #[test]
    fn a_patch_null_removes_but_keeps_a_password_clear() {
        let stored = obj(json!({"a": 1, "b": 2}));
        let merged = merge_patch(&stored, &obj(json!({"a": null, "password": null, "c": 3})));
        assert_eq!(
            Json::Object(merged),
            json!({"b": 2, "password": null, "c": 3})
        );
    }
}
