//! The terminal side of `check` and `verify`: a live progress line, and text shaped for the
//! table (a progress bar, a task cut short, a hint wrapped).

use std::io::{IsTerminal, Write};

/// One line on the terminal that we keep rewriting (`\r` + "erase line"); nothing when stderr is
/// not a terminal (CI logs, pipes), so logs hold only the final table.
pub(crate) struct LiveLine {
    on: bool,
    width: usize,
}

impl LiveLine {
    /// The live line on stderr, as wide as `$COLUMNS` says (80 if it does not).
    pub(crate) fn new() -> LiveLine {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(80);
        LiveLine {
            on: std::io::stderr().is_terminal(),
            width: width.max(20) - 1,
        }
    }

    /// Shows `text` in place of what the line said, cut to the terminal's width.
    pub(crate) fn show(&self, text: &str) {
        if self.on {
            let text: String = text.chars().take(self.width).collect();
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K{text}");
            let _ = stderr.flush();
        }
    }

    /// Empties the line, before we print something that stays.
    pub(crate) fn clear(&self) {
        if self.on {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// `[####------] 4/8`: `done` of `total`, as a bar.
pub(crate) fn bar(done: usize, total: usize) -> String {
    let width = 16;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    format!(
        "[{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(width - filled)
    )
}

/// `text` cut to `max` characters, with `…` where it was cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Breaks `text` into lines of at most `width` characters (at spaces), indenting the later ones.
pub(crate) fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join(&format!("\n{indent}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_text_for_the_table() {
        assert_eq!(bar(0, 8), "[----------------] 0/8");
        assert_eq!(bar(4, 8), "[########--------] 4/8");
        assert_eq!(bar(0, 0), "[################] 0/0");
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("a bit too long", 10), "a bit too…");
        assert_eq!(
            wrap("one two three four", 9, "  "),
            "one two\n  three\n  four"
        );
    }
}
