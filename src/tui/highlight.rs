//! SQL syntax highlighting for the editor: a small lexer that knows what a reader needs to
//! see (keywords, strings, numbers, comments, identifiers) and nothing of grammar, so it
//! never fails on half-typed SQL. It works on the editor's lines and returns character
//! ranges; `ui::editor` paints them over what ratatui-textarea drew.

/// What a stretch of SQL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    String,
    Number,
    Comment,
    /// A plain or a double-quoted name.
    Identifier,
    QuotedIdentifier,
}

/// `Kind` over the characters `start..end` of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// SQL keywords, upper case: highlighted, and offered by completion.
pub const KEYWORDS: &[&str] = &[
    "ALL",
    "AND",
    "ANY",
    "AS",
    "ASC",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CROSS",
    "CURRENT_DATE",
    "CURRENT_TIMESTAMP",
    "DESC",
    "DISTINCT",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "FALSE",
    "FETCH",
    "FILTER",
    "FIRST",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "ILIKE",
    "IN",
    "INNER",
    "INTERSECT",
    "INTERVAL",
    "IS",
    "JOIN",
    "LAST",
    "LATERAL",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NATURAL",
    "NOT",
    "NULL",
    "NULLS",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "RECURSIVE",
    "RIGHT",
    "ROWS",
    "SELECT",
    "SIMILAR",
    "THEN",
    "TRUE",
    "UNION",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
];

/// Functions completion offers (lower case, as usually written); not highlighted.
pub const FUNCTIONS: &[&str] = &[
    "avg",
    "coalesce",
    "count",
    "date_trunc",
    "extract",
    "greatest",
    "least",
    "length",
    "lower",
    "max",
    "min",
    "now",
    "nullif",
    "round",
    "row_number",
    "string_agg",
    "substr",
    "sum",
    "trim",
    "upper",
];

/// Where a multi-line construct left off at the end of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Open {
    Nothing,
    BlockComment,
    String,
    QuotedIdentifier,
    /// `$tag$ … $tag$` (PostgreSQL), with its tag.
    Dollar(String),
}

/// The tokens of each line (plain spaces and punctuation have none).
pub fn tokens(lines: &[String]) -> Vec<Vec<Token>> {
    let mut open = Open::Nothing;
    lines
        .iter()
        .map(|line| line_tokens(line, &mut open))
        .collect()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn line_tokens(line: &str, open: &mut Open) -> Vec<Token> {
    let chars: Vec<char> = line.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let mut i = 0;
    // Close what the previous line left open.
    if *open != Open::Nothing {
        let (end, closed) = close(&chars, 0, open);
        out.push(Token {
            start: 0,
            end,
            kind: open_kind(open),
        });
        if !closed {
            return out;
        }
        *open = Open::Nothing;
        i = end;
    }
    while i < n {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let start = i;
        let (kind, opened) = match c {
            '-' if next == Some('-') => {
                i = n;
                (Kind::Comment, Open::Nothing)
            }
            '/' if next == Some('*') => (Kind::Comment, Open::BlockComment),
            '\'' => (Kind::String, Open::String),
            '"' => (Kind::QuotedIdentifier, Open::QuotedIdentifier),
            '$' if dollar_tag(&chars, i).is_some() => {
                let tag = dollar_tag(&chars, i).unwrap_or_default();
                (Kind::String, Open::Dollar(tag))
            }
            c if c.is_ascii_digit() && (i == 0 || !is_word(chars[i - 1])) => {
                i = number_end(&chars, i);
                (Kind::Number, Open::Nothing)
            }
            '.' if next.is_some_and(|d| d.is_ascii_digit())
                && (i == 0 || !is_word(chars[i - 1])) =>
            {
                i = number_end(&chars, i);
                (Kind::Number, Open::Nothing)
            }
            c if is_word(c) => {
                while i < n && (is_word(chars[i]) || chars[i] == '$') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let kind = if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&word)) {
                    Kind::Keyword
                } else {
                    Kind::Identifier
                };
                (kind, Open::Nothing)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        if opened != Open::Nothing {
            // Skip the opening (`'`, `"`, `/*`, `$tag$`), then look for the close.
            let skip = match &opened {
                Open::BlockComment => 2,
                Open::Dollar(tag) => tag.chars().count() + 2,
                _ => 1,
            };
            let mut state = opened;
            let (end, closed) = close(&chars, start + skip, &mut state);
            i = end;
            if !closed {
                *open = state;
            }
        }
        out.push(Token {
            start,
            end: i,
            kind,
        });
    }
    out
}

fn open_kind(open: &Open) -> Kind {
    match open {
        Open::BlockComment => Kind::Comment,
        Open::QuotedIdentifier => Kind::QuotedIdentifier,
        Open::String | Open::Dollar(_) | Open::Nothing => Kind::String,
    }
}

/// Where the construct `open` ends, searching from `from`: the index after its end and
/// whether it ended on this line.
fn close(chars: &[char], from: usize, open: &mut Open) -> (usize, bool) {
    let n = chars.len();
    let mut i = from;
    while i < n {
        match open {
            Open::BlockComment if chars[i] == '*' && chars.get(i + 1) == Some(&'/') => {
                return (i + 2, true);
            }
            Open::String | Open::QuotedIdentifier => {
                let quote = if *open == Open::String { '\'' } else { '"' };
                if chars[i] == quote {
                    // A doubled quote is an escaped one.
                    if chars.get(i + 1) == Some(&quote) {
                        i += 2;
                        continue;
                    }
                    return (i + 1, true);
                }
            }
            Open::Dollar(tag) if closes_dollar(chars, i, tag) => {
                return (i + tag.chars().count() + 2, true);
            }
            _ => {}
        }
        i += 1;
    }
    (n, false)
}

/// Whether `$tag$` stands at `i`.
fn closes_dollar(chars: &[char], i: usize, tag: &str) -> bool {
    let len = tag.chars().count();
    chars.get(i) == Some(&'$')
        && chars.get(i + len + 1) == Some(&'$')
        && chars[i + 1..i + 1 + len].iter().copied().eq(tag.chars())
}

/// The tag of a `$tag$` or `$$` starting at `i`.
fn dollar_tag(chars: &[char], i: usize) -> Option<String> {
    if chars.get(i) != Some(&'$') {
        return None;
    }
    if i > 0 && is_word(chars[i - 1]) {
        return None; // `a$b` is part of a name
    }
    let mut j = i + 1;
    while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
        j += 1;
    }
    let tag: String = chars[i + 1..j].iter().collect();
    (chars.get(j) == Some(&'$') && !tag.starts_with(|c: char| c.is_ascii_digit())).then_some(tag)
}

fn number_end(chars: &[char], mut i: usize) -> usize {
    let n = chars.len();
    while i < n && (chars[i].is_ascii_digit() || chars[i] == '.') {
        i += 1;
    }
    if i < n && matches!(chars[i], 'e' | 'E') {
        let mut j = i + 1;
        if j < n && matches!(chars[j], '+' | '-') {
            j += 1;
        }
        if j < n && chars[j].is_ascii_digit() {
            i = j;
            while i < n && chars[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Vec<(String, Kind)>> {
        let lines: Vec<String> = text.lines().map(String::from).collect();
        tokens(&lines)
            .iter()
            .zip(&lines)
            .map(|(toks, line)| {
                let chars: Vec<char> = line.chars().collect();
                toks.iter()
                    .map(|t| (chars[t.start..t.end].iter().collect(), t.kind))
                    .collect()
            })
            .collect()
    }

    fn k(s: &str, kind: Kind) -> (String, Kind) {
        (s.into(), kind)
    }

    #[test]
    fn one_line_of_everything() {
        use Kind::*;
        assert_eq!(
            kinds("select \"Order Id\", 'it''s', 1.5e3 FROM data -- note"),
            [vec![
                k("select", Keyword),
                k("\"Order Id\"", QuotedIdentifier),
                k("'it''s'", String),
                k("1.5e3", Number),
                k("FROM", Keyword),
                k("data", Identifier),
                k("-- note", Comment),
            ]]
        );
        assert_eq!(
            kinds("x1 + .5"),
            [vec![k("x1", Identifier), k(".5", Number)]]
        );
    }

    #[test]
    fn comments_and_strings_span_lines() {
        use Kind::*;
        assert_eq!(
            kinds("a /* one\ntwo */ b 'x\ny' $$p\nq$$ c"),
            [
                vec![k("a", Identifier), k("/* one", Comment)],
                vec![k("two */", Comment), k("b", Identifier), k("'x", String)],
                vec![k("y'", String), k("$$p", String)],
                vec![k("q$$", String), k("c", Identifier)],
            ]
        );
    }

    #[test]
    fn unicode_counts_characters() {
        let t = tokens(&["SELECT '山田' AS n".to_string()]);
        assert_eq!(
            t[0][1],
            Token {
                start: 7,
                end: 11,
                kind: Kind::String
            }
        );
    }
}
