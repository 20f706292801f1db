//! The text metric and the box dimensions that every drawing of a diagram shares.
//!
//! Boxes are sized from their text before anything is drawn, so the layout, the browser and the
//! SVG renderer must agree on how wide a piece of text is. They agree by using a monospaced
//! font and a fixed *advance* per character: [`CHAR_WIDTH`] pixels at [`FONT_SIZE`] pixels, 0.625
//! em, a little more than the 0.6 em of the common monospaced fonts (DejaVu Sans Mono, Menlo,
//! Consolas, Liberation Mono, Courier), so that text drawn in any of them fits its box. A
//! character counts as one *column*, or two for East Asian wide characters
//! ([`text_columns`]). Text longer than a column limit is cut with `…` ([`fit`]); the cut text is
//! what the diagram carries and what every renderer draws.

/// Font size of all diagram text, in pixels.
pub const FONT_SIZE: f64 = 12.0;
/// Advance of one text column, in pixels (0.625 em of [`FONT_SIZE`]).
pub const CHAR_WIDTH: f64 = 7.5;
/// The CSS/SVG font family: monospaced fonts whose advance is at most [`CHAR_WIDTH`].
pub const FONT_FAMILY: &str = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";
/// Height of an entity's header (its name), in pixels.
pub const HEADER_HEIGHT: f64 = 28.0;
/// Height of one attribute row, in pixels.
pub const ROW_HEIGHT: f64 = 20.0;
/// Space below the last row, in pixels.
pub const BOTTOM_PADDING: f64 = 4.0;
/// Horizontal padding inside a box, left and right, in pixels.
pub const PADDING_X: f64 = 8.0;
/// Space between two text columns of a row, in pixels.
pub const COLUMN_GAP: f64 = 10.0;
/// Narrowest box, in pixels.
pub const MIN_WIDTH: f64 = 120.0;
/// Distance from a row's top to its text baseline, in pixels.
pub const ROW_BASELINE: f64 = 14.0;
/// Distance from a box's top to its header text baseline, in pixels.
pub const HEADER_BASELINE: f64 = 19.0;
/// Longest entity name shown in full, in columns.
pub const MAX_ENTITY_COLUMNS: usize = 48;
/// Longest attribute name shown in full, in columns.
pub const MAX_ATTRIBUTE_COLUMNS: usize = 40;
/// Longest type shown in full, in columns.
pub const MAX_TYPE_COLUMNS: usize = 24;

/// How many columns `text` takes: one per character, two for East Asian wide characters.
pub fn text_columns(text: &str) -> usize {
    text.chars().map(char_columns).sum()
}

/// `text` in at most `max` columns: unchanged when it fits, else cut and ended with `…`.
pub fn fit(text: &str, max: usize) -> String {
    if text_columns(text) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_columns(c);
        // One column is kept for the ellipsis.
        if used + w > max.saturating_sub(1) {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Width of `columns` columns of text, in pixels.
pub fn columns_width(columns: usize) -> f64 {
    columns as f64 * CHAR_WIDTH
}

/// Columns of one character: 2 for the East Asian wide and fullwidth blocks, else 1.
fn char_columns(c: char) -> usize {
    let c = c as u32;
    let wide = matches!(c,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_fitting() {
        let check = |text: &str, max: usize, expected: &str| {
            let got = fit(text, max);
            assert_eq!(got, expected, "fit({text:?}, {max})");
            assert!(text_columns(&got) <= max.max(1));
        };
        check("book", 10, "book");
        check("0123456789", 10, "0123456789");
        check("0123456789a", 10, "012345678…");
        check("書籍書籍書籍", 6, "書籍…");
        assert_eq!(text_columns("書a"), 3);
        assert_eq!(columns_width(4), 30.0);
    }
}
