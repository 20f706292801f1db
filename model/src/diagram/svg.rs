//! The diagram as a plain SVG 1.1 document: what `dm convert --to svg` writes, what the server
//! inlines in a share page and what the app's "Export SVG" saves.
//!
//! The document draws exactly the geometry of a [`Diagram`] (nothing is laid out here). It is
//! self-contained and inert: no `foreignObject`, no script, no event attribute, no external
//! reference (no images, links or web fonts; the font is [`metric::FONT_FAMILY`], monospaced,
//! whose advance the boxes were sized with). Every piece of model text is XML-escaped, and
//! characters XML 1.0 does not allow become U+FFFD, so a name holding `<script>`, `&`, quotes,
//! `]]>` or Markdown is shown as text. Highlighted entities, attributes and relationships carry
//! a CSS class (`dm-added`, `dm-removed`, `dm-changed`, styled in the document's `<style>`) and
//! the same colours as presentation attributes, for tools that ignore CSS; a removed attribute
//! is struck through and a removed relationship dashed. A *marker* is the cardinality
//! sign at an edge's end, in crow's-foot notation: two bars for exactly one, a bar and a circle
//! for zero or one, a crow's foot and a circle for zero or many ([`marker`]).

use super::highlight::{Highlight, Mark};
use super::metric::{self, FONT_FAMILY, FONT_SIZE, HEADER_BASELINE, ROW_BASELINE, ROW_HEIGHT};
use super::{Diagram, EdgeEnd, EndKind, Point};
use std::fmt::Write;

/// What to draw besides the diagram.
#[derive(Clone, Debug, Default)]
pub struct SvgOptions {
    /// Entities and attributes to colour as added, removed or changed.
    pub highlight: Option<Highlight>,
    /// A title above the diagram (also the document's `<title>`).
    pub title: Option<String>,
    /// A legend of the marks, markers and highlight colours below the diagram.
    pub legend: bool,
}

/// Fill and stroke of a box, per highlight.
const PLAIN: (&str, &str) = ("#ffffff", "#5f6368");
const HEADER: &str = "#e8eaed";
const ADDED: (&str, &str) = ("#e6f4ea", "#1e8e3e");
const REMOVED: (&str, &str) = ("#fce8e6", "#d93025");
const CHANGED: (&str, &str) = ("#fef7e0", "#e37400");
const EDGE: &str = "#5f6368";
const MUTED: &str = "#5f6368";
/// Height of the title band and of one legend line.
const TITLE_HEIGHT: f64 = 32.0;
const LEGEND_LINE: f64 = 20.0;

fn colours(mark: Option<Mark>) -> (&'static str, &'static str) {
    match mark {
        None => PLAIN,
        Some(Mark::Added) => ADDED,
        Some(Mark::Removed) => REMOVED,
        Some(Mark::Changed) => CHANGED,
    }
}

/// The SVG document of `diagram`.
pub fn render(diagram: &Diagram, options: &SvgOptions) -> String {
    let b = diagram.bounds;
    let top = if options.title.is_some() {
        b.y - TITLE_HEIGHT
    } else {
        b.y
    };
    let legend_lines = if options.legend {
        if options.highlight.is_some() {
            3.0
        } else {
            2.0
        }
    } else {
        0.0
    };
    let height = b.bottom() + legend_lines * LEGEND_LINE - top;
    let mut out = String::with_capacity(512 + diagram.entities.len() * 2048);
    out.push_str(XML_DECLARATION);
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{}" height="{}" viewBox="{} {} {} {}" font-family="{}" font-size="{}">"##,
        num(b.width),
        num(height),
        num(b.x),
        num(top),
        num(b.width),
        num(height),
        FONT_FAMILY,
        num(FONT_SIZE),
    );
    if let Some(title) = &options.title {
        let _ = writeln!(out, "<title>{}</title>", esc(title));
    }
    out.push_str(STYLE);
    let _ = writeln!(
        out,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#ffffff"/>"##,
        num(b.x),
        num(top),
        num(b.width),
        num(height)
    );
    if let Some(title) = &options.title {
        let _ = writeln!(
            out,
            r##"<text class="dm-title" x="{}" y="{}" font-size="16" font-weight="bold">{}</text>"##,
            num(b.x + super::MARGIN),
            num(top + 22.0),
            esc(title)
        );
    }
    let highlight = options.highlight.as_ref();
    out.push_str("<g class=\"dm-edges\">\n");
    for edge in &diagram.edges {
        let mark = highlight.and_then(|h| h.relationship(edge));
        let (class, stroke, extra) = match mark {
            None => (String::new(), EDGE, ""),
            Some(m) => (
                format!(" {}", m.class()),
                colours(Some(m)).1,
                if m == Mark::Removed {
                    r##" stroke-width="2" stroke-dasharray="6 4""##
                } else {
                    r##" stroke-width="2""##
                },
            ),
        };
        let mut d = String::new();
        for (i, p) in edge.points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{} {}",
                if i == 0 { "M" } else { " L" },
                num(p.x),
                num(p.y)
            );
        }
        let _ = writeln!(
            out,
            r##"<path class="dm-edge{class}" d="{d}" fill="none" stroke="{stroke}"{extra}/>"##
        );
        for end in [&edge.from_end, &edge.to_end] {
            let m = marker(end);
            let _ = writeln!(
                out,
                r##"<path class="dm-marker{class}" d="{}" fill="none" stroke="{stroke}"/>"##,
                m.lines
            );
            if let Some((c, r)) = m.circle {
                let _ = writeln!(
                    out,
                    r##"<circle class="dm-marker{class}" cx="{}" cy="{}" r="{}" fill="#ffffff" stroke="{stroke}"/>"##,
                    num(c.x),
                    num(c.y),
                    num(r)
                );
            }
        }
    }
    out.push_str("</g>\n<g class=\"dm-entities\">\n");
    for e in &diagram.entities {
        let mark = highlight.and_then(|h| h.entity(&e.name));
        let (fill, stroke) = colours(mark);
        let header_fill = if mark.is_some() { stroke } else { HEADER };
        let header_text = if mark.is_some() { "#ffffff" } else { "#202124" };
        let r = e.rect;
        let _ = writeln!(
            out,
            r##"<g class="dm-entity{}">"##,
            mark.map_or(String::new(), |m| format!(" {}", m.class()))
        );
        let _ = writeln!(
            out,
            r##"<rect class="dm-box" x="{}" y="{}" width="{}" height="{}" rx="3" fill="{fill}" stroke="{stroke}"/>"##,
            num(r.x),
            num(r.y),
            num(r.width),
            num(r.height)
        );
        let _ = writeln!(
            out,
            r##"<rect class="dm-head" x="{}" y="{}" width="{}" height="{}" fill="{header_fill}" stroke="{stroke}"/>"##,
            num(r.x),
            num(r.y),
            num(r.width),
            num(metric::HEADER_HEIGHT)
        );
        let _ = writeln!(
            out,
            r##"<text class="dm-name" x="{}" y="{}" font-weight="bold" fill="{header_text}">{}</text>"##,
            num(r.x + metric::PADDING_X),
            num(r.y + HEADER_BASELINE),
            esc(&e.label)
        );
        for row in &e.rows {
            let row_mark = highlight.and_then(|h| h.attribute(&e.name, &row.attribute));
            if let Some(m) = row_mark {
                let (row_fill, _) = colours(Some(m));
                let _ = writeln!(
                    out,
                    r##"<rect class="dm-row {}" x="{}" y="{}" width="{}" height="{}" fill="{row_fill}"/>"##,
                    m.class(),
                    num(r.x + 1.0),
                    num(row.y),
                    num(r.width - 2.0),
                    num(ROW_HEIGHT)
                );
            }
            let strike = if row_mark == Some(Mark::Removed) {
                r##" text-decoration="line-through""##
            } else {
                ""
            };
            let y = num(row.y + ROW_BASELINE);
            if !row.marks.is_empty() {
                let _ = writeln!(
                    out,
                    r##"<text class="dm-marks" x="{}" y="{y}" fill="{MUTED}" font-weight="bold">{}</text>"##,
                    num(r.x + e.columns.marks),
                    esc(&row.marks)
                );
            }
            let _ = writeln!(
                out,
                r##"<text class="dm-attr" x="{}" y="{y}" fill="#202124"{strike}>{}</text>"##,
                num(r.x + e.columns.name),
                esc(&row.label)
            );
            let _ = writeln!(
                out,
                r##"<text class="dm-type" x="{}" y="{y}" fill="{MUTED}"{strike}>{}</text>"##,
                num(r.x + e.columns.data_type),
                esc(&row.type_label)
            );
            if row.nullable {
                let _ = writeln!(
                    out,
                    r##"<text class="dm-null" x="{}" y="{y}" fill="{MUTED}">NULL</text>"##,
                    num(r.x + e.columns.null)
                );
            }
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");
    if options.legend {
        legend(
            &mut out,
            b.x + super::MARGIN,
            b.bottom(),
            highlight.is_some(),
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The same drawing as an element to put inside an HTML page (the share pages inline it): the
/// document of [`render`] without its XML declaration, which HTML has no place for, and without
/// its `<style>`, which a page whose Content Security Policy forbids inline styles refuses.
/// Nothing is lost: the presentation attributes carry the same colours.
pub fn render_inline(diagram: &Diagram, options: &SvgOptions) -> String {
    let document = render(diagram, options);
    let element = document.strip_prefix(XML_DECLARATION).unwrap_or(&document);
    element.replacen(STYLE, "", 1)
}

/// The legend's lines, starting below `y`.
fn legend(out: &mut String, x: f64, y: f64, highlighted: bool) {
    out.push_str("<g class=\"dm-legend\">\n");
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" fill="{MUTED}">PK primary key  FK foreign key  UK unique  NULL nullable</text>"##,
        num(x),
        num(y + 14.0)
    );
    // The three markers with their meaning, each on a short line.
    let line_y = y + LEGEND_LINE + 10.0;
    let mut cx = x;
    for (kind, text) in [
        (EndKind::One, "exactly one"),
        (EndKind::ZeroOrOne, "zero or one"),
        (EndKind::ZeroOrMany, "zero or many"),
    ] {
        let end = EdgeEnd {
            at: Point { x: cx, y: line_y },
            direction: 1.0,
            kind,
        };
        let m = marker(&end);
        let _ = writeln!(
            out,
            r##"<path d="M{} {} L{} {} {}" fill="none" stroke="{EDGE}"/>"##,
            num(cx),
            num(line_y),
            num(cx + 30.0),
            num(line_y),
            m.lines
        );
        if let Some((c, r)) = m.circle {
            let _ = writeln!(
                out,
                r##"<circle cx="{}" cy="{}" r="{}" fill="#ffffff" stroke="{EDGE}"/>"##,
                num(c.x),
                num(c.y),
                num(r)
            );
        }
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" fill="{MUTED}">{text}</text>"##,
            num(cx + 36.0),
            num(line_y + 4.0)
        );
        cx += 36.0 + metric::columns_width(text.len()) + 24.0;
    }
    if highlighted {
        let sy = y + 2.0 * LEGEND_LINE + 4.0;
        let mut sx = x;
        for (mark, text) in [
            (Mark::Added, "added"),
            (Mark::Removed, "removed"),
            (Mark::Changed, "changed"),
        ] {
            let (fill, stroke) = colours(Some(mark));
            let _ = writeln!(
                out,
                r##"<rect class="{}" x="{}" y="{}" width="14" height="12" fill="{fill}" stroke="{stroke}"/>"##,
                mark.class(),
                num(sx),
                num(sy)
            );
            let _ = writeln!(
                out,
                r##"<text x="{}" y="{}" fill="{MUTED}">{text}</text>"##,
                num(sx + 20.0),
                num(sy + 10.0)
            );
            sx += 20.0 + metric::columns_width(text.len()) + 24.0;
        }
    }
    out.push_str("</g>\n");
}

/// The cardinality sign at one end of an edge: SVG path data of its strokes, and the circle
/// (centre and radius) of a zero, drawn filled white over the line.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub lines: String,
    pub circle: Option<(Point, f64)>,
}

/// The marker of `end`, drawn along the edge's end segment (within [`super::STUB`] of the box).
pub fn marker(end: &EdgeEnd) -> Marker {
    let (x, y, d) = (end.at.x, end.at.y, end.direction);
    let bar = |at: f64| {
        format!(
            "M{} {} L{} {}",
            num(x + d * at),
            num(y - 6.0),
            num(x + d * at),
            num(y + 6.0)
        )
    };
    let circle = Some((Point { x: x + d * 17.0, y }, 4.0));
    match end.kind {
        EndKind::One => Marker {
            lines: format!("{} {}", bar(8.0), bar(12.0)),
            circle: None,
        },
        EndKind::ZeroOrOne => Marker {
            lines: bar(8.0),
            circle,
        },
        EndKind::ZeroOrMany => {
            let tip = num(x + d * 12.0);
            Marker {
                lines: format!(
                    "M{tip} {} L{} {} M{tip} {} L{} {} M{tip} {} L{} {}",
                    num(y),
                    num(x),
                    num(y - 7.0),
                    num(y),
                    num(x),
                    num(y),
                    num(y),
                    num(x),
                    num(y + 7.0)
                ),
                circle,
            }
        }
    }
}

/// The first line of the document.
const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// The document's style sheet: the highlight classes, matching the presentation attributes.
const STYLE: &str = "<style type=\"text/css\">\n\
.dm-box{fill:#ffffff;stroke:#5f6368}\n\
.dm-head{fill:#e8eaed;stroke:#5f6368}\n\
.dm-added .dm-box{fill:#e6f4ea;stroke:#1e8e3e}\n\
.dm-added .dm-head{fill:#1e8e3e;stroke:#1e8e3e}\n\
.dm-removed .dm-box{fill:#fce8e6;stroke:#d93025}\n\
.dm-removed .dm-head{fill:#d93025;stroke:#d93025}\n\
.dm-changed .dm-box{fill:#fef7e0;stroke:#e37400}\n\
.dm-changed .dm-head{fill:#e37400;stroke:#e37400}\n\
.dm-row.dm-added{fill:#e6f4ea}\n\
.dm-row.dm-removed{fill:#fce8e6}\n\
.dm-row.dm-changed{fill:#fef7e0}\n\
.dm-edge,.dm-marker{stroke:#5f6368}\n\
.dm-edge.dm-added,.dm-marker.dm-added{stroke:#1e8e3e}\n\
.dm-edge.dm-removed,.dm-marker.dm-removed{stroke:#d93025}\n\
.dm-edge.dm-changed,.dm-marker.dm-changed{stroke:#e37400}\n\
</style>\n";

/// A coordinate as SVG text: whole numbers without a fraction, others to two decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `text` escaped for XML text and attribute values; characters XML 1.0 forbids become U+FFFD.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc(r##"<script>&"']]>"##),
            "&lt;script&gt;&amp;&quot;&#39;]]&gt;"
        );
        assert_eq!(esc("a\u{1}b"), "a\u{FFFD}b");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(-3.5), "-3.5");
        assert_eq!(num(0.126), "0.13");
    }
}
