//! Managing sources from the UI: the add and edit form, the delete confirmation and the
//! list filter. Registry writes go to the backend as requests; the answers come back here.

use super::AppState;
use crate::backend::protocol::{Request, RequestId};
use crate::core::Result;
use crate::core::sanitize::for_terminal;
use crate::core::source::{SourceRecord, validate_name};
use crate::home::Here;
use crate::tui::panes::modal::{ConfirmDelete, Modal};
use crate::tui::panes::source_form::{Button, Check, Mode, Row, SourceForm};

/// Where relative paths typed in the form resolve: where tdb was started, as on the command
/// line.
impl AppState {
    pub(super) fn open_add_form(&mut self) {
        self.modal = Some(Modal::Form(Box::new(SourceForm::add(Here::now()))));
    }

    pub(super) fn open_edit_form(&mut self) {
        let Some(rec) = self
            .selected_id()
            .and_then(|id| self.sources.record(id))
            .cloned()
        else {
            return;
        };
        self.modal = Some(Modal::Form(Box::new(SourceForm::edit(&rec, Here::now()))));
    }

    fn form(&mut self) -> Option<&mut SourceForm> {
        match &mut self.modal {
            Some(Modal::Form(f)) => Some(f),
            _ => None,
        }
    }

    pub(super) fn form_step(&mut self, forward: bool) {
        if let Some(f) = self.form() {
            f.step(forward);
        }
    }

    /// Enter: presses the button under the cursor, or moves on to the next field.
    pub(super) fn form_enter(&mut self, out: &mut Vec<Request>) {
        match self.form().and_then(|f| f.current()) {
            Some(Row::Button(Button::Test)) => self.test_form(out),
            Some(Row::Button(Button::Save)) => self.save_form(out),
            Some(Row::Button(Button::Cancel)) => self.modal = None,
            Some(Row::Field(_)) => self.form_step(true),
            None => {}
        }
    }

    pub(super) fn save_form(&mut self, out: &mut Vec<Request>) {
        let id = self.next_id();
        let Some(f) = self.form() else { return };
        if f.saving.is_some() {
            return;
        }
        if !f.attempt() {
            self.error("fix the marked fields first");
            return;
        }
        f.saving = Some(id);
        let draft = f.draft();
        out.push(match &f.mode {
            Mode::Add => Request::AddSource { id, draft },
            Mode::Edit {
                source_id, before, ..
            } => Request::EditSource {
                id,
                source_id: source_id.clone(),
                before: before.clone(),
                draft: Box::new(draft),
            },
        });
    }

    /// Tests the connection the form describes, without saving. A name is not needed for
    /// that, so a missing one does not stop the test.
    pub(super) fn test_form(&mut self, out: &mut Vec<Request>) {
        let id = self.next_id();
        let since = self.now;
        let Some(f) = self.form() else { return };
        let mut draft = f.draft();
        if validate_name(&draft.name).is_err() {
            draft.name = "connection test".into();
        }
        let source_id = match &f.mode {
            Mode::Add => None,
            Mode::Edit { source_id, .. } => Some(source_id.clone()),
        };
        f.check = Check::Running { id, since };
        out.push(Request::TestDraft {
            id,
            source_id,
            draft,
        });
    }

    pub(super) fn source_saved(
        &mut self,
        id: RequestId,
        result: Result<SourceRecord>,
        out: &mut Vec<Request>,
    ) {
        let Some(f) = self.form().filter(|f| f.saving == Some(id)) else {
            return;
        };
        f.saving = None;
        let rec = match result {
            Ok(rec) => rec,
            Err(e) => {
                f.fail(e.detail());
                return;
            }
        };
        let added = matches!(f.mode, Mode::Add);
        self.modal = None;
        let name = for_terminal(&rec.name).into_owned();
        if added {
            self.info(format!("added {} source {name}", rec.source_type()));
            self.select_next = Some(rec.id.clone());
        } else {
            self.info(format!("saved {name}"));
            // The connection may point elsewhere now: read its schema again.
            self.schema.entries.remove(&rec.id);
            if self.selected_id() == Some(rec.id.as_str()) {
                self.load_schema(&rec.id, out);
            }
        }
        let list = self.next_id();
        out.push(Request::ListSources { id: list });
    }

    /// Selects the source just added, once the list holding it arrived.
    pub(super) fn select_added(&mut self, out: &mut Vec<Request>) {
        let Some(want) = &self.select_next else {
            return;
        };
        if let Some(i) = self.sources.items.iter().position(|s| &s.id == want) {
            self.select_next = None;
            self.sources.filter.set_text("");
            if i != self.sources.selected {
                self.sources.selected = i;
                self.on_selection(out);
            }
        }
    }

    pub(super) fn ask_delete(&mut self) {
        let Some(rec) = self.selected_id().and_then(|id| self.sources.record(id)) else {
            return;
        };
        let target = format!(
            "{} · {}",
            rec.source_type(),
            rec.connection.display_target()
        );
        self.modal = Some(Modal::Confirm(ConfirmDelete {
            source_id: rec.id.clone(),
            label: for_terminal(&rec.name).into_owned(),
            target: for_terminal(&target).into_owned(),
            pending: None,
        }));
    }

    /// `y` on the confirmation: the deletion goes to the backend; the window stays until it
    /// answers.
    pub(super) fn confirm_delete(&mut self, mut c: ConfirmDelete, out: &mut Vec<Request>) {
        if c.pending.is_none() {
            let id = self.next_id();
            c.pending = Some(id);
            out.push(Request::DeleteSource {
                id,
                source_id: c.source_id.clone(),
            });
        }
        self.modal = Some(Modal::Confirm(c));
    }

    pub(super) fn source_deleted(
        &mut self,
        id: RequestId,
        result: Result<SourceRecord>,
        out: &mut Vec<Request>,
    ) {
        if matches!(&self.modal, Some(Modal::Confirm(c)) if c.pending == Some(id)) {
            self.modal = None;
        }
        match result {
            Ok(rec) => {
                self.info(format!("deleted {}", for_terminal(&rec.name)));
                self.forget_source(&rec.id);
                let list = self.next_id();
                out.push(Request::ListSources { id: list });
            }
            Err(e) => self.error(format!("could not delete: {}", for_terminal(e.detail()))),
        }
    }

    /// `/`: the filter takes the keyboard.
    pub(super) fn start_filter(&mut self) {
        self.sources.filtering = true;
        self.sources.filter.set_focused(true);
    }

    /// Esc in the filter: every source shows again.
    pub(super) fn clear_filter(&mut self, out: &mut Vec<Request>) {
        self.sources.filter.set_text("");
        self.sources.filtering = false;
        self.filter_changed(out);
    }

    /// The filter changed: the selection moves to the first source still shown.
    pub(super) fn filter_changed(&mut self, out: &mut Vec<Request>) {
        let visible = self.sources.visible();
        if !visible.contains(&self.sources.selected)
            && let Some(&first) = visible.first()
        {
            self.sources.selected = first;
            self.on_selection(out);
        }
    }
}
