//! The four panes: the state each keeps and how each answers its keys. Drawing lives in
//! `ui/`, so a pane here never touches a frame.

pub mod completion;
pub mod copy;
pub mod editor;
pub mod grid;
pub mod history;
pub mod line_input;
pub mod modal;
pub mod plan;
pub mod results;
pub mod schema;
pub mod source_form;
pub mod source_info;
pub mod sources;
pub mod sql_context;

/// The pane that has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Focus {
    Sources,
    Schema,
    Editor,
    Results,
}

impl Focus {
    /// Tab order (CONTRACT.md): sources, schema, editor, results.
    const ORDER: [Focus; 4] = [Focus::Sources, Focus::Schema, Focus::Editor, Focus::Results];

    pub fn next(self) -> Focus {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Self::ORDER[(i + 1) % Self::ORDER.len()]
    }

    pub fn prev(self) -> Focus {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Self::ORDER[(i + Self::ORDER.len() - 1) % Self::ORDER.len()]
    }
}

/// Moves a list cursor by `motion`, `page` rows per page, within `len` items.
pub fn move_in_list(
    cursor: usize,
    len: usize,
    motion: super::action::Motion,
    page: usize,
) -> usize {
    use super::action::Motion;
    if len == 0 {
        return 0;
    }
    let last = len - 1;
    let page = page.max(1);
    match motion {
        Motion::Up => cursor.saturating_sub(1),
        Motion::Down => (cursor + 1).min(last),
        Motion::PageUp => cursor.saturating_sub(page),
        Motion::PageDown => (cursor + page).min(last),
        Motion::Home | Motion::Top => 0,
        Motion::End | Motion::Bottom => last,
        Motion::Left | Motion::Right => cursor.min(last),
    }
}
