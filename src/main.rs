//! The command line runs headless commands itself and opens the terminal UI or the HTTP
//! server it is handed here, so `cli` never depends on `tui` or `serve`.

fn main() {
    std::process::exit(tdb::cli::main(tdb::tui::run, tdb::serve::run));
}
