//! Markdown to HTML with pulldown-cmark: GFM tables, task lists and alerts; headings get
//! GitHub-style ids so the contents links work in both renderings; the Mermaid block becomes
//! the inline SVG diagram, with its source kept in a `<details>` block.

use super::escape::html_pre;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

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
pub(crate) fn to_html(markdown: &str, svg: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_GFM;
    let events: Vec<Event> = Parser::new_ext(markdown, options).collect();
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading { level, .. }) if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) => {
                // Collect the heading's text to derive its id.
                let mut text = String::new();
                let mut j = i + 1;
                while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                    if let Event::Text(t) | Event::Code(t) = &events[j] {
                        text.push_str(t);
                    }
                    j += 1;
                }
                let base = slug(&text);
                let mut id = base.clone();
                let mut n = 1;
                while used.contains(&id) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                used.insert(id.clone());
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id)),
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
                i += 1;
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) if lang.as_ref() == "mermaid" => {
                let mut source = String::new();
                let mut j = i + 1;
                while j < events.len() && !matches!(events[j], Event::End(TagEnd::CodeBlock)) {
                    if let Event::Text(t) = &events[j] {
                        source.push_str(t);
                    }
                    j += 1;
                }
                let html = format!(
                    "<figure class=\"diagram\">{svg}</figure>\n<details class=\"mermaid-source\"><summary>Mermaid source of the diagram</summary>\n<pre><code class=\"language-mermaid\">{}</code></pre>\n</details>\n",
                    html_pre(&source)
                );
                out.push(Event::Html(CowStr::from(html)));
                i = j + 1;
            }
            e => {
                out.push(e.clone());
                i += 1;
            }
        }
    }
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    html
}
