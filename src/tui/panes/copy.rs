//! Copying and exporting, as state: the format copies use this session, the menu that
//! picks it, and the prompt that names an export file. The work itself (the clipboard, the
//! file) happens in the backend; here is only what the screen shows and the keys change.

use ratatui_textarea::{Input, Key};

use crate::backend::protocol::RequestId;
use crate::core::export::Format;
use crate::core::sanitize::for_clipboard;

/// The formats the copy menu offers, the default (TSV) first.
pub const COPY_FORMATS: [Format; 6] = Format::ALL;

/// The formats an export file can have.
pub const EXPORT_FORMATS: [Format; 3] = [Format::Csv, Format::Json, Format::JsonLines];

/// The copy-format menu; `selected` indexes [`COPY_FORMATS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyMenu {
    pub selected: usize,
}

impl CopyMenu {
    /// A menu with the current format highlighted.
    pub fn new(current: Format) -> CopyMenu {
        CopyMenu {
            selected: COPY_FORMATS.iter().position(|f| *f == current).unwrap_or(0),
        }
    }

    pub fn format(&self) -> Format {
        COPY_FORMATS
            .get(self.selected)
            .copied()
            .unwrap_or(Format::Tsv)
    }
}

/// One line of text being typed: a file name. Kept to one line whatever is pasted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// The cursor, in characters from the start.
    cursor: usize,
}

impl LineInput {
    pub fn new(text: &str) -> LineInput {
        LineInput {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Inserts text at the cursor; line breaks and control characters are dropped, since a
    /// file name holds none that a person means to type.
    pub fn insert(&mut self, s: &str) {
        let clean: String = for_clipboard(s)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let at = self.byte_at(self.cursor);
        self.text.insert_str(at, &clean);
        self.cursor += clean.chars().count();
    }

    /// A key typed in the field: characters, Backspace, Delete, the arrows, Home, End,
    /// Ctrl-U (clear to the start) and Ctrl-K (clear to the end), as in a shell.
    pub fn input(&mut self, input: Input) {
        let len = self.text.chars().count();
        match input.key {
            Key::Char('u') if input.ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            Key::Char('k') if input.ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.truncate(at);
            }
            Key::Char('a') if input.ctrl => self.cursor = 0,
            Key::Char('e') if input.ctrl => self.cursor = len,
            Key::Char(c) if !input.ctrl && !input.alt => self.insert(c.encode_utf8(&mut [0; 4])),
            Key::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
            }
            Key::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            Key::Left => self.cursor = self.cursor.saturating_sub(1),
            Key::Right => self.cursor = (self.cursor + 1).min(len),
            Key::Home => self.cursor = 0,
            Key::End => self.cursor = len,
            _ => {}
        }
    }

    /// Replaces the whole text, the cursor at its end.
    pub fn set(&mut self, text: &str) {
        *self = LineInput::new(text);
    }
}

/// Where the export prompt is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportStage {
    /// The file name is being typed.
    Editing,
    /// The file exists; `y` replaces it. `shown` is its path as the backend resolved it,
    /// safe for the terminal.
    ConfirmOverwrite { shown: String },
}

/// The export prompt: a file name and a format that follow each other (typing `.json`
/// picks JSON; the format key rewrites a known extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPrompt {
    pub input: LineInput,
    pub format: Format,
    pub stage: ExportStage,
    /// Rows that will be written, for the title.
    pub rows: usize,
    /// The result has rows past those fetched: [`ExportPrompt::every_row`] may be chosen.
    pub more: bool,
    /// Every row of the result is written (its query runs again), not only those fetched.
    pub every_row: bool,
}

impl ExportPrompt {
    pub fn new(name: &str, rows: usize) -> ExportPrompt {
        let mut p = ExportPrompt {
            input: LineInput::new(name),
            format: Format::Csv,
            stage: ExportStage::Editing,
            rows,
            more: false,
            every_row: false,
        };
        p.follow_extension();
        p
    }

    /// The format the typed name's extension says, if it says one.
    pub fn follow_extension(&mut self) {
        if let Some(f) = format_of(self.input.text()) {
            self.format = f;
        }
    }

    /// The next export format; a known extension at the end of the name changes with it.
    pub fn next_format(&mut self) {
        let i = EXPORT_FORMATS
            .iter()
            .position(|f| *f == self.format)
            .unwrap_or(0);
        let next = EXPORT_FORMATS[(i + 1) % EXPORT_FORMATS.len()];
        let text = self.input.text();
        if format_of(text).is_some()
            && let Some(dot) = text.rfind('.')
        {
            let renamed = format!("{}.{}", &text[..dot], next.extension());
            self.input.set(&renamed);
        }
        self.format = next;
    }
}

/// The export format a file name's extension names.
fn format_of(name: &str) -> Option<Format> {
    let (_, ext) = name.rsplit_once('.')?;
    match ext.to_ascii_lowercase().as_str() {
        "csv" => Some(Format::Csv),
        "json" => Some(Format::Json),
        "jsonl" | "ndjson" => Some(Format::JsonLines),
        _ => None,
    }
}

/// A file name for exporting a result of `source`: its name with what a file name should
/// not hold replaced, and the format's extension (`orders.csv`).
pub fn default_file_name(source: &str, format: Format) -> String {
    let stem: String = source
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_matches('.');
    let stem = if stem.is_empty() { "result" } else { stem };
    format!("{stem}.{}", format.extension())
}

/// An export the backend is writing: the prompt comes back if the file exists.
#[derive(Debug, Clone)]
pub struct PendingExport {
    pub id: RequestId,
    pub prompt: ExportPrompt,
    /// How far an export of every row has got: rows and bytes written.
    pub progress: Option<(u64, u64)>,
}

/// Copy and export settings for the session.
#[derive(Debug, Clone)]
pub struct CopyState {
    /// What `y`, `Y`, `Ctrl-Y` and the column copy produce; TSV until changed.
    pub format: Format,
    /// The file name last exported to, offered again.
    pub last_export: Option<String>,
    pub pending: Option<PendingExport>,
}

impl Default for CopyState {
    fn default() -> Self {
        CopyState {
            format: Format::Tsv,
            last_export: None,
            pending: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: Key) -> Input {
        Input {
            key: k,
            ctrl: false,
            alt: false,
            shift: false,
        }
    }

    #[test]
    fn the_field_edits_like_a_shell_line() {
        let mut l = LineInput::new("ab");
        l.input(key(Key::Left));
        l.input(key(Key::Char('é')));
        assert_eq!((l.text(), l.cursor()), ("aéb", 2));
        l.input(key(Key::Backspace));
        l.input(key(Key::Delete));
        assert_eq!(l.text(), "a");
        l.insert("x\ny\u{1b}[201~z");
        assert_eq!(l.text(), "axy[201~z", "one line, no control characters");
        l.input(Input {
            key: Key::Char('u'),
            ctrl: true,
            alt: false,
            shift: false,
        });
        assert_eq!((l.text(), l.cursor()), ("", 0));
    }

    #[test]
    fn name_and_format_follow_each_other() {
        let mut p = ExportPrompt::new("orders.csv", 3);
        assert_eq!(p.format, Format::Csv);
        p.next_format();
        assert_eq!((p.input.text(), p.format), ("orders.json", Format::Json));
        p.next_format();
        assert_eq!(
            (p.input.text(), p.format),
            ("orders.jsonl", Format::JsonLines)
        );
        p.input.set("dump.txt");
        p.next_format();
        assert_eq!((p.input.text(), p.format), ("dump.txt", Format::Csv));
        p.input.set("x.NDJSON");
        p.follow_extension();
        assert_eq!(p.format, Format::JsonLines);
    }

    #[test]
    fn default_names_are_file_safe() {
        assert_eq!(default_file_name("orders", Format::Csv), "orders.csv");
        assert_eq!(default_file_name("a/b c", Format::Json), "a_b_c.json");
        assert_eq!(default_file_name("..", Format::JsonLines), "result.jsonl");
    }
}
