//! A one-line text field (form fields, the source filter, the history search and the limit
//! prompt) on top of ratatui-textarea, so moving and deleting work as in the editor. It
//! never holds a line break: keys that would insert one are not passed on.

use std::fmt;

use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, Input, Key, TextArea};

use crate::core::sanitize::for_clipboard;

/// What a masked field draws in place of each character.
const MASK: char = '•';

pub struct LineInput {
    area: TextArea<'static>,
    masked: bool,
    focused: bool,
    /// Dim text drawn while the field is empty (by `ui`, aligned with typed text).
    placeholder: String,
}

impl Default for LineInput {
    fn default() -> Self {
        LineInput::new("")
    }
}

impl fmt::Debug for LineInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.masked {
            f.write_str("LineInput(masked)")
        } else {
            write!(f, "LineInput({:?})", self.text())
        }
    }
}

impl LineInput {
    pub fn new(text: &str) -> LineInput {
        let mut input = LineInput {
            area: TextArea::default(),
            masked: false,
            focused: false,
            placeholder: String::new(),
        };
        input.set_text(text);
        input.set_focused(false);
        input
    }

    /// A field whose characters are never drawn (a password).
    pub fn masked() -> LineInput {
        let mut input = LineInput::new("");
        input.area.set_mask_char(MASK);
        input.masked = true;
        input
    }

    /// Dim text shown while the field is empty.
    pub fn set_placeholder(&mut self, text: &str) {
        self.placeholder = text.to_string();
    }

    pub fn placeholder(&self) -> &str {
        &self.placeholder
    }

    pub fn is_masked(&self) -> bool {
        self.masked
    }

    pub fn focused(&self) -> bool {
        self.focused
    }

    pub fn text(&self) -> &str {
        self.area.lines().first().map_or("", String::as_str)
    }

    /// Replaces the text (its first line, kept as it is: a stored value must stay the
    /// same unless edited), the cursor at its end.
    pub fn set_text(&mut self, text: &str) {
        let cursor = self.area.cursor_style();
        let first = text.lines().next().unwrap_or("").to_string();
        self.area = TextArea::new(vec![first]);
        self.area.set_cursor_line_style(Style::default());
        self.area
            .set_selection_style(Style::default().add_modifier(Modifier::REVERSED));
        self.area.set_cursor_style(cursor);
        if self.masked {
            self.area.set_mask_char(MASK);
        }
        self.area.move_cursor(CursorMove::End);
    }

    /// Selects the text: what is typed next replaces it.
    pub fn select_all(&mut self) {
        self.area.select_all();
    }

    /// Only a focused field shows its cursor.
    pub fn set_focused(&mut self, focused: bool) {
        self.focused = focused;
        self.area.set_cursor_style(if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        });
    }

    /// Applies a key; says whether the text changed.
    pub fn input(&mut self, input: Input) -> bool {
        let breaks_line = match input.key {
            Key::Enter | Key::Tab | Key::Char('\n' | '\r') => true,
            Key::Char('m') => input.ctrl,
            _ => false,
        };
        !breaks_line && self.area.input(input)
    }

    /// Inserts pasted text at the cursor: its first line, control characters dropped.
    pub fn paste(&mut self, text: &str) {
        self.area.insert_str(one_line(text));
    }

    pub fn widget(&self) -> &TextArea<'static> {
        &self.area
    }
}

/// The first line of `text`, with no control characters left.
fn one_line(text: &str) -> String {
    let clean = for_clipboard(text);
    clean
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> Input {
        Input {
            key: Key::Char(c),
            ..Input::default()
        }
    }

    #[test]
    fn one_line_only() {
        let mut f = LineInput::new("ab");
        assert!(f.input(key('c')));
        assert!(!f.input(Input {
            key: Key::Enter,
            ..Input::default()
        }));
        f.paste("d\ne\x1b");
        assert_eq!(f.text(), "abcd");
        f.set_text("x\ny");
        assert_eq!(f.text(), "x");
        f.select_all();
        assert!(f.input(key('7')));
        assert_eq!(f.text(), "7", "a selected text is replaced");
    }

    #[test]
    fn a_masked_field_never_prints_its_text() {
        let mut f = LineInput::masked();
        f.paste("hunter2");
        assert_eq!(f.text(), "hunter2");
        assert!(!format!("{f:?}").contains("hunter2"));
    }
}
