//! Plain types and rules: no tokio, no terminal, no database handles, and nothing of the
//! crate outside `core` (`tests/layering.rs` checks it), so every layer above can use them.

pub mod draft;
pub mod error;
pub mod export;
pub mod guard;
pub mod history;
pub mod ident;
pub mod kind;
pub mod progress;
pub mod regular_file;
pub mod sanitize;
pub mod schema;
pub mod secret;
pub mod source;
pub mod splice;
pub mod statements;
pub mod value;

pub use error::{Error, Result};
