//! EXPLAIN: the plan of the statement under the editor's cursor in a view over the panes.
//! It goes the way of every query (guard, read-only transaction, audit, history) as a
//! `Request::Query` of the engine's EXPLAIN; only its answer goes to the plan view.

use super::{AppState, Overlay};
use crate::backend::engine::QueryOutcome;
use crate::backend::protocol::{Request, RequestId};
use crate::core::Result;
use crate::core::sanitize::for_terminal;
use crate::tui::action::Motion;
use crate::tui::layout;
use crate::tui::panes::plan::{PlanState, PlanView, explain_sql, read_plan};
use crate::tui::panes::results::describe_error;

/// EXPLAIN output never needs many rows: SQLite's and ClickHouse's come a step a row.
const PLAN_ROWS: usize = 1000;

impl AppState {
    /// F6: the plan of the statement under the cursor (or the selection).
    pub(super) fn explain(&mut self, out: &mut Vec<Request>) {
        let Some(source) = self.sources.selected().cloned() else {
            self.error("no source to explain on: add one with `tdb source add …`");
            return;
        };
        let Some((statement, _)) = self.editor.statement(Some(&source.id), source.dialect) else {
            self.error("nothing to explain: the editor holds no statement");
            return;
        };
        self.completion = None;
        let view = PlanView {
            source_id: source.id.clone(),
            source: source.label.clone(),
            dialect: source.dialect,
            statement,
            analyze: false,
            state: PlanState::Failed(String::new()),
            scroll: 0,
        };
        self.send_plan(view, out);
    }

    /// `a` in the plan view: the same statement run with EXPLAIN ANALYZE, or back.
    pub(super) fn toggle_analyze(&mut self, out: &mut Vec<Request>) {
        if !matches!(self.overlay, Some(Overlay::Plan(_))) {
            return;
        }
        let Some(Overlay::Plan(mut view)) = self.overlay.take() else {
            return;
        };
        if let PlanState::Running { id, .. } = view.state {
            out.push(Request::Cancel { id });
        }
        view.analyze = !view.analyze;
        view.scroll = 0;
        self.send_plan(*view, out);
    }

    fn send_plan(&mut self, mut view: PlanView, out: &mut Vec<Request>) {
        match explain_sql(view.dialect, &view.statement, view.analyze) {
            Ok(sql) => {
                let id = self.next_id();
                view.state = PlanState::Running {
                    id,
                    started: self.now,
                };
                out.push(Request::Query {
                    id,
                    source_id: view.source_id.clone(),
                    sql,
                    limit: PLAN_ROWS,
                    idle: self.tabs.limits.idle,
                });
            }
            Err(why) => view.state = PlanState::Failed(why),
        }
        self.overlay = Some(Overlay::Plan(Box::new(view)));
    }

    /// Whether the plan view waits for the answer to `id`.
    pub(super) fn plan_waits(&self, id: RequestId) -> bool {
        matches!(&self.overlay, Some(Overlay::Plan(v)) if v.waits_for(id))
    }

    pub(super) fn plan_running(&self) -> bool {
        matches!(
            &self.overlay,
            Some(Overlay::Plan(v)) if matches!(v.state, PlanState::Running { .. })
        )
    }

    pub(super) fn plan_done(&mut self, result: Result<QueryOutcome>, out: &mut Vec<Request>) {
        let Some(Overlay::Plan(view)) = &mut self.overlay else {
            return;
        };
        view.state = match result {
            Ok(outcome) => match read_plan(view.dialect, &outcome.result) {
                Ok(plan) => PlanState::Done(plan),
                Err(why) => PlanState::Failed(for_terminal(&why).into_owned()),
            },
            Err(e) => {
                let (heading, message) = describe_error(&e);
                PlanState::Failed(format!("{heading}: {message}"))
            }
        };
        // The EXPLAIN ran like any query: its source's history has a new run.
        let source_id = view.source_id.clone();
        self.request_history(&source_id, out);
    }

    /// Closing the view stops an EXPLAIN still under way, on the server.
    pub(super) fn close_plan(&mut self, out: &mut Vec<Request>) {
        if let Some(Overlay::Plan(view)) = self.overlay.take()
            && let PlanState::Running { id, .. } = view.state
        {
            out.push(Request::Cancel { id });
        }
    }

    /// Scrolls the plan view, stopping where its last line is at the bottom.
    pub(super) fn scroll_plan(&mut self, motion: Motion) -> bool {
        let page = plan_page(self.size);
        let Some(Overlay::Plan(view)) = &mut self.overlay else {
            return false;
        };
        let max = view.rows().saturating_sub(page);
        let at = view.scroll as usize;
        let next = match motion {
            Motion::Up => at.saturating_sub(1),
            Motion::Down => at + 1,
            Motion::PageUp => at.saturating_sub(page),
            Motion::PageDown => at + page,
            Motion::Home | Motion::Top => 0,
            Motion::End | Motion::Bottom => max,
            Motion::Left | Motion::Right => at,
        };
        view.scroll = next.min(max).try_into().unwrap_or(u16::MAX);
        true
    }
}

/// The plan lines the view shows at once: its body less the statement's line and the
/// blank one under it.
pub fn plan_page(size: ratatui::layout::Rect) -> usize {
    (layout::inner(layout::overlay(size)).height as usize)
        .saturating_sub(2)
        .max(1)
}
