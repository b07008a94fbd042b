//! `mailsec diff <old> <new>`: compiles two revisions of an estate in memory and shows what
//! changes in the generated artefacts — a plan-like summary per unit, target and host, then
//! unified diffs. Either side may be a git revision (`<rev>:<path>`, or `--git <rev>` for the
//! old side of the same path), materialised from `git archive` into a temporary directory.

use super::output::render;
use super::{Emit, MessageFormat, Printer, EXIT_INPUT, EXIT_OK, EXIT_USAGE};
use crate::backend::Target;
use crate::driver::{self, Compiled};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What `mailsec diff` was asked.
pub(super) struct DiffArgs<'a> {
    pub old: &'a str,
    pub new: Option<&'a str>,
    pub git: Option<&'a str>,
    pub stat: bool,
    pub targets: &'a [Target],
}

/// How one artefact differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Status {
    Changed,
    Added,
    Removed,
}

#[derive(Debug, Serialize)]
struct FileChange {
    path: String,
    unit: String,
    target: String,
    host: Option<String>,
    status: Status,
    added_lines: usize,
    removed_lines: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    diff: String,
}

#[derive(Debug, Default, Serialize)]
struct Totals {
    changed: usize,
    added: usize,
    removed: usize,
}

#[derive(Serialize)]
struct ChangeSet<'a> {
    format: u32,
    old: &'a str,
    new: &'a str,
    equal: bool,
    totals: &'a Totals,
    files: &'a [FileChange],
}

/// One side of the comparison, compiled.
struct Side {
    label: String,
    /// Keeps a materialised git revision alive while it is compiled.
    _tmp: Option<tempfile::TempDir>,
    path: PathBuf,
}

pub(super) fn diff(printer: &Printer, args: &DiffArgs<'_>) -> u8 {
    if printer.format == MessageFormat::Sarif {
        printer.fail("`diff` has no SARIF form (SARIF carries diagnostics); use `--message-format json`");
        return EXIT_USAGE;
    }
    let (old, new) = match sides(args) {
        Ok(s) => s,
        Err(e) => {
            printer.fail(&e);
            return EXIT_USAGE;
        }
    };
    let targets = if args.targets.is_empty() {
        Target::ALL.into_iter().filter(|t| t.is_built()).collect()
    } else if let Some(t) = args.targets.iter().find(|t| !t.is_built()) {
        printer.fail(&format!("target `{}` is not built yet in this version", t.name()));
        return EXIT_USAGE;
    } else {
        args.targets.to_vec()
    };
    let mut trees = Vec::new();
    for side in [&old, &new] {
        match artefacts(printer, side, &targets) {
            Ok(t) => trees.push(t),
            Err(code) => return code,
        }
    }
    let (before, after) = (&trees[0], &trees[1]);
    let files = changes(before, after, !args.stat || printer.format == MessageFormat::Json);
    let mut totals = Totals::default();
    for f in &files {
        match f.status {
            Status::Changed => totals.changed += 1,
            Status::Added => totals.added += 1,
            Status::Removed => totals.removed += 1,
        }
    }
    let text = match printer.format {
        MessageFormat::Json => {
            let set = ChangeSet {
                format: 1,
                old: &old.label,
                new: &new.label,
                equal: files.is_empty(),
                totals: &totals,
                files: &files,
            };
            let mut s = serde_json::to_string_pretty(&set).expect("change set serialises");
            s.push('\n');
            s
        }
        _ if files.is_empty() => String::new(),
        _ => human(&files, &totals, args.stat),
    };
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            printer.fail(&format!("cannot write the diff: {e}"));
            return EXIT_USAGE;
        }
    }
    if files.is_empty() {
        EXIT_OK
    } else {
        EXIT_INPUT
    }
}

/// Resolves the two command-line sides into directories or files on disk.
fn sides(args: &DiffArgs<'_>) -> Result<(Side, Side), String> {
    match (args.git, args.new) {
        (Some(rev), None) => {
            let old = from_git(rev, args.old)?;
            Ok((old, on_disk(args.old)?))
        }
        (Some(_), Some(_)) => Err("with `--git <rev>` give one path: the old side is that path at <rev>, \
             the new side the working tree"
            .into()),
        (None, Some(new)) => Ok((side(args.old)?, side(new)?)),
        (None, None) => Err("give two sides: `mailsec diff <old> <new>`, or `mailsec diff --git <rev> <path>`".into()),
    }
}

fn side(arg: &str) -> Result<Side, String> {
    if Path::new(arg).exists() {
        return on_disk(arg);
    }
    match arg.split_once(':') {
        Some((rev, path)) if !rev.is_empty() => from_git(rev, if path.is_empty() { "." } else { path }),
        _ => Err(format!(
            "`{arg}` does not exist (a git revision is written `<rev>:<path>`)"
        )),
    }
}

fn on_disk(arg: &str) -> Result<Side, String> {
    let path = PathBuf::from(arg);
    if !path.exists() {
        return Err(format!("`{arg}` does not exist"));
    }
    Ok(Side {
        label: arg.to_string(),
        _tmp: None,
        path,
    })
}

/// Materialises `<path>` at revision `rev` of the git repository around the current
/// directory: the whole revision is extracted, so includes, `file()` references and
/// `mailsec.toml` resolve as they did at that revision.
fn from_git(rev: &str, path: &str) -> Result<Side, String> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a git revision"));
    }
    let git = |args: &[&str]| -> Result<Vec<u8>, String> {
        let out = Command::new("git")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!(
                "git {} failed: {}",
                args.first().copied().unwrap_or_default(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    let text = |v: Vec<u8>| String::from_utf8_lossy(&v).trim_end_matches(['\n', '\r']).to_string();
    let top = text(git(&["rev-parse", "--show-toplevel"])?);
    let prefix = text(git(&["rev-parse", "--show-prefix"])?);
    let commit = text(
        git(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
            .map_err(|_| format!("`{rev}` is not a git revision of this repository"))?,
    );
    let tar = git(&["-C", &top, "archive", "--format=tar", &commit])?;
    let tmp = tempfile::Builder::new()
        .prefix("mailsec-diff-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let mut archive = tar::Archive::new(tar.as_slice());
    archive
        .unpack(tmp.path())
        .map_err(|e| format!("cannot extract revision `{rev}`: {e}"))?;
    let rel = Path::new(&prefix).join(path);
    let inside = tmp.path().join(&rel);
    if !inside.exists() {
        return Err(format!("`{path}` does not exist at revision `{rev}`"));
    }
    Ok(Side {
        label: format!("{rev}:{path}"),
        path: inside,
        _tmp: Some(tmp),
    })
}

/// Compiles one side and renders its artefacts, keyed by `unit/path`.
fn artefacts(printer: &Printer, side: &Side, targets: &[Target]) -> Result<BTreeMap<String, Vec<u8>>, u8> {
    let compiled: Vec<Compiled> =
        match driver::discover(std::slice::from_ref(&side.path)).and_then(|i| driver::compile_all(&i)) {
            Ok(c) => c,
            Err(e) => {
                printer.fail(&format!("{}: {e}", side.label));
                return Err(EXIT_USAGE);
            }
        };
    if compiled.iter().any(|c| c.diags.has_errors()) {
        let (errors, _) = printer.diagnostics(&compiled, false);
        printer.fail(&format!(
            "`{}` has {errors} error{}; fix them before comparing",
            side.label,
            if errors == 1 { "" } else { "s" }
        ));
        return Err(EXIT_USAGE);
    }
    match render(&compiled, targets, Emit::Artefacts) {
        Ok(files) => Ok(files.into_iter().collect()),
        Err(e) => {
            printer.fail(&format!("{}: {e}", side.label));
            Err(EXIT_USAGE)
        }
    }
}

/// Every artefact that differs, in path order.
fn changes(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>, with_text: bool) -> Vec<FileChange> {
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for path in paths {
        let (a, b) = (before.get(path), after.get(path));
        let status = match (a, b) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(_)) => Status::Changed,
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Removed,
            (None, None) => continue,
        };
        let a = String::from_utf8_lossy(a.map_or(&[][..], Vec::as_slice)).into_owned();
        let b = String::from_utf8_lossy(b.map_or(&[][..], Vec::as_slice)).into_owned();
        let text = similar::TextDiff::from_lines(&a, &b);
        let (mut added_lines, mut removed_lines) = (0, 0);
        for op in text.ops() {
            for change in text.iter_changes(op) {
                match change.tag() {
                    similar::ChangeTag::Insert => added_lines += 1,
                    similar::ChangeTag::Delete => removed_lines += 1,
                    similar::ChangeTag::Equal => {}
                }
            }
        }
        let diff = if with_text {
            let (from, to) = match status {
                Status::Added => ("/dev/null".to_string(), format!("b/{path}")),
                Status::Removed => (format!("a/{path}"), "/dev/null".to_string()),
                Status::Changed => (format!("a/{path}"), format!("b/{path}")),
            };
            text.unified_diff().context_radius(3).header(&from, &to).to_string()
        } else {
            String::new()
        };
        let mut parts = path.split('/');
        let unit = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let rest: Vec<&str> = parts.collect();
        let host = (rest.len() >= 2).then(|| rest[0].to_string());
        out.push(FileChange {
            path: path.clone(),
            unit,
            target,
            host,
            status,
            added_lines,
            removed_lines,
            diff,
        });
    }
    out
}

fn counts(files: &[&FileChange]) -> String {
    let mut parts = Vec::new();
    for (status, word) in [
        (Status::Changed, "changed"),
        (Status::Added, "added"),
        (Status::Removed, "removed"),
    ] {
        let n = files.iter().filter(|f| f.status == status).count();
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    parts.join(", ")
}

/// A unit's changed files by (target, host).
type ByPlace<'a> = BTreeMap<(&'a str, Option<&'a str>), Vec<&'a FileChange>>;

/// The summary (unit → target → host) and, unless `stat`, the unified diffs.
fn human(files: &[FileChange], totals: &Totals, stat: bool) -> String {
    let mut s = String::new();
    let mut groups: BTreeMap<&str, ByPlace<'_>> = BTreeMap::new();
    for f in files {
        groups
            .entry(&f.unit)
            .or_default()
            .entry((&f.target, f.host.as_deref()))
            .or_default()
            .push(f);
    }
    for (unit, by_place) in &groups {
        let all: Vec<&FileChange> = by_place.values().flatten().copied().collect();
        let _ = writeln!(s, "{unit}: {}", counts(&all));
        for ((target, host), fs) in by_place {
            let place = host.map_or_else(|| (*target).to_string(), |h| format!("{target}/{h}"));
            let _ = writeln!(s, "  {place}: {}", counts(fs));
            if stat {
                for f in fs {
                    let _ = writeln!(s, "    {} | +{} -{}", f.path, f.added_lines, f.removed_lines);
                }
            }
        }
    }
    let units = groups.len();
    let _ = writeln!(
        s,
        "{} changed, {} added, {} removed in {units} unit{}",
        totals.changed,
        totals.added,
        totals.removed,
        if units == 1 { "" } else { "s" }
    );
    if !stat {
        for f in files {
            s.push('\n');
            s.push_str(&f.diff);
        }
    }
    s
}
