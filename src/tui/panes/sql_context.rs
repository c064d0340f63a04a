//! Where the editor's cursor is in its statement, for completion: the word before it (a
//! keyword such as `FROM`), the `x.` it follows, and the names the statement gives —
//! table aliases, CTEs and subqueries in `FROM` with their columns. A small lexer, not
//! the guard's parser: a statement being typed is rarely one that parses.

use std::collections::HashMap;

use crate::tui::highlight::KEYWORDS;

/// A token of the statement, with where it starts and ends (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A name or keyword; `quoted` for `"x"` and `` `x` `` (never a keyword then).
    Word {
        text: String,
        quoted: bool,
    },
    Punct(char),
    /// A string or number literal.
    Literal,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn lex(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = sql[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
        } else if c == b'\'' {
            i += 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push(Token {
                tok: Tok::Literal,
                start,
                end: i,
            });
        } else if c == b'"' || c == b'`' {
            let close = sql[i + 1..].find(c as char).map_or(b.len(), |e| i + 1 + e);
            out.push(Token {
                tok: Tok::Word {
                    text: sql[i + 1..close].to_string(),
                    quoted: true,
                },
                start,
                end: (close + 1).min(b.len()),
            });
            i = (close + 1).min(b.len());
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Literal,
                start,
                end: i,
            });
        } else if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 {
            let word_end = sql[i..]
                .char_indices()
                .find(|(_, ch)| !(ch.is_alphanumeric() || *ch == '_' || *ch == '$'))
                .map_or(sql.len(), |(n, _)| i + n);
            out.push(Token {
                tok: Tok::Word {
                    text: sql[i..word_end].to_string(),
                    quoted: false,
                },
                start,
                end: word_end,
            });
            i = word_end;
        } else {
            let ch = sql[i..].chars().next().unwrap_or(' ');
            out.push(Token {
                tok: Tok::Punct(ch),
                start,
                end: i + ch.len_utf8(),
            });
            i += ch.len_utf8();
        }
    }
    out
}

/// Words that end a table reference rather than name its alias.
const NOT_ALIASES: &[&str] = &[
    "WHERE",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "OUTER",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "GROUP",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "WINDOW",
    "FETCH",
    "FOR",
    "LATERAL",
    "SELECT",
    "FROM",
    "AS",
    "WITH",
    "QUALIFY",
    "SAMPLE",
    "FINAL",
    "PREWHERE",
    "SETTINGS",
    "FORMAT",
];

/// What comes right before the word being typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Previous {
    /// Nothing: the statement starts here.
    Nothing,
    /// A keyword, upper case (`FROM`, `ORDER`).
    Keyword(String),
    /// A name, a literal or a `)`: an expression ended, a keyword likely comes next.
    Value,
    /// A `,`, `(` or an operator: an expression likely comes next.
    #[default]
    Separator,
}

/// What the cursor's statement says around the cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlContext {
    /// The `x` of `x.` right before the word being typed.
    pub qualifier: Option<String>,
    pub previous: Previous,
    /// Whether the cursor is where a table goes: after `FROM`, `JOIN` or a `,` in a FROM list.
    pub wants_table: bool,
    /// Aliases (lower case) and the table each names, as written (`public.orders`).
    pub aliases: HashMap<String, String>,
    /// CTEs and aliased subqueries (lower case) with the columns they give.
    pub derived: HashMap<String, Vec<String>>,
    /// The tables the statement reads, as written.
    pub tables: Vec<String>,
}

fn word(t: Option<&Token>) -> Option<(&str, bool)> {
    match &t?.tok {
        Tok::Word { text, quoted } => Some((text.as_str(), *quoted)),
        _ => None,
    }
}

fn is_kw(t: Option<&Token>, kw: &str) -> bool {
    matches!(word(t), Some((w, false)) if w.eq_ignore_ascii_case(kw))
}

fn is_punct(t: Option<&Token>, c: char) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::Punct(p)) if *p == c)
}

/// The index of the `)` closing the `(` at `open`, or the end.
fn closing(toks: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if is_punct(Some(t), '(') {
            depth += 1;
        } else if is_punct(Some(t), ')') {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    toks.len()
}

/// The names a query's first select list gives its columns (`a`, `x AS b`, `t.c`).
fn select_names(toks: &[Token]) -> Vec<String> {
    let Some(select) = toks.iter().position(|t| is_kw(Some(t), "SELECT")) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let mut item: Vec<&Token> = Vec::new();
    let mut depth = 0usize;
    let mut flush = |item: &mut Vec<&Token>| {
        let last = item.last().copied();
        let before = item.len().checked_sub(2).and_then(|i| item.get(i)).copied();
        if let Some((name, quoted)) = word(last) {
            let alone = item.len() == 1;
            let after_dot_or_as = is_punct(before, '.') || is_kw(before, "AS");
            let keyword = !quoted && NOT_ALIASES.iter().any(|k| k.eq_ignore_ascii_case(name));
            if (alone || after_dot_or_as) && !keyword {
                names.push(name.to_string());
            }
        }
        item.clear();
    };
    for t in &toks[select + 1..] {
        match &t.tok {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') if depth == 0 => break,
            Tok::Punct(')') => depth -= 1,
            Tok::Punct(',') if depth == 0 => {
                flush(&mut item);
                continue;
            }
            _ if depth == 0 && is_kw(Some(t), "FROM") => break,
            _ => {}
        }
        if depth == 0 && !matches!(t.tok, Tok::Punct('(' | ')')) {
            item.push(t);
        }
    }
    flush(&mut item);
    names
}

/// Reads `statement` (the one the cursor is in) with the word being typed starting at
/// byte `word_start`.
pub fn analyse(statement: &str, word_start: usize) -> SqlContext {
    let toks = lex(statement);
    let mut ctx = SqlContext::default();
    // What comes right before the word being typed.
    let before: Vec<&Token> = toks.iter().filter(|t| t.end <= word_start).collect();
    let last = before.last().copied();
    if is_punct(last, '.')
        && let Some(prev) = before.len().checked_sub(2).and_then(|i| before.get(i))
        && let Some((q, _)) = word(Some(prev))
        && prev.end == last.map_or(0, |l| l.start)
    {
        ctx.qualifier = Some(q.to_string());
    }
    ctx.previous = match last.map(|t| &t.tok) {
        None => Previous::Nothing,
        Some(Tok::Word {
            text,
            quoted: false,
        }) if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(text)) => {
            Previous::Keyword(text.to_ascii_uppercase())
        }
        Some(Tok::Word { .. } | Tok::Literal | Tok::Punct(')')) => Previous::Value,
        Some(Tok::Punct(_)) => Previous::Separator,
    };
    ctx.wants_table = is_kw(last, "FROM") || is_kw(last, "JOIN");
    // Table references: after FROM / JOIN, and after `,` inside a FROM list.
    let mut i = 0;
    let mut in_from = false;
    while i < toks.len() {
        let t = &toks[i];
        if is_kw(Some(t), "WITH") || (is_punct(Some(t), ',') && !in_from) {
            // `name [(cols)] AS (query)`: a CTE.
            let mut j = i + 1;
            if is_kw(toks.get(j), "RECURSIVE") {
                j += 1;
            }
            if let Some((name, _)) = word(toks.get(j)) {
                let mut k = j + 1;
                let mut cols = Vec::new();
                if is_punct(toks.get(k), '(') {
                    let close = closing(&toks, k);
                    cols = toks[k + 1..close.min(toks.len())]
                        .iter()
                        .filter_map(|t| word(Some(t)).map(|(w, _)| w.to_string()))
                        .collect();
                    k = close + 1;
                }
                if is_kw(toks.get(k), "AS") && is_punct(toks.get(k + 1), '(') {
                    let close = closing(&toks, k + 1);
                    if cols.is_empty() {
                        cols = select_names(&toks[k + 2..close.min(toks.len())]);
                    }
                    ctx.derived.insert(name.to_lowercase(), cols);
                }
            }
        }
        let starts_ref =
            is_kw(Some(t), "FROM") || is_kw(Some(t), "JOIN") || (in_from && is_punct(Some(t), ','));
        if is_kw(Some(t), "FROM") {
            in_from = true;
        } else if word(Some(t)).is_some_and(|(w, q)| {
            !q && NOT_ALIASES.iter().any(|k| k.eq_ignore_ascii_case(w))
                && !w.eq_ignore_ascii_case("AS")
        }) && !is_kw(Some(t), "FROM")
        {
            in_from = false;
        }
        if !starts_ref {
            i += 1;
            continue;
        }
        if is_punct(Some(t), ',') {
            ctx.wants_table |= last.is_some_and(|l| l.start == t.start);
        }
        let mut j = i + 1;
        let mut target = None;
        let mut columns = None;
        if is_punct(toks.get(j), '(') {
            let close = closing(&toks, j);
            columns = Some(select_names(&toks[j + 1..close.min(toks.len())]));
            j = close + 1;
        } else {
            let mut name = String::new();
            while let Some((w, _)) = word(toks.get(j)) {
                name.push_str(w);
                if is_punct(toks.get(j + 1), '.') && word(toks.get(j + 2)).is_some() {
                    name.push('.');
                    j += 2;
                } else {
                    j += 1;
                    break;
                }
            }
            if !name.is_empty() {
                ctx.tables.push(name.clone());
                target = Some(name);
            }
        }
        if is_kw(toks.get(j), "AS") {
            j += 1;
        }
        if let Some((alias, quoted)) = word(toks.get(j))
            && (quoted || !NOT_ALIASES.iter().any(|k| k.eq_ignore_ascii_case(alias)))
            && toks
                .get(j)
                .is_some_and(|a| a.end <= word_start || a.start > word_start)
        {
            let alias = alias.to_lowercase();
            match (target, columns) {
                (Some(t), _) => {
                    ctx.aliases.insert(alias, t);
                }
                (None, Some(cols)) => {
                    ctx.derived.insert(alias, cols);
                }
                (None, None) => {}
            }
        }
        i = j.max(i + 1);
    }
    ctx
}

/// The statement of `text` holding byte `at` (split at `;` outside strings and comments),
/// and where it starts.
pub fn statement_at(text: &str, at: usize) -> (&str, usize) {
    let mut start = 0;
    for t in lex(text) {
        if matches!(t.tok, Tok::Punct(';')) {
            if t.start >= at {
                return (&text[start..t.start], start);
            }
            start = t.end;
        }
    }
    (&text[start..], start)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The context with the cursor at `|`.
    fn at(sql: &str) -> SqlContext {
        let cursor = sql.find('|').unwrap();
        let text = sql.replace('|', "");
        let (stmt, start) = statement_at(&text, cursor);
        let local = cursor - start;
        let word_start = stmt[..local]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map_or(local, |(i, _)| i);
        analyse(stmt, word_start)
    }

    #[test]
    fn aliases_qualifiers_and_the_keyword_before() {
        let c = at("SELECT o.| FROM public.orders AS o JOIN customers c ON c.id = o.cid");
        assert_eq!(c.qualifier.as_deref(), Some("o"));
        assert_eq!(c.aliases["o"], "public.orders");
        assert_eq!(c.aliases["c"], "customers");
        assert_eq!(c.tables, ["public.orders", "customers"]);
        let c = at("SELECT * FROM ord|");
        assert!(c.wants_table);
        assert_eq!(c.previous, Previous::Keyword("FROM".into()));
        assert!(c.aliases.is_empty(), "the word being typed is no alias");
        let c = at("SELECT * FROM a, |");
        assert!(c.wants_table, "after a comma in a FROM list");
        let c = at("SELECT 1; SELECT x FROM t ORDER |; SELECT 2");
        assert_eq!(c.previous, Previous::Keyword("ORDER".into()));
        assert_eq!(at("|").previous, Previous::Nothing);
        assert_eq!(at("SELECT a |").previous, Previous::Value);
        assert_eq!(at("SELECT a, |").previous, Previous::Separator);
        assert_eq!(c.tables, ["t"], "only the cursor's statement");
    }

    #[test]
    fn ctes_and_subqueries_give_their_columns() {
        let c = at(
            "WITH big(id, amount) AS (SELECT 1, 2), names AS (SELECT o.name, upper(x) AS shout, 3 FROM o) \
                    SELECT b.| FROM big b, names n, (SELECT id AS k FROM t) s",
        );
        assert_eq!(c.derived["big"], ["id", "amount"]);
        assert_eq!(c.derived["names"], ["name", "shout"]);
        assert_eq!(c.derived["s"], ["k"]);
        assert_eq!(c.aliases["b"], "big");
        assert_eq!(c.qualifier.as_deref(), Some("b"));
    }

    #[test]
    fn strings_and_comments_are_not_read_as_sql() {
        let c = at("SELECT 'FROM x y', -- FROM z w\n a.| /* JOIN q r */ FROM t a");
        assert_eq!(c.tables, ["t"]);
        assert_eq!(c.aliases.len(), 1);
        let (stmt, _) = statement_at("SELECT ';' AS s; SELECT 2", 3);
        assert_eq!(stmt, "SELECT ';' AS s");
    }
}
