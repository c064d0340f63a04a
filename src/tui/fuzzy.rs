//! The one matcher behind every "type to narrow a list" in the UI (completion, history
//! search, the source filter), so they all rank the same way: a prefix first, then the
//! text anywhere, then its letters in order with gaps (fewer gaps first). Case is ignored.

use std::cmp::Ordering;

/// How well a needle matched; smaller is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    Prefix,
    /// Contiguous, starting this many characters in.
    Substring(usize),
    /// The letters in order, with this many characters skipped between them.
    Scattered(usize),
}

/// How `needle` matches `hay`, if at all; an empty needle matches everything as a prefix.
pub fn rank(needle: &str, hay: &str) -> Option<Rank> {
    let needle: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
    let hay: Vec<char> = hay.chars().flat_map(char::to_lowercase).collect();
    if hay.starts_with(&needle) {
        return Some(Rank::Prefix);
    }
    if let Some(at) = hay
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
    {
        return Some(Rank::Substring(at));
    }
    let mut gaps = 0;
    let mut started = false;
    let mut wanted = needle.iter().peekable();
    for c in &hay {
        match wanted.peek() {
            Some(w) if *w == c => {
                started = true;
                wanted.next();
            }
            Some(_) if started => gaps += 1,
            Some(_) => {}
            None => break,
        }
    }
    wanted.peek().is_none().then_some(Rank::Scattered(gaps))
}

/// Sorts `(rank, tiebreak)` pairs best first; ties keep their order.
pub fn by_rank<T: Ord>(a: &(Rank, T), b: &(Rank, T)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_then_substring_then_scattered() {
        assert_eq!(rank("cu", "customer"), Some(Rank::Prefix));
        assert_eq!(rank("CU", "customer"), Some(Rank::Prefix));
        assert_eq!(rank("tom", "customer"), Some(Rank::Substring(3)));
        assert_eq!(rank("cmr", "customer"), Some(Rank::Scattered(5)));
        assert_eq!(rank("xyz", "customer"), None);
        assert_eq!(rank("", "anything"), Some(Rank::Prefix));
        assert!(Rank::Prefix < Rank::Substring(0));
        assert!(Rank::Substring(9) < Rank::Scattered(0));
        assert!(Rank::Scattered(1) < Rank::Scattered(2));
    }
}
