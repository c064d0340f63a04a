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
    pub warning: Style,
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
        }
    }
}
