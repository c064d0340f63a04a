//! Colours and text styles of the UI in one place, so a config (or `NO_COLOR`) can swap
//! them without touching the drawing code.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub border: Style,
    pub border_focused: Style,
    pub title: Style,
    pub dim: Style,
    pub null: Style,
    pub error: Style,
    pub active: Style,
    pub failed: Style,
    pub testing: Style,
    pub selected: Style,
    pub cursor: Style,
    pub header: Style,
    pub status_bar: Style,
    pub key: Style,
    pub warning: Style,
    /// SQL in the editor, by token kind.
    pub sql_keyword: Style,
    pub sql_string: Style,
    pub sql_number: Style,
    pub sql_comment: Style,
    pub sql_identifier: Style,
    pub sql_quoted: Style,
    /// The box a form field or prompt types into.
    pub input: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            border: Style::new().fg(Color::DarkGray),
            border_focused: Style::new().fg(Color::Cyan),
            title: Style::new().add_modifier(Modifier::BOLD),
            dim: Style::new().fg(Color::DarkGray),
            null: Style::new()
                .fg(Color::DarkGray)
                .add_modifier(Modifier::ITALIC),
            error: Style::new().fg(Color::Red),
            active: Style::new().fg(Color::Green),
            failed: Style::new().fg(Color::Red),
            testing: Style::new().fg(Color::Yellow),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            status_bar: Style::new().bg(Color::Indexed(236)),
            key: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            warning: Style::new().fg(Color::Yellow),
            sql_keyword: Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD),
            sql_string: Style::new().fg(Color::Green),
            sql_number: Style::new().fg(Color::Magenta),
            sql_comment: Style::new()
                .fg(Color::DarkGray)
                .add_modifier(Modifier::ITALIC),
            // Plain names stay the terminal's colour; quoted ones stand out.
            sql_identifier: Style::new(),
            sql_quoted: Style::new().fg(Color::Yellow),
            input: Style::new().bg(Color::Indexed(236)),
        }
    }
}

impl Theme {
    /// The names a config's `[theme]` sets, one per style above.
    pub const SLOTS: [&'static str; 22] = [
        "border",
        "border_focused",
        "title",
        "dim",
        "null",
        "error",
        "active",
        "failed",
        "testing",
        "selected",
        "cursor",
        "header",
        "status_bar",
        "key",
        "warning",
        "sql_keyword",
        "sql_string",
        "sql_number",
        "sql_comment",
        "sql_identifier",
        "sql_quoted",
        "input",
    ];

    /// The style a config's `[theme]` calls `name`.
    pub fn slot(&mut self, name: &str) -> Option<&mut Style> {
        Some(match name {
            "border" => &mut self.border,
            "border_focused" => &mut self.border_focused,
            "title" => &mut self.title,
            "dim" => &mut self.dim,
            "null" => &mut self.null,
            "error" => &mut self.error,
            "active" => &mut self.active,
            "failed" => &mut self.failed,
            "testing" => &mut self.testing,
            "selected" => &mut self.selected,
            "cursor" => &mut self.cursor,
            "header" => &mut self.header,
            "status_bar" => &mut self.status_bar,
            "key" => &mut self.key,
            "warning" => &mut self.warning,
            "sql_keyword" => &mut self.sql_keyword,
            "sql_string" => &mut self.sql_string,
            "sql_number" => &mut self.sql_number,
            "sql_comment" => &mut self.sql_comment,
            "sql_identifier" => &mut self.sql_identifier,
            "sql_quoted" => &mut self.sql_quoted,
            "input" => &mut self.input,
            _ => return None,
        })
    }

    /// No colours at all (`NO_COLOR`): emphasis by bold, reverse and dim. The source marks
    /// (●, ✗, ◌) tell the statuses apart without their colours.
    pub fn monochrome() -> Self {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let dim = Style::new().add_modifier(Modifier::DIM);
        Theme {
            border: dim,
            border_focused: bold,
            title: bold,
            dim,
            null: dim.add_modifier(Modifier::ITALIC),
            error: bold,
            active: plain,
            failed: bold,
            testing: plain,
            selected: Style::new().add_modifier(Modifier::REVERSED),
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            status_bar: plain,
            key: bold,
            warning: bold,
            sql_keyword: bold,
            sql_string: plain,
            sql_number: plain,
            sql_comment: dim.add_modifier(Modifier::ITALIC),
            sql_identifier: plain,
            sql_quoted: plain,
            // Without a background, a field shows as a line to type on.
            input: Style::new().add_modifier(Modifier::UNDERLINED),
        }
    }
}
