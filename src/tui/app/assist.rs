//! What helps in the editor: completion, the query history (stepping and search), undo and
//! redo, the limit prompt, and keeping each source's text in the registry across restarts.
//! Keys typed while a window is open go to that window from here too.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use ratatui_textarea::Input;

use super::AppState;
use crate::backend::protocol::{Request, RequestId};
use crate::core::Result;
use crate::core::guard::check_limit;
use crate::core::history::HistoryEntry;
use crate::core::sanitize::for_terminal;
use crate::tui::action::Motion;
use crate::tui::keymap::Scope;
use crate::tui::panes::Focus;
use crate::tui::panes::completion::Completion;
use crate::tui::panes::history::{self, HistorySearch};
use crate::tui::panes::modal::{LimitPrompt, Modal};
use crate::tui::panes::results::ResultsView;
use crate::tui::panes::source_form::Check;
use crate::tui::panes::sources::SourceItem;

/// How long typing must pause before the editor's text is saved.
const SAVE_AFTER: Duration = Duration::from_secs(1);

/// Rows a page of a popup list moves.
const POPUP_PAGE: usize = 8;

/// The editors' texts as the registry has them, and which were edited since.
#[derive(Debug, Default)]
pub(crate) struct EditorTexts {
    /// What the registry holds (or the starter SQL, for a source never saved).
    saved: HashMap<String, String>,
    /// Sources edited since they were saved, with the time of the last edit.
    edited: HashMap<String, Instant>,
    /// Sources whose saved text was asked for already.
    requested: HashSet<String>,
}

impl AppState {
    /// The scope of the window or popup that has the keyboard, if any.
    pub(super) fn window_scope(&self) -> Option<Scope> {
        match &self.modal {
            Some(Modal::Form(_)) => Some(Scope::Form),
            Some(Modal::Confirm(_)) => Some(Scope::Confirm),
            Some(Modal::History(_)) => Some(Scope::History),
            Some(Modal::Limit(_)) => Some(Scope::Prompt),
            None if self.focus == Focus::Editor && self.completion.is_some() => {
                Some(Scope::Completion)
            }
            None if self.focus == Focus::Sources && self.sources.filtering => Some(Scope::Filter),
            None if self.focus == Focus::Schema && self.schema.searching() => Some(Scope::Filter),
            None if self.focus == Focus::Results
                && matches!(&self.results, ResultsView::Done(g) if g.filtering()) =>
            {
                Some(Scope::Filter)
            }
            None => None,
        }
    }

    /// Something in a window waits on the backend, so its spinner turns, or an edited text
    /// waits to be saved.
    pub(super) fn waiting(&self) -> bool {
        let form_busy = matches!(&self.modal, Some(Modal::Form(f)) if f.busy());
        form_busy || !self.texts.edited.is_empty()
    }

    /// Esc: closes the window or popup on top.
    pub(super) fn close_window(&mut self) {
        // A form with typed values asks first: Esc once more throws them away.
        if let Some(Modal::Form(f)) = &mut self.modal
            && f.dirty()
            && !f.discard_asked
        {
            f.discard_asked = true;
            return;
        }
        if self.modal.take().is_none() {
            self.completion = None;
        }
    }

    /// A key bound nowhere: typed into the window, the filter or the editor.
    pub(super) fn type_input(&mut self, input: Input, out: &mut Vec<Request>) {
        match &mut self.modal {
            Some(Modal::Form(f)) => return f.input(input),
            Some(Modal::History(h)) => {
                if h.query.input(input) {
                    h.refilter(self.history.get(&h.source_id));
                }
                return;
            }
            Some(Modal::Limit(p)) => {
                if p.input.input(input) {
                    p.error = None;
                }
                return;
            }
            Some(Modal::Confirm(_)) => return,
            None => {}
        }
        if self.focus == Focus::Results {
            let view = self.grid_viewport();
            if let ResultsView::Done(g) = &mut self.results
                && g.filtering()
            {
                g.filter_input(input, view);
            }
            return;
        }
        if self.focus == Focus::Schema {
            if self.schema.searching() {
                self.name_search_input(input);
            }
            return;
        }
        if self.focus == Focus::Sources && self.sources.filtering {
            if self.sources.filter.input(input) {
                self.filter_changed(out);
            }
            return;
        }
        let id = self.selected_id().map(String::from);
        if self.editor.input(id.as_deref(), input) {
            self.recall = None;
            self.mark_edited();
        }
        self.refresh_completion();
    }

    /// Pasted text for the window or the filter; false when neither takes it.
    pub(super) fn paste_into_window(&mut self, text: &str) -> bool {
        match &mut self.modal {
            Some(Modal::Form(f)) => f.paste(text),
            Some(Modal::History(h)) => {
                h.query.paste(text);
                h.refilter(self.history.get(&h.source_id));
            }
            Some(Modal::Limit(p)) => p.input.paste(text),
            Some(Modal::Confirm(_)) => {}
            None if self.focus == Focus::Sources && self.sources.filtering => {
                self.sources.filter.paste(text);
            }
            None if self.focus == Focus::Schema && self.schema.searching() => {
                self.name_search_paste(text);
            }
            None if self.focus == Focus::Results => {
                let view = self.grid_viewport();
                match &mut self.results {
                    ResultsView::Done(g) if g.filtering() => g.filter_paste(text, view),
                    _ => return false,
                }
            }
            None => return false,
        }
        true
    }

    /// Up/Down and pages in a popup list; true when a window took the motion.
    pub(super) fn move_in_window(&mut self, motion: Motion) -> bool {
        match &mut self.modal {
            Some(Modal::History(h)) => h.move_cursor(motion, POPUP_PAGE),
            Some(_) => {}
            None => match &mut self.completion {
                Some(c) if self.focus == Focus::Editor => c.move_cursor(motion, POPUP_PAGE),
                _ => return false,
            },
        }
        true
    }

    /// Enter in a confirmation, a popup or a prompt.
    pub(super) fn accept(&mut self, out: &mut Vec<Request>) {
        match self.modal.take() {
            Some(Modal::Confirm(c)) => self.confirm_delete(c, out),
            Some(Modal::History(h)) => {
                let sql = h
                    .selected_entry(self.history.get(&h.source_id))
                    .map(|e| e.sql.clone());
                match sql {
                    Some(sql) => self.put_sql(&h.source_id, &sql),
                    None => self.modal = Some(Modal::History(h)),
                }
            }
            Some(Modal::Limit(mut p)) => {
                let limit = p
                    .input
                    .text()
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| ())
                    .and_then(|n| check_limit(n).map_err(|_| ()));
                match limit {
                    Ok(n) => {
                        self.editor.limit = n;
                        self.info(format!("queries return at most {n} rows"));
                    }
                    Err(()) => {
                        p.error = Some(format!(
                            "a whole number from 1 to {}",
                            crate::core::guard::MAX_LIMIT
                        ));
                        self.modal = Some(Modal::Limit(p));
                    }
                }
            }
            Some(other) => self.modal = Some(other),
            None => self.accept_completion(),
        }
    }

    /// Puts a query into a source's editor and the focus there.
    fn put_sql(&mut self, source_id: &str, sql: &str) {
        self.editor.replace(Some(source_id), sql);
        self.mark_edited();
        self.recall = None;
        self.set_focus(Focus::Editor);
    }

    pub(super) fn undo(&mut self, redo: bool) {
        if self.focus != Focus::Editor {
            return;
        }
        let id = self.selected_id().map(String::from);
        let changed = if redo {
            self.editor.redo(id.as_deref())
        } else {
            self.editor.undo(id.as_deref())
        };
        if changed {
            self.mark_edited();
            self.completion = None;
        } else {
            self.info(if redo {
                "nothing to redo"
            } else {
                "nothing to undo"
            });
        }
    }

    /// Ctrl-Space: the popup of what could finish the word before the cursor, or the only
    /// candidate inserted at once.
    pub(super) fn complete(&mut self) {
        match self.completion_here() {
            None => self.info("nothing to complete here"),
            Some(c) if c.items.len() == 1 => {
                self.completion = Some(c);
                self.accept_completion();
            }
            Some(c) => self.completion = Some(c),
        }
    }

    /// What could finish the word before the cursor of the selected source's editor.
    fn completion_here(&self) -> Option<Completion> {
        let id = self.selected_id();
        let tree = id
            .and_then(|i| self.schema.get(i))
            .and_then(|e| e.tree.as_ref());
        let area = self.editor.area(id);
        Completion::open(area.lines(), self.editor.cursor(id), tree)
    }

    fn accept_completion(&mut self) {
        let Some(c) = self.completion.take() else {
            return;
        };
        let Some(pick) = c.selected() else {
            return;
        };
        let id = self.selected_id().map(String::from);
        let end = c.start + c.prefix.chars().count();
        self.editor
            .replace_in_line(id.as_deref(), c.row, (c.start, end), &pick.insert);
        self.mark_edited();
    }

    /// After typing with the popup open: narrow it, or close it when the word ended.
    fn refresh_completion(&mut self) {
        let Some(old) = &self.completion else {
            return;
        };
        self.completion = self
            .completion_here()
            .filter(|c| c.row == old.row && c.start == old.start && !c.prefix.is_empty());
    }

    /// Alt-P / Alt-N: the previous or next query of the selected source's history.
    pub(super) fn step_history(&mut self, older: bool, out: &mut Vec<Request>) {
        let Some(id) = self.selected_id().map(String::from) else {
            return;
        };
        if !self.history.is_loaded(&id) {
            self.request_history(&id, out);
            self.info("reading the history…");
            return;
        }
        let current = self.editor.text(Some(&id));
        let entries = self.history.get(&id);
        let (recall, text) = history::step(entries, &id, &current, self.recall.take(), older);
        let empty = entries.is_empty();
        self.recall = recall;
        match text {
            Some(t) => {
                self.editor.replace(Some(&id), &t);
                self.completion = None;
                self.mark_edited();
            }
            None if empty => self.info("no query has run on this source yet"),
            None => {}
        }
    }

    /// Ctrl-R: the search popup over the selected source's history, read again from the
    /// registry (another tdb may have run queries since).
    pub(super) fn open_history_search(&mut self, out: &mut Vec<Request>) {
        let Some(id) = self.selected_id().map(String::from) else {
            self.error("no source selected");
            return;
        };
        self.request_history(&id, out);
        let mut search = HistorySearch::new(&id, chrono::Utc::now());
        search.refilter(self.history.get(&id));
        self.completion = None;
        self.modal = Some(Modal::History(search));
    }

    pub(super) fn request_history(&mut self, source_id: &str, out: &mut Vec<Request>) {
        let id = self.next_id();
        out.push(Request::History {
            id,
            source_id: source_id.to_string(),
        });
    }

    pub(super) fn history_read(&mut self, source_id: &str, result: Result<Vec<HistoryEntry>>) {
        match result {
            Ok(entries) => {
                self.history.set(source_id, entries);
                if let Some(Modal::History(h)) = &mut self.modal
                    && h.source_id == source_id
                {
                    h.refilter(self.history.get(source_id));
                }
            }
            Err(e) => self.error(format!(
                "cannot read the history: {}",
                for_terminal(e.detail())
            )),
        }
    }

    /// A query ended (or was refused): its source's history has a new run.
    pub(super) fn query_ended(&mut self, id: RequestId, out: &mut Vec<Request>) {
        if let Some(q) = self.query_source.take() {
            if q.id == id {
                self.request_history(&q.source_id, out);
            } else {
                self.query_source = Some(q);
            }
        }
    }

    pub(super) fn open_limit_prompt(&mut self) {
        self.completion = None;
        self.modal = Some(Modal::Limit(LimitPrompt::new(self.editor.limit)));
    }

    /// A source became the selected one: the previous one's text is saved, this one's
    /// saved text and history are read once.
    pub(super) fn selected_changed(&mut self, source: &SourceItem, out: &mut Vec<Request>) {
        self.completion = None;
        self.recall = None;
        self.save_texts(out, true);
        self.texts
            .saved
            .entry(source.id.clone())
            .or_insert_with(|| source.starter_sql.clone());
        if self.texts.requested.insert(source.id.clone()) {
            let id = self.next_id();
            out.push(Request::LoadEditorText {
                id,
                source_id: source.id.clone(),
            });
        }
        if !self.history.is_loaded(&source.id) {
            self.request_history(&source.id, out);
        }
    }

    /// The saved text of a source arrived: it replaces the starter SQL unless someone typed.
    pub(super) fn text_read(&mut self, source_id: &str, sql: Option<String>) {
        let Some(sql) = sql else { return };
        let untouched = self
            .sources
            .find(source_id)
            .is_some_and(|s| self.editor.untouched(s));
        if untouched && !self.texts.edited.contains_key(source_id) {
            self.editor.load(source_id, &sql);
        }
        self.texts.saved.insert(source_id.to_string(), sql);
    }

    /// The selected source's text changed.
    pub(super) fn mark_edited(&mut self) {
        if let Some(id) = self.selected_id().map(String::from) {
            self.texts.edited.insert(id, self.now);
        }
    }

    /// Saves the edited texts whose typing paused long enough (or all, with `now`).
    pub(super) fn save_texts(&mut self, out: &mut Vec<Request>, now: bool) {
        let due: Vec<String> = self
            .texts
            .edited
            .iter()
            .filter(|(_, at)| now || self.now.saturating_duration_since(**at) >= SAVE_AFTER)
            .map(|(id, _)| id.clone())
            .collect();
        for source_id in due {
            self.texts.edited.remove(&source_id);
            if !self.editor.has(&source_id) {
                continue;
            }
            let sql = self.editor.text(Some(&source_id));
            if self.texts.saved.get(&source_id) != Some(&sql) {
                self.texts.saved.insert(source_id.clone(), sql.clone());
                out.push(Request::SaveEditorText { source_id, sql });
            }
        }
    }

    /// Forgets what the UI held for a deleted source.
    pub(super) fn forget_source(&mut self, source_id: &str) {
        self.editor.forget(source_id);
        self.schema.entries.remove(source_id);
        self.history.forget(source_id);
        self.texts.saved.remove(source_id);
        self.texts.edited.remove(source_id);
        self.texts.requested.remove(source_id);
    }

    /// The form's test answered.
    pub(super) fn draft_tested(&mut self, id: RequestId, result: Result<Duration>) {
        if let Some(Modal::Form(f)) = &mut self.modal
            && matches!(f.check, Check::Running { id: rid, .. } if rid == id)
        {
            f.check = match result {
                Ok(latency) => Check::Reachable(latency),
                Err(e) => Check::Failed(for_terminal(e.detail()).into_owned()),
            };
        }
    }
}
