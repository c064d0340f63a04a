//! tdb: explore data read-only from the terminal.
//!
//! The crate is split so that arrows point one way: [`core`] holds plain types and rules,
//! [`registry`], [`connector`] and [`audit`] build on it, and the command line and the
//! terminal UI sit on top.

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
pub mod tui;
