//! Escaping for the runbook: the one Markdown escaper every user string goes through (as the
//! template's auto-escape, as the `md` filter and inside [`Md`] fragments built in Rust), plus
//! the quoting of values inside commands and the text of the SVG diagram.
//!
//! A user string can never open a Markdown construct (emphasis, link, table cell, heading,
//! list, HTML): every character that could is backslash-escaped, and line breaks become
//! spaces. Code spans and code blocks use a fence longer than any backtick run inside, so
//! they cannot be closed early.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Where an escaped string lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Running text (also table cells).
    Text,
    /// An inline code span.
    Code,
}

/// Escapes a user string for Markdown. Every user string reaches the runbook through here.
pub(crate) fn markdown(s: &str, ctx: Ctx) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    markdown_into(&mut out, s, ctx);
    out
}

/// [`markdown`], appended to `out` (the fragments write straight into the runbook text:
/// rendering an estate escapes millions of short strings).
pub(crate) fn markdown_into(out: &mut String, s: &str, ctx: Ctx) {
    let line = one_line(s);
    match ctx {
        Ctx::Text => text_into(out, &line, true),
        Ctx::Code => code_span_into(out, &line),
    }
}

/// `s` with control characters as spaces and invisible or bidirectional formatting
/// characters (refused by the checker, MS0004/MS0123, and never trusted here) as a visible
/// `U+202E`, so the runbook a change board reads shows them; borrowed when it has none
/// (the common case).
fn controls_to_spaces(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| c.is_control() || crate::syntax::invisible(c).is_some())
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push(' ');
        } else if crate::syntax::invisible(c).is_some() {
            let _ = write!(out, "U+{:04X}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One trimmed line.
fn one_line(s: &str) -> Cow<'_, str> {
    match controls_to_spaces(s) {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
    }
}

/// Escapes `s` (already one line) without trimming, appending to `out`; `at_start` when it
/// may begin a line.
fn text_into(out: &mut String, s: &str, at_start: bool) {
    let start = out.len();
    out.reserve(s.len() + 4);
    for c in s.chars() {
        // Backslash escapes work for every ASCII punctuation character, so escaping more
        // than needed is harmless; these can start a construct anywhere on a line.
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '#' | '!' | '{' | '}' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    // A line start like `- x`, `+ x`, `1. x`, `1) x` or a line of `=` would make a list or
    // a heading; elsewhere these characters are plain text.
    if at_start {
        let written = &out[start..];
        let spaced = |rest: &str| rest.is_empty() || rest.starts_with([' ', '\t']);
        if let Some(first) = written.chars().next() {
            let rule = written.chars().all(|c| c == '=' || c == '-');
            if rule || (matches!(first, '-' | '+') && spaced(&written[1..])) {
                out.insert(start, '\\');
            } else if first.is_ascii_digit() {
                let digits = written.chars().take_while(char::is_ascii_digit).count();
                if matches!(written[digits..].chars().next(), Some('.' | ')')) && spaced(&written[digits + 1..]) {
                    out.insert(start + digits, '\\');
                }
            }
        }
    }
}

/// The longest run of `ch` in `s`.
fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

fn push_fence(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push('`');
    }
}

/// `s` (already one line) as an inline code span, appended to `out`.
fn code_span_into(out: &mut String, s: &str) {
    if s.is_empty() {
        out.push_str("` `");
        return;
    }
    let fence = longest_run(s, '`') + 1;
    // CommonMark strips one space on each side when both are present; pad so a content
    // starting or ending with a backtick (or a space) survives.
    let pad = s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') || s.ends_with(' ');
    out.reserve(s.len() + 2 * fence + 2);
    push_fence(out, fence);
    if pad {
        out.push(' ');
    }
    out.push_str(s);
    if pad {
        out.push(' ');
    }
    push_fence(out, fence);
}

/// A fenced code block holding `content` literally, indented by `indent` spaces.
pub(crate) fn code_block(content: &str, lang: &str, indent: usize) -> String {
    let fence = (longest_run(content, '`') + 1).max(3);
    let lines = content.lines().count();
    let mut out = String::with_capacity(content.len() + (lines + 2) * (indent + 1) + 2 * fence + lang.len() + 2);
    let pad = |out: &mut String| {
        for _ in 0..indent {
            out.push(' ');
        }
    };
    pad(&mut out);
    push_fence(&mut out, fence);
    out.push_str(lang);
    out.push('\n');
    for line in content.lines() {
        // Tabs and other control characters are shown as spaces, invisible characters as
        // `U+…`; nothing else changes.
        pad(&mut out);
        out.push_str(&controls_to_spaces(line));
        out.push('\n');
    }
    pad(&mut out);
    push_fence(&mut out, fence);
    out.push('\n');
    out
}

/// Markdown that is safe to insert as is: fixed text, numbers and escaped user strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Md(String);

impl Md {
    /// The Markdown source.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends a fragment.
    pub(crate) fn push(&mut self, f: &dyn Frag) {
        f.write(&mut self.0);
    }

    /// Joins fragments with a separator.
    pub(crate) fn join(parts: &[Md], sep: &'static str) -> Md {
        let mut out = Md::default();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(&sep);
            }
            out.push(p);
        }
        out
    }

    /// Markdown this module produced itself (blocks, links to generated paths).
    pub(super) fn trusted(s: String) -> Md {
        Md(s)
    }
}

/// Serialised as a safe string, so the template's Markdown auto-escape leaves it alone.
impl Serialize for Md {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        minijinja::Value::from_safe_string(self.0.clone()).serialize(serializer)
    }
}

/// A piece of Markdown: fixed text (`&'static str` only, so a formatted user string cannot
/// slip in unescaped), an escaped user string, a number or finished Markdown.
pub(crate) trait Frag {
    /// Writes the piece.
    fn write(&self, out: &mut String);
}

impl Frag for &'static str {
    fn write(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Frag for Md {
    fn write(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

/// A user string as running text.
pub(crate) struct T<'a>(pub(crate) &'a str);

impl Frag for T<'_> {
    fn write(&self, out: &mut String) {
        markdown_into(out, self.0, Ctx::Text);
    }
}

/// A user string as inline code.
pub(crate) struct C<'a>(pub(crate) &'a str);

impl Frag for C<'_> {
    fn write(&self, out: &mut String) {
        markdown_into(out, self.0, Ctx::Code);
    }
}

/// A number.
pub(crate) struct N(pub(crate) u64);

impl Frag for N {
    fn write(&self, out: &mut String) {
        let _ = write!(out, "{}", self.0);
    }
}

/// Text from the IR that marks names with backticks (`Trust \`root\` on hub01`): the
/// backticked parts become code spans, the rest running text, each escaped.
pub(crate) struct Ir<'a>(pub(crate) &'a str);

/// Splits IR text into running text and backticked names. A name opens with a single
/// backtick at the start or after a space or `(`, and closes with a single backtick before
/// the end, a space or punctuation; backticks inside a name (single ones elsewhere, or runs
/// of several) stay part of it, so a name like ``a ``` b`` is one span.
fn ir_spans(line: &str) -> Vec<(bool, &str)> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut k = 0;
    while k < chars.len() {
        let opens = at(k) == Some('`')
            && (k == 0 || at(k - 1).is_some_and(|p| p.is_whitespace() || p == '('))
            && at(k + 1).is_some_and(|n| n != '`');
        if !opens {
            k += 1;
            continue;
        }
        let close = (k + 2..chars.len()).find(|&j| {
            at(j) == Some('`')
                && at(j - 1).is_some_and(|p| p != '`' && !p.is_whitespace())
                && at(j + 1).is_none_or(|n| n.is_whitespace() || ".,;:)!?".contains(n))
        });
        let Some(j) = close else { break };
        let (ks, js) = (chars[k].0, chars[j].0);
        out.push((false, &line[text_start..ks]));
        out.push((true, &line[ks + 1..js]));
        text_start = js + 1;
        k = j + 1;
    }
    out.push((false, &line[text_start..]));
    out
}

impl Frag for Ir<'_> {
    fn write(&self, out: &mut String) {
        let line = controls_to_spaces(self.0);
        for (i, (code, part)) in ir_spans(line.trim()).into_iter().enumerate() {
            if code {
                code_span_into(out, &one_line(part));
            } else {
                text_into(out, part, i == 0);
            }
        }
    }
}

/// Builds [`Md`] from fragments: `md!("Run ", C(&name), " on ", T(&host))`.
macro_rules! md {
    ($($f:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = $crate::backend::runbook::escape::Md::default();
        $( m.push(&$f); )*
        m
    }};
}
pub(crate) use md;

/// A PowerShell single-quoted string (`'` and its typographic forms doubled).
pub(crate) fn ps(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A `cmd.exe` argument for a command a person pastes into a prompt: the one quoting of
/// user strings in the runbook's `bat` blocks.
///
/// - Inside double quotes cmd still expands `%NAME%`, and an interactive prompt has no
///   escape for `%` inside quotes. So the text is quoted in pieces split at each `%`, and
///   every `%` stands outside the quotes as `^%`: percent expansion (which runs first) sees
///   a variable name holding `"` and `^`, which no environment defines, and leaves it; the
///   caret then makes the `%` literal. `"100"^%" sure"` reaches the program as `100% sure`.
/// - `"` is doubled inside the quotes: cmd's operators (`&`, `|`, `<`, `>`) stay inside a
///   quoted stretch, and the C runtime's argument parser reads `""` as one `"`.
/// - Backslashes before a closing quote are doubled, so `C:\dir\` does not escape it.
/// - Line breaks and other control characters (refused in names by the checker, MS0123)
///   become spaces, so one argument can never start a second command.
pub(crate) fn cmd(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for (i, piece) in s.split('%').enumerate() {
        if i > 0 {
            out.push_str("^%");
        }
        let body: String = piece
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .replace('"', "\"\"");
        let trailing = body.len() - body.trim_end_matches('\\').len();
        out.push('"');
        out.push_str(&body);
        out.push_str(&"\\".repeat(trailing));
        out.push('"');
    }
    out
}

/// Text for XML/HTML content and attribute values.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c if crate::syntax::invisible(c).is_some() => {
                let _ = write!(out, "U+{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for an HTML `<pre>` block: `&`, `<`, `>` escaped, line breaks kept.
pub(crate) fn html_pre(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Mermaid label: letters, digits and a few safe punctuation marks stay; everything else
/// becomes a Mermaid entity (`#35;`), so a label can neither end its quotes nor a fence.
pub(crate) fn mermaid(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if c.is_ascii_alphanumeric()
            || matches!(c, ' ' | '.' | '-' | '_' | '/' | ':' | ',' | '(' | ')' | '+' | '=' | '*')
        {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_every_construct() {
        assert_eq!(markdown("a*b_c", Ctx::Text), "a\\*b\\_c");
        assert_eq!(markdown("<script>", Ctx::Text), "\\<script\\>");
        assert_eq!(markdown("](javascript:x)", Ctx::Text), "\\](javascript:x)");
        assert_eq!(markdown("a|b", Ctx::Text), "a\\|b");
        assert_eq!(markdown("- x", Ctx::Text), "\\- x");
        assert_eq!(markdown("12. x", Ctx::Text), "12\\. x");
        assert_eq!(markdown("6593.0012", Ctx::Text), "6593.0012");
        assert_eq!(markdown("-x", Ctx::Text), "-x");
        assert_eq!(markdown("===", Ctx::Text), "\\===");
        assert_eq!(markdown("a\n\n# b", Ctx::Text), "a  \\# b");
        assert_eq!(markdown("&amp;", Ctx::Text), "\\&amp;");
    }

    #[test]
    fn code_spans_cannot_be_closed_early() {
        assert_eq!(markdown("a`b", Ctx::Code), "``a`b``");
        assert_eq!(markdown("`", Ctx::Code), "`` ` ``");
        assert_eq!(markdown("a\u{202E}b", Ctx::Code), "`aU+202Eb`");
        assert_eq!(markdown("a\u{200B}b", Ctx::Text), "aU+200Bb");
        assert_eq!(markdown("x\ny", Ctx::Code), "`x y`");
    }

    #[test]
    fn ir_text_keeps_names_as_code() {
        let render = |t: &str| {
            let mut s = String::new();
            Ir(t).write(&mut s);
            s
        };
        assert_eq!(
            render("Trust `root` in LocalMachine\\Root on hub01"),
            "Trust `root` in LocalMachine\\\\Root on hub01"
        );
        assert_eq!(
            render("Set `a` to 20 while `b c` takes over"),
            "Set `a` to 20 while `b c` takes over"
        );
        assert_eq!(render("Ensure `To ``` x ``` y`"), "Ensure ````To ``` x ``` y````");
        assert_eq!(render("odd ` tick"), "odd \\` tick");
    }

    #[test]
    fn quoting() {
        assert_eq!(ps("it's"), "'it''s'");
        assert_eq!(cmd("a\"b"), "\"a\"\"b\"");
        assert_eq!(cmd("100% sure"), "\"100\"^%\" sure\"");
        assert_eq!(cmd("%PATH%"), "\"\"^%\"PATH\"^%\"\"");
        assert_eq!(cmd("a\nb & c"), "\"a b & c\"");
        assert_eq!(cmd("C:\\dir\\"), "\"C:\\dir\\\\\"");
        assert_eq!(mermaid("a\"<b>#"), "a#34;#60;b#62;#35;");
    }
}
