//! Headless subcommands (placeholder while the registry lands).

pub fn main() -> i32 {
    0
}
