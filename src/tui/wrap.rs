//! Cutting text into screen rows. The detail view wraps by character, not by word: a value
//! is data (JSON, ids, hashes) where word breaks mean little, and rows computed exactly let
//! the view know where the end is.

use unicode_segmentation::UnicodeSegmentation;

use crate::core::sanitize::display_width;

/// `text` as rows of at most `width` columns: a row ends at each line break, and wherever
/// the next character would not fit.
pub fn hard_wrap(text: &str, width: usize) -> Vec<&str> {
    let width = width.max(1);
    let mut rows = Vec::new();
    for line in text.split('\n') {
        let mut start = 0;
        let mut used = 0;
        for (i, g) in line.grapheme_indices(true) {
            let w = display_width(g);
            if used + w > width && i > start {
                rows.push(&line[start..i]);
                start = i;
                used = 0;
            }
            used += w;
        }
        rows.push(&line[start..]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_break_at_newlines_and_width() {
        assert_eq!(hard_wrap("abcdef\n\nxy", 4), ["abcd", "ef", "", "xy"]);
        assert_eq!(hard_wrap("山田太郎", 5), ["山田", "太郎"]);
        assert_eq!(hard_wrap("", 5), [""]);
    }
}
