//! SARIF 2.1.0 output (`--message-format sarif`): one log with every diagnostic code as a
//! rule (title, long explanation as help, default level) and one result per diagnostic,
//! with its primary location and the labelled related places. Code-scanning services
//! (GitHub, GitLab, Azure DevOps) show these as annotations on the intent files.

use super::{Code, Diag, Severity};
use crate::source::{SourceMap, Span};
use serde_json::{json, Value};

/// The SARIF version written.
pub const VERSION: &str = "2.1.0";
/// The schema the log declares.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The rule of every code, in catalogue order (a result's `ruleIndex` indexes this list).
fn rules() -> Vec<Value> {
    Code::ALL
        .iter()
        .map(|c| {
            let explain = c.explain();
            let first = explain.split("\n\n").next().unwrap_or(explain).trim();
            json!({
                "id": c.as_str(),
                "name": rule_name(c.title()),
                "shortDescription": { "text": c.title() },
                "fullDescription": { "text": first },
                "help": { "text": explain, "markdown": explain },
                "defaultConfiguration": { "level": level(c.severity()) },
                "properties": { "tags": ["mail-security"] },
            })
        })
        .collect()
}

/// A rule's `name`: the title in UpperCamelCase, letters and digits only.
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn location(span: Span, sources: &SourceMap, message: Option<&str>, id: Option<usize>) -> Value {
    let (start_line, start_column) = sources.line_col(span.file, span.start);
    let (end_line, end_column) = sources.line_col(span.file, span.end);
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": sources.get(span.file).name, "uriBaseId": "%SRCROOT%" },
            "region": {
                "startLine": start_line,
                "startColumn": start_column,
                "endLine": end_line,
                "endColumn": end_column,
            },
        },
    });
    if let Some(id) = id {
        loc["id"] = json!(id);
    }
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        loc["message"] = json!({ "text": m });
    }
    loc
}

/// One result.
pub fn result(diag: &Diag, sources: &SourceMap) -> Value {
    let index = Code::ALL.iter().position(|c| *c == diag.code).unwrap_or_default();
    let mut text = diag.message.to_string();
    if let Some(help) = &diag.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let label = (!diag.label.is_empty()).then_some(diag.label.as_str());
    let mut r = json!({
        "ruleId": diag.code.as_str(),
        "ruleIndex": index,
        "level": level(diag.severity),
        "message": { "text": text },
        "locations": [location(diag.span, sources, label, None)],
    });
    if !diag.labels.is_empty() {
        r["relatedLocations"] = diag
            .labels
            .iter()
            .enumerate()
            .map(|(i, (span, msg))| location(*span, sources, Some(msg.as_str()), Some(i + 1)))
            .collect();
    }
    r
}

/// The whole log for the given results (already built with [`result`]).
pub fn log(results: Vec<Value>) -> Value {
    json!({
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [{
            "tool": {
                "driver": {
                    "name": "mailsec",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules(),
                },
            },
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {
                "%SRCROOT%": { "description": { "text": "The repository root (or the compile root outside a repository)." } },
            },
            "results": results,
        }],
    })
}
