//! Markdown to HTML with pulldown-cmark: GFM tables, task lists and alerts; headings get
//! GitHub-style ids so the contents links work in both renderings; the Mermaid block becomes
//! the inline SVG diagram, with its source kept in a `<details>` block.

use super::escape::html_pre;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::{HashSet, VecDeque};

/// A GitHub-style heading anchor: lower case, letters, digits, `-`; spaces become `-`.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if c == ' ' || c == '-' {
            out.push('-');
        }
    }
    out
}

/// Renders the runbook's Markdown as an HTML fragment appended to `html`, with `svg` in place
/// of the Mermaid block. The parser builds a tree of all it is given (several times the
/// text), so the Markdown is converted step by step ([`pieces`]); the events stream from
/// the parser to the writer, and only a heading's own events are held back, to derive its
/// id from its text.
pub(crate) fn push_html(html: &mut String, markdown: &str, svg: &str) {
    let mut used: HashSet<String> = HashSet::new();
    // Pieces are joined up to `PIECE` bytes: a usual runbook converts in one go, a large
    // one in bounded parts.
    let (mut from, mut to) = (0, 0);
    for piece in pieces(markdown) {
        if to > from && to - from + piece.len() > PIECE {
            push_piece(html, &markdown[from..to], svg, &mut used);
            from = to;
        }
        to += piece.len();
    }
    push_piece(html, &markdown[from..to], svg, &mut used);
}

/// The most Markdown converted at once (but a single step may be larger).
const PIECE: usize = 256 * 1024;

/// The Markdown cut before each step's `<div class="step"` line, where the runbook template
/// puts it: at the start of a line after a blank line and outside any fenced code block.
/// Every block before it is closed there (a line at the margin ends lists and quotes), and
/// the runbook defines no link references, so each piece converts alone to the same HTML.
fn pieces(markdown: &str) -> Vec<&str> {
    let mut cuts = vec![0];
    let mut fence: Option<(u8, usize)> = None;
    let mut blank_before = false;
    let mut at = 0;
    for line in markdown.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let text = line.trim_end_matches(['\n', '\r']);
        let indent = text.len() - text.trim_start_matches(' ').len();
        let rest = text.trim_start_matches(' ');
        let run = |c: u8| rest.bytes().take_while(|&b| b == c).count();
        match fence {
            Some((c, n)) => {
                if indent <= 3 && run(c) >= n && rest[run(c)..].trim().is_empty() {
                    fence = None;
                }
            }
            None => {
                if indent <= 3 && (run(b'`') >= 3 || run(b'~') >= 3) {
                    let c = if run(b'`') >= 3 { b'`' } else { b'~' };
                    fence = Some((c, run(c)));
                } else if blank_before && start > 0 && text.starts_with("<div class=\"step\" id=\"step-") {
                    cuts.push(start);
                }
            }
        }
        blank_before = text.trim().is_empty();
    }
    cuts.push(markdown.len());
    cuts.windows(2).map(|w| &markdown[w[0]..w[1]]).collect()
}

fn push_piece(html: &mut String, markdown: &str, svg: &str, used: &mut HashSet<String>) {
    let options = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_GFM;
    let mut parser = Parser::new_ext(markdown, options);
    let mut held: VecDeque<Event> = VecDeque::new();
    let events = std::iter::from_fn(|| {
        if let Some(e) = held.pop_front() {
            return Some(e);
        }
        match parser.next()? {
            Event::Start(Tag::Heading { level, .. }) if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) => {
                // The heading's text gives its id; its events follow the start tag unchanged.
                let mut text = String::new();
                for e in parser.by_ref() {
                    let end = matches!(e, Event::End(TagEnd::Heading(_)));
                    if let Event::Text(t) | Event::Code(t) = &e {
                        text.push_str(t);
                    }
                    held.push_back(e);
                    if end {
                        break;
                    }
                }
                let base = slug(&text);
                let mut id = base.clone();
                let mut n = 1;
                while used.contains(&id) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                used.insert(id.clone());
                Some(Event::Start(Tag::Heading {
                    level,
                    id: Some(CowStr::from(id)),
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }))
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) if lang.as_ref() == "mermaid" => {
                let mut source = String::new();
                for e in parser.by_ref() {
                    match e {
                        Event::End(TagEnd::CodeBlock) => break,
                        Event::Text(t) => source.push_str(&t),
                        _ => {}
                    }
                }
                let html = format!(
                    "<figure class=\"diagram\">{svg}</figure>\n<details class=\"mermaid-source\"><summary>Mermaid source of the diagram</summary>\n<pre><code class=\"language-mermaid\">{}</code></pre>\n</details>\n",
                    html_pre(&source)
                );
                Some(Event::Html(CowStr::from(html)))
            }
            e => Some(e),
        }
    });
    pulldown_cmark::html::push_html(html, events);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_markdown_is_cut_before_steps_outside_code_and_converts_the_same() {
        let md = "## T\n\n```text\n\n<div class=\"step\" id=\"step-0\">\n```\n\n<div class=\"step\" id=\"step-1\">\n\n#### Step 1\n\n- a\n\n  ```ps\n  b\n  ```\n\n</div>\n\n<div class=\"step\" id=\"step-2\">\n\n## T\n\n> [!NOTE]\n> x\n\n</div>\n";
        let p = pieces(md);
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p.concat(), md);
        assert!(p[1].starts_with("<div class=\"step\" id=\"step-1\">"));
        let mut whole = String::new();
        push_piece(&mut whole, md, "", &mut HashSet::new());
        let mut cut = String::new();
        let mut used = HashSet::new();
        for piece in p {
            push_piece(&mut cut, piece, "", &mut used);
        }
        assert_eq!(cut, whole);
        let mut joined = String::new();
        push_html(&mut joined, md, "");
        assert_eq!(joined, whole);
        assert!(
            cut.contains("id=\"t-1\""),
            "heading ids stay unique across pieces: {cut}"
        );
    }
}
