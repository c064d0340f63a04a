fn main() {
    std::process::exit(tdb::cli::main());
}
