//! `mailsec build`: renders in memory, then either compares with `--out` (`--check`) or
//! replaces `--out` atomically, so a failed build never leaves half an output behind.
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
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
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

/// Largest manifest read back from `--out`, and largest artefact carried over from it.
const MAX_READ_BACK: u64 = 256 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    tool: String,
    format: u32,
    artefacts: Vec<ManifestEntry>,
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
    let files = match render(&compiled, &targets, emit) {
        Ok(f) => f,
        Err(e) => {
            printer.fail(&e);
            return EXIT_USAGE;
        }
    };
    let fresh: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
    if fresh.keys().any(|p| !safe_relative(p)) {
        printer.fail("internal error: a backend produced an unsafe output path");
        return EXIT_USAGE;
    }
    let existing = match existing(out) {
        Ok(e) => e,
        Err(why) => {
            printer.fail(&why);
            return EXIT_USAGE;
        }
    };
    let owned = Owned::new(&compiled, &targets, emit);
    let tree = match merge(out, &existing, fresh, &compiled, &owned, &targets, emit) {
        Ok(t) => t,
        Err(why) => {
            printer.fail(&why);
            return EXIT_USAGE;
        }
    };
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
    }
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

/// The whole new content of `--out`: the fresh files, the files of other units and targets
/// carried over from the existing output, and the manifest listing both.
fn merge(
    out: &Path,
    existing: &Existing,
    fresh: BTreeMap<String, Vec<u8>>,
    compiled: &[Compiled],
    owned: &Owned,
    targets: &[Target],
    emit: Emit,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut entries: BTreeMap<String, ManifestEntry> = manifest_entries(compiled, &fresh, targets, emit)
        .into_iter()
        .map(|e| (e.path.clone(), e))
        .collect();
    let mut tree = fresh;
    if let Existing::Output { entries: old, .. } = existing {
        for e in old.iter().filter(|e| !owned.owns(e)) {
            if tree.contains_key(&e.path) {
                continue; // the same path, now produced by this build: the new file wins
            }
            let path = out.join(&e.path);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() => {}
                _ => continue, // deleted by hand since: nothing to carry over
            }
            let bytes =
                read_limited(&path, MAX_READ_BACK).map_err(|err| format!("cannot read `{}`: {err}", path.display()))?;
            tree.insert(e.path.clone(), bytes);
            entries.insert(e.path.clone(), e.clone());
        }
    }
    let mut json = serde_json::to_vec_pretty(&Manifest {
        tool: TOOL.to_string(),
        format: FORMAT,
        artefacts: entries.into_values().collect(),
    })
    .expect("manifest serialises");
    json.push(b'\n');
    tree.insert(MANIFEST.to_string(), json);
    Ok(tree)
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

/// Renders every unit (in parallel for artefacts; the bytes do not depend on the number of
/// threads) into `(path below --out, contents)`.
pub(super) fn render(compiled: &[Compiled], targets: &[Target], emit: Emit) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    match emit {
        Emit::Ir => {
            for ir in compiled.iter().filter_map(|c| c.ir.as_ref()) {
                let mut json = serde_json::to_vec_pretty(ir).map_err(|e| format!("internal error: {e}"))?;
                json.push(b'\n');
                files.push((format!("{}/ir.json", ir.unit), json));
            }
        }
        Emit::Artefacts => {
            for unit in driver::render_all(compiled, targets, 0).map_err(|e| e.to_string())? {
                files.extend(
                    unit.into_iter()
                        .map(|OutputFile { path, contents, .. }| (path, contents)),
                );
            }
        }
    }
    Ok(files)
}

/// A manifest entry for every freshly rendered file.
fn manifest_entries(
    compiled: &[Compiled],
    tree: &BTreeMap<String, Vec<u8>>,
    targets: &[Target],
    emit: Emit,
) -> Vec<ManifestEntry> {
    let irs: BTreeMap<&str, &crate::ir::Ir> = compiled
        .iter()
        .filter_map(|c| c.ir.as_ref())
        .map(|ir| (ir.unit.as_str(), ir))
        .collect();
    let mut entries = Vec::new();
    for (path, contents) in tree {
        let (unit_dir, rest) = path.split_once('/').unwrap_or(("", path));
        let Some(ir) = irs.get(unit_dir) else { continue };
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
        entries.push(ManifestEntry {
            path: path.clone(),
            unit: ir.unit.clone(),
            target: target.to_string(),
            host: host.map(str::to_string),
            sha256: hex(&Sha256::digest(contents)),
            sources: ir.sources.clone(),
        });
    }
    entries
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
        match read_limited(&out.join(path), MAX_READ_BACK) {
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
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => diffs.push(format!("not a file: {path}")),
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

/// Writes the tree into a new sibling directory, then swaps it into place. `out` was vetted
/// by [`existing`]; only directories this function created are ever removed.
fn replace_dir(out: &Path, tree: &BTreeMap<String, Vec<u8>>) -> Result<(), String> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    let base = out
        .file_name()
        .map_or_else(|| "out".to_string(), |n| n.to_string_lossy().into_owned());
    let tmp = fresh_sibling(&parent, &base, "new")
        .map_err(|e| format!("cannot create a temporary directory next to `{}`: {e}", out.display()))?;
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
    if let Err(e) = write() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(format!("cannot write the new output next to `{}`: {e}", out.display()));
    }
    let had_old = fs::symlink_metadata(out).is_ok();
    // The old output moves into a fresh directory of its own (not onto a name that might
    // exist), and is deleted only once the new one is in place.
    let aside = if had_old {
        let aside = match fresh_sibling(&parent, &base, "old") {
            Ok(a) => a,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(format!(
                    "cannot create a temporary directory next to `{}`: {e}",
                    out.display()
                ));
            }
        };
        if let Err(e) = fs::rename(out, aside.join("old")) {
            let _ = fs::remove_dir_all(&tmp);
            let _ = fs::remove_dir(&aside);
            return Err(format!("cannot move the old `{}` aside: {e}", out.display()));
        }
        Some(aside)
    } else {
        None
    };
    if let Err(e) = fs::rename(&tmp, out) {
        if let Some(aside) = &aside {
            let _ = fs::rename(aside.join("old"), out);
            let _ = fs::remove_dir(aside);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(format!("cannot move the new output into `{}`: {e}", out.display()));
    }
    if let Some(aside) = aside {
        let _ = fs::remove_dir_all(aside);
    }
    Ok(())
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
        let tree = BTreeMap::from([("u/ir.json".to_string(), b"{}".to_vec())]);
        replace_dir(&out, &tree).unwrap();
        replace_dir(&out, &tree).unwrap();
        assert_eq!(fs::read_to_string(theirs.join("keep.txt")).unwrap(), "theirs");
        assert_eq!(fs::read(out.join("u/ir.json")).unwrap(), b"{}");
        let names: BTreeSet<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "no temporary directory left: {names:?}");
    }

    #[test]
    fn absolute_paths_resolve_what_exists_and_refuse_unresolvable_dotdot() {
        let dir = tempfile::tempdir().unwrap();
        let canon = dir.path().canonicalize().unwrap();
        assert_eq!(absolute(&dir.path().join("a/b")).unwrap(), canon.join("a/b"));
        assert!(absolute(&dir.path().join("x/..")).is_err());
    }
}
