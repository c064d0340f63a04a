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

/// `text` as rows of at most `width` columns, broken at spaces where it can (messages a
/// person reads); a word longer than a row is cut by character.
pub fn word_wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let w = display_width(word);
        if used > 0 && used + 1 + w > width {
            rows.push(std::mem::take(&mut row));
            used = 0;
        }
        if used > 0 {
            row.push(' ');
            used += 1;
        }
        if w > width {
            // Alone on its rows (the row before was ended above).
            for piece in hard_wrap(word, width) {
                if used > 0 {
                    rows.push(std::mem::take(&mut row));
                }
                row.push_str(piece);
                used = display_width(piece);
            }
        } else {
            row.push_str(word);
            used += w;
        }
    }
    rows.push(row);
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

    #[test]
    fn messages_break_at_spaces() {
        assert_eq!(
            word_wrap("must not be empty here", 10),
            ["must not", "be empty", "here"]
        );
        assert_eq!(
            word_wrap("a /very/long/path", 6),
            ["a", "/very/", "long/p", "ath"]
        );
        assert_eq!(word_wrap("fits", 10), ["fits"]);
    }
}
