//! The command line runs headless commands itself and opens the terminal UI it is handed
//! here, so `cli` never depends on `tui`.

fn main() {
    std::process::exit(tdb::cli::main(tdb::tui::run));
}
