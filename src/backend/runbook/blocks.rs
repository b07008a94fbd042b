//! Block-level Markdown for step contents: paragraphs, numbered procedures with commands
//! under their items, expected-value tables and callouts. Inline text arrives as [`Md`]
//! (already escaped); commands arrive as literal text and go into fenced code blocks.

use super::escape::{code_block, Md};

/// A command and the language its code block is tagged with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    /// `powershell`, `bat` or `text`.
    pub(crate) lang: &'static str,
    /// The command lines, literally.
    pub(crate) text: String,
}

/// PowerShell lines.
pub(crate) fn ps(text: impl Into<String>) -> Command {
    Command {
        lang: "powershell",
        text: text.into(),
    }
}

/// `cmd.exe` lines.
pub(crate) fn bat(text: impl Into<String>) -> Command {
    Command {
        lang: "bat",
        text: text.into(),
    }
}

/// Plain text (INF files, expected output).
pub(crate) fn plain(text: impl Into<String>) -> Command {
    Command {
        lang: "text",
        text: text.into(),
    }
}

/// One item of a list: a line of text, optionally a command under it, what a pass looks like
/// and the output to expect (as the command prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) text: Md,
    pub(crate) command: Option<Command>,
    pub(crate) expect: Option<Md>,
    pub(crate) output: Option<String>,
}

impl Item {
    /// Adds what a pass looks like.
    pub(crate) fn expect(mut self, m: Md) -> Item {
        self.expect = Some(m);
        self
    }

    /// Adds the output to expect, `Property : Value` lines as `Format-List` prints them.
    pub(crate) fn output(mut self, rows: &[(&str, String)]) -> Item {
        let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        let text = rows
            .iter()
            .map(|(k, v)| format!("{k:width$} : {v}"))
            .collect::<Vec<_>>()
            .join("\n");
        self.output = Some(text);
        self
    }
}

/// An item with text only.
pub(crate) fn item(text: Md) -> Item {
    Item {
        text,
        command: None,
        expect: None,
        output: None,
    }
}

/// An item with a command under it.
pub(crate) fn run(text: Md, command: Command) -> Item {
    Item {
        command: Some(command),
        ..item(text)
    }
}

/// A block of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A paragraph.
    Para(Md),
    /// A numbered procedure.
    Steps(Vec<Item>),
    /// A bulleted list.
    Bullets(Vec<Item>),
}

fn write_item(out: &mut String, marker: &str, it: &Item) {
    out.push_str(marker);
    out.push_str(it.text.as_str());
    out.push('\n');
    let indent = marker.len();
    let pad = " ".repeat(indent);
    if let Some(c) = &it.command {
        out.push('\n');
        out.push_str(&code_block(&c.text, c.lang, indent));
    }
    if let Some(e) = &it.expect {
        out.push('\n');
        out.push_str(&pad);
        out.push_str("Expected: ");
        out.push_str(e.as_str());
        out.push('\n');
    }
    if let Some(o) = &it.output {
        out.push('\n');
        out.push_str(&code_block(o, "text", indent));
    }
}

fn write_list(out: &mut String, items: &[Item], numbered: bool) {
    // A list is loose (blank lines between items) as soon as one item has more than a line,
    // so that every item renders the same way.
    let loose = items
        .iter()
        .any(|i| i.command.is_some() || i.expect.is_some() || i.output.is_some());
    for (n, it) in items.iter().enumerate() {
        if n > 0 && loose {
            out.push('\n');
        }
        let marker = if numbered {
            format!("{}. ", n + 1)
        } else {
            "- ".to_string()
        };
        write_item(out, &marker, it);
    }
}

/// Renders blocks, separated by blank lines.
pub(crate) fn render(blocks: &[Block]) -> Md {
    let mut out = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match b {
            Block::Para(m) => {
                out.push_str(m.as_str());
                out.push('\n');
            }
            Block::Steps(items) => write_list(&mut out, items, true),
            Block::Bullets(items) => write_list(&mut out, items, false),
        }
    }
    Md::trusted(out)
}
