//! Turning diagnostics into text: miette's graphical report for people, one JSON object
//! per line for machines.

use super::{Diag, Severity, Text};
use crate::source::{FileId, SourceMap, Span};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use serde_json::json;
use std::borrow::Cow;
use std::fmt;

/// How human output looks.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// ANSI colours.
    pub color: bool,
    /// Wrap width.
    pub width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: 100,
        }
    }
}

/// Renders one diagnostic as miette's graphical report. To render many diagnostics of the
/// same files, build one [`HumanRenderer`] and reuse it.
pub fn render_human(diag: &Diag, sources: &SourceMap, opts: RenderOptions) -> String {
    HumanRenderer::new(sources, opts).render(diag)
}

/// Renders diagnostics of one source map in time proportional to the excerpts shown, not to
/// the size of the files: the texts are prepared once, and miette reads only a window of
/// lines around each span (its own lookup counts lines from the start of the file, which made
/// 40,000 diagnostics of one file take minutes).
pub struct HumanRenderer<'a> {
    sources: &'a SourceMap,
    texts: Vec<Cow<'a, str>>,
    handler: GraphicalReportHandler,
}

impl<'a> HumanRenderer<'a> {
    /// A renderer for the files of `sources`.
    pub fn new(sources: &'a SourceMap, opts: RenderOptions) -> Self {
        let theme = if opts.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(opts.width)
            .with_links(false)
            .with_context_lines(CONTEXT_LINES);
        HumanRenderer {
            sources,
            texts: sources.files().map(|(_, f)| visible(&f.text)).collect(),
            handler,
        }
    }

    /// Renders one diagnostic.
    pub fn render(&self, diag: &Diag) -> String {
        let report = Report::build(diag, self);
        let mut out = String::new();
        if self.handler.render_report(&mut out, &report).is_err() {
            // Rendering into a String cannot fail for I/O reasons; fall back to one line.
            out = format!("{}[{}]: {}\n", diag.severity, diag.code, diag.message);
        }
        out
    }

    fn src(&self, file: FileId) -> Src<'_> {
        let f = self.sources.get(file);
        Src {
            name: f.name.clone(),
            text: &self.texts[file.0 as usize],
            file,
            sources: self.sources,
        }
    }
}

/// Lines of context shown above and below a span.
const CONTEXT_LINES: usize = 1;

/// Renders one diagnostic as a single-line JSON object.
pub fn render_json(diag: &Diag, sources: &SourceMap) -> String {
    let place = |span: Span| {
        let (line, column) = sources.line_col(span.file, span.start);
        let (end_line, end_column) = sources.line_col(span.file, span.end);
        json!({
            "file": sources.get(span.file).name,
            "start": { "byte": span.start, "line": line, "column": column },
            "end": { "byte": span.end, "line": end_line, "column": end_column },
        })
    };
    let labels: Vec<_> = diag
        .labels
        .iter()
        .map(|(span, text)| json!({ "message": text, "span": place(*span) }))
        .collect();
    json!({
        "code": diag.code.as_str(),
        "severity": diag.severity,
        "message": diag.message,
        "span": place(diag.span),
        "label": diag.label,
        "labels": labels,
        "help": diag.help,
    })
    .to_string()
}

/// Source text of one file, named, implementing miette's `SourceCode`. Windows very long
/// lines so that a report about a 10 MB line stays short, and hands miette only the lines
/// around a span.
struct Src<'a> {
    name: String,
    text: &'a str,
    file: FileId,
    sources: &'a SourceMap,
}

impl fmt::Debug for Src<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Longest source excerpt shown before it is windowed around the span.
const MAX_EXCERPT: usize = 2000;

impl SourceCode for Src<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        // miette finds lines by counting from the start of the text it is given: give it the
        // text from a few lines above the span, and add back the lines skipped.
        let offset = span.offset().min(self.text.len());
        let (line, _) = self
            .sources
            .line_col(self.file, u32::try_from(offset).unwrap_or(u32::MAX));
        let first_line = (line - 1).saturating_sub(before);
        let base = self.sources.line_start(self.file, first_line).min(offset);
        let window = &self.text[base..];
        let local = SourceSpan::from((offset - base, span.len()));
        let inner = window.read_span(&local, before, after)?;
        let data_start = base + inner.span().offset();
        let data = inner.data();
        let (mut a, mut b) = (data_start, data_start + data.len());
        if data.len() > MAX_EXCERPT {
            let text = self.text;
            a = crate::source::floor_char_boundary(text, span.offset().saturating_sub(80).max(a));
            b = crate::source::floor_char_boundary(text, (span.offset() + span.len() + 80).min(b));
        }
        let column = if a == data_start {
            inner.column()
        } else {
            inner.column() + (a - data_start)
        };
        let line_count = self.text[a..b].matches('\n').count() + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[a..b],
            SourceSpan::from((a, b - a)),
            inner.line() + first_line,
            column,
            line_count,
        )))
    }
}

/// A diagnostic in the shape miette renders.
struct Report<'a> {
    code: String,
    message: String,
    severity: miette::Severity,
    help: Option<Text>,
    source: Src<'a>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
}

impl<'a> Report<'a> {
    fn build(diag: &Diag, r: &'a HumanRenderer<'_>) -> Report<'a> {
        let sources = r.sources;
        let file = diag.span.file;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            (!diag.label.is_empty()).then(|| diag.label.to_string()),
            to_source_span(diag.span, sources),
        )];
        let mut related = Vec::new();
        for (span, text) in &diag.labels {
            if span.file == file {
                labels.push(LabeledSpan::new_with_span(
                    Some(text.to_string()),
                    to_source_span(*span, sources),
                ));
            } else {
                // A place in another file: its own short report, titled by the label.
                related.push(Report {
                    code: String::new(),
                    message: text.to_string(),
                    severity: miette::Severity::Advice,
                    help: None,
                    source: r.src(span.file),
                    labels: vec![LabeledSpan::new_primary_with_span(None, to_source_span(*span, sources))],
                    related: Vec::new(),
                });
            }
        }
        // Files rejected before decoding (binary, not UTF-8, too large) have no text to show.
        if sources.get(file).text.is_empty() {
            labels.clear();
        }
        Report {
            // The code goes into the headline, rustc-style (`error[MS0108]: …`), rather than
            // into miette's separate code line.
            code: String::new(),
            message: format!("{}[{}]: {}", diag.severity, diag.code, diag.message),
            severity: match diag.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help: diag.help.clone(),
            source: r.src(file),
            labels,
            related,
        }
    }
}

/// Replaces invisible and bidirectional control characters by visible ones of the same
/// UTF-8 length, so an excerpt shows where they are instead of letting the terminal reorder
/// the very line being reported (spans stay valid because lengths are unchanged).
fn visible(text: &str) -> Cow<'_, str> {
    if text.is_ascii() || !text.chars().any(|c| crate::syntax::invisible(c).is_some()) {
        return Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' => {
                '\u{FFFD}'
            }
            '\u{061C}' | '\u{00AD}' => '\u{00BF}',
            c => c,
        })
        .collect::<String>()
        .into()
}

/// Clamps a span to the text and to char boundaries, so a report never slices mid-character.
fn to_source_span(span: Span, sources: &SourceMap) -> SourceSpan {
    let text = &sources.get(span.file).text;
    let start = crate::source::floor_char_boundary(text, span.start as usize);
    let mut end = crate::source::floor_char_boundary(text, (span.end as usize).max(start));
    // Very long spans (a 10 MB line) would print the whole line: cut the label to a window.
    if end - start > 200 {
        end = crate::source::floor_char_boundary(text, start + 200);
    }
    SourceSpan::from((start, end - start))
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
        }
    }
}
