//! `mailsec fmt [--check] <paths…>`: rewrites intent files in the canonical layout
//! (see `syntax::fmt`), or with `--check` lists the files that would change.

use super::{Printer, EXIT_DRIFT, EXIT_INPUT, EXIT_OK, EXIT_USAGE};
use crate::check;
use crate::diagnostics::Diagnostics;
use crate::driver::{self, Compiled};
use crate::source::SourceMap;
use crate::syntax::fmt::{format, same_tokens};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub(super) fn fmt(printer: &Printer, paths: &[PathBuf], check: bool) -> u8 {
    let inputs = match driver::discover(paths) {
        Ok(i) => i,
        Err(e) => {
            printer.fail(&e.to_string());
            return EXIT_USAGE;
        }
    };
    let mut broken = Vec::new();
    let mut changed = Vec::new();
    for input in &inputs {
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::default();
        let id = match check::load_file(&input.path, &input.root, &mut sources, &mut diags) {
            Ok((id, _)) => id,
            Err(e) => {
                printer.fail(&format!("cannot read `{}`: {e}", input.path.display()));
                return EXIT_USAGE;
            }
        };
        let name = sources.get(id).name.clone();
        if diags.has_errors() {
            broken.push(Compiled {
                unit: None,
                name,
                sources,
                diags,
                ir: None,
            });
            continue;
        }
        let text = &sources.get(id).text;
        let formatted = format(text);
        if formatted == *text {
            continue;
        }
        if !same_tokens(text, &formatted) {
            printer.fail(&format!(
                "internal error: formatting `{name}` would change more than layout; the file is left as it is"
            ));
            return EXIT_USAGE;
        }
        if check {
            let diff = similar::TextDiff::from_lines(text.as_str(), formatted.as_str());
            let text = diff
                .unified_diff()
                .context_radius(2)
                .header(&format!("a/{name}"), &format!("b/{name}"))
                .to_string();
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{text}");
        } else if let Err(e) = write_atomically(&input.path, formatted.as_bytes()) {
            printer.fail(&format!("cannot write `{}`: {e}", input.path.display()));
            return EXIT_USAGE;
        }
        changed.push(name);
    }
    if !broken.is_empty() {
        printer.diagnostics(&broken, false);
        printer.fail(&format!(
            "{} file{} not formatted: fix the syntax errors first",
            broken.len(),
            if broken.len() == 1 { "" } else { "s" }
        ));
        return EXIT_INPUT;
    }
    let n = changed.len();
    let files = |n: usize| format!("{n} file{}", if n == 1 { "" } else { "s" });
    if check && n > 0 {
        for c in &changed {
            eprintln!("would reformat: {c}");
        }
        printer.fail(&format!("{} not in the canonical layout; run `mailsec fmt`", files(n)));
        return EXIT_DRIFT;
    }
    printer.status(&format!(
        "fmt: {} {}, {} already formatted",
        files(n),
        if check { "to reformat" } else { "reformatted" },
        files(inputs.len() - n)
    ));
    EXIT_OK
}

/// Replaces a file through a sibling temporary file and a rename, so an interrupted write
/// never leaves a truncated intent file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = fs::metadata(path) {
        let _ = fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
