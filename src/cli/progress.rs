//! A progress bar on stderr for long preparations (CSV imports), only when a person watches.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::Context;
use crate::core::progress::{Progress, ProgressFn};

pub struct ImportBar {
    bar: Option<ProgressBar>,
}

/// A bar that appears on the first progress report, if stderr is a terminal and the output
/// is not JSON.
pub fn import_bar(ctx: &Context) -> ImportBar {
    let visible = !ctx.json && std::io::stderr().is_terminal();
    ImportBar {
        bar: visible.then(|| {
            let bar = ProgressBar::hidden();
            bar.set_style(
                ProgressStyle::with_template(
                    "importing {bar:30} {bytes}/{total_bytes} · {msg} · {bytes_per_sec} · eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        }),
    }
}

impl ImportBar {
    pub fn callback(&self) -> Option<ProgressFn> {
        let bar = self.bar.clone()?;
        Some(Arc::new(move |p: Progress| {
            if bar.is_hidden() && !p.done {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_length(p.total_bytes);
            bar.set_position(p.bytes);
            bar.set_message(format!("~{} rows", p.rows));
            if p.done {
                bar.finish_and_clear();
            }
        }))
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
