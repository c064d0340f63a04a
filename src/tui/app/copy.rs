//! Copying and exporting: the copy keys, the format menu and the export prompt. Each ends
//! in a request to the backend, which owns the clipboard and writes files, so the UI goes
//! on drawing meanwhile; the answer comes back in [`AppState::on_response`].

use std::path::{Path, PathBuf};

use ratatui_textarea::{Input, Key};

use super::{AppState, Overlay};
use crate::backend::protocol::{Request, RequestId};
use crate::core::export::{self, Format, Scope as CopyScope, format_size};
use crate::core::progress::Progress;
use crate::core::sanitize::for_terminal;
use crate::core::{Error, Result};
use crate::tui::action::{CopyTarget, Motion};
use crate::tui::panes::copy::{
    COPY_FORMATS, CopyMenu, ExportPrompt, ExportStage, PendingExport, default_file_name,
};
use crate::tui::panes::move_in_list;
use crate::tui::panes::results::ResultsView;

impl AppState {
    pub(super) fn copy(&mut self, target: CopyTarget, out: &mut Vec<Request>) {
        if target == CopyTarget::Sql {
            let text = self.editor.text(self.selected_id());
            let id = self.next_id();
            out.push(Request::Copy {
                id,
                text,
                what: "SQL".into(),
            });
            return;
        }
        let ResultsView::Done(g) = &self.results else {
            self.error("nothing to copy: run a query first");
            return;
        };
        let rs = &g.grid.result;
        let scope = match target {
            CopyTarget::Cell => CopyScope::Cell {
                row: g.row,
                col: g.col,
            },
            CopyTarget::Row => CopyScope::Row(g.row),
            CopyTarget::Column => CopyScope::Column(g.col),
            CopyTarget::All | CopyTarget::Sql => CopyScope::All,
        };
        let format = self.copying.format;
        let text = export::render(rs, scope, format);
        let mut what = scope.describe(rs);
        if format != Format::Tsv {
            what = format!("{what} as {}", format.label());
        }
        let id = self.next_id();
        out.push(Request::Copy { id, text, what });
    }

    pub(super) fn open_copy_menu(&mut self) {
        self.overlay = Some(Overlay::CopyMenu(CopyMenu::new(self.copying.format)));
    }

    pub(super) fn menu_open(&self) -> bool {
        matches!(self.overlay, Some(Overlay::CopyMenu(_)))
    }

    pub(super) fn move_in_menu(&mut self, motion: Motion) {
        if let Some(Overlay::CopyMenu(m)) = &mut self.overlay {
            m.selected = move_in_list(m.selected, COPY_FORMATS.len(), motion, COPY_FORMATS.len());
        }
    }

    pub(super) fn open_export(&mut self) {
        let ResultsView::Done(g) = &self.results else {
            self.error("nothing to export: run a query first");
            return;
        };
        if self.copying.pending.is_some() {
            self.error("an export is being written; wait for it to finish");
            return;
        }
        let name = match &self.copying.last_export {
            Some(n) => n.clone(),
            None => {
                let source = self
                    .sources
                    .items
                    .iter()
                    .find(|s| s.label == g.source)
                    .map_or("result", |s| s.name.as_str());
                default_file_name(source, Format::Csv)
            }
        };
        let mut prompt = ExportPrompt::new(&name, g.grid.rows());
        prompt.more = g.grid.result.truncated && g.origin.is_some();
        self.overlay = Some(Overlay::Export(prompt));
    }

    /// The export prompt's choice between every row and the rows fetched.
    pub(super) fn toggle_every_row(&mut self) {
        if let Some(Overlay::Export(p)) = &mut self.overlay
            && p.more
        {
            p.every_row = !p.every_row;
        }
    }

    /// Whether an export of every row is being written (Esc cancels it).
    pub fn exporting_all(&self) -> bool {
        self.copying
            .pending
            .as_ref()
            .is_some_and(|p| p.prompt.every_row)
    }

    /// Esc while every row is being exported: stops the query; no file is left.
    pub(super) fn cancel_export(&mut self, out: &mut Vec<Request>) -> bool {
        if !self.exporting_all() {
            return false;
        }
        if let Some(p) = self.copying.pending.take() {
            out.push(Request::Cancel { id: p.id });
        }
        self.info("export cancelled: no file was written");
        true
    }

    /// How far the export of every row has got, in the status bar; false when `id` is not
    /// that export.
    pub(super) fn export_progress(&mut self, id: RequestId, progress: Progress) -> bool {
        let Some(p) = self.copying.pending.as_mut().filter(|p| p.id == id) else {
            return false;
        };
        p.progress = Some((progress.rows, progress.bytes));
        let cancel = self
            .keymap
            .hint(
                crate::tui::keymap::Scope::Running,
                &crate::tui::action::Action::CancelQuery,
            )
            .unwrap_or_else(|| "Esc".into());
        self.info(format!(
            "exporting every row… {} rows · {} ({cancel} cancels)",
            progress.rows,
            format_size(usize::try_from(progress.bytes).unwrap_or(usize::MAX))
        ));
        true
    }

    pub(super) fn prompt_open(&self) -> bool {
        matches!(self.overlay, Some(Overlay::Export(_)))
    }

    /// Enter: take the highlighted format, or write the file.
    pub(super) fn confirm(&mut self, out: &mut Vec<Request>) {
        match self.overlay.take() {
            Some(Overlay::CopyMenu(m)) => {
                self.copying.format = m.format();
                self.info(format!("copies are {} now", m.format().label()));
            }
            Some(Overlay::Export(p)) if p.stage == ExportStage::Editing => {
                self.start_export(p, false, out)
            }
            other => self.overlay = other,
        }
    }

    pub(super) fn next_format(&mut self) {
        if let Some(Overlay::Export(p)) = &mut self.overlay {
            p.next_format();
        }
    }

    /// A key typed in the export prompt: the file name, or `y`/`n` to the overwrite question.
    pub(super) fn prompt_input(&mut self, input: Input, out: &mut Vec<Request>) {
        let Some(Overlay::Export(p)) = &mut self.overlay else {
            return;
        };
        match (&p.stage, input.key) {
            (ExportStage::Editing, _) => {
                p.input.input(input);
                p.follow_extension();
            }
            (ExportStage::ConfirmOverwrite { .. }, Key::Char('y' | 'Y')) => {
                if let Some(Overlay::Export(p)) = self.overlay.take() {
                    self.start_export(p, true, out);
                }
            }
            (ExportStage::ConfirmOverwrite { .. }, Key::Char('n' | 'N')) => {
                p.stage = ExportStage::Editing;
            }
            _ => {}
        }
    }

    pub(super) fn prompt_paste(&mut self, text: &str) {
        if let Some(Overlay::Export(p)) = &mut self.overlay
            && p.stage == ExportStage::Editing
        {
            p.input.insert(text);
            p.follow_extension();
        }
    }

    /// Hands the result to the backend to write; the prompt waits, closed, in case the file
    /// exists and the question must be asked.
    fn start_export(&mut self, mut prompt: ExportPrompt, overwrite: bool, out: &mut Vec<Request>) {
        let name = prompt.input.text().trim().to_string();
        if name.is_empty() {
            self.overlay = Some(Overlay::Export(prompt));
            self.error("give the file a name");
            return;
        }
        let id = self.next_id();
        let ResultsView::Done(g) = &self.results else {
            self.error("nothing to export: run a query first");
            return;
        };
        out.push(match (&g.origin, prompt.every_row) {
            (Some((source_id, sql)), true) => Request::ExportAll {
                id,
                source_id: source_id.clone(),
                sql: sql.clone(),
                path: PathBuf::from(&name),
                format: prompt.format,
                overwrite,
            },
            _ => Request::Export {
                id,
                result: g.grid.result.clone(),
                path: PathBuf::from(&name),
                format: prompt.format,
                overwrite,
            },
        });
        prompt.stage = ExportStage::Editing;
        self.copying.last_export = Some(name.clone());
        self.copying.pending = Some(PendingExport {
            id,
            prompt,
            progress: None,
        });
        self.info(format!("exporting to {}…", for_terminal(&name)));
    }

    pub(super) fn on_exported(
        &mut self,
        id: RequestId,
        path: &Path,
        rows: usize,
        result: Result<usize>,
    ) {
        let Some(pending) = self.copying.pending.take_if(|p| p.id == id) else {
            return;
        };
        let shown = for_terminal(&crate::clipboard::tildify(path)).into_owned();
        match result {
            Ok(bytes) => {
                let rows = match rows {
                    1 => "1 row".to_string(),
                    n => format!("{n} rows"),
                };
                self.info(format!(
                    "exported {rows} · {} · {shown}",
                    format_size(bytes)
                ));
            }
            Err(Error::Conflict(_)) => {
                let mut prompt = pending.prompt;
                prompt.stage = ExportStage::ConfirmOverwrite { shown };
                self.overlay = Some(Overlay::Export(prompt));
            }
            Err(e) => self.error(format!("export failed: {}", for_terminal(e.detail()))),
        }
    }
}
