//! tdb: explore data read-only from the terminal.
//!
//! The crate is split so that arrows point one way (`tests/layering.rs` checks them):
//! [`core`] holds plain types and rules and imports nothing above it; [`registry`],
//! [`connector`] and [`audit`] build on it; [`backend`] owns them (the query flow in
//! `backend::engine`, the UI's messages in `backend::protocol`); the command line ([`cli`])
//! and the terminal UI ([`tui`]) sit on top, and neither calls the other: `main.rs` hands the
//! UI to the command line. Within the UI, `tui::ui` draws from the app's state only.

pub mod audit;
pub mod backend;
pub mod cli;
pub mod clipboard;
pub mod connector;
pub mod core;
pub mod file_export;
pub mod home;
pub mod identity;
pub mod registry;
pub mod serve;
pub mod tui;
