//! The form that adds or edits a source: one field per connection setting of the chosen
//! type, checked as they are typed by the registry's own rules (through
//! [`SourceDraft::problems`]), a masked password, and buttons to test the connection, save
//! or cancel. It holds state only; the app sends what its buttons ask for to the backend.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ratatui_textarea::{Input, Key};
use serde_json::Value as Json;

use crate::backend::protocol::RequestId;
use crate::connector::KINDS;
use crate::core::draft::{Password, SourceDraft};
use crate::core::kind::{FieldSpec, Input as Typed, Kind};
use crate::core::sanitize::for_terminal;
use crate::core::source::SourceRecord;
use crate::home::Here;

use super::line_input::LineInput;

/// A line of the form: the fields every source has, or a connection field of the chosen
/// kind (by its key; the kind's [`FieldSpec`] says how it is typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKey {
    Name,
    Type,
    Conn(&'static str),
    Description,
    Tags,
}

const YES_NO: &[&str] = &["yes", "no"];

impl FieldKey {
    /// The field's name in the registry's messages (`connection.port: …` is about `port`).
    pub fn problem_key(self) -> &'static str {
        match self {
            FieldKey::Name => "name",
            FieldKey::Type => "source_type",
            FieldKey::Conn(key) => key,
            FieldKey::Description => "description",
            FieldKey::Tags => "tags",
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
    /// The kind whose field this is (`None` for the fields every source has).
    kind: Option<Kind>,
    /// How a connection field is typed (`None` for the fields every source has).
    spec: Option<&'static FieldSpec>,
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
    /// Where typed paths resolve, as the backend will resolve them.
    here: Here,
    /// Esc was pressed once over typed values: the next Esc throws them away.
    pub discard_asked: bool,
}

impl SourceForm {
    pub fn add(here: Here) -> SourceForm {
        let mut fields = vec![
            common_field(FieldKey::Name, "unique, 1-100 characters"),
            type_field(),
        ];
        for kind in KINDS {
            for spec in kind.fields() {
                fields.push(conn_field(Kind(*kind), spec));
            }
        }
        fields.push(common_field(FieldKey::Description, "optional"));
        fields.push(common_field(FieldKey::Tags, "comma, separated"));
        let mut form = SourceForm {
            mode: Mode::Add,
            fields,
            cursor: 0,
            check: Check::Idle,
            saving: None,
            failure: None,
            attempted: false,
            here,
            discard_asked: false,
        };
        form.refocus();
        form.revalidate();
        form
    }

    /// The form for a stored source: its values filled in, the password left empty (a
    /// stored one stays unless another is typed).
    pub fn edit(rec: &SourceRecord, here: Here) -> SourceForm {
        let before = SourceDraft::from_record(rec);
        let mut form = SourceForm::add(here);
        form.set_choice(FieldKey::Type, rec.source_type().name());
        let kind = rec.source_type();
        for f in form
            .fields
            .iter_mut()
            .filter(|f| f.kind.is_none_or(|k| k == kind))
        {
            let value = match f.key {
                FieldKey::Name => Some(Json::String(before.name.clone())),
                FieldKey::Description => Some(Json::String(before.description.clone())),
                FieldKey::Tags => Some(Json::String(before.tags.clone())),
                k => before.connection.get(k.problem_key()).cloned(),
            };
            match (&mut f.value, value) {
                (Value::Text(t), Some(Json::String(s))) => t.set_text(&s),
                (Value::Text(t), Some(Json::Array(items))) => {
                    let items: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
                    t.set_text(&items.join(", "));
                }
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
        if rec.has_password {
            for f in form.fields.iter_mut() {
                if f.kind == Some(kind)
                    && f.spec.is_some_and(FieldSpec::is_secret)
                    && let Value::Text(t) = &mut f.value
                {
                    t.set_placeholder("stored; type to replace");
                }
            }
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

    /// The kind chosen in the type field.
    pub fn source_type(&self) -> Kind {
        let chosen = self
            .fields
            .iter()
            .find(|f| f.key == FieldKey::Type)
            .map_or("", |f| f.value.text());
        let kind = KINDS
            .iter()
            .find(|k| k.name() == chosen)
            .unwrap_or(&KINDS[0]);
        Kind(*kind)
    }

    fn field(&self, key: FieldKey) -> Option<&Field> {
        let kind = self.source_type();
        self.fields
            .iter()
            .find(|f| f.key == key && f.kind.is_none_or(|k| k == kind))
    }

    fn field_mut(&mut self, key: FieldKey) -> Option<&mut Field> {
        let kind = self.source_type();
        self.fields
            .iter_mut()
            .find(|f| f.key == key && f.kind.is_none_or(|k| k == kind))
    }

    pub fn value(&self, key: FieldKey) -> Option<&Value> {
        self.field(key).map(|f| &f.value)
    }

    /// The label beside a field.
    pub fn label(&self, key: FieldKey) -> &'static str {
        match key {
            FieldKey::Name => "name",
            FieldKey::Type => "type",
            FieldKey::Description => "description",
            FieldKey::Tags => "tags",
            FieldKey::Conn(k) => self.field(key).and_then(|f| f.spec).map_or(k, |s| s.label),
        }
    }

    fn set_choice(&mut self, key: FieldKey, option: &str) {
        if let Some(Field {
            value: Value::Choice { options, index },
            ..
        }) = self.field_mut(key)
        {
            *index = options.iter().position(|o| *o == option).unwrap_or(0);
        }
    }

    /// The lines the cursor moves over: the fields of the chosen kind, then the buttons.
    /// The kind cannot change once a source exists, so editing does not offer it.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = vec![Row::Field(FieldKey::Name)];
        if matches!(self.mode, Mode::Add) {
            rows.push(Row::Field(FieldKey::Type));
        }
        let kind = self.source_type();
        rows.extend(
            kind.fields()
                .iter()
                .map(|s| Row::Field(FieldKey::Conn(s.key))),
        );
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
            && let Some(f) = self.field_mut(k)
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
        let kind = self.source_type();
        for f in &mut self.fields {
            let here = f.kind.is_none_or(|k| k == kind);
            if let Value::Text(t) = &mut f.value {
                t.set_focused(here && current == Some(Row::Field(f.key)));
            }
        }
    }

    /// A key for the field under the cursor: typed into text, Left/Right/Space change a
    /// choice.
    pub fn input(&mut self, input: Input) {
        let Some(Row::Field(key)) = self.current() else {
            return;
        };
        let Some(field) = self.field_mut(key) else {
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
            && let Some(field) = self.field_mut(key)
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
            let Row::Field(key @ FieldKey::Conn(name)) = row else {
                continue;
            };
            let Some(spec) = self.field(key).and_then(|f| f.spec) else {
                continue;
            };
            let v = text(key);
            match spec.input {
                Typed::Secret => password = (!v.is_empty()).then(|| Password::new(&v)),
                Typed::Bool => {
                    connection.insert(name.into(), Json::Bool(v == "yes"));
                }
                Typed::List => {
                    let items: Vec<Json> = v
                        .split(',')
                        .map(str::trim)
                        .filter(|i| !i.is_empty())
                        .map(|i| Json::String(i.into()))
                        .collect();
                    if !items.is_empty() {
                        connection.insert(name.into(), Json::Array(items));
                    }
                }
                Typed::Text | Typed::Number { .. } | Typed::Choice(_) => {
                    if !v.is_empty() {
                        connection.insert(name.into(), Json::String(v));
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
        let problems = self.draft().problems(&self.here.context());
        for f in &mut self.fields {
            f.problem = problems
                .iter()
                .find(|(k, _)| k == f.key.problem_key())
                .map(|(_, m)| for_terminal(m).into_owned());
        }
    }

    /// The problem to show beside a field: once it was touched, or after a save attempt.
    pub fn problem(&self, key: FieldKey) -> Option<&str> {
        let f = self.field(key)?;
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
        let kind = self.source_type();
        match self.fields.iter_mut().find(|f| {
            f.kind.is_none_or(|k| k == kind)
                && ((taken && f.key == FieldKey::Name)
                    || detail
                        .strip_prefix("connection.")
                        .unwrap_or(&detail)
                        .starts_with(&format!("{}:", f.key.problem_key())))
        }) {
            Some(f) => {
                f.problem = Some(detail);
                f.touched = true;
            }
            None => self.failure = Some(detail),
        }
    }

    /// A test or save is waiting for the backend.
    /// Whether something was typed or chosen since the form opened.
    pub fn dirty(&self) -> bool {
        self.fields.iter().any(|f| f.touched)
    }

    pub fn busy(&self) -> bool {
        self.saving.is_some() || matches!(self.check, Check::Running { .. })
    }
}

fn text_value(placeholder: &str, masked: bool) -> Value {
    let mut t = if masked {
        LineInput::masked()
    } else {
        LineInput::new("")
    };
    t.set_placeholder(placeholder);
    Value::Text(Box::new(t))
}

fn common_field(key: FieldKey, placeholder: &str) -> Field {
    Field {
        key,
        kind: None,
        spec: None,
        value: text_value(placeholder, false),
        touched: false,
        problem: None,
    }
}

/// The kinds of this build, for the type field's choices.
fn kind_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(crate::connector::kind_names)
}

fn type_field() -> Field {
    Field {
        key: FieldKey::Type,
        kind: None,
        spec: None,
        value: Value::Choice {
            options: kind_names(),
            index: 0,
        },
        touched: false,
        problem: None,
    }
}

/// A connection field as its kind describes it: choices start at the default.
fn conn_field(kind: Kind, spec: &'static FieldSpec) -> Field {
    let choice = |options: &'static [&'static str]| Value::Choice {
        options,
        index: spec
            .default
            .map(|d| match (spec.input, d) {
                (Typed::Bool, "false") => "no",
                (Typed::Bool, _) => "yes",
                (_, d) => d,
            })
            .and_then(|d| options.iter().position(|o| *o == d))
            .unwrap_or(0),
    };
    let value = match spec.input {
        Typed::Choice(options) => choice(options),
        Typed::Bool => choice(YES_NO),
        Typed::Secret => text_value(spec.placeholder, true),
        Typed::Text | Typed::Number { .. } | Typed::List => text_value(spec.placeholder, false),
    };
    Field {
        key: FieldKey::Conn(spec.key),
        kind: Some(kind),
        spec: Some(spec),
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

    fn here(dir: &std::path::Path) -> Here {
        Here {
            cwd: dir.into(),
            user_home: None,
        }
    }

    #[test]
    fn problems_show_once_a_field_was_left() {
        let mut f = SourceForm::add(here("/".as_ref()));
        assert_eq!(f.current(), Some(Row::Field(FieldKey::Name)));
        assert_eq!(f.problem(FieldKey::Name), None, "not before it was touched");
        f.step(true);
        assert_eq!(f.problem(FieldKey::Name), Some("must not be empty"));
        assert_eq!(f.current(), Some(Row::Field(FieldKey::Type)));
        f.input(key(Key::Right));
        assert_eq!(f.source_type().name(), "csv");
        f.step(true);
        assert_eq!(f.current(), Some(Row::Field(FieldKey::Conn("path"))));
        f.step(true);
        assert_eq!(f.problem(FieldKey::Conn("path")), Some("field is required"));
        typed(&mut f, ";;");
        assert!(
            f.problem(FieldKey::Conn("delimiter"))
                .is_some_and(|p| p.starts_with("must be one character")),
            "{:?}",
            f.problem(FieldKey::Conn("delimiter"))
        );
        assert!(!f.attempt());
        assert_eq!(f.current(), Some(Row::Field(FieldKey::Name)));
    }

    #[test]
    fn the_fields_are_the_kinds_own() {
        let mut f = SourceForm::add(here("/".as_ref()));
        let conn = |f: &SourceForm| -> Vec<&'static str> {
            f.rows()
                .iter()
                .filter_map(|r| match r {
                    Row::Field(FieldKey::Conn(k)) => Some(*k),
                    _ => None,
                })
                .collect()
        };
        let keys =
            |kind: Kind| -> Vec<&'static str> { kind.fields().iter().map(|s| s.key).collect() };
        for kind in KINDS {
            assert_eq!(conn(&f), keys(f.source_type()));
            assert_eq!(f.source_type().name(), kind.name());
            f.set_choice(FieldKey::Type, "");
            let next = KINDS
                .iter()
                .position(|k| k.name() == kind.name())
                .map_or(0, |i| (i + 1) % KINDS.len());
            f.set_choice(FieldKey::Type, KINDS[next].name());
        }
        f.set_choice(FieldKey::Type, "postgres");
        assert_eq!(f.label(FieldKey::Conn("dbname")), "database");
        assert_eq!(
            f.value(FieldKey::Conn("sslmode")).map(Value::text),
            Some("prefer")
        );
    }

    #[test]
    fn a_finished_form_makes_a_draft() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("people.csv"), "a\n1\n").unwrap();
        let mut f = SourceForm::add(here(dir.path()));
        typed(&mut f, "people");
        f.step(true);
        f.set_choice(FieldKey::Type, "csv");
        f.step(true);
        typed(&mut f, "people.csv");
        f.step(true);
        f.step(true);
        f.input(key(Key::Right));
        assert!(
            f.attempt(),
            "{:?}",
            f.draft().problems(&here(dir.path()).context())
        );
        let d = f.draft();
        assert_eq!(d.source_type.name(), "csv");
        assert_eq!(
            Json::Object(d.connection),
            serde_json::json!({"path": "people.csv", "has_header": false})
        );
    }

    #[test]
    fn the_password_is_masked_and_kept_apart() {
        let mut f = SourceForm::add(here("/".as_ref()));
        while f.current() != Some(Row::Field(FieldKey::Conn("password"))) {
            f.step(true);
        }
        typed(&mut f, "hunter2");
        let d = f.draft();
        assert!(d.connection.get("password").is_none());
        assert_eq!(d.password, Some(Password::new("hunter2")));
        assert!(!format!("{f:?}").contains("hunter2"));
    }
}
