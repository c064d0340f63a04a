//! Colours and text styles of the UI in one place, so a config (or `NO_COLOR`) can swap
//! them without touching the drawing code.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone)]
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
