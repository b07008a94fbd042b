//! Diagnostics: coded, spanned, with help. Every stage pushes into one [`Diagnostics`]
//! collector so that a run reports all problems at once.

mod codes;
mod render;
pub mod sarif;

pub use codes::{Code, Severity};
pub use render::{render_human, render_json, HumanRenderer, RenderOptions};

use crate::source::Span;

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    /// Stable code (`MS0xxx`).
    pub code: Code,
    /// Error or warning; defaults to the code's severity.
    pub severity: Severity,
    /// One line, lowercase, names in backticks, no final period.
    pub message: String,
    /// Where the problem is.
    pub span: Span,
    /// Text under the primary span.
    pub label: String,
    /// Related places (e.g. "first defined here").
    pub labels: Vec<(Span, String)>,
    /// What to write instead.
    pub help: Option<String>,
}

impl Diag {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diag {
            code,
            severity: code.severity(),
            message: shorten(message.into()),
            span,
            label: String::new(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Sets the text under the primary span.
    #[must_use]
    pub fn label(mut self, text: impl Into<String>) -> Self {
        self.label = shorten(text.into());
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push((span, shorten(text.into())));
        self
    }

    /// Sets the help line.
    #[must_use]
    pub fn help(mut self, text: impl Into<String>) -> Self {
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
        self.items.extend(other.items);
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
fn shorten(text: String) -> String {
    if text.len() <= MAX_QUOTED * 2 {
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
    out
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
