//! `mailsec build`: renders each unit and, on the worker that rendered it, either compares
//! its files with `--out` (`--check`) or writes them to a staging directory that then
//! replaces `--out` atomically, so a failed build never leaves half an output behind. Only
//! the units in progress are held in memory, not the whole estate's output.
//!
//! `--out` is owned: mailsec writes into a directory only when it is absent, empty, or marked
//! as a mailsec output by its `manifest.json` (`"tool": "mailsec"` and a known format) and
//! holds nothing the manifest does not list. It never writes into a directory that contains
//! an input or lies inside one. A build owns the (unit, target) pairs it renders: the files
//! of other units and targets already in `--out` are carried over unchanged, so building one
//! unit or one `--target` into a shared `--out` deletes nothing else.

use super::{Emit, Printer, EXIT_DRIFT, EXIT_INPUT, EXIT_OK, EXIT_USAGE};
use crate::backend::{OutputFile, Target};
use crate::driver::{self, Compiled};
use crate::ir::Ir;
use crate::source::SourceMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Name of the manifest at the top of the output directory.
pub(super) const MANIFEST: &str = "manifest.json";

/// The tool name the manifest carries: the marker that `--out` is a mailsec output.
const TOOL: &str = "mailsec";

/// Manifest format. 2 added the `tool` marker (format 1 had none, so it cannot be told apart
/// from any other program's `manifest.json` and is not replaced).
const FORMAT: u32 = 2;

/// Largest manifest read back from `--out`, and largest artefact compared by `--check`.
const MAX_READ_BACK: u64 = 256 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    tool: String,
    format: u32,
    artefacts: Vec<ManifestEntry>,
}

/// The manifest as written: the same fields as [`Manifest`], its entries borrowed.
#[derive(Serialize)]
struct ManifestOut<'a> {
    tool: &'a str,
    format: u32,
    artefacts: Vec<&'a ManifestEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    path: String,
    unit: String,
    target: String,
    host: Option<String>,
    sha256: String,
    sources: Vec<String>,
}

/// What `--out` holds before the build.
enum Existing {
    /// Nothing there (or an empty directory): nothing to keep.
    Nothing,
    /// A mailsec output: its manifest entries, and the files it holds that the manifest does
    /// not list (only possible to report, never to overwrite).
    Output {
        entries: Vec<ManifestEntry>,
        foreign: Vec<String>,
    },
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
    let inputs = match driver::discover(paths) {
        Ok(i) => i,
        Err(e) => {
            printer.fail(&e.to_string());
            return EXIT_USAGE;
        }
    };
    let out_abs = match absolute(out) {
        Ok(p) => p,
        Err(e) => {
            printer.fail(&format!("cannot use `{}` as the output directory: {e}", out.display()));
            return EXIT_USAGE;
        }
    };
    if let Err(why) = guard_inputs(out, &out_abs, paths) {
        printer.fail(&why);
        return EXIT_USAGE;
    }
    let mut compiled = match driver::compile_all(&inputs) {
        Ok(c) => c,
        Err(e) => {
            printer.fail(&e.to_string());
            return EXIT_USAGE;
        }
    };
    if let Err(why) = guard_sources(out, &out_abs, &compiled) {
        printer.fail(&why);
        return EXIT_USAGE;
    }
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
    // The diagnostics are out and the revisions stamped: the text of the intent files is
    // not needed any more, and a large estate's is worth freeing before rendering.
    for c in &mut compiled {
        c.sources = SourceMap::default();
    }
    let existing = match existing(out) {
        Ok(e) => e,
        Err(why) => {
            printer.fail(&why);
            return EXIT_USAGE;
        }
    };
    if !check {
        if let Existing::Output { foreign, .. } = &existing {
            if !foreign.is_empty() {
                printer.fail(&format!(
                    "refusing to replace `{}`: it holds {} that mailsec did not write ({}); move {} out of the output directory or choose another `--out`",
                    out.display(),
                    if foreign.len() == 1 { "a file".to_string() } else { format!("{} files", foreign.len()) },
                    foreign.iter().take(3).map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                        + if foreign.len() > 3 { ", …" } else { "" },
                    if foreign.len() == 1 { "it" } else { "them" },
                ));
                return EXIT_USAGE;
            }
        }
    }
    // With `--target`, only the selected targets' files are this build's concern: the other
    // targets' files and the whole-build manifest are left out of the comparison.
    let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
    let in_scope = |p: &str| !narrowed || p.split('/').nth(1).is_some_and(|t| names.contains(&t));
    // Each unit is rendered, hashed and written (or compared) on the worker that rendered it,
    // so only the units in progress are in memory. Writing goes to a staging directory next
    // to `--out`, swapped into place at the end: a failed build leaves `--out` as it was.
    let staging = if check {
        None
    } else {
        match Staging::new(out) {
            Ok(s) => Some(s),
            Err(why) => {
                printer.fail(&why);
                return EXIT_USAGE;
            }
        }
    };
    let sink = match &staging {
        Some(s) => Sink::Write(s),
        None => Sink::Compare {
            out,
            in_scope: &in_scope,
        },
    };
    let mut entries: BTreeMap<String, ManifestEntry> = BTreeMap::new();
    let mut diffs: BTreeMap<String, String> = BTreeMap::new();
    let owned = Owned::new(&compiled, &targets, emit);
    for unit in driver::map_plans_owned(&mut compiled, 0, |ir| emit_unit(&ir, &targets, emit, &sink)) {
        match unit {
            Ok(unit) => {
                // A path rendered twice keeps its last contents, as it is written last.
                entries.extend(unit.entries.into_iter().map(|e| (e.path.clone(), e)));
                diffs.extend(unit.diffs);
            }
            Err(why) => {
                printer.fail(&why);
                return EXIT_USAGE;
            }
        }
    }
    // The files of other units and targets already in `--out` are carried over unchanged.
    if let Existing::Output { entries: old, .. } = &existing {
        let mut made = HashSet::new();
        for e in old.iter().filter(|e| !owned.owns(e)) {
            if entries.contains_key(&e.path) {
                continue; // the same path, now produced by this build: the new file wins
            }
            let path = out.join(&e.path);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() => {}
                _ => continue, // deleted by hand since: nothing to carry over
            }
            if let Some(staging) = &staging {
                if let Err(why) = staging.carry(&path, &e.path, &mut made) {
                    printer.fail(&why);
                    return EXIT_USAGE;
                }
            }
            entries.insert(e.path.clone(), e.clone());
        }
    }
    let files = entries.len() + 1;
    let mut manifest = serde_json::to_vec_pretty(&ManifestOut {
        tool: TOOL,
        format: FORMAT,
        artefacts: entries.values().collect(),
    })
    .expect("manifest serialises");
    manifest.push(b'\n');
    let Some(staging) = staging else {
        let compared = (|| -> io::Result<Vec<String>> {
            if in_scope(MANIFEST) {
                if let Some(d) = compare_file(out, MANIFEST, &manifest)? {
                    diffs.insert(MANIFEST.to_string(), d);
                }
            }
            let mut all: Vec<String> = diffs.into_values().collect();
            if out.is_dir() {
                all.extend(
                    list(out)?
                        .into_iter()
                        .filter(|p| in_scope(p) && p != MANIFEST && !entries.contains_key(p))
                        .map(|p| format!("extra: {p}")),
                );
            }
            Ok(all)
        })();
        return match compared {
            Ok(diffs) if diffs.is_empty() => {
                printer.status(&format!(
                    "build --check: `{}` is up to date ({files} files)",
                    out.display()
                ));
                EXIT_OK
            }
            Ok(diffs) => {
                // The diff is for people: on stdout in human mode, on stderr when stdout
                // carries JSON or SARIF, which nothing else may enter.
                for d in &diffs {
                    if printer.machine() {
                        errln!("{d}");
                    } else {
                        outln!("{d}");
                    }
                }
                errln!(
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
    };
    if let Err(e) = staging.write(MANIFEST, &manifest, &mut HashSet::new()) {
        printer.fail(&staging.write_error(&e));
        return EXIT_USAGE;
    }
    match staging.commit() {
        Ok(()) => {
            printer.status(&format!("wrote {files} files to `{}`", out.display()));
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

/// `path` made absolute without requiring it to exist: the deepest existing ancestor is
/// canonicalised (symbolic links resolved) and the rest appended. `..` in the part that does
/// not exist yet is refused, since it cannot be resolved safely.
fn absolute(path: &Path) -> io::Result<PathBuf> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let mut cur = path.as_path();
    loop {
        match cur.canonicalize() {
            Ok(c) => {
                let mut p = c;
                for part in rest.iter().rev() {
                    p.push(part);
                }
                return Ok(p);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let Some(name) = cur.file_name() else { return Err(e) };
                if name == ".." {
                    return Err(io::Error::other(
                        "the path goes up (`..`) through directories that do not exist",
                    ));
                }
                rest.push(name.to_os_string());
                cur = match cur.parent() {
                    Some(p) => p,
                    None => return Err(e),
                };
            }
            Err(e) => return Err(e),
        }
    }
}

/// `--out` must neither contain an input nor lie inside one: replacing it would delete the
/// intent, and building into the input tree would feed outputs back in as inputs.
fn guard_inputs(out: &Path, out_abs: &Path, paths: &[PathBuf]) -> Result<(), String> {
    for p in paths {
        let Ok(input) = p.canonicalize() else { continue };
        if out_abs == input || input.starts_with(out_abs) {
            return Err(format!(
                "refusing to write to `{}`: it contains the input `{}`, which a build would delete; choose an output directory outside the intent files",
                out.display(),
                p.display()
            ));
        }
        if out_abs.starts_with(&input) {
            return Err(format!(
                "refusing to write to `{}`: it is inside the input `{}`; choose an output directory outside the intent files",
                out.display(),
                p.display()
            ));
        }
    }
    Ok(())
}

/// No file a unit read (its includes too) may lie inside `--out`.
fn guard_sources(out: &Path, out_abs: &Path, compiled: &[Compiled]) -> Result<(), String> {
    for c in compiled {
        for (_, f) in c.sources.files() {
            let path = f.path.canonicalize().unwrap_or_else(|_| f.path.clone());
            if path.starts_with(out_abs) {
                return Err(format!(
                    "refusing to write to `{}`: it contains the intent file `{}` (read by `{}`), which a build would delete; choose an output directory outside the intent files",
                    out.display(),
                    f.name,
                    c.name
                ));
            }
        }
    }
    Ok(())
}

/// Reads what `--out` holds and decides whether mailsec may touch it.
fn existing(out: &Path) -> Result<Existing, String> {
    let refuse = |why: String| format!("refusing to use `{}` as the output directory: {why}", out.display());
    let meta = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(e) => return Err(format!("cannot read `{}`: {e}", out.display())),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link; name the directory it points to".into()));
    }
    if !meta.is_dir() {
        return Err(refuse("it exists and is not a directory".into()));
    }
    let files = list(out).map_err(|e| format!("cannot read `{}`: {e}", out.display()))?;
    if files.is_empty() {
        return Ok(Existing::Nothing);
    }
    let not_ours = |why: &str| {
        refuse(format!(
            "{why}, so it is not a mailsec output directory; mailsec only replaces directories it created (choose a new or empty `--out`)"
        ))
    };
    let manifest_path = out.join(MANIFEST);
    match fs::symlink_metadata(&manifest_path) {
        Ok(m) if m.is_file() => {}
        _ => return Err(not_ours(&format!("it is not empty and holds no {MANIFEST}"))),
    }
    let bytes = read_limited(&manifest_path, MAX_READ_BACK)
        .map_err(|e| format!("cannot read `{}`: {e}", manifest_path.display()))?;
    let marker: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| not_ours(&format!("its {MANIFEST} is not JSON")))?;
    if marker.get("tool").and_then(|t| t.as_str()) != Some(TOOL) {
        return Err(not_ours(&format!("its {MANIFEST} has no `\"tool\": \"{TOOL}\"` marker (an older mailsec, format 1, wrote none: delete that directory and build again)")));
    }
    if marker.get("format").and_then(serde_json::Value::as_u64) != Some(u64::from(FORMAT)) {
        return Err(refuse(format!(
            "its {MANIFEST} has format {}, and this mailsec reads format {FORMAT}; delete the directory and build again",
            marker.get("format").map_or_else(|| "none".to_string(), ToString::to_string)
        )));
    }
    let manifest: Manifest =
        serde_json::from_value(marker).map_err(|e| refuse(format!("its {MANIFEST} is damaged: {e}")))?;
    let mut listed = BTreeSet::new();
    for e in &manifest.artefacts {
        if !safe_relative(&e.path) || e.path == MANIFEST || !listed.insert(e.path.as_str()) {
            return Err(refuse(format!(
                "its {MANIFEST} lists `{}`, which mailsec never writes",
                e.path
            )));
        }
    }
    let foreign = files
        .into_iter()
        .filter(|f| f != MANIFEST && !listed.contains(f.as_str()))
        .collect();
    Ok(Existing::Output {
        entries: manifest.artefacts,
        foreign,
    })
}

/// The (unit, target) pairs a build renders: what it may replace in a shared `--out`.
struct Owned {
    units: BTreeSet<String>,
    targets: BTreeSet<&'static str>,
}

impl Owned {
    fn new(compiled: &[Compiled], targets: &[Target], emit: Emit) -> Owned {
        Owned {
            units: compiled
                .iter()
                .filter_map(|c| c.ir.as_ref())
                .map(|ir| ir.unit.clone())
                .collect(),
            targets: match emit {
                Emit::Ir => BTreeSet::from(["ir"]),
                Emit::Artefacts => targets.iter().map(|t| t.name()).collect(),
            },
        }
    }

    fn owns(&self, e: &ManifestEntry) -> bool {
        self.units.contains(&e.unit) && self.targets.contains(e.target.as_str())
    }
}

/// Where a unit's fresh files go.
enum Sink<'a> {
    /// Written below the staging directory.
    Write(&'a Staging),
    /// Compared with what `--out` holds, limited to the paths `in_scope` accepts.
    Compare {
        out: &'a Path,
        in_scope: &'a (dyn Fn(&str) -> bool + Sync),
    },
}

/// What is left of a unit once its files are written or compared: their manifest entries and
/// the differences found (by path), not the files.
struct UnitOutput {
    entries: Vec<ManifestEntry>,
    diffs: Vec<(String, String)>,
}

/// Renders one unit, then writes or compares each file and hashes it for the manifest.
fn emit_unit(ir: &Ir, targets: &[Target], emit: Emit, sink: &Sink) -> Result<UnitOutput, String> {
    let files = unit_files(ir, targets, emit)?;
    if files.iter().any(|(p, _)| !safe_relative(p)) {
        return Err("internal error: a backend produced an unsafe output path".into());
    }
    let mut unit = UnitOutput {
        entries: Vec::with_capacity(files.len()),
        diffs: Vec::new(),
    };
    let mut made = HashSet::new();
    for (path, contents) in files {
        match sink {
            Sink::Write(staging) => staging
                .write(&path, &contents, &mut made)
                .map_err(|e| staging.write_error(&e))?,
            Sink::Compare { out, in_scope } => {
                if in_scope(&path) {
                    let diff = compare_file(out, &path, &contents)
                        .map_err(|e| format!("cannot read `{}`: {e}", out.display()))?;
                    unit.diffs.extend(diff.map(|d| (path.clone(), d)));
                }
            }
        }
        unit.entries.push(manifest_entry(ir, path, &contents, targets, emit));
    }
    Ok(unit)
}

/// The files of one unit, `(path below --out, contents)`.
fn unit_files(ir: &Ir, targets: &[Target], emit: Emit) -> Result<Vec<(String, Vec<u8>)>, String> {
    match emit {
        Emit::Ir => {
            let mut json = serde_json::to_vec_pretty(ir).map_err(|e| format!("internal error: {e}"))?;
            json.push(b'\n');
            Ok(vec![(format!("{}/ir.json", ir.unit), json)])
        }
        Emit::Artefacts => Ok(driver::render_unit(ir, targets)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|OutputFile { path, contents, .. }| (path, contents))
            .collect()),
    }
}
/// Reads at most `limit` bytes of a regular file; larger files are an error.
fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    // Looked at before opening: opening a FIFO would block until someone writes to it.
    if !fs::symlink_metadata(path)?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let file = fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(bytes)
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

/// Renders every unit (in parallel; the bytes do not depend on the number of threads) into
/// `(path below --out, contents)`.
pub(super) fn render(compiled: &[Compiled], targets: &[Target], emit: Emit) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    for unit in driver::map_plans(compiled, 0, |ir| unit_files(ir, targets, emit)) {
        files.extend(unit?);
    }
    Ok(files)
}

/// The manifest entry of a freshly rendered file of the unit `ir`.
fn manifest_entry(ir: &Ir, path: String, contents: &[u8], targets: &[Target], emit: Emit) -> ManifestEntry {
    let rest = path.split_once('/').map_or(path.as_str(), |(_, rest)| rest);
    let first = rest.split('/').next().unwrap_or("");
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
    ManifestEntry {
        unit: ir.unit.clone(),
        target: target.to_string(),
        host: host.map(str::to_string),
        sha256: hex(&Sha256::digest(contents)),
        sources: ir.sources.clone(),
        path,
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
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

/// How the file `path` below `out` differs from `want`, as printable text (a unified diff,
/// or a line saying it is missing or not a file); `None` when it is the same.
fn compare_file(out: &Path, path: &str, want: &[u8]) -> io::Result<Option<String>> {
    match read_limited(&out.join(path), MAX_READ_BACK) {
        Ok(have) if same_text(&have, want) => Ok(None),
        Ok(have) => {
            let (a, b) = (String::from_utf8_lossy(&have), String::from_utf8_lossy(want));
            let diff = similar::TextDiff::from_lines(a.as_ref(), b.as_ref());
            Ok(Some(
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{path}"), &format!("b/{path}"))
                    .to_string(),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Some(format!("missing: {path}"))),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(Some(format!("not a file: {path}"))),
        Err(e) => Err(e),
    }
}
/// Every entry of `dir` that is not a directory, `/`-separated relative paths, sorted.
/// Symbolic links and special files count: they are never mailsec's.
fn list(dir: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(io::Error::from)?;
        if !entry.file_type().is_dir() {
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

/// Creates a new directory next to `out` that did not exist before, so that removing it
/// later can only remove what this build wrote.
fn fresh_sibling(parent: &Path, base: &str, kind: &str) -> io::Result<PathBuf> {
    let pid = std::process::id();
    for n in 0..1000 {
        let p = parent.join(format!(".{base}.mailsec-{kind}-{pid}-{n}"));
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free name for a temporary directory"))
}

/// A new directory next to `--out` that a build writes into, then swaps into place with
/// [`Staging::commit`]. Dropped without a commit (a failed build), it is removed with
/// everything in it; `--out` is untouched until the swap. Only directories this build
/// created are ever removed.
struct Staging {
    /// The directory being filled.
    dir: PathBuf,
    /// `--out`, which was vetted by [`existing`].
    out: PathBuf,
    parent: PathBuf,
    base: String,
    committed: bool,
}

impl Staging {
    fn new(out: &Path) -> Result<Staging, String> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        let base = out
            .file_name()
            .map_or_else(|| "out".to_string(), |n| n.to_string_lossy().into_owned());
        let dir = fresh_sibling(&parent, &base, "new")
            .map_err(|e| format!("cannot create a temporary directory next to `{}`: {e}", out.display()))?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
            parent,
            base,
            committed: false,
        })
    }

    fn write_error(&self, e: &io::Error) -> String {
        format!("cannot write the new output next to `{}`: {e}", self.out.display())
    }

    /// Creates the directories above `path` (a safe relative path) that are not in `made`
    /// yet, each with one call, and records them there.
    fn parents(&self, path: &str, made: &mut HashSet<String>) -> io::Result<()> {
        for (i, _) in path.match_indices('/') {
            let dir = &path[..i];
            if made.contains(dir) {
                continue;
            }
            match fs::create_dir(self.dir.join(dir)) {
                Ok(()) => {}
                // Made by another writer: units write to directories of their own, but the
                // files carried over land next to the new ones.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            made.insert(dir.to_string());
        }
        Ok(())
    }

    /// Writes one file (one buffered write), its directories created as needed; a path
    /// written twice keeps the last contents.
    fn write(&self, path: &str, contents: &[u8], made: &mut HashSet<String>) -> io::Result<()> {
        self.parents(path, made)?;
        fs::write(self.dir.join(path), contents)
    }

    /// Copies the regular file `from` (in the old output) to `path`, without holding it in memory.
    fn carry(&self, from: &Path, path: &str, made: &mut HashSet<String>) -> Result<(), String> {
        let read_error = |e: io::Error| format!("cannot read `{}`: {e}", from.display());
        let mut src = fs::File::open(from).map_err(read_error)?;
        if !src.metadata().map_err(read_error)?.is_file() {
            return Err(read_error(io::Error::other("not a regular file")));
        }
        self.parents(path, made).map_err(|e| self.write_error(&e))?;
        let mut dst = fs::File::create(self.dir.join(path)).map_err(|e| self.write_error(&e))?;
        io::copy(&mut src, &mut dst).map_err(|e| self.write_error(&e))?;
        Ok(())
    }

    /// Swaps the new output into place of `--out`.
    fn commit(mut self) -> Result<(), String> {
        let (out, parent, base) = (&self.out, &self.parent, &self.base);
        let had_old = fs::symlink_metadata(out).is_ok();
        // The old output moves into a fresh directory of its own (not onto a name that might
        // exist), and is deleted only once the new one is in place.
        let aside = if had_old {
            let aside = fresh_sibling(parent, base, "old")
                .map_err(|e| format!("cannot create a temporary directory next to `{}`: {e}", out.display()))?;
            if let Err(e) = fs::rename(out, aside.join("old")) {
                let _ = fs::remove_dir(&aside);
                return Err(format!("cannot move the old `{}` aside: {e}", out.display()));
            }
            Some(aside)
        } else {
            None
        };
        if let Err(e) = fs::rename(&self.dir, out) {
            if let Some(aside) = &aside {
                let _ = fs::rename(aside.join("old"), out);
                let _ = fs::remove_dir(aside);
            }
            return Err(format!("cannot move the new output into `{}`: {e}", out.display()));
        }
        self.committed = true;
        if let Some(aside) = aside {
            let _ = fs::remove_dir_all(aside);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_directories_never_reuse_an_existing_name() {
        let dir = tempfile::tempdir().unwrap();
        // Someone's directory with the name a crashed build of this process would have used.
        let theirs = dir.path().join(format!(".out.mailsec-new-{}-0", std::process::id()));
        fs::create_dir(&theirs).unwrap();
        fs::write(theirs.join("keep.txt"), "theirs").unwrap();
        let out = dir.path().join("out");
        for _ in 0..2 {
            let staging = Staging::new(&out).unwrap();
            staging.write("u/ir.json", b"{}", &mut HashSet::new()).unwrap();
            staging.commit().unwrap();
        }
        assert_eq!(fs::read_to_string(theirs.join("keep.txt")).unwrap(), "theirs");
        assert_eq!(fs::read(out.join("u/ir.json")).unwrap(), b"{}");
        let names: BTreeSet<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "no temporary directory left: {names:?}");
    }

    #[test]
    fn a_failed_build_removes_its_staging_directory_and_keeps_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let staging = Staging::new(&out).unwrap();
        staging.write("u/ir.json", b"old", &mut HashSet::new()).unwrap();
        staging.commit().unwrap();
        let staging = Staging::new(&out).unwrap();
        let mut made = HashSet::new();
        staging.write("u/a/b/one.txt", b"1", &mut made).unwrap();
        staging.write("u/a/b/two.txt", b"2", &mut made).unwrap();
        assert_eq!(made.len(), 3, "each directory created once: {made:?}");
        drop(staging);
        assert_eq!(fs::read(out.join("u/ir.json")).unwrap(), b"old");
        let names: BTreeSet<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, BTreeSet::from(["out".to_string()]));
    }

    #[test]
    fn absolute_paths_resolve_what_exists_and_refuse_unresolvable_dotdot() {
        let dir = tempfile::tempdir().unwrap();
        let canon = dir.path().canonicalize().unwrap();
        assert_eq!(absolute(&dir.path().join("a/b")).unwrap(), canon.join("a/b"));
        assert!(absolute(&dir.path().join("x/..")).is_err());
    }
}
