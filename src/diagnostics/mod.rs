//! Diagnostics: coded, spanned, with help. Every stage pushes into one [`Diagnostics`]
//! collector so that a run reports all problems at once.

mod codes;
mod render;
pub mod sarif;

pub use codes::{Code, Severity};
pub use render::{render_human, render_json, HumanRenderer, RenderOptions};

use crate::source::Span;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The words of a diagnostic: immutable and shared when cloned, so that a unit with the
/// same finding on a million blocks holds its message, label and help once.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Arc<str>);

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(s.into())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(s.into())
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text(s.as_str().into())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    /// Stable code (`MS0xxx`).
    pub code: Code,
    /// Error or warning; defaults to the code's severity.
    pub severity: Severity,
    /// One line, lowercase, names in backticks, no final period.
    pub message: Text,
    /// Where the problem is.
    pub span: Span,
    /// Text under the primary span.
    pub label: Text,
    /// Related places (e.g. "first defined here").
    pub labels: Vec<(Span, Text)>,
    /// What to write instead.
    pub help: Option<Text>,
}

impl Diag {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, span: Span, message: impl Into<Text>) -> Self {
        Diag {
            code,
            severity: code.severity(),
            message: shorten(message.into()),
            span,
            label: Text::default(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Sets the text under the primary span.
    #[must_use]
    pub fn label(mut self, text: impl Into<Text>) -> Self {
        self.label = shorten(text.into());
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with(mut self, span: Span, text: impl Into<Text>) -> Self {
        self.labels.push((span, shorten(text.into())));
        self
    }

    /// Sets the help line.
    #[must_use]
    pub fn help(mut self, text: impl Into<Text>) -> Self {
        self.help = Some(shorten(text.into()));
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collector every stage pushes into.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diag>,
}

impl Diagnostics {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a diagnostic.
    pub fn push(&mut self, diag: Diag) {
        self.items.push(diag);
    }

    /// Whether any error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diag::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// All diagnostics, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Diag> {
        self.items.iter()
    }

    /// Keeps only the diagnostics `keep` accepts (suppressions).
    pub fn retain(&mut self, keep: impl FnMut(&Diag) -> bool) {
        self.items.retain(keep);
    }

    /// Moves all of `other` into `self`.
    pub fn extend(&mut self, other: Diagnostics) {
        if self.items.is_empty() {
            // Takes the list over instead of copying it (a large unit finds a million).
            self.items = other.items;
        } else {
            self.items.extend(other.items);
        }
    }

    /// Sorts by file, position and code, so output does not depend on check order.
    pub fn sort(&mut self) {
        self.items
            .sort_by(|a, b| (a.span, a.code, &a.message).cmp(&(b.span, b.code, &b.message)));
        self.items.dedup();
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.items.len()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diag;
    type IntoIter = std::vec::IntoIter<Diag>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Longest quoted user text kept in a message.
const MAX_QUOTED: usize = 60;

/// Cuts every backticked or double-quoted run longer than [`MAX_QUOTED`] characters, so a
/// 10 MB name in the input cannot make a 10 MB message. Short text is kept as it is.
fn shorten(text: Text) -> Text {
    if text.len() <= MAX_QUOTED * 2 || !has_long_quote(&text) {
        return text;
    }
    let mut out = String::with_capacity(text.len().min(1024));
    let mut quote: Option<char> = None;
    let mut run = 0usize;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => {
                run += 1;
                if run <= MAX_QUOTED {
                    out.push(c);
                } else if run == MAX_QUOTED + 1 {
                    out.push('…');
                }
            }
            None => {
                if c == '`' || c == '"' {
                    quote = Some(c);
                    run = 0;
                }
                out.push(c);
            }
        }
    }
    out.into()
}

/// Whether a quoted run of `text` may be longer than [`MAX_QUOTED`] characters: one of more
/// than that many bytes (quote marks are ASCII, so bytes find them). Text without one (most,
/// and the shared texts of repeated findings) is kept without being copied.
fn has_long_quote(text: &str) -> bool {
    let mut quote: Option<(u8, usize)> = None;
    for (i, b) in text.bytes().enumerate() {
        match quote {
            Some((q, start)) if b == q => {
                if i - start > MAX_QUOTED {
                    return true;
                }
                quote = None;
            }
            Some(_) => {}
            None if b == b'`' || b == b'"' => quote = Some((b, i + 1)),
            None => {}
        }
    }
    quote.is_some_and(|(_, start)| text.len() - start > MAX_QUOTED)
}

/// "did you mean" candidate: the closest of `candidates` to `name`, if close enough.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&name.to_ascii_lowercase(), &c.to_ascii_lowercase());
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_long_text_without_long_quotes_shared() {
        let help = Text::from(format!("add `roles` with {}", "`hub_transport`, ".repeat(10)));
        let kept = shorten(help.clone());
        assert!(Arc::ptr_eq(&help.0, &kept.0));
    }

    #[test]
    fn shorten_cuts_long_quoted_runs_even_across_other_quotes() {
        let name = format!("{}\"{}", "a".repeat(40), "b".repeat(40));
        let text = format!("`{name}` is {}", "x".repeat(100));
        let cut = shorten(Text::from(text));
        assert_eq!(cut.as_str(), format!("`{}…` is {}", &name[..60], "x".repeat(100)));
    }
}
