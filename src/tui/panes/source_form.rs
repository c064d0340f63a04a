//! The form that adds or edits a source: one field per connection setting of the chosen
//! type, checked as they are typed by the registry's own rules (through
//! [`SourceDraft::problems`]), a masked password, and buttons to test the connection, save
//! or cancel. It holds state only; the app sends what its buttons ask for to the backend.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ratatui_textarea::{Input, Key};
use serde_json::Value as Json;

use crate::backend::protocol::RequestId;
use crate::core::draft::{Password, SourceDraft};
use crate::core::sanitize::for_terminal;
use crate::core::source::{SourceRecord, SourceType};

use super::line_input::LineInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKey {
    Name,
    Type,
    Url,
    Host,
    Port,
    Dbname,
    User,
    Password,
    PasswordEnv,
    Table,
    Schema,
    SslMode,
    ConnectTimeout,
    StatementTimeout,
    Path,
    Delimiter,
    HasHeader,
    Description,
    Tags,
}

const PG_FIELDS: &[FieldKey] = &[
    FieldKey::Url,
    FieldKey::Host,
    FieldKey::Port,
    FieldKey::Dbname,
    FieldKey::User,
    FieldKey::Password,
    FieldKey::PasswordEnv,
    FieldKey::Table,
    FieldKey::Schema,
    FieldKey::SslMode,
    FieldKey::ConnectTimeout,
    FieldKey::StatementTimeout,
];
const CSV_FIELDS: &[FieldKey] = &[FieldKey::Path, FieldKey::Delimiter, FieldKey::HasHeader];
const TYPES: &[&str] = &["postgres", "csv"];
const SSL_MODES: &[&str] = &["prefer", "disable", "require", "verify-ca", "verify-full"];
const YES_NO: &[&str] = &["yes", "no"];

impl FieldKey {
    pub fn label(self) -> &'static str {
        match self {
            FieldKey::Name => "name",
            FieldKey::Type => "type",
            FieldKey::Url => "url",
            FieldKey::Host => "host",
            FieldKey::Port => "port",
            FieldKey::Dbname => "database",
            FieldKey::User => "user",
            FieldKey::Password => "password",
            FieldKey::PasswordEnv => "password env",
            FieldKey::Table => "table",
            FieldKey::Schema => "schema",
            FieldKey::SslMode => "sslmode",
            FieldKey::ConnectTimeout => "connect timeout",
            FieldKey::StatementTimeout => "query timeout",
            FieldKey::Path => "path",
            FieldKey::Delimiter => "delimiter",
            FieldKey::HasHeader => "header row",
            FieldKey::Description => "description",
            FieldKey::Tags => "tags",
        }
    }

    /// The field's name in the registry's messages (`connection.port: …` is about `port`).
    pub fn problem_key(self) -> &'static str {
        match self {
            FieldKey::Name => "name",
            FieldKey::Type => "source_type",
            FieldKey::Url => "url",
            FieldKey::Host => "host",
            FieldKey::Port => "port",
            FieldKey::Dbname => "dbname",
            FieldKey::User => "user",
            FieldKey::Password => "password",
            FieldKey::PasswordEnv => "password_env",
            FieldKey::Table => "table",
            FieldKey::Schema => "schema",
            FieldKey::SslMode => "sslmode",
            FieldKey::ConnectTimeout => "connect_timeout_s",
            FieldKey::StatementTimeout => "statement_timeout_s",
            FieldKey::Path => "path",
            FieldKey::Delimiter => "delimiter",
            FieldKey::HasHeader => "has_header",
            FieldKey::Description => "description",
            FieldKey::Tags => "tags",
        }
    }

    fn placeholder(self) -> &'static str {
        match self {
            FieldKey::Name => "unique, 1-100 characters",
            FieldKey::Url => "postgres://user@host/db",
            FieldKey::Host => "db.example.com",
            FieldKey::Port => "5432",
            FieldKey::Dbname => "the database",
            FieldKey::User => "who connects",
            FieldKey::Password => "never shown (optional)",
            FieldKey::PasswordEnv => "or a variable holding it",
            FieldKey::Table => "behind `data` (optional)",
            FieldKey::Schema => "public",
            FieldKey::ConnectTimeout => "10 (seconds)",
            FieldKey::StatementTimeout => "30 (seconds)",
            FieldKey::Path => "a .csv file",
            FieldKey::Delimiter => ", (\\t for a tab)",
            FieldKey::Description => "optional",
            FieldKey::Tags => "comma, separated",
            FieldKey::Type | FieldKey::SslMode | FieldKey::HasHeader => "",
        }
    }
}

/// What a field holds: text, or one of a few choices.
#[derive(Debug)]
pub enum Value {
    /// Boxed: a text field is large, a choice is two words.
    Text(Box<LineInput>),
    Choice {
        options: &'static [&'static str],
        index: usize,
    },
}

impl Value {
    pub fn text(&self) -> &str {
        match self {
            Value::Text(t) => t.text(),
            Value::Choice { options, index } => options.get(*index).copied().unwrap_or(""),
        }
    }
}

#[derive(Debug)]
pub struct Field {
    pub key: FieldKey,
    pub value: Value,
    /// Typed in or left: from then on its problem shows.
    touched: bool,
    problem: Option<String>,
}

/// A line of the form the cursor can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Field(FieldKey),
    Button(Button),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Test,
    Save,
    Cancel,
}

impl Button {
    pub const ALL: [Button; 3] = [Button::Test, Button::Save, Button::Cancel];

    pub fn label(self) -> &'static str {
        match self {
            Button::Test => "Test connection",
            Button::Save => "Save",
            Button::Cancel => "Cancel",
        }
    }
}

#[derive(Debug)]
pub enum Mode {
    Add,
    Edit {
        source_id: String,
        /// The source's name, safe for the terminal.
        label: String,
        /// The form as it opened, so saving changes only what was changed.
        before: Box<SourceDraft>,
    },
}

/// The "test connection" button's last answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Idle,
    Running {
        id: RequestId,
        since: Instant,
    },
    Reachable(Duration),
    /// The message, safe for the terminal.
    Failed(String),
}

#[derive(Debug)]
pub struct SourceForm {
    pub mode: Mode,
    fields: Vec<Field>,
    /// Index into [`SourceForm::rows`].
    pub cursor: usize,
    pub check: Check,
    /// The save under way.
    pub saving: Option<RequestId>,
    /// Why the last save failed (safe for the terminal).
    pub failure: Option<String>,
    /// Save was pressed: every problem shows, touched or not.
    attempted: bool,
    /// Where relative CSV paths resolve, as the backend will resolve them.
    cwd: PathBuf,
}

impl SourceForm {
    pub fn add(cwd: PathBuf) -> SourceForm {
        let all = [FieldKey::Name, FieldKey::Type]
            .iter()
            .chain(PG_FIELDS)
            .chain(CSV_FIELDS)
            .chain(&[FieldKey::Description, FieldKey::Tags]);
        let fields = all.map(|k| new_field(*k)).collect();
        let mut form = SourceForm {
            mode: Mode::Add,
            fields,
            cursor: 0,
            check: Check::Idle,
            saving: None,
            failure: None,
            attempted: false,
            cwd,
        };
        form.refocus();
        form.revalidate();
        form
    }

    /// The form for a stored source: its values filled in, the password left empty (a
    /// stored one stays unless another is typed).
    pub fn edit(rec: &SourceRecord, cwd: PathBuf) -> SourceForm {
        let before = SourceDraft::from_record(rec);
        let mut form = SourceForm::add(cwd);
        form.set_choice(FieldKey::Type, rec.source_type().as_str());
        for f in &mut form.fields {
            let value = match f.key {
                FieldKey::Name => Some(Json::String(before.name.clone())),
                FieldKey::Description => Some(Json::String(before.description.clone())),
                FieldKey::Tags => Some(Json::String(before.tags.clone())),
                k => before.connection.get(k.problem_key()).cloned(),
            };
            match (&mut f.value, value) {
                (Value::Text(t), Some(Json::String(s))) => t.set_text(&s),
                (Value::Choice { options, index }, Some(v)) => {
                    let want = match v {
                        Json::Bool(b) => if b { "yes" } else { "no" }.to_string(),
                        Json::String(s) => s,
                        other => other.to_string(),
                    };
                    *index = options.iter().position(|o| *o == want).unwrap_or(0);
                }
                _ => {}
            }
        }
        if rec.has_password
            && let Some(Value::Text(t)) = form.value_mut(FieldKey::Password)
        {
            t.set_placeholder("stored; type to replace");
        }
        form.mode = Mode::Edit {
            source_id: rec.id.clone(),
            label: for_terminal(&rec.name).into_owned(),
            before: Box::new(before),
        };
        form.refocus();
        form.revalidate();
        form
    }

    pub fn source_type(&self) -> SourceType {
        match self.value(FieldKey::Type).map(Value::text) {
            Some("csv") => SourceType::Csv,
            _ => SourceType::Postgres,
        }
    }

    pub fn value(&self, key: FieldKey) -> Option<&Value> {
        self.fields.iter().find(|f| f.key == key).map(|f| &f.value)
    }

    fn value_mut(&mut self, key: FieldKey) -> Option<&mut Value> {
        self.fields
            .iter_mut()
            .find(|f| f.key == key)
            .map(|f| &mut f.value)
    }

    fn set_choice(&mut self, key: FieldKey, option: &str) {
        if let Some(Value::Choice { options, index }) = self.value_mut(key) {
            *index = options.iter().position(|o| *o == option).unwrap_or(0);
        }
    }

    /// The lines the cursor moves over: the fields of the chosen type, then the buttons.
    /// The type cannot change once a source exists, so editing does not offer it.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = vec![Row::Field(FieldKey::Name)];
        if matches!(self.mode, Mode::Add) {
            rows.push(Row::Field(FieldKey::Type));
        }
        let specific = match self.source_type() {
            SourceType::Postgres => PG_FIELDS,
            SourceType::Csv => CSV_FIELDS,
        };
        rows.extend(specific.iter().map(|k| Row::Field(*k)));
        rows.push(Row::Field(FieldKey::Description));
        rows.push(Row::Field(FieldKey::Tags));
        rows.extend(Button::ALL.map(Row::Button));
        rows
    }

    pub fn current(&self) -> Option<Row> {
        self.rows().get(self.cursor).copied()
    }

    /// Moves to the next (or previous) line, wrapping; the field left shows its problem.
    pub fn step(&mut self, forward: bool) {
        if let Some(Row::Field(k)) = self.current()
            && let Some(f) = self.fields.iter_mut().find(|f| f.key == k)
        {
            f.touched = true;
        }
        let n = self.rows().len();
        self.cursor = if forward {
            (self.cursor + 1) % n
        } else {
            (self.cursor + n - 1) % n
        };
        self.refocus();
    }

    fn refocus(&mut self) {
        let current = self.current();
        for f in &mut self.fields {
            if let Value::Text(t) = &mut f.value {
                t.set_focused(current == Some(Row::Field(f.key)));
            }
        }
    }

    /// A key for the field under the cursor: typed into text, Left/Right/Space change a
    /// choice.
    pub fn input(&mut self, input: Input) {
        let Some(Row::Field(key)) = self.current() else {
            return;
        };
        let Some(field) = self.fields.iter_mut().find(|f| f.key == key) else {
            return;
        };
        let changed = match &mut field.value {
            Value::Text(t) => t.input(input),
            Value::Choice { options, index } => {
                let n = options.len();
                match input.key {
                    Key::Left => *index = (*index + n - 1) % n,
                    Key::Right | Key::Char(' ') => *index = (*index + 1) % n,
                    _ => return,
                }
                true
            }
        };
        if changed {
            field.touched = true;
            self.changed();
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(Row::Field(key)) = self.current()
            && let Some(field) = self.fields.iter_mut().find(|f| f.key == key)
            && let Value::Text(t) = &mut field.value
        {
            t.paste(text);
            field.touched = true;
            self.changed();
        }
    }

    fn changed(&mut self) {
        self.check = Check::Idle;
        self.failure = None;
        self.revalidate();
    }

    /// The source as typed so far.
    pub fn draft(&self) -> SourceDraft {
        let text = |k: FieldKey| self.value(k).map_or("", Value::text).to_string();
        let mut connection = serde_json::Map::new();
        let mut password = None;
        for row in self.rows() {
            let Row::Field(key) = row else { continue };
            match key {
                FieldKey::Name | FieldKey::Type | FieldKey::Description | FieldKey::Tags => {}
                FieldKey::Password => {
                    let p = text(key);
                    password = (!p.is_empty()).then(|| Password::new(&p));
                }
                FieldKey::HasHeader => {
                    connection.insert(key.problem_key().into(), Json::Bool(text(key) == "yes"));
                }
                _ => {
                    let v = text(key);
                    if !v.is_empty() {
                        connection.insert(key.problem_key().into(), Json::String(v));
                    }
                }
            }
        }
        SourceDraft {
            name: text(FieldKey::Name),
            source_type: self.source_type(),
            connection,
            password,
            description: text(FieldKey::Description),
            tags: text(FieldKey::Tags),
        }
    }

    /// Checks every field again with the registry's rules.
    pub fn revalidate(&mut self) {
        let problems = self.draft().problems(&self.cwd);
        for f in &mut self.fields {
            f.problem = problems
                .iter()
                .find(|(k, _)| k == f.key.problem_key())
                .map(|(_, m)| for_terminal(m).into_owned());
        }
    }

    /// The problem to show beside a field: once it was touched, or after a save attempt.
    pub fn problem(&self, key: FieldKey) -> Option<&str> {
        let f = self.fields.iter().find(|f| f.key == key)?;
        (f.touched || self.attempted)
            .then_some(f.problem.as_deref())
            .flatten()
    }

    /// Save was pressed: shows every problem and puts the cursor on the first; true when
    /// there is none.
    pub fn attempt(&mut self) -> bool {
        self.attempted = true;
        self.revalidate();
        let first = self.rows().iter().position(|r| match r {
            Row::Field(k) => self.problem(*k).is_some(),
            Row::Button(_) => false,
        });
        match first {
            Some(i) => {
                self.cursor = i;
                self.refocus();
                false
            }
            None => true,
        }
    }

    /// Puts a problem the backend found (a name already taken) beside its field, or under
    /// the buttons when it belongs to none.
    pub fn fail(&mut self, detail: &str) {
        let detail = for_terminal(detail).into_owned();
        let taken = detail.starts_with("a source named");
        match self.fields.iter_mut().find(|f| {
            (taken && f.key == FieldKey::Name)
                || detail
                    .strip_prefix("connection.")
                    .unwrap_or(&detail)
                    .starts_with(&format!("{}:", f.key.problem_key()))
        }) {
            Some(f) => {
                f.problem = Some(detail);
                f.touched = true;
            }
            None => self.failure = Some(detail),
        }
    }

    /// A test or save is waiting for the backend.
    pub fn busy(&self) -> bool {
        self.saving.is_some() || matches!(self.check, Check::Running { .. })
    }
}

fn new_field(key: FieldKey) -> Field {
    let value = match key {
        FieldKey::Type => Value::Choice {
            options: TYPES,
            index: 0,
        },
        FieldKey::SslMode => Value::Choice {
            options: SSL_MODES,
            index: 0,
        },
        FieldKey::HasHeader => Value::Choice {
            options: YES_NO,
            index: 0,
        },
        FieldKey::Password => {
            let mut t = LineInput::masked();
            t.set_placeholder(key.placeholder());
            Value::Text(Box::new(t))
        }
        _ => {
            let mut t = LineInput::new("");
            t.set_placeholder(key.placeholder());
            Value::Text(Box::new(t))
        }
    };
    Field {
        key,
        value,
        touched: false,
        problem: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(form: &mut SourceForm, text: &str) {
        form.paste(text);
    }

    fn key(k: Key) -> Input {
        Input {
            key: k,
            ..Input::default()
        }
    }

    #[test]
    fn problems_show_once_a_field_was_left() {
        let mut f = SourceForm::add("/".into());
        assert_eq!(f.current(), Some(Row::Field(FieldKey::Name)));
        assert_eq!(f.problem(FieldKey::Name), None, "not before it was touched");
        f.step(true);
        assert_eq!(f.problem(FieldKey::Name), Some("must not be empty"));
        assert_eq!(f.current(), Some(Row::Field(FieldKey::Type)));
        f.input(key(Key::Right));
        assert_eq!(f.source_type(), SourceType::Csv);
        f.step(true);
        assert_eq!(f.current(), Some(Row::Field(FieldKey::Path)));
        typed(&mut f, "/no/such.csv");
        assert!(
            f.problem(FieldKey::Path)
                .is_some_and(|p| p.starts_with("no such file")),
            "{:?}",
            f.problem(FieldKey::Path)
        );
        assert!(!f.attempt());
        assert_eq!(f.current(), Some(Row::Field(FieldKey::Name)));
    }

    #[test]
    fn a_finished_form_makes_a_draft() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("people.csv"), "a\n1\n").unwrap();
        let mut f = SourceForm::add(dir.path().into());
        typed(&mut f, "people");
        f.step(true);
        f.input(key(Key::Char(' ')));
        f.step(true);
        typed(&mut f, "people.csv");
        f.step(true);
        f.step(true);
        f.input(key(Key::Right));
        assert!(f.attempt(), "{:?}", f.draft().problems(dir.path()));
        let d = f.draft();
        assert_eq!(d.source_type, SourceType::Csv);
        assert_eq!(
            Json::Object(d.connection),
            serde_json::json!({"path": "people.csv", "has_header": false})
        );
    }

    #[test]
    fn the_password_is_masked_and_kept_apart() {
        let mut f = SourceForm::add("/".into());
        while f.current() != Some(Row::Field(FieldKey::Password)) {
            f.step(true);
        }
        typed(&mut f, "hunter2");
        let d = f.draft();
        assert!(d.connection.get("password").is_none());
        assert_eq!(d.password, Some(Password::new("hunter2")));
        assert!(!format!("{f:?}").contains("hunter2"));
    }
}
