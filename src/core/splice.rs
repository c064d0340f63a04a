//! Edits to the user's SQL text at token positions, and the map that takes a position in the
//! edited text (where the server reports an error) back to the text the user wrote.
//!
//! The guard sends the user's own text, changed only where it must be (the `data` alias, the
//! row limit), so comments and formatting reach the server's logs and its error positions
//! can be shown where the user typed them.

use sqlparser::tokenizer::Location;

/// A 1-based line and column (in characters) of the text the user wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

/// Finds byte offsets for sqlparser's locations, which count lines by `\n` and columns in
/// characters, both from 1.
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of each line's first character.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The byte offset of `loc`, or `None` for a location outside the text.
    pub fn byte(&self, loc: Location) -> Option<usize> {
        let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let start = *self.starts.get(line)?;
        let end = self
            .starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        let rest = &self.text[start..end];
        if column == rest.chars().count() {
            return Some(end);
        }
        rest.char_indices().nth(column).map(|(i, _)| start + i)
    }
}

/// One change: the bytes `start..end` of the written text become `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// One stretch of the sent text and the stretch of the written text it stands for, both in
/// characters from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    sent_start: usize,
    sent_end: usize,
    written_start: usize,
    /// Copied unchanged, so positions map one to one; otherwise the whole stretch maps to
    /// `written_start`.
    copied: bool,
}

/// Takes positions in the sent text back to the written text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PositionMap {
    segments: Vec<Segment>,
    /// Character offset of each written line's first character.
    written_lines: Vec<usize>,
}

impl PositionMap {
    /// Where a 1-based character position of the sent text (PostgreSQL's error position)
    /// lies in the written text.
    pub fn written_location(&self, sent_position: usize) -> Option<LineColumn> {
        let sent = sent_position.checked_sub(1)?;
        let segment = self
            .segments
            .iter()
            .find(|s| (s.sent_start..s.sent_end).contains(&sent))
            .or_else(|| self.segments.last().filter(|s| s.sent_end == sent))?;
        let written = if segment.copied {
            segment.written_start + (sent - segment.sent_start)
        } else {
            segment.written_start
        };
        let line = self
            .written_lines
            .partition_point(|&start| start <= written);
        let line_start = self.written_lines.get(line.checked_sub(1)?)?;
        Some(LineColumn {
            line,
            column: written - line_start + 1,
        })
    }
}

/// Applies `edits` (sorted, not overlapping) to `written[..keep]` and returns the text to
/// send with its position map. The written text past `keep` (trailing `;`, blanks and
/// comments) is dropped; an edit starting at `keep` is appended.
pub fn apply(written: &str, keep: usize, edits: &[Edit]) -> (String, PositionMap) {
    let chars = |s: &str| s.chars().count();
    let mut sent = String::with_capacity(keep + 64);
    let mut segments = Vec::new();
    let mut at = 0;
    let mut push = |sent: &mut String, text: &str, written_start: usize, copied: bool| {
        let sent_start = chars(sent);
        sent.push_str(text);
        segments.push(Segment {
            sent_start,
            sent_end: chars(sent),
            written_start,
            copied,
        });
    };
    for edit in edits {
        if edit.start > at {
            push(
                &mut sent,
                &written[at..edit.start],
                chars(&written[..at]),
                true,
            );
        }
        push(&mut sent, &edit.text, chars(&written[..edit.start]), false);
        at = edit.end;
    }
    if keep > at {
        push(&mut sent, &written[at..keep], chars(&written[..at]), true);
    }
    let mut written_lines = vec![0];
    written_lines.extend(
        written
            .chars()
            .enumerate()
            .filter(|(_, c)| *c == '\n')
            .map(|(i, _)| i + 1),
    );
    (
        sent,
        PositionMap {
            segments,
            written_lines,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_found_by_character_columns() {
        let text = "SELECT 'é'\n  FROM t";
        let index = LineIndex::new(text);
        assert_eq!(index.byte(Location::new(1, 1)), Some(0));
        assert_eq!(index.byte(Location::new(1, 10)), Some(10));
        assert_eq!(index.byte(Location::new(1, 11)), Some(11));
        assert_eq!(index.byte(Location::new(1, 9)), Some(8));
        assert_eq!(index.byte(Location::new(2, 3)), Some(14));
        assert_eq!(index.byte(Location::new(2, 9)), Some(text.len()));
        assert_eq!(index.byte(Location::new(3, 1)), None);
        assert_eq!(index.byte(Location::new(0, 0)), None);
    }

    #[test]
    fn positions_map_back_through_replacements_and_appends() {
        let written = "SELECT x\nFROM data\nWHERE é FORM;";
        let at_data = written.find("data").unwrap();
        let keep = written.len() - 1;
        let edits = [
            Edit {
                start: at_data,
                end: at_data + 4,
                text: "\"s\".\"t\" AS data".into(),
            },
            Edit {
                start: keep,
                end: keep,
                text: " LIMIT 101".into(),
            },
        ];
        let (sent, map) = apply(written, keep, &edits);
        assert_eq!(
            sent,
            "SELECT x\nFROM \"s\".\"t\" AS data\nWHERE é FORM LIMIT 101"
        );
        let pos = |needle: &str| sent.find(needle).map(|b| sent[..b].chars().count() + 1);
        let loc = |line, column| Some(LineColumn { line, column });
        assert_eq!(map.written_location(1), loc(1, 1));
        assert_eq!(map.written_location(pos("FORM").unwrap()), loc(3, 9));
        assert_eq!(map.written_location(pos("AS data").unwrap()), loc(2, 6));
        assert_eq!(map.written_location(pos("LIMIT").unwrap()), loc(3, 13));
        assert_eq!(map.written_location(sent.chars().count() + 1), loc(3, 13));
        assert_eq!(map.written_location(0), None);
        assert_eq!(map.written_location(sent.chars().count() + 2), None);
    }
}
