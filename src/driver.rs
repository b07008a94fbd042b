//! The driver runs the pipeline for an estate: finds the intent files, tells units from
//! libraries, compiles every unit independently (in parallel) and renders targets.

use crate::backend::{self, sanitize_component, OutputFile, Target};
use crate::check::{self, Root};
use crate::diagnostics::Diagnostics;
use crate::ir::{self, Ir};
use crate::source::SourceMap;
use crate::syntax::ast;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// File extension of intent files.
pub const EXTENSION: &str = "mailsec";

/// An intent file found on disk with its compile root.
#[derive(Debug, Clone)]
pub struct Input {
    /// Path as found.
    pub path: PathBuf,
    /// Its root.
    pub root: Root,
}

/// Why the driver could not start.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// A path named on the command line cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: io::Error,
    },
    /// A directory holds no intent file.
    #[error("no `.{EXTENSION}` files in `{0}`")]
    Empty(String),
    /// Two units map to the same output directory.
    #[error("units `{0}` and `{1}` would both be written to `{2}`; rename one of the files")]
    IdClash(String, String, String),
}

/// Finds intent files below the given paths (files are taken as they are).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Input>, DriverError> {
    let mut out: Vec<Input> = Vec::new();
    // Each file once, in the order first found: a set, not a scan of the list per file.
    let mut seen: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for p in paths {
        let io_err = |source| DriverError::Io {
            path: p.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(p).map_err(io_err)?;
        let root = Root::for_path(p).map_err(|source| DriverError::Io {
            path: p.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            // The directory is resolved once; links are not followed below it, so every
            // file found under the resolved directory has its canonical path already.
            let dir = p.canonicalize().unwrap_or_else(|_| p.clone());
            let mut found = Vec::new();
            for entry in walkdir::WalkDir::new(&dir).follow_links(false).sort_by_file_name() {
                let entry = entry.map_err(|e| DriverError::Io {
                    path: p.display().to_string(),
                    source: e.into(),
                })?;
                if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == EXTENSION) {
                    found.push(entry.into_path());
                }
            }
            if found.is_empty() {
                return Err(DriverError::Empty(p.display().to_string()));
            }
            for f in found {
                if seen.insert(f.clone()) {
                    out.push(Input {
                        path: f,
                        root: root.clone(),
                    });
                }
            }
        } else {
            // A FIFO or device is not opened here (opening a FIFO blocks); reading it is
            // refused with a diagnostic (MS0011).
            if meta.is_file() {
                std::fs::File::open(p).map_err(|source| DriverError::Io {
                    path: p.display().to_string(),
                    source,
                })?;
            }
            let f = p.canonicalize().unwrap_or_else(|_| p.clone());
            if seen.insert(f.clone()) {
                out.push(Input { path: f, root });
            }
        }
    }
    Ok(out)
}

/// The outcome of compiling one file: a unit (with its plan) or a library checked alone.
#[derive(Debug)]
pub struct Compiled {
    /// Unit id, for units.
    pub unit: Option<String>,
    /// The file's display name.
    pub name: String,
    /// Every file read, for rendering diagnostics.
    pub sources: SourceMap,
    /// Diagnostics, sorted.
    pub diags: Diagnostics,
    /// The plan, when the unit has no errors and was lowered (not by [`check_all`]).
    pub ir: Option<Ir>,
}

/// Output directory name of a unit: its path below the root without extension, sanitised.
pub fn unit_id(path: &Path, root: &Root) -> String {
    let rel = root.display(path);
    let rel = rel.strip_suffix(&format!(".{EXTENSION}")).unwrap_or(&rel);
    rel.split('/').map(sanitize_component).collect::<Vec<_>>().join("-")
}

/// Compiles one file: parses it; a unit is checked with its includes and lowered; a library
/// (no organization) is validated on its own, without name resolution.
pub fn compile_file(input: &Input) -> Result<Compiled, DriverError> {
    process_file(input, Stage::Lower)
}

/// [`compile_file`] without lowering: the diagnostics are the same (lowering reports
/// nothing), and no plan is made.
pub fn check_file(input: &Input) -> Result<Compiled, DriverError> {
    process_file(input, Stage::Check)
}

/// How far the driver takes a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Parse and check: diagnostics only.
    Check,
    /// Check, then lower a unit without errors to its plan.
    Lower,
}

fn process_file(input: &Input, stage: Stage) -> Result<Compiled, DriverError> {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::new();
    let (entry, file) =
        check::load_file(&input.path, &input.root, &mut sources, &mut diags).map_err(|source| DriverError::Io {
            path: input.path.display().to_string(),
            source,
        })?;
    let name = sources.get(entry).name.clone();
    // A unit whose text does not parse is still a unit (for counting and output names).
    let looks_like_unit = || {
        diags.has_errors()
            && sources.get(entry).text.lines().any(|l| {
                l.trim_start()
                    .strip_prefix("organization")
                    .is_some_and(|r| r.starts_with([' ', '\t', '"']))
            })
    };
    if check::is_unit(&file) || looks_like_unit() {
        let id = unit_id(&input.path, &input.root);
        let unit = check::check_unit(
            id.clone(),
            &input.path,
            entry,
            file,
            &input.root,
            &mut sources,
            &mut diags,
        );
        diags.sort();
        let ir = (stage == Stage::Lower && !diags.has_errors()).then(|| ir::lower(&unit, &sources, &diags));
        Ok(Compiled {
            unit: Some(id),
            name,
            sources,
            diags,
            ir,
        })
    } else {
        let blocks = file.items.into_iter().filter_map(|i| match i {
            ast::Item::Block(b) => Some(b),
            ast::Item::Include(_) => None,
        });
        check::check_library(blocks, &mut diags);
        diags.sort();
        Ok(Compiled {
            unit: None,
            name,
            sources,
            diags,
            ir: None,
        })
    }
}

/// Compiles every input on all cores. Results keep the input order.
pub fn compile_all(inputs: &[Input]) -> Result<Vec<Compiled>, DriverError> {
    compile_all_on(inputs, 0)
}

/// [`compile_all`] on `threads` workers (0: one per core). The result does not depend on
/// the number of threads: every unit is compiled alone, and results keep the input order.
pub fn compile_all_on(inputs: &[Input], threads: usize) -> Result<Vec<Compiled>, DriverError> {
    process_all(inputs, threads, Stage::Lower)
}

/// Checks every input on all cores without lowering (what `mailsec check` needs): the
/// diagnostics of [`compile_all`], no plans. Results keep the input order.
pub fn check_all(inputs: &[Input]) -> Result<Vec<Compiled>, DriverError> {
    check_all_on(inputs, 0)
}

/// [`check_all`] on `threads` workers (0: one per core).
pub fn check_all_on(inputs: &[Input], threads: usize) -> Result<Vec<Compiled>, DriverError> {
    process_all(inputs, threads, Stage::Check)
}

fn process_all(inputs: &[Input], threads: usize, stage: Stage) -> Result<Vec<Compiled>, DriverError> {
    let results = par_map(inputs, threads, |i| process_file(i, stage));
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        out.push(r?);
    }
    // A map, not a list: an estate has thousands of units.
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for c in &out {
        if let Some(id) = &c.unit {
            if let Some(other) = seen.insert(id, &c.name) {
                return Err(DriverError::IdClash(other.to_string(), c.name.clone(), id.clone()));
            }
        }
    }
    Ok(out)
}

/// Renders the requested targets of every unit that has a plan, on `threads` workers (0: one
/// per core): one entry per compiled file, in input order (empty for a library or a unit
/// with errors). The bytes do not depend on the number of threads.
pub fn render_all(
    compiled: &[Compiled],
    targets: &[Target],
    threads: usize,
) -> Result<Vec<Vec<OutputFile>>, backend::BackendError> {
    par_map(compiled, threads, |c| match &c.ir {
        Some(ir) => render_unit(ir, targets),
        None => Ok(Vec::new()),
    })
    .into_iter()
    .collect()
}

/// `f` over the plan of every unit that has one, on `threads` workers (0: one per core), in
/// input order. For a consumer that renders and writes a unit's files on the worker, so that
/// only the units being worked on are held in memory, not the whole estate's output.
pub fn map_plans<R: Send>(compiled: &[Compiled], threads: usize, f: impl Fn(&Ir) -> R + Sync) -> Vec<R> {
    let plans: Vec<&Ir> = compiled.iter().filter_map(|c| c.ir.as_ref()).collect();
    par_map(&plans, threads, |ir| f(ir))
}

/// [`map_plans`] handing each plan over to `f`, which frees it once used; the plans are
/// taken out of `compiled`. The largest plans (by operations) are taken last, when most
/// others are freed, so that a build holds the plans not rendered yet plus the files of the
/// units in progress, never a large unit's files on top of every plan. Results are in input
/// order whatever the order of work.
pub fn map_plans_owned<R: Send>(compiled: &mut [Compiled], threads: usize, f: impl Fn(Ir) -> R + Sync) -> Vec<R> {
    let plans: Vec<Mutex<Option<Ir>>> = compiled
        .iter_mut()
        .filter_map(|c| c.ir.take())
        .map(|ir| Mutex::new(Some(ir)))
        .collect();
    let mut order: Vec<(usize, usize)> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                p.lock().map_or(0, |p| p.as_ref().map_or(0, |ir| ir.operations.len())),
                i,
            )
        })
        .collect();
    order.sort_unstable();
    let done = par_map(&order, threads, |&(_, i)| {
        let ir = plans[i]
            .lock()
            .expect("no worker panics while holding the lock")
            .take()
            .expect("each plan is taken once");
        f(ir)
    });
    let mut results: Vec<Option<R>> = (0..plans.len()).map(|_| None).collect();
    for ((_, i), r) in order.into_iter().zip(done) {
        results[i] = Some(r);
    }
    results.into_iter().map(|r| r.expect("every plan done")).collect()
}

/// `f` over `items` on `threads` scoped workers (0: one per core) taking the next item from
/// a shared counter; results in item order.
fn par_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = if threads == 0 { cores } else { threads }.min(items.len()).max(1);
    if workers == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().expect("no worker panics while holding the lock")[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .expect("workers finished")
        .into_iter()
        .map(|r| r.expect("every item done"))
        .collect()
}

/// Renders the requested targets of one unit. Files are relative to `<out>/`.
pub fn render_unit(ir: &Ir, targets: &[Target]) -> Result<Vec<OutputFile>, backend::BackendError> {
    let mut files = backend::render_targets(ir, targets)?;
    for f in &mut files {
        f.path = format!("{}/{}", ir.unit, f.path);
    }
    Ok(files)
}

/// Compiles intent held in memory as one file named `name` below `root` (includes resolve
/// against `root`, which need not exist): the entry point of the fuzz targets and the
/// property tests, which must not touch the disk for every input.
pub fn compile_bytes(name: &str, bytes: &[u8], root: &Root) -> Compiled {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::new();
    let path = root.dir.join(name);
    let (entry, file) = check::parse_bytes(name.to_string(), path.clone(), bytes, &mut sources, &mut diags);
    if check::is_unit(&file) {
        let id = unit_id(&path, root);
        let unit = check::check_unit(id.clone(), &path, entry, file, root, &mut sources, &mut diags);
        diags.sort();
        let ir = (!diags.has_errors()).then(|| ir::lower(&unit, &sources, &diags));
        Compiled {
            unit: Some(id),
            name: name.to_string(),
            sources,
            diags,
            ir,
        }
    } else {
        diags.sort();
        Compiled {
            unit: None,
            name: name.to_string(),
            sources,
            diags,
            ir: None,
        }
    }
}

fn fuzz_root() -> Root {
    Root {
        dir: std::env::temp_dir().join("mailsec-fuzz-root-that-does-not-exist"),
    }
}

/// Fuzz target: decode and parse only. Returns the number of diagnostics.
#[doc(hidden)]
pub fn fuzz_parse(bytes: &[u8]) -> usize {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::new();
    let _ = check::parse_bytes(
        "fuzz.mailsec".into(),
        PathBuf::from("fuzz.mailsec"),
        bytes,
        &mut sources,
        &mut diags,
    );
    diags.len()
}

/// Fuzz target: the direct parser against the grammar on the same text (panics when they
/// disagree); see [`crate::syntax::direct_agrees_with_grammar`].
#[doc(hidden)]
pub fn fuzz_direct(bytes: &[u8]) -> usize {
    std::str::from_utf8(bytes).map_or(0, crate::syntax::direct_agrees_with_grammar)
}

/// Fuzz target: parse and check (a unit is lowered only by [`fuzz_compile`]).
#[doc(hidden)]
pub fn fuzz_check(bytes: &[u8]) -> usize {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::new();
    let root = fuzz_root();
    let path = root.dir.join("fuzz.mailsec");
    let (entry, file) = check::parse_bytes("fuzz.mailsec".into(), path.clone(), bytes, &mut sources, &mut diags);
    if check::is_unit(&file) {
        let _ = check::check_unit("fuzz".into(), &path, entry, file, &root, &mut sources, &mut diags);
    }
    diags.len()
}

/// Fuzz target: the whole pipeline, every built target rendered when the unit is clean.
/// Returns the number of files rendered.
#[doc(hidden)]
pub fn fuzz_compile(bytes: &[u8]) -> usize {
    let c = compile_bytes("fuzz.mailsec", bytes, &fuzz_root());
    let Some(ir) = &c.ir else { return 0 };
    let targets: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_built()).collect();
    render_unit(ir, &targets).map_or(0, |f| f.len())
}
