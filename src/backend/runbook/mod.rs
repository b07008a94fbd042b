//! The `runbook` backend: one human-readable change plan per unit, `runbook/<unit>.md` and
//! the same rendered as a standalone `runbook/<unit>.html` (inline CSS and SVG, no script,
//! no network). Scripted steps link the exact file of the `exchange` or `iis` target that
//! carries them out; manual steps carry the vendor guides' click-paths, corrected.
//!
//! Escaping: the Markdown template auto-escapes every string with [`escape::markdown`]
//! (also its `md` filter); Markdown built in Rust goes through the same function
//! ([`escape::Md`] fragments). Only [`escape::Md`] values are inserted as they are.

mod blocks;
mod cx;
mod escape;
mod html;
mod model;
mod order;
mod steps;
mod topology;

use super::{owner, sanitize_component, BackendError, OutputFile, Target};
use crate::ir::Ir;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use std::fmt::Write as _;
use std::sync::OnceLock;

/// Whether this backend is complete.
pub(crate) const BUILT: bool = true;

/// Stands for the body while the page template renders.
const BODY: &str = "\u{0}mailsec-runbook-body\u{0}";

const MARKDOWN: AutoEscape = AutoEscape::Custom("markdown");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".md.j2") {
                MARKDOWN
            } else {
                minijinja::default_auto_escape_callback(name)
            }
        });
        env.set_formatter(|out, state, value| {
            if state.auto_escape() != MARKDOWN {
                return minijinja::escape_formatter(out, state, value);
            }
            if value.is_safe() {
                write!(out, "{value}").map_err(minijinja::Error::from)
            } else if let Some(s) = value.as_str() {
                out.write_str(&escape::markdown(s, escape::Ctx::Text))
                    .map_err(minijinja::Error::from)
            } else {
                out.write_str(&escape::markdown(&value.to_string(), escape::Ctx::Text))
                    .map_err(minijinja::Error::from)
            }
        });
        // The same escaper as a filter, for code spans: `{{ name|md("code") }}`.
        env.add_filter("md", |s: &str, ctx: Option<&str>| {
            let ctx = if ctx == Some("code") {
                escape::Ctx::Code
            } else {
                escape::Ctx::Text
            };
            Value::from_safe_string(escape::markdown(s, ctx))
        });
        env.add_filter("slug", |s: &str| html::slug(s));
        env.add_template(
            "runbook.md.j2",
            include_str!("../../../templates/runbook/runbook.md.j2"),
        )
        .expect("the runbook Markdown template parses");
        env.add_template("page.html.j2", include_str!("../../../templates/runbook/page.html.j2"))
            .expect("the runbook HTML template parses");
        env.add_template("runbook.css", include_str!("../../../templates/runbook/runbook.css"))
            .expect("the runbook stylesheet loads");
        env
    })
}

fn bug(message: impl std::fmt::Display) -> BackendError {
    BackendError {
        target: "runbook",
        message: message.to_string(),
    }
}

/// The files of the `exchange` and `iis` targets, which scripted steps link to.
fn scripts(script_files: &[OutputFile]) -> Vec<model::Script> {
    script_files
        .iter()
        .map(|f| model::Script {
            approval_switch: f.path.ends_with(".ps1") && contains(&f.contents, b"[switch]$Approved"),
            sha256: {
                use sha2::{Digest, Sha256};
                let mut hex = String::with_capacity(64);
                for b in Sha256::digest(&f.contents) {
                    let _ = write!(hex, "{b:02x}");
                }
                hex
            },
            path: f.path.clone(),
            target: f.target,
            host: f.host.clone(),
            operations: f.operations.clone(),
        })
        .collect()
}

/// Whether `needle` (ASCII) occurs in `haystack`, without decoding it as text first.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Renders the unit's `runbook` artefacts.
pub(crate) fn render(ir: &Ir) -> Result<Vec<OutputFile>, BackendError> {
    let mut script_files = super::exchange::render(ir)?;
    script_files.extend(super::iis::render(ir)?);
    script_files.extend(super::tmg::render(ir)?);
    render_with(ir, &script_files)
}

/// Renders the runbook given the `exchange` and `iis` files already rendered for the unit,
/// so a build that writes them all renders each script once.
pub(crate) fn render_with(ir: &Ir, script_files: &[OutputFile]) -> Result<Vec<OutputFile>, BackendError> {
    let cx = cx::Cx::new(ir, order::runbook_order(ir));
    let scripts = scripts(script_files);
    let graph = topology::graph(&cx);
    let view = model::build(&cx, &scripts, &graph);
    let env = environment();
    let markdown = env
        .get_template("runbook.md.j2")
        .and_then(|t| t.render(&view))
        .map_err(bug)?;
    drop(view);
    // The page is rendered around a marker, and the body converted straight into it: a
    // large unit's HTML is not held twice.
    let frame = env
        .get_template("page.html.j2")
        .and_then(|t| {
            t.render(minijinja::context! {
                title => format!("Runbook: {}", ir.organization.name),
                unit => ir.unit.clone(),
                body => Value::from_safe_string(BODY.to_string()),
            })
        })
        .map_err(bug)?;
    // The last marker: nothing from the intent follows the body in the template.
    let (head, tail) = frame
        .rsplit_once(BODY)
        .ok_or_else(|| bug("the page template has no body"))?;
    let mut page = String::with_capacity(head.len() + markdown.len() * 2 + tail.len());
    page.push_str(head);
    html::push_html(&mut page, &markdown, &topology::svg(&graph));
    page.push_str(tail);
    let unit = sanitize_component(&ir.unit);
    // The runbook carries out the steps no script does; the HTML is the same document.
    let manual: Vec<String> = cx
        .ops()
        .filter(|o| owner(o, ir).is_none())
        .map(|o| o.id.clone())
        .collect();
    Ok(vec![
        OutputFile {
            path: format!("runbook/{unit}.md"),
            target: Target::Runbook,
            host: None,
            operations: manual,
            contents: markdown.into_bytes(),
        },
        OutputFile {
            path: format!("runbook/{unit}.html"),
            target: Target::Runbook,
            host: None,
            operations: Vec::new(),
            contents: page.into_bytes(),
        },
    ])
}
