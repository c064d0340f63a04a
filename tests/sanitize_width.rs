//! `display_width` must agree with what ratatui actually draws, or grid columns drift.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use tdb::core::sanitize::{display_width, for_terminal, truncate_to_width};

const SAMPLES: &[&str] = &[
    "orders",
    "日本語のテキスト",
    "ｶﾞｷﾞｸﾞ halfwidth",
    "한국어 텍스트",
    "👍 ok",
    "👩\u{200D}💻 dev",
    "🏳\u{FE0F}\u{200D}🌈",
    "🇯🇵🇫🇷",
    "e\u{301}te\u{301}",
    "لا عربى",
    "क्\u{200D}ष",
    "❤\u{FE0F}",
    "x\u{1b}]0;title\u{7}y",
    "\u{1b}[2J",
    "a\rb\tc\nd",
    "invoice\u{202E}fdp.exe",
    "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
];

fn drawn_width(s: &str) -> usize {
    let mut buf = Buffer::empty(Rect::new(0, 0, 200, 1));
    let (x, _) = buf.set_stringn(0, 0, s, 200, Style::default());
    x as usize
}

#[test]
fn width_matches_the_ratatui_buffer() {
    for raw in SAMPLES {
        let s = for_terminal(raw);
        assert_eq!(display_width(&s), drawn_width(&s), "{raw:?} shown as {s:?}");
    }
}

#[test]
fn truncated_text_fits_when_drawn() {
    for raw in SAMPLES {
        let s = for_terminal(raw);
        for max in 0..=display_width(&s) + 1 {
            let t = truncate_to_width(&s, max);
            assert!(drawn_width(&t) <= max, "{raw:?} at {max}: {t:?}");
        }
    }
}

#[test]
fn hostile_text_reaches_no_cell_as_a_control() {
    for raw in SAMPLES {
        let s = for_terminal(raw);
        let mut buf = Buffer::empty(Rect::new(0, 0, 200, 1));
        buf.set_stringn(0, 0, &s, 200, Style::default());
        for cell in buf.content() {
            assert!(
                !cell
                    .symbol()
                    .chars()
                    .any(|c| c.is_control() || tdb::core::sanitize::is_bidi_control(c)),
                "{raw:?}"
            );
        }
    }
}
