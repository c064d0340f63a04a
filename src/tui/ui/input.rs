//! A one-line field as every window draws it: the text (the textarea's, so the cursor is
//! exact), or while empty a dim placeholder beside the cursor.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::core::sanitize::for_terminal;
use crate::tui::panes::line_input::LineInput;
use crate::tui::theme::Theme;

pub fn draw(theme: &Theme, f: &mut Frame, input: &LineInput, area: Rect) {
    // Text from elsewhere (a stored path, a pasted name) may hold what the terminal must not
    // get raw: then the field shows it made visible (`<U+202E>`), without the cursor.
    let text = input.text();
    let safe = for_terminal(text);
    if !input.is_masked() && safe != text {
        f.render_widget(Paragraph::new(safe.into_owned()), area);
        return;
    }
    f.render_widget(input.widget(), area);
    if input.text().is_empty() && !input.placeholder().is_empty() {
        // A focused field draws its cursor in the first cell.
        let skip = u16::from(input.focused()).min(area.width);
        f.render_widget(
            Paragraph::new(Line::styled(input.placeholder(), theme.dim)),
            Rect::new(area.x + skip, area.y, area.width - skip, 1),
        );
    }
}
