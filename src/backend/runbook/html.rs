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

/// Renders the runbook's Markdown as an HTML fragment, with `svg` in place of the Mermaid block.
/// The events stream from the parser to the writer; only a heading's own events are held
/// back, to derive its id from its text.
pub(crate) fn to_html(markdown: &str, svg: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_GFM;
    let mut parser = Parser::new_ext(markdown, options);
    let mut held: VecDeque<Event> = VecDeque::new();
    let mut used: HashSet<String> = HashSet::new();
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
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}
