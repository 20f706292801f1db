//! A draft's narrative (Markdown written by the LLM or a person) as a tree of safe blocks.
//!
//! The tree holds text, never markup: raw HTML in the narrative (`<script>`, `<img onerror>`)
//! comes out as the literal text it is, and a link keeps its target only when that target is
//! an absolute `http`, `https` or `mailto` address (no `javascript:`, `data:` or relative
//! paths). The browser, the server's share pages and the CLI build their views from this tree
//! with text nodes and their own elements, so nothing in a narrative can run or restyle a
//! page, whatever the renderer.
//!
//! CommonMark plus strikethrough and tables is read (pulldown-cmark); footnotes, math and the
//! like become plain text.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

/// A block of the narrative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "block", rename_all = "snake_case")]
pub enum Block {
    /// A heading; `level` is 1 to 6 as written (renderers shift it under their own headings).
    Heading {
        level: u8,
        content: Vec<Inline>,
    },
    Paragraph {
        content: Vec<Inline>,
    },
    /// A list; `start` is the first number of an ordered list, `None` for bullets.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    Quote {
        blocks: Vec<Block>,
    },
    /// Preformatted text (a fenced or indented code block, or a block of raw HTML shown as
    /// the text it is).
    Code {
        text: String,
    },
    /// A table: the header row, then the body rows; each cell is inline content.
    Table {
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    Rule,
}

/// Inline content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "inline", rename_all = "snake_case")]
pub enum Inline {
    Text {
        text: String,
    },
    Code {
        text: String,
    },
    Emphasis {
        content: Vec<Inline>,
    },
    Strong {
        content: Vec<Inline>,
    },
    Strike {
        content: Vec<Inline>,
    },
    /// A link; `href` is `None` when the target is not one a reader may follow from here
    /// (the text is still shown).
    Link {
        href: Option<String>,
        content: Vec<Inline>,
    },
    Break,
}

/// The link targets a narrative may keep: absolute addresses of these schemes.
const SAFE_SCHEMES: [&str; 3] = ["http://", "https://", "mailto:"];

/// `href` when it is safe to follow, trimmed; `None` otherwise.
pub fn safe_href(href: &str) -> Option<String> {
    let href = href.trim();
    let lower = href.to_ascii_lowercase();
    (SAFE_SCHEMES.iter().any(|s| lower.starts_with(s))
        && !href.chars().any(|c| c.is_control() || c.is_whitespace()))
    .then(|| href.to_string())
}

/// What is being built: a container of blocks, of inlines, or a table's parts.
enum Frame {
    /// The document, a list item or a quote.
    Blocks {
        kind: BlockKind,
        blocks: Vec<Block>,
    },
    /// A paragraph, heading, emphasis, link or table cell.
    Inlines {
        kind: InlineKind,
        content: Vec<Inline>,
    },
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    Code {
        text: String,
    },
    Table {
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
        in_head: bool,
    },
    Row {
        cells: Vec<Vec<Inline>>,
    },
    /// A tag whose own meaning is dropped; its content goes to the frame around it.
    Transparent,
}

enum BlockKind {
    Document,
    Item,
    Quote,
}

enum InlineKind {
    Paragraph,
    Heading(u8),
    Emphasis,
    Strong,
    Strike,
    Link(Option<String>),
    /// An image: its description is shown as text (no image is loaded from a narrative).
    Image,
    Cell,
}

/// Parses `markdown` into safe blocks.
pub fn parse(markdown: &str) -> Vec<Block> {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    let mut stack = vec![Frame::Blocks {
        kind: BlockKind::Document,
        blocks: Vec::new(),
    }];
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(tag) => stack.push(open(tag)),
            Event::End(end) => close(&mut stack, end),
            Event::Text(text) => text_into(&mut stack, &text),
            Event::Code(text) => inline_into(&mut stack, Inline::Code { text: text.into() }),
            // Raw HTML is text: shown, never interpreted.
            Event::Html(html) | Event::InlineHtml(html) => text_into(&mut stack, &html),
            Event::InlineMath(text) | Event::DisplayMath(text) => text_into(&mut stack, &text),
            Event::FootnoteReference(label) => text_into(&mut stack, &format!("[^{label}]")),
            Event::SoftBreak => text_into(&mut stack, " "),
            Event::HardBreak => inline_into(&mut stack, Inline::Break),
            Event::Rule => block_into(&mut stack, Block::Rule),
            Event::TaskListMarker(done) => {
                text_into(&mut stack, if done { "[x] " } else { "[ ] " })
            }
        }
    }
    // Close whatever the parser left open (it does not, but a tree is always returned).
    while stack.len() > 1 {
        let frame = stack.pop();
        if let Some(frame) = frame {
            finish(&mut stack, frame);
        }
    }
    match stack.pop() {
        Some(Frame::Blocks { blocks, .. }) => blocks,
        _ => Vec::new(),
    }
}

fn open(tag: Tag<'_>) -> Frame {
    let inlines = |kind| Frame::Inlines {
        kind,
        content: Vec::new(),
    };
    match tag {
        Tag::Paragraph => inlines(InlineKind::Paragraph),
        Tag::Heading { level, .. } => inlines(InlineKind::Heading(level as u8)),
        Tag::Emphasis => inlines(InlineKind::Emphasis),
        Tag::Strong => inlines(InlineKind::Strong),
        Tag::Strikethrough => inlines(InlineKind::Strike),
        Tag::Link { dest_url, .. } => inlines(InlineKind::Link(safe_href(&dest_url))),
        Tag::Image { .. } => inlines(InlineKind::Image),
        Tag::TableCell => inlines(InlineKind::Cell),
        Tag::BlockQuote(_) => Frame::Blocks {
            kind: BlockKind::Quote,
            blocks: Vec::new(),
        },
        Tag::Item => Frame::Blocks {
            kind: BlockKind::Item,
            blocks: Vec::new(),
        },
        Tag::List(start) => Frame::List {
            start,
            items: Vec::new(),
        },
        Tag::CodeBlock(_) | Tag::HtmlBlock => Frame::Code {
            text: String::new(),
        },
        Tag::Table(_) => Frame::Table {
            head: Vec::new(),
            rows: Vec::new(),
            in_head: false,
        },
        Tag::TableHead => Frame::Row { cells: Vec::new() },
        Tag::TableRow => Frame::Row { cells: Vec::new() },
        _ => Frame::Transparent,
    }
}

fn close(stack: &mut Vec<Frame>, end: TagEnd) {
    if stack.len() <= 1 {
        return;
    }
    let Some(frame) = stack.pop() else {
        return;
    };
    // A table head closes as a row marked as the head.
    if matches!(end, TagEnd::TableHead) {
        if let (Frame::Row { cells }, Some(Frame::Table { head, in_head, .. })) =
            (&frame, stack.last_mut())
        {
            *head = cells.clone();
            *in_head = false;
            return;
        }
    }
    finish(stack, frame);
}

/// Hands a finished frame to the one around it.
fn finish(stack: &mut [Frame], frame: Frame) {
    match frame {
        Frame::Inlines { kind, content } => match kind {
            InlineKind::Paragraph => block_into(stack, Block::Paragraph { content }),
            InlineKind::Heading(level) => block_into(stack, Block::Heading { level, content }),
            InlineKind::Emphasis => inline_into(stack, Inline::Emphasis { content }),
            InlineKind::Strong => inline_into(stack, Inline::Strong { content }),
            InlineKind::Strike => inline_into(stack, Inline::Strike { content }),
            InlineKind::Link(href) => inline_into(stack, Inline::Link { href, content }),
            InlineKind::Image => {
                for inline in content {
                    inline_into(stack, inline);
                }
            }
            InlineKind::Cell => {
                if let Some(Frame::Row { cells }) = stack.last_mut() {
                    cells.push(content);
                }
            }
        },
        Frame::Blocks { kind, blocks } => match kind {
            BlockKind::Document => {}
            BlockKind::Item => match stack.last_mut() {
                Some(Frame::List { items, .. }) => items.push(blocks),
                _ => {
                    for block in blocks {
                        block_into(stack, block);
                    }
                }
            },
            BlockKind::Quote => block_into(stack, Block::Quote { blocks }),
        },
        Frame::List { start, items } => block_into(stack, Block::List { start, items }),
        Frame::Code { text } => block_into(stack, Block::Code { text }),
        Frame::Table { head, rows, .. } => block_into(stack, Block::Table { head, rows }),
        Frame::Row { cells } => {
            if let Some(Frame::Table { rows, .. }) = stack.last_mut() {
                rows.push(cells);
            }
        }
        Frame::Transparent => {}
    }
}

/// Adds a block to the innermost container of blocks; inline content open around it is
/// closed first (a block cannot sit inside a paragraph).
fn block_into(stack: &mut [Frame], block: Block) {
    for frame in stack.iter_mut().rev() {
        if let Frame::Blocks { blocks, .. } = frame {
            blocks.push(block);
            return;
        }
    }
}

/// Adds inline content where it belongs: the innermost inline frame, or a new paragraph in a
/// list item (tight lists put text straight into items), or as code text.
fn inline_into(stack: &mut [Frame], inline: Inline) {
    match stack.last_mut() {
        Some(Frame::Inlines { content, .. }) => content.push(inline),
        Some(Frame::Code { text }) => {
            if let Inline::Text { text: t } | Inline::Code { text: t } = &inline {
                text.push_str(t);
            }
        }
        Some(Frame::Blocks { blocks, .. }) => match blocks.last_mut() {
            Some(Block::Paragraph { content }) => content.push(inline),
            _ => blocks.push(Block::Paragraph {
                content: vec![inline],
            }),
        },
        _ => {}
    }
}

fn text_into(stack: &mut [Frame], text: &str) {
    if let Some(Frame::Code { text: code }) = stack.last_mut() {
        code.push_str(text);
        return;
    }
    // Consecutive text merges into one piece.
    let last = match stack.last_mut() {
        Some(Frame::Inlines { content, .. }) => content.last_mut(),
        Some(Frame::Blocks { blocks, .. }) => match blocks.last_mut() {
            Some(Block::Paragraph { content }) => content.last_mut(),
            _ => None,
        },
        _ => None,
    };
    if let Some(Inline::Text { text: t }) = last {
        t.push_str(text);
        return;
    }
    inline_into(
        stack,
        Inline::Text {
            text: text.to_string(),
        },
    );
}

/// The narrative's text without markup, for previews and search.
pub fn plain_text(blocks: &[Block]) -> String {
    fn inlines(content: &[Inline], out: &mut String) {
        for inline in content {
            match inline {
                Inline::Text { text } | Inline::Code { text } => out.push_str(text),
                Inline::Emphasis { content }
                | Inline::Strong { content }
                | Inline::Strike { content }
                | Inline::Link { content, .. } => inlines(content, out),
                Inline::Break => out.push('\n'),
            }
        }
    }
    fn walk(blocks: &[Block], out: &mut String) {
        for block in blocks {
            match block {
                Block::Heading { content, .. } | Block::Paragraph { content } => {
                    inlines(content, out)
                }
                Block::List { items, .. } => {
                    for item in items {
                        walk(item, out);
                    }
                }
                Block::Quote { blocks } => walk(blocks, out),
                Block::Code { text } => out.push_str(text),
                Block::Table { head, rows } => {
                    for cell in head.iter().chain(rows.iter().flatten()) {
                        inlines(cell, out);
                        out.push(' ');
                    }
                }
                Block::Rule => {}
            }
            out.push('\n');
        }
    }
    let mut out = String::new();
    walk(blocks, &mut out);
    out.trim_end().to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn text(t: &str) -> Inline {
        Inline::Text { text: t.into() }
    }

    #[test]
    fn headings_paragraphs_lists_and_inline_marks() {
        let blocks = parse(
            "# Library\n\nBooks are *catalogued* once; **each** loan has `due_on`.\n\n- authors\n- loans\n\n3. three\n4. four\n",
        );
        assert_eq!(
            blocks,
            vec![
                Block::Heading {
                    level: 1,
                    content: vec![text("Library")]
                },
                Block::Paragraph {
                    content: vec![
                        text("Books are "),
                        Inline::Emphasis {
                            content: vec![text("catalogued")]
                        },
                        text(" once; "),
                        Inline::Strong {
                            content: vec![text("each")]
                        },
                        text(" loan has "),
                        Inline::Code {
                            text: "due_on".into()
                        },
                        text("."),
                    ]
                },
                Block::List {
                    start: None,
                    items: vec![
                        vec![Block::Paragraph {
                            content: vec![text("authors")]
                        }],
                        vec![Block::Paragraph {
                            content: vec![text("loans")]
                        }],
                    ]
                },
                Block::List {
                    start: Some(3),
                    items: vec![
                        vec![Block::Paragraph {
                            content: vec![text("three")]
                        }],
                        vec![Block::Paragraph {
                            content: vec![text("four")]
                        }],
                    ]
                },
            ]
        );
    }

    #[test]
    fn raw_html_is_text_and_unsafe_links_lose_their_target() {
        let blocks = parse(
            "<script>alert(1)</script>\n\nSee <img src=x onerror=alert(2)> and [docs](https://example.org/a?b=1) or [x](javascript:alert(3)) or [y](/relative) or [z](data:text/html,hi).\n",
        );
        let Block::Code { text } = &blocks[0] else {
            panic!("{blocks:?}")
        };
        assert_eq!(text, "<script>alert(1)</script>\n");
        let Block::Paragraph { content } = &blocks[1] else {
            panic!("{blocks:?}")
        };
        assert_eq!(content[0], text_of("See <img src=x onerror=alert(2)> and "));
        let links: Vec<&Option<String>> = content
            .iter()
            .filter_map(|i| match i {
                Inline::Link { href, .. } => Some(href),
                _ => None,
            })
            .collect();
        assert_eq!(
            links,
            vec![
                &Some("https://example.org/a?b=1".to_string()),
                &None,
                &None,
                &None
            ]
        );
        assert!(plain_text(&blocks).contains("alert(1)"));
    }

    fn text_of(t: &str) -> Inline {
        text(t)
    }

    #[test]
    fn safe_hrefs_are_absolute_web_or_mail_addresses() {
        assert_eq!(
            safe_href(" https://a.example/x "),
            Some("https://a.example/x".into())
        );
        assert_eq!(
            safe_href("HTTP://A.example"),
            Some("HTTP://A.example".into())
        );
        assert_eq!(
            safe_href("mailto:a@b.example"),
            Some("mailto:a@b.example".into())
        );
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:x",
            "data:text/html,x",
            "/x",
            "//evil.example",
            "vbscript:x",
            "https://a b",
            "",
        ] {
            assert_eq!(safe_href(bad), None, "{bad}");
        }
    }

    #[test]
    fn quotes_code_tables_and_images() {
        let blocks = parse(
            "> quoted *text*\n\n```sql\nselect 1;\n```\n\n| a | b |\n|---|---|\n| 1 | **2** |\n\n![alt text](https://x.example/i.png)\n",
        );
        assert!(matches!(&blocks[0], Block::Quote { blocks } if blocks.len() == 1));
        assert_eq!(
            blocks[1],
            Block::Code {
                text: "select 1;\n".into()
            }
        );
        assert_eq!(
            blocks[2],
            Block::Table {
                head: vec![vec![text("a")], vec![text("b")]],
                rows: vec![vec![
                    vec![text("1")],
                    vec![Inline::Strong {
                        content: vec![text("2")]
                    }]
                ]],
            }
        );
        // An image is its description, as text: nothing is fetched.
        assert_eq!(
            blocks[3],
            Block::Paragraph {
                content: vec![text("alt text")]
            }
        );
    }

    #[test]
    fn any_input_gives_a_tree() {
        for input in [
            "",
            "   ",
            "*",
            "[",
            "<",
            "```",
            "> > > x",
            "- - - x",
            "|a|\n|-|\n",
            "\u{0}",
        ] {
            let _ = parse(input);
        }
        assert!(parse("").is_empty());
    }
}
