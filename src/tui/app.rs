//! The UI's whole state, and the two ways it changes: [`AppState::update`] for an action
//! (a key, a resize, time passing) and [`AppState::on_response`] for an answer of the
//! backend. Both return the requests to send; neither draws nor waits.

mod assist;
mod manage;
mod tabs;

pub use tabs::{MAX_TABS, RowLimits, Tab, Tabs};

use std::time::Instant;

use ratatui::layout::Rect;

use crate::backend::protocol::{Request, RequestId, Response};
use crate::core::sanitize::{for_terminal, for_terminal_multiline};
use crate::core::source::Status;
use crate::core::splice::LineColumn;
use crate::core::statements;

use super::action::{Action, Motion};
use super::keymap::{Context, Keymap, Scope};
use super::layout;
use super::panes::completion::Completion;
use super::panes::copy::{CopyMenu, CopyState, ExportPrompt};
use super::panes::editor::EditorPane;
use super::panes::grid::Grid;
use super::panes::history::{HistoryPane, Recall};
use super::panes::modal::Modal;
use super::panes::plan::PlanView;
use super::panes::results::{
    GridView, Paging, ResultsView, Viewport, describe_error, format_duration,
};
use super::panes::schema::{SchemaPane, SchemaTree};
use super::panes::source_info::SourceInfo;
use super::panes::sources::{SourceItem, SourcesPane};
use super::panes::{Focus, move_in_list};
use super::theme::Theme;
use super::wrap::hard_wrap;
use crate::clipboard;

mod browse;
mod copy;
mod mouse;
mod plan;
mod source_info;

pub use plan::plan_page;

/// A window over the panes.
#[derive(Debug)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Detail(Detail),
    CopyMenu(CopyMenu),
    Export(ExportPrompt),
    Plan(Box<PlanView>),
    /// A source's detail view.
    Source(Box<SourceInfo>),
}

/// The whole value of one cell.
#[derive(Debug)]
pub struct Detail {
    pub title: String,
    /// Safe for the terminal, line breaks kept; `None` for NULL.
    pub text: Option<String>,
    pub scroll: u16,
    /// What the result's filter looks for (empty: none): marked, and `n`/`N` step to it.
    pub search: String,
    /// The wrapped line of the match `n`/`N` went to last.
    pub found: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Info,
    Error,
    /// It worked, with a catch the user should know (a copy only the tmux buffer got).
    Warning,
}

/// A line in the status bar about what just happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub kind: MessageKind,
}

/// What a running query needs when its answer comes.
#[derive(Debug, Clone)]
struct RunningQuery {
    id: RequestId,
    source_id: String,
    /// Where the statement begins in the editor's text.
    start: LineColumn,
}

pub struct AppState {
    pub keymap: Keymap,
    pub theme: Theme,
    pub focus: Focus,
    pub overlay: Option<Overlay>,
    pub sources: SourcesPane,
    pub schema: SchemaPane,
    pub editor: EditorPane,
    pub results: ResultsView,
    pub message: Option<Message>,
    /// The terminal's size.
    pub size: Rect,
    /// The clock spinners and elapsed times are drawn with (set by [`Action::Tick`]).
    pub now: Instant,
    /// When the app started, so spinner frames follow the clock.
    pub started: Instant,
    pub quit: bool,
    next_id: u64,
    /// Source tests under way, by request id, with the source's id.
    tests: Vec<(RequestId, String)>,
    /// Bytes for the terminal itself (an OSC 52 copy), written by the loop between frames.
    terminal_write: Vec<u8>,
    /// The window that has the keyboard: source form, delete confirmation, history search,
    /// limit prompt.
    pub modal: Option<Modal>,
    /// The completion popup over the editor.
    pub completion: Option<Completion>,
    /// Query histories by source.
    pub history: HistoryPane,
    /// Where stepping through the history from the editor stands.
    recall: Option<Recall>,
    /// The editors' texts as the registry keeps them, and which changed since.
    texts: assist::EditorTexts,
    /// The source to select when the next list arrives (one just added).
    select_next: Option<String>,
    /// The running query: its end adds to that source's history, and an error's place is
    /// found in the editor from where the statement started.
    query_source: Option<RunningQuery>,
    /// The copy format of the session and the export under way.
    pub copying: CopyState,
    /// The result tabs (the active one's result is `results`).
    pub tabs: Tabs,
}

impl AppState {
    /// A fresh UI; `startup` are the requests to send at once (the source list).
    pub fn new(keymap: Keymap, size: Rect, now: Instant) -> (AppState, Vec<Request>) {
        let mut app = AppState {
            keymap,
            theme: Theme::default(),
            focus: Focus::Editor,
            overlay: None,
            sources: SourcesPane::default(),
            schema: SchemaPane::default(),
            editor: EditorPane::default(),
            results: ResultsView::Idle,
            message: None,
            size,
            now,
            started: now,
            quit: false,
            next_id: 0,
            tests: Vec::new(),
            terminal_write: Vec::new(),
            modal: None,
            completion: None,
            history: HistoryPane::default(),
            recall: None,
            texts: assist::EditorTexts::default(),
            select_next: None,
            query_source: None,
            copying: CopyState::default(),
            tabs: Tabs::default(),
        };
        let first = Request::ListSources { id: app.next_id() };
        (app, vec![first])
    }

    fn next_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    /// Whether something on screen moves with time (a spinner), so the loop ticks.
    pub fn animating(&self) -> bool {
        matches!(self.results, ResultsView::Running { .. })
            || self.tabs.any_running()
            || !self.tests.is_empty()
            || self.schema.entries.values().any(|e| e.pending.is_some())
            || self.waiting()
            || self.plan_running()
    }

    pub fn running_query(&self) -> Option<RequestId> {
        match &self.results {
            ResultsView::Running { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Which keymap scopes apply now.
    pub fn key_context(&self) -> Context {
        Context {
            focus: self.focus,
            overlay: self
                .overlay
                .as_ref()
                .map(|o| match o {
                    Overlay::Help { .. } => Scope::Help,
                    Overlay::Detail(_) => Scope::Detail,
                    Overlay::CopyMenu(_) => Scope::CopyMenu,
                    Overlay::Export(_) => Scope::Export,
                    Overlay::Plan(_) => Scope::Plan,
                    Overlay::Source(_) => Scope::Detail,
                })
                .or_else(|| self.window_scope()),
            running: self.running_query().is_some() || self.fetching() || self.exporting_all(),
        }
    }

    pub fn selected_id(&self) -> Option<&str> {
        self.sources.selected().map(|s| s.id.as_str())
    }

    fn areas(&self) -> Option<layout::Areas> {
        layout::areas(self.size, self.sources.lines(), self.schema.width)
    }

    fn grid_viewport(&self) -> Viewport {
        self.areas()
            .map(|a| layout::grid_viewport(a.results))
            .unwrap_or_default()
    }

    fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            kind: MessageKind::Info,
        });
    }

    fn warn(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            kind: MessageKind::Warning,
        });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            kind: MessageKind::Error,
        });
    }

    pub fn update(&mut self, action: Action) -> Vec<Request> {
        let mut out = Vec::new();
        if !matches!(action, Action::Tick { .. } | Action::Resize { .. }) {
            self.message = None;
            if action != Action::CloseOverlay
                && let Some(Modal::Form(f)) = &mut self.modal
            {
                f.discard_asked = false;
            }
        }
        match action {
            Action::Quit => {
                self.save_texts(&mut out, true);
                self.quit = true;
            }
            Action::RunQuery => self.run_query(&mut out),
            Action::CancelQuery => self.cancel_query(&mut out),
            Action::FocusNext => self.set_focus(self.focus.next()),
            Action::FocusPrev => self.set_focus(self.focus.prev()),
            Action::LimitUp => self.editor.raise_limit(),
            Action::LimitDown => self.editor.lower_limit(),
            Action::OpenHelp => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::CloseOverlay if matches!(self.overlay, Some(Overlay::Plan(_))) => {
                self.close_plan(&mut out)
            }
            Action::CloseOverlay => {
                if self.overlay.take().is_none() {
                    self.close_window();
                }
            }
            Action::Move { motion } if self.menu_open() => self.move_in_menu(motion),
            Action::Move { motion } => self.move_cursor(motion, &mut out),
            Action::EditSql => self.set_focus(Focus::Editor),
            Action::TestSource => self.test_source(&mut out),
            Action::ReloadSources => out.push(Request::ListSources { id: self.next_id() }),
            Action::Expand => self.expand(Some(true)),
            Action::Collapse => self.expand(Some(false)),
            Action::Toggle => self.expand(None),
            Action::InsertName => {
                self.insert_name();
                self.mark_edited();
            }
            Action::RefreshSchema => {
                if let Some(id) = self.selected_id().map(String::from) {
                    self.load_schema(&id, &mut out);
                }
            }
            Action::OpenCell => self.open_cell(),
            Action::Copy { target } => self.copy(target, &mut out),
            Action::CopyMenu => self.open_copy_menu(),
            Action::Export => self.open_export(),
            // The copy menu and the export prompt are overlays; the rest are tdb's windows.
            Action::Confirm if self.overlay.is_some() => self.confirm(&mut out),
            Action::Confirm => self.accept(&mut out),
            Action::NextFormat => self.next_format(),
            Action::EveryRow => self.toggle_every_row(),
            Action::Sort => {
                let view = self.grid_viewport();
                if let ResultsView::Done(g) = &mut self.results {
                    g.toggle_sort(view);
                }
            }
            Action::Click { x, y } => self.click(x, y, &mut out),
            Action::Wheel { x, y, down } => self.wheel(x, y, down, &mut out),
            Action::EditorInput { input } if self.prompt_open() => {
                self.prompt_input(input, &mut out)
            }
            Action::Paste { text } if self.prompt_open() => self.prompt_paste(&text),
            Action::EditorInput { input } => self.type_input(input, &mut out),
            Action::Paste { text } => {
                if self.overlay.is_none()
                    && !self.paste_into_window(&text)
                    && self.focus == Focus::Editor
                {
                    let id = self.selected_id().map(String::from);
                    self.editor.insert(id.as_deref(), &text);
                    self.mark_edited();
                }
            }
            Action::Resize { width, height } => {
                self.size = Rect::new(0, 0, width, height);
                let view = self.grid_viewport();
                if let ResultsView::Done(g) = &mut self.results {
                    g.fit(view);
                }
            }
            Action::Tick { now } => {
                self.now = now;
                self.save_texts(&mut out, false);
            }
            Action::AddSource => self.open_add_form(),
            Action::EditSource => self.open_edit_form(),
            Action::DeleteSource => self.ask_delete(),
            Action::FilterSources => self.start_filter(),
            Action::ClearFilter if self.focus == Focus::Results => {
                let view = self.grid_viewport();
                if let ResultsView::Done(g) = &mut self.results {
                    g.clear_filter(view);
                }
            }
            Action::KeepFilter if self.focus == Focus::Results => {
                if let ResultsView::Done(g) = &mut self.results {
                    g.keep_filter();
                }
            }
            Action::ClearFilter if self.focus == Focus::Schema => self.schema.search = None,
            Action::KeepFilter if self.focus == Focus::Schema => self.schema.keep_search(),
            Action::ClearFilter => self.clear_filter(&mut out),
            Action::KeepFilter => self.sources.filtering = false,
            Action::FilterRows => {
                if let ResultsView::Done(g) = &mut self.results {
                    g.start_filter();
                }
            }
            Action::NextField => self.form_step(true),
            Action::PrevField => self.form_step(false),
            Action::FormEnter => self.form_enter(&mut out),
            Action::SaveForm => self.save_form(&mut out),
            Action::TestForm => self.test_form(&mut out),
            Action::Undo => self.undo(false),
            Action::Redo => self.undo(true),
            Action::Complete => self.complete(),
            Action::HistoryPrev => self.step_history(true, &mut out),
            Action::HistoryNext => self.step_history(false, &mut out),
            Action::SearchHistory => self.open_history_search(&mut out),
            Action::SetLimit => self.open_limit_prompt(),
            Action::SelectAll => {
                let id = self.selected_id().map(String::from);
                self.editor.select_all(id.as_deref());
            }
            Action::RunAll => self.run_all(&mut out),
            Action::NextTab => self.step_tab(true),
            Action::PrevTab => self.step_tab(false),
            Action::PinTab => self.toggle_pin(),
            Action::CloseTab => self.close_tab(&mut out),
            Action::Explain => self.explain(&mut out),
            Action::ShowSource => self.open_source_info(&mut out),
            Action::ToggleAnalyze => self.toggle_analyze(&mut out),
            Action::SearchNames => self.start_name_search(),
            Action::NextMatch => self.step_match(true),
            Action::PrevMatch => self.step_match(false),
            Action::PaneWidth { wider } => self.step_width(wider),
            Action::ScrollSideways { right } => self.scroll_sideways(right),
            Action::Drag { x, .. } => self.drag(x),
            Action::ClearEditor => {
                let id = self.selected_id().map(String::from);
                self.editor.clear(id.as_deref());
                self.completion = None;
                self.mark_edited();
            }
        }
        out
    }

    fn set_focus(&mut self, focus: Focus) {
        self.focus = focus;
        self.editor.set_focused(focus == Focus::Editor);
        self.completion = None;
        self.sources.filtering = false;
    }

    fn run_query(&mut self, out: &mut Vec<Request>) {
        let Some(source) = self.sources.selected().cloned() else {
            self.error("no source to run on: add one with `tdb source add …`, or try `tdb demo`");
            return;
        };
        let Some((sql, start)) = self.editor.statement(Some(&source.id), source.dialect) else {
            self.error("nothing to run: the editor holds no statement");
            return;
        };
        self.tabs.queued.clear();
        self.run_statement(&source, sql, start, false, out);
    }

    /// Runs every statement of the editor in order, each into its own tab; the first
    /// failure stops the rest.
    fn run_all(&mut self, out: &mut Vec<Request>) {
        let Some(source) = self.sources.selected().cloned() else {
            self.error("no source to run on: add one with `tdb source add …`, or try `tdb demo`");
            return;
        };
        let mut all: std::collections::VecDeque<_> = self
            .editor
            .statements(Some(&source.id), source.dialect)
            .into_iter()
            .map(|(sql, start)| (source.id.clone(), sql, start))
            .collect();
        let Some((_, sql, start)) = all.pop_front() else {
            self.error("nothing to run: the editor holds no statement");
            return;
        };
        self.run_statement(&source, sql, start, false, out);
        self.tabs.queued = all;
    }

    /// The next statement of a "run all", into a new tab.
    fn run_queued(&mut self, out: &mut Vec<Request>) {
        let Some((source_id, sql, start)) = self.tabs.queued.pop_front() else {
            return;
        };
        if let Some(source) = self.sources.find(&source_id).cloned() {
            self.run_statement(&source, sql, start, true, out);
        }
    }

    /// Sends one statement, into the active tab or (`fresh`, or the active one pinned) a
    /// new one.
    fn run_statement(
        &mut self,
        source: &SourceItem,
        sql: String,
        start: LineColumn,
        fresh: bool,
        out: &mut Vec<Request>,
    ) {
        if !self.tab_for_run(&sql, fresh, out) {
            self.tabs.queued.clear();
            return;
        }
        if let Some(old) = self.running_query() {
            out.push(Request::Cancel { id: old });
        }
        let id = self.next_id();
        self.save_texts(out, true);
        self.query_source = Some(RunningQuery {
            id,
            source_id: source.id.clone(),
            start,
        });
        self.results = ResultsView::Running {
            id,
            source: source.label.clone(),
            limit: self.editor.limit,
            started: self.now,
            progress: None,
        };
        out.push(Request::Query {
            id,
            source_id: source.id.clone(),
            sql,
            limit: self.editor.limit,
            idle: self.tabs.limits.idle,
        });
    }

    /// Esc stops the query under way, or else the selected source's import (a CSV file
    /// read into its cache for the schema pane).
    fn cancel_query(&mut self, out: &mut Vec<Request>) {
        if self.cancel_fetch(out) || self.cancel_export(out) {
            return;
        }
        if let ResultsView::Running { id, source, .. } = &self.results {
            self.tabs.queued.clear();
            out.push(Request::Cancel { id: *id });
            let source = source.clone();
            self.results = ResultsView::Cancelled { source };
            self.info("query cancelled");
        } else if let Some(source) = self.sources.selected().map(|s| s.id.clone())
            && self
                .schema
                .get(&source)
                .is_some_and(|e| matches!(e.pending, Some((_, Some(_)))))
            && let Some(id) = self.schema.cancel(&source)
        {
            out.push(Request::Cancel { id });
            self.info("import cancelled");
        }
    }

    fn move_cursor(&mut self, motion: Motion, out: &mut Vec<Request>) {
        let view = self.grid_viewport();
        if self.overlay.is_some() {
            self.scroll_overlay(motion);
            return;
        }
        if self.move_in_window(motion) {
            return;
        }
        match self.focus {
            Focus::Sources => {
                // Through the sources the filter lets through.
                let visible = self.sources.visible();
                let at = visible
                    .iter()
                    .position(|i| *i == self.sources.selected)
                    .unwrap_or(0);
                let next = move_in_list(at, visible.len(), motion, 5);
                if let Some(&i) = visible.get(next)
                    && i != self.sources.selected
                {
                    self.sources.selected = i;
                    self.on_selection(out);
                }
            }
            Focus::Schema => {
                let height = self
                    .areas()
                    .map(|a| layout::inner(a.schema).height as usize)
                    .unwrap_or(1);
                if let Some(id) = self.selected_id().map(String::from)
                    && let Some(tree) = self.schema.tree_mut(&id)
                {
                    tree.cursor = move_in_list(tree.cursor, tree.rows().len(), motion, height);
                    tree.scroll_to_cursor(height);
                }
            }
            Focus::Results => {
                if let ResultsView::Done(g) = &mut self.results {
                    let at_end = g.row + 1 >= g.grid.rows();
                    g.move_cursor(motion, view);
                    if at_end && matches!(motion, Motion::Down | Motion::PageDown | Motion::Bottom)
                    {
                        self.fetch_more(motion, out);
                    }
                }
            }
            Focus::Editor => {}
        }
    }

    /// Scrolls help or cell detail, stopping where the last row is at the bottom.
    fn scroll_overlay(&mut self, motion: Motion) {
        if self.scroll_plan(motion) || self.scroll_source_info(motion) {
            return;
        }
        let body = layout::inner(layout::overlay(self.size));
        let page = body.height.max(1) as usize;
        let rows = match &self.overlay {
            Some(Overlay::Help { .. }) => self.keymap.help_rows(),
            Some(Overlay::Detail(d)) => d
                .text
                .as_deref()
                .map_or(1, |t| hard_wrap(t, body.width as usize).len()),
            Some(
                Overlay::CopyMenu(_) | Overlay::Export(_) | Overlay::Plan(_) | Overlay::Source(_),
            )
            | None => return,
        };
        let max = rows.saturating_sub(page);
        let (Some(Overlay::Help { scroll }) | Some(Overlay::Detail(Detail { scroll, .. }))) =
            &mut self.overlay
        else {
            return;
        };
        let at = *scroll as usize;
        let next = match motion {
            Motion::Up => at.saturating_sub(1),
            Motion::Down => at + 1,
            Motion::PageUp => at.saturating_sub(page),
            Motion::PageDown => at + page,
            Motion::Home | Motion::Top => 0,
            Motion::End | Motion::Bottom => max,
            Motion::Left | Motion::Right => at,
        };
        *scroll = next.min(max).try_into().unwrap_or(u16::MAX);
    }

    /// The selected source changed: its editor and (once) its schema.
    fn on_selection(&mut self, out: &mut Vec<Request>) {
        let Some(source) = self.sources.selected().cloned() else {
            return;
        };
        self.editor.ensure(&source);
        if self.schema.needs_load(&source.id) {
            self.load_schema(&source.id, out);
        }
        self.selected_changed(&source, out);
    }

    fn load_schema(&mut self, source_id: &str, out: &mut Vec<Request>) {
        let id = self.next_id();
        self.schema.start(source_id, id);
        out.push(Request::Schema {
            id,
            source_id: source_id.to_string(),
        });
    }

    fn test_source(&mut self, out: &mut Vec<Request>) {
        if let Some(source) = self.sources.selected() {
            let source_id = source.id.clone();
            let id = self.next_id();
            self.tests.push((id, source_id.clone()));
            out.push(Request::Test { id, source_id });
        }
    }

    fn expand(&mut self, expand: Option<bool>) {
        if let Some(id) = self.selected_id().map(String::from)
            && let Some(tree) = self.schema.tree_mut(&id)
        {
            tree.set_expanded(expand);
        }
    }

    fn insert_name(&mut self) {
        let Some(id) = self.selected_id().map(String::from) else {
            return;
        };
        let Some(sql) = self
            .schema
            .get(&id)
            .and_then(|e| e.tree.as_ref())
            .and_then(|t| t.current_sql())
            .map(String::from)
        else {
            return;
        };
        // The editor draws its text as it is: a name that would reach the terminal changed
        // (a bidi override, a control character) is not put there.
        if for_terminal(&sql) != sql.as_str() {
            self.error("this name holds control or bidi characters; type it yourself");
            return;
        }
        self.editor.insert_name(Some(&id), &sql);
        self.info(format!("inserted {sql} into the editor"));
    }

    /// Bytes the loop must write to the terminal after the next frame (an OSC 52 copy).
    pub fn take_terminal_write(&mut self) -> Option<Vec<u8>> {
        (!self.terminal_write.is_empty()).then(|| std::mem::take(&mut self.terminal_write))
    }

    fn open_cell(&mut self) {
        let ResultsView::Done(g) = &self.results else {
            return;
        };
        let Some(column) = g.grid.result.columns.get(g.col) else {
            return;
        };
        let Some(value) = g.grid.result.rows.get(g.row).and_then(|r| r.get(g.col)) else {
            return;
        };
        let title = format!(
            "row {} · {} ({})",
            g.row + 1,
            g.grid.columns[g.col].header,
            for_terminal(&column.type_name)
        );
        let text = value
            .to_text()
            .map(|t| for_terminal_multiline(&t).into_owned());
        let search = g
            .filter
            .as_ref()
            .map(|f| g.grid.needle_of(f.input.text()).to_string())
            .unwrap_or_default();
        self.overlay = Some(Overlay::Detail(Detail {
            title,
            text,
            scroll: 0,
            search,
            found: None,
        }));
    }

    pub fn on_response(&mut self, response: Response) -> Vec<Request> {
        let mut out = Vec::new();
        match response {
            Response::Sources { result, .. } => match result {
                Ok(records) => {
                    let before = self.selected_id().map(String::from);
                    self.sources.set(&records);
                    if self.selected_id() != before.as_deref() || before.is_none() {
                        self.on_selection(&mut out);
                    }
                    self.select_added(&mut out);
                }
                Err(e) => {
                    self.sources.loaded = true;
                    self.sources.error = Some(describe_error(&e).1);
                }
            },
            Response::SourceChanged { source } => self.sources.update(&source),
            Response::Schema {
                id,
                source_id,
                result,
            } => {
                let tree = match (result, self.sources.find(&source_id)) {
                    (Ok(info), Some(item)) => Ok(SchemaTree::build(&info, item)),
                    (Ok(_), None) => return out,
                    (Err(e), _) => Err(describe_error(&e).1),
                };
                self.schema.finish(&source_id, id, tree);
            }
            Response::Progress { id, progress } if self.export_progress(id, progress) => {}
            Response::Progress { id, progress } => match &mut self.results {
                ResultsView::Running {
                    id: rid,
                    progress: p,
                    ..
                } if *rid == id => *p = Some(progress),
                _ => {
                    self.schema.progress(id, progress);
                }
            },
            Response::QueryDone { id, result } if self.plan_waits(id) => {
                self.plan_done(result, &mut out)
            }
            Response::QueryDone { id, result } => {
                // A tab in the background gets its answer as the active one would.
                if let Some(index) = self.background_tab_running(id) {
                    self.swap_with(index);
                    let done = self.query_done(id, result, &mut out);
                    let failed = matches!(self.results, ResultsView::Failed { .. });
                    self.swap_with(index);
                    if done {
                        self.chain_queued(failed, &mut out);
                    }
                } else if self.query_done(id, result, &mut out) {
                    let failed = matches!(self.results, ResultsView::Failed { .. });
                    self.chain_queued(failed, &mut out);
                }
            }
            Response::Fetched { id, query, result } => self.on_fetched(id, query, result),
            Response::Released { query, why } => self.on_released(query, &why),
            Response::Copied { what, result, .. } => match result {
                Ok(copied) => {
                    if let Some(bytes) = &copied.terminal_write {
                        self.terminal_write.extend_from_slice(bytes);
                    }
                    let line = clipboard::status_line(&what, &copied);
                    self.info(for_terminal(&line));
                    if copied.warning.is_some()
                        && let Some(m) = &mut self.message
                    {
                        m.kind = MessageKind::Warning;
                    }
                }
                Err(e) => self.error(format!("copy failed: {}", for_terminal(e.detail()))),
            },
            Response::Exported {
                id,
                path,
                rows,
                result,
            } => self.on_exported(id, &path, rows, result),
            Response::Tested {
                id,
                source_id,
                result,
            } => {
                self.tests.retain(|(t, _)| *t != id);
                let run = match &result {
                    Ok((latency, _)) => Ok(*latency),
                    Err(e) => Err(for_terminal(e.detail()).into_owned()),
                };
                self.remember_test(&source_id, run);
                let name = self
                    .sources
                    .find(&source_id)
                    .map(|s| s.label.clone())
                    .unwrap_or_default();
                match result {
                    Ok((latency, warnings)) if warnings.is_empty() => {
                        self.info(format!("{name}: reachable · {}", format_duration(latency)))
                    }
                    Ok((latency, warnings)) => self.warn(format!(
                        "{name}: reachable · {} · {}",
                        format_duration(latency),
                        for_terminal(&warnings.join(" · "))
                    )),
                    Err(e) => self.error(format!("{name}: {}", for_terminal(e.detail()))),
                }
            }
            Response::SourceSaved { id, result } => self.source_saved(id, result, &mut out),
            Response::DraftTested { id, result } => self.draft_tested(id, result),
            Response::SourceDeleted { id, result } => self.source_deleted(id, result, &mut out),
            Response::History {
                source_id, result, ..
            } => self.history_read(&source_id, result),
            Response::EditorText { source_id, sql, .. } => self.text_read(&source_id, sql),
            Response::CacheSize { id, bytes, .. } => self.cache_size(id, bytes),
        }
        out
    }

    /// A query's answer for the active tab's view; false when nobody waits for it.
    fn query_done(
        &mut self,
        id: RequestId,
        result: crate::core::Result<crate::backend::engine::QueryOutcome>,
        out: &mut Vec<Request>,
    ) -> bool {
        let ran = self.query_source.clone().filter(|q| q.id == id);
        self.query_ended(id, out);
        if self.running_query() != Some(id) {
            return false; // cancelled or replaced: nobody waits for it
        }
        let (source, limit) = match &self.results {
            ResultsView::Running { source, limit, .. } => (source.clone(), *limit),
            _ => (String::new(), self.editor.limit),
        };
        self.results = match result {
            Ok(outcome) => {
                // Every result with more rows is held open by the backend for the next page.
                let held = outcome.result.truncated;
                let origin = (outcome.source_id, outcome.sql);
                let mut view =
                    GridView::new(Grid::new(outcome.result), source, limit, outcome.duration);
                view.origin = Some(origin);
                if held {
                    view.paging = Some(Paging::Held { query: id });
                }
                view.scroll_to_cursor(self.grid_viewport());
                ResultsView::Done(Box::new(view))
            }
            Err(e) => {
                if let (Some(at), Some(q)) = (e.position(), &ran) {
                    self.editor
                        .mark_error(Some(&q.source_id), statements::shift(at, q.start));
                }
                let (heading, message) = describe_error(&e);
                ResultsView::Failed {
                    source,
                    heading,
                    message,
                }
            }
        };
        true
    }

    /// After a statement of a "run all" ended: the next one, or after a failure none.
    fn chain_queued(&mut self, failed: bool, out: &mut Vec<Request>) {
        if self.tabs.queued.is_empty() {
            return;
        }
        if failed {
            let n = self.tabs.queued.len();
            self.tabs.queued.clear();
            self.error(format!("a statement failed: the {n} after it did not run"));
            return;
        }
        self.run_queued(out);
    }

    /// Whether a source is being tested right now (its mark shows `testing`).
    pub fn status_of(&self, source_id: &str, stored: Status) -> Status {
        if self.tests.iter().any(|(_, s)| s == source_id) {
            Status::Testing
        } else {
            stored
        }
    }
}
