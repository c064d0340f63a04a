//! The windows that take the keyboard until they are closed: the source form, the delete
//! confirmation, the history search and the limit prompt. Help and cell detail (the app's
//! `Overlay`) can still open on top of them.

use crate::backend::protocol::RequestId;
use crate::core::guard::MAX_LIMIT;

use super::history::HistorySearch;
use super::line_input::LineInput;
use super::source_form::SourceForm;

#[derive(Debug)]
pub enum Modal {
    Form(Box<SourceForm>),
    Confirm(ConfirmDelete),
    History(HistorySearch),
    Limit(LimitPrompt),
}

/// "Delete this source?", naming it so the wrong one is not deleted by a slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmDelete {
    pub source_id: String,
    /// The name, safe for the terminal.
    pub label: String,
    /// Type and where it points (credential-free), safe for the terminal.
    pub target: String,
    /// The deletion under way.
    pub pending: Option<RequestId>,
}

/// A one-line prompt for the row limit.
#[derive(Debug)]
pub struct LimitPrompt {
    pub input: LineInput,
    pub error: Option<String>,
}

impl LimitPrompt {
    pub fn new(limit: usize) -> LimitPrompt {
        let mut input = LineInput::new(&limit.to_string());
        input.set_placeholder(&format!("1 to {MAX_LIMIT}"));
        input.set_focused(true);
        // Selected, so typing a number replaces it.
        input.select_all();
        LimitPrompt { input, error: None }
    }
}
