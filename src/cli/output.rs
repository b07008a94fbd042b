//! `mailsec build`: renders in memory, then either compares with `--out` (`--check`) or
//! replaces `--out` atomically, so a failed build never leaves half an output behind.

use super::{Emit, Printer, EXIT_DRIFT, EXIT_INPUT, EXIT_OK, EXIT_USAGE};
use crate::backend::{OutputFile, Target};
use crate::driver::{self, Compiled};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Name of the manifest at the top of the output directory.
pub(super) const MANIFEST: &str = "manifest.json";

#[derive(Serialize)]
struct Manifest<'a> {
    format: u32,
    artefacts: Vec<ManifestEntry<'a>>,
}

#[derive(Serialize)]
struct ManifestEntry<'a> {
    path: &'a str,
    unit: &'a str,
    target: &'a str,
    host: Option<&'a str>,
    sha256: String,
    sources: &'a [String],
}

/// How `build` runs.
pub(super) struct Options {
    pub emit: Emit,
    pub check: bool,
    pub stamp: bool,
    pub deny: bool,
}

pub(super) fn build(printer: &Printer, paths: &[PathBuf], out: &Path, targets: &[Target], options: Options) -> u8 {
    let Options {
        emit,
        check,
        stamp,
        deny,
    } = options;
    let mut compiled = match driver::discover(paths).and_then(|i| driver::compile_all(&i)) {
        Ok(c) => c,
        Err(e) => {
            printer.fail(&e.to_string());
            return EXIT_USAGE;
        }
    };
    let (errors, warnings) = printer.diagnostics(&compiled, deny);
    let units = compiled.iter().filter(|c| c.unit.is_some()).count();
    printer.summary("build", units, compiled.len() - units, errors, warnings);
    if errors > 0 {
        return EXIT_INPUT;
    }
    let narrowed = !targets.is_empty() && emit == Emit::Artefacts;
    if stamp {
        stamp_revisions(&mut compiled);
    }
    let targets = match select_targets(printer, targets, emit) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let files = match render(&compiled, &targets, emit) {
        Ok(f) => f,
        Err(e) => {
            printer.fail(&e);
            return EXIT_USAGE;
        }
    };
    let mut tree: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
    if tree.keys().any(|p| !safe_relative(p)) {
        printer.fail("internal error: a backend produced an unsafe output path");
        return EXIT_USAGE;
    }
    let manifest = manifest(&compiled, &tree, &targets, emit);
    tree.insert(MANIFEST.to_string(), manifest);
    if check {
        // With `--target`, only the selected targets' files are this build's concern: the
        // other targets' files and the whole-build manifest are left out of the comparison.
        let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
        let in_scope = |p: &str| !narrowed || p.split('/').nth(1).is_some_and(|t| names.contains(&t));
        return match compare(out, &tree, &in_scope) {
            Ok(diffs) if diffs.is_empty() => {
                printer.status(&format!(
                    "build --check: `{}` is up to date ({} files)",
                    out.display(),
                    tree.len()
                ));
                EXIT_OK
            }
            Ok(diffs) => {
                // The diff is for people: on stdout in human mode, on stderr when stdout
                // carries JSON or SARIF, which nothing else may enter.
                let mut text = String::new();
                for d in &diffs {
                    text.push_str(d);
                    text.push('\n');
                }
                if printer.machine() {
                    eprint!("{text}");
                } else {
                    print!("{text}");
                }
                eprintln!(
                    "error: `{}` differs from what the intent generates in {} places; run `mailsec build` to update it",
                    out.display(),
                    diffs.len()
                );
                EXIT_DRIFT
            }
            Err(e) => {
                printer.fail(&format!("cannot read `{}`: {e}", out.display()));
                EXIT_USAGE
            }
        };
    }
    match replace_dir(out, &tree) {
        Ok(()) => {
            printer.status(&format!("wrote {} files to `{}`", tree.len(), out.display()));
            EXIT_OK
        }
        Err(e) => {
            printer.fail(&e);
            EXIT_USAGE
        }
    }
}

/// Sets each unit's revision to `git describe --always --dirty` of its entry file's
/// directory (asked once per directory); units outside a repository stay unstamped.
fn stamp_revisions(compiled: &mut [Compiled]) {
    let mut cache: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    for c in compiled.iter_mut() {
        let Some(dir) = c
            .sources
            .files()
            .next()
            .and_then(|(_, f)| f.path.parent())
            .map(Path::to_path_buf)
        else {
            continue;
        };
        let Some(ir) = c.ir.as_mut() else { continue };
        ir.revision = cache
            .entry(dir)
            .or_insert_with_key(|dir| {
                let out = std::process::Command::new("git")
                    .arg("-C")
                    .arg(dir)
                    .args(["describe", "--always", "--dirty", "--tags"])
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .output()
                    .ok()?;
                let rev = String::from_utf8(out.stdout).ok()?.trim().to_string();
                (out.status.success() && !rev.is_empty()).then_some(rev)
            })
            .clone();
    }
}

fn select_targets(printer: &Printer, requested: &[Target], emit: Emit) -> Result<Vec<Target>, u8> {
    if emit == Emit::Ir {
        return Ok(Vec::new());
    }
    if requested.is_empty() {
        let built: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_built()).collect();
        let skipped: Vec<&str> = Target::ALL
            .into_iter()
            .filter(|t| !t.is_built())
            .map(Target::name)
            .collect();
        if !skipped.is_empty() {
            printer.status(&format!(
                "note: not built yet in this version, skipped: {}",
                skipped.join(", ")
            ));
        }
        if built.is_empty() {
            printer.fail("no target is built yet in this version; use `--emit ir` to write the plan");
            return Err(EXIT_USAGE);
        }
        return Ok(built);
    }
    let mut out: Vec<Target> = Vec::new();
    for &t in requested {
        if !t.is_built() {
            printer.fail(&format!(
                "target `{}` is not built yet in this version; use `--emit ir` to write the plan",
                t.name()
            ));
            return Err(EXIT_USAGE);
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

pub(super) fn render(compiled: &[Compiled], targets: &[Target], emit: Emit) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    for c in compiled {
        let Some(ir) = &c.ir else { continue };
        match emit {
            Emit::Ir => {
                let mut json = serde_json::to_vec_pretty(ir).map_err(|e| format!("internal error: {e}"))?;
                json.push(b'\n');
                files.push((format!("{}/ir.json", ir.unit), json));
            }
            Emit::Artefacts => {
                for OutputFile { path, contents, .. } in driver::render_unit(ir, targets).map_err(|e| e.to_string())? {
                    files.push((path, contents));
                }
            }
        }
    }
    Ok(files)
}

fn manifest(compiled: &[Compiled], tree: &BTreeMap<String, Vec<u8>>, targets: &[Target], emit: Emit) -> Vec<u8> {
    let mut entries = Vec::new();
    for (path, contents) in tree {
        let (unit_dir, rest) = path.split_once('/').unwrap_or(("", path));
        let Some(ir) = compiled
            .iter()
            .filter_map(|c| c.ir.as_ref())
            .find(|ir| ir.unit == unit_dir)
        else {
            continue;
        };
        let mut parts = rest.split('/');
        let first = parts.next().unwrap_or("");
        let target = if emit == Emit::Ir {
            "ir"
        } else {
            targets.iter().map(|t| t.name()).find(|t| *t == first).unwrap_or(first)
        };
        let host = rest
            .split('/')
            .nth(1)
            .filter(|_| rest.split('/').count() > 2)
            .filter(|h| ir.hosts.contains_key(*h));
        entries.push(ManifestEntry {
            path,
            unit: &ir.unit,
            target,
            host,
            sha256: hex(&Sha256::digest(contents)),
            sources: &ir.sources,
        });
    }
    let mut json = serde_json::to_vec_pretty(&Manifest {
        format: 1,
        artefacts: entries,
    })
    .expect("manifest serialises");
    json.push(b'\n');
    json
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn safe_relative(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty() && !p.contains('\\') && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Whether two file contents are the same up to line endings: a checkout with
/// `core.autocrlf=true` turns LF into CRLF (and CRLF files may come back as LF), which is
/// not drift.
fn same_text(have: &[u8], want: &[u8]) -> bool {
    fn lf(b: &[u8]) -> impl Iterator<Item = u8> + '_ {
        b.iter()
            .enumerate()
            .filter(move |&(i, &c)| !(c == b'\r' && b.get(i + 1) == Some(&b'\n')))
            .map(|(_, &c)| c)
    }
    have == want || lf(have).eq(lf(want))
}

/// Differences between `out` and the expected tree, as printable text (unified diffs),
/// limited to the paths `in_scope` accepts.
fn compare(out: &Path, tree: &BTreeMap<String, Vec<u8>>, in_scope: &dyn Fn(&str) -> bool) -> io::Result<Vec<String>> {
    let mut diffs = Vec::new();
    let existing = if out.is_dir() { list(out)? } else { Vec::new() };
    for (path, want) in tree.iter().filter(|(p, _)| in_scope(p)) {
        match fs::read(out.join(path)) {
            Ok(have) if same_text(&have, want) => {}
            Ok(have) => {
                let (a, b) = (String::from_utf8_lossy(&have), String::from_utf8_lossy(want));
                let diff = similar::TextDiff::from_lines(a.as_ref(), b.as_ref());
                diffs.push(
                    diff.unified_diff()
                        .context_radius(3)
                        .header(&format!("a/{path}"), &format!("b/{path}"))
                        .to_string(),
                );
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => diffs.push(format!("missing: {path}")),
            Err(e) => return Err(e),
        }
    }
    for p in existing.into_iter().filter(|p| in_scope(p)) {
        if !tree.contains_key(&p) {
            diffs.push(format!("extra: {p}"));
        }
    }
    Ok(diffs)
}

fn list(dir: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(io::Error::from)?;
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(out)
}

/// Writes the tree into a sibling temporary directory, then swaps it into place.
fn replace_dir(out: &Path, tree: &BTreeMap<String, Vec<u8>>) -> Result<(), String> {
    if out.exists() {
        if !out.is_dir() {
            return Err(format!("`{}` exists and is not a directory", out.display()));
        }
        let empty = fs::read_dir(out).map_err(|e| e.to_string())?.next().is_none();
        if !empty && !out.join(MANIFEST).is_file() {
            return Err(format!(
                "refusing to replace `{}`: it is not empty and holds no {MANIFEST}, so it is not a mailsec output directory",
                out.display()
            ));
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    let base = out
        .file_name()
        .map_or_else(|| "out".to_string(), |n| n.to_string_lossy().into_owned());
    let pid = std::process::id();
    let tmp = parent.join(format!(".{base}.mailsec-new-{pid}"));
    let old = parent.join(format!(".{base}.mailsec-old-{pid}"));
    let _ = fs::remove_dir_all(&tmp);
    let write = || -> io::Result<()> {
        for (path, contents) in tree {
            let target = tmp.join(path);
            if let Some(dir) = target.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(target, contents)?;
        }
        Ok(())
    };
    if let Err(e) = fs::create_dir_all(&tmp).and_then(|()| write()) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(format!("cannot write the new output next to `{}`: {e}", out.display()));
    }
    let had_old = out.exists();
    if had_old {
        if let Err(e) = fs::rename(out, &old) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(format!("cannot move the old `{}` aside: {e}", out.display()));
        }
    }
    if let Err(e) = fs::rename(&tmp, out) {
        if had_old {
            let _ = fs::rename(&old, out);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(format!("cannot move the new output into `{}`: {e}", out.display()));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}
