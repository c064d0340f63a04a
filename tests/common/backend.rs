//! The UI's backend on its own, as the terminal UI starts it, for tests that talk to it
//! through its channels.

use std::path::Path;

use tdb::backend::{self, Handle};
use tdb::clipboard::{Clipboard, ClipboardEnv};
use tdb::home::Home;

/// A runtime to shut the backend down on, and the backend serving `home`; the clipboard
/// is a file in `dir`.
pub fn start(home: &Path, dir: &Path) -> (tokio::runtime::Runtime, Handle) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clipboard = Clipboard::new(ClipboardEnv::default(), dir.join("clipboard.txt"));
    (rt, backend::spawn_with(Home::at(home), clipboard).unwrap())
}
