//! Checking: loads a unit and its includes, validates every block against the schema,
//! resolves names, and runs the security and consistency lints.

pub mod access;
mod chain;
mod lints;
pub use lints::UPLOAD_READ_AHEAD;
pub(crate) mod mapping;
mod policy;
pub mod reference;
pub(crate) mod schema;
mod validate;
mod ws1;

pub use validate::{Checked, Suppression};

use crate::diagnostics::{suggest, Code, Diag, Diagnostics};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, ast};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// A checked compilation unit: one organization and everything it includes.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Identifier used for output directories (sanitised file stem).
    pub id: String,
    /// The file that declares the organization.
    pub entry: FileId,
    /// Every file of the unit, entry first, in include order.
    pub files: Vec<FileId>,
    /// Every block, in declaration order (includes expanded where they stand).
    pub blocks: Vec<Checked>,
    names: IndexMap<String, usize>,
    /// Indices of the blocks of each kind, in declaration order: lints and lowering ask for
    /// one kind dozens of times, which must not scan a million blocks each time.
    by_kind: std::collections::HashMap<&'static str, Vec<usize>>,
}

impl Unit {
    /// The organization block, if the unit has one.
    pub fn organization(&self) -> Option<&Checked> {
        self.blocks.iter().find(|b| b.kind() == "organization")
    }

    /// The block of the unit-wide namespace named `name`.
    pub fn get(&self, name: &str) -> Option<&Checked> {
        self.names.get(name).map(|&i| &self.blocks[i])
    }

    /// Blocks of one kind, in declaration order.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Checked> + 'a {
        self.by_kind.get(kind).into_iter().flatten().map(|&i| &self.blocks[i])
    }
}

/// Where a unit may read files from.
#[derive(Debug, Clone)]
pub struct Root {
    /// Canonical path of the compile root.
    pub dir: PathBuf,
}

impl Root {
    /// The root for `path` as named on the command line: the directory itself, or a file's
    /// directory; widened to the nearest ancestor holding `mailsec.toml`.
    pub fn for_path(path: &Path) -> std::io::Result<Root> {
        let canon = path.canonicalize()?;
        let dir = if canon.is_dir() {
            canon
        } else {
            canon.parent().map_or_else(|| canon.clone(), Path::to_path_buf)
        };
        let marked = dir
            .ancestors()
            .find(|a| a.join("mailsec.toml").is_file())
            .map(Path::to_path_buf);
        Ok(Root {
            dir: marked.unwrap_or(dir),
        })
    }

    /// Display name of a file: relative to the root, `/`-separated.
    pub fn display(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.dir).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Reads and parses one file into the source map. I/O errors are returned to the caller.
pub fn load_file(
    path: &Path,
    root: &Root,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> std::io::Result<(FileId, ast::File)> {
    let name = root.display(path);
    match syntax::read(path) {
        Ok(bytes) => Ok(add_and_parse(name, path.to_path_buf(), &bytes, sources, diags)),
        Err(syntax::ReadError::Io(e)) => Err(e),
        Err(syntax::ReadError::NotRegular(what)) => {
            let id = sources.add(name, path.to_path_buf(), String::new());
            diags.push(not_regular(Span::new(id, 0, 0), &root.display(path), what));
            Ok((id, ast::File::default()))
        }
    }
}

/// Deepest chain of includes (the unit's own file is level 0).
pub const MAX_INCLUDE_DEPTH: usize = 64;

pub use syntax::MAX_BLOCKS;

fn not_regular(span: Span, name: &str, what: &'static str) -> Diag {
    Diag::new(
        Code::NotRegularFile,
        span,
        format!("`{name}` is {what}, not a regular file"),
    )
    .label("not a file")
    .help("name a regular intent file; write generated intent to a file before compiling it")
}

/// Decodes and parses bytes that did not come from disk (fuzzing, tests) into the map.
pub fn parse_bytes(
    name: String,
    path: PathBuf,
    bytes: &[u8],
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> (FileId, ast::File) {
    add_and_parse(name, path, bytes, sources, diags)
}

fn add_and_parse(
    name: String,
    path: PathBuf,
    bytes: &[u8],
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> (FileId, ast::File) {
    match syntax::decode(bytes) {
        Ok(text) => {
            let id = sources.add(name, path, text);
            let file = syntax::parse_file(sources, id, diags);
            (id, file)
        }
        Err(e) => {
            let id = sources.add(name, path, String::new());
            diags.push(e.to_diag(id));
            (id, ast::File::default())
        }
    }
}

/// Whether a parsed file declares an organization (and so is a unit).
pub fn is_unit(file: &ast::File) -> bool {
    file.items
        .iter()
        .any(|i| matches!(i, ast::Item::Block(b) if b.kind.name == "organization"))
}

struct Loader<'a> {
    root: &'a Root,
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    /// Files being loaded, outermost (the unit's entry) first, with the include that named them.
    stack: Vec<(PathBuf, Option<Span>)>,
    loaded: Vec<PathBuf>,
    files: Vec<FileId>,
    /// Top-level blocks read so far, against [`MAX_BLOCKS`].
    blocks: usize,
    /// Blocks are validated as they are read, so that the syntax tree of a large unit is
    /// never held whole.
    validator: validate::Validator,
    /// What validation found, apart from `diags`: a unit over [`MAX_BLOCKS`] reports the
    /// limit alone.
    found: Diagnostics,
}

impl Loader<'_> {
    fn file(&mut self, path: PathBuf, id: FileId, ast: ast::File) {
        self.loaded.push(path.clone());
        self.files.push(id);
        for item in ast.items {
            match item {
                ast::Item::Block(b) => {
                    self.blocks += 1;
                    // Past the limit nothing is checked: the unit reports the limit alone.
                    if self.blocks <= MAX_BLOCKS {
                        file_paths(&b, self.root, self.sources, &mut self.found);
                        self.validator.block(b, &mut self.found);
                    }
                }
                ast::Item::Include(inc) => self.include(&path, &inc),
            }
        }
    }

    fn include(&mut self, from: &Path, inc: &ast::Include) {
        let base = from.parent().unwrap_or(Path::new("."));
        let target = base.join(&inc.path);
        let canon = match target.canonicalize() {
            Ok(c) if c.is_file() => c,
            Ok(c) if c.exists() && !c.is_dir() => c, // a FIFO or device: refused when read
            Ok(_) | Err(_) => {
                self.diags.push(
                    Diag::new(
                        Code::IncludeNotFound,
                        inc.path_span,
                        format!("cannot read included file `{}`", inc.path),
                    )
                    .label("no such file")
                    .help("include paths are relative to the including file"),
                );
                return;
            }
        };
        if !canon.starts_with(&self.root.dir) {
            self.diags.push(
                Diag::new(Code::IncludeOutsideRoot, inc.path_span, format!("`{}` is outside the compile root", inc.path))
                    .label("leaves the compile root")
                    .help("move the library below the directory being compiled, or put a `mailsec.toml` in a common parent directory"),
            );
            return;
        }
        if let Some(k) = self.stack.iter().position(|(p, _)| *p == canon) {
            // The chain from the file included again down to the include that closes it.
            let mut chain: Vec<String> = self.stack[k..].iter().map(|(p, _)| self.root.display(p)).collect();
            chain.push(self.root.display(&canon));
            let mut d = Diag::new(
                Code::IncludeCycle,
                inc.path_span,
                format!("include cycle: {}", chain.join(" → ")),
            )
            .label("this include closes the cycle")
            .help("move the shared definitions into a library that does not include its includers");
            for span in self.stack[k + 1..].iter().filter_map(|(_, s)| *s) {
                d = d.with(span, "included from here");
            }
            self.diags.push(d);
            return;
        }
        if self.loaded.contains(&canon) {
            return; // diamond: each file once
        }
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            let outer = self.stack.get(1).and_then(|(_, s)| *s);
            let mut d = Diag::new(
                Code::IncludeTooDeep,
                inc.path_span,
                format!("includes nest more than {MAX_INCLUDE_DEPTH} files deep"),
            )
            .label(format!("include number {} of one chain", self.stack.len()))
            .help("let the unit include the libraries it needs directly instead of through a chain");
            if let Some(outer) = outer {
                d = d.with(outer, "the chain starts here");
            }
            self.diags.push(d);
            return;
        }
        if self.blocks > MAX_BLOCKS {
            return; // reported once, after loading
        }
        let bytes = match syntax::read(&canon) {
            Ok(b) => b,
            Err(syntax::ReadError::NotRegular(what)) => {
                self.diags
                    .push(not_regular(inc.path_span, &inc.path, what).label("not a regular file"));
                return;
            }
            Err(syntax::ReadError::Io(e)) => {
                self.diags.push(
                    Diag::new(
                        Code::IncludeNotFound,
                        inc.path_span,
                        format!("cannot read included file `{}`: {e}", inc.path),
                    )
                    .label("unreadable"),
                );
                return;
            }
        };
        let name = self.root.display(&canon);
        let (id, ast) = add_and_parse(name, canon.clone(), &bytes, self.sources, self.diags);
        self.stack.push((canon.clone(), Some(inc.path_span)));
        self.file(canon, id, ast);
        self.stack.pop();
    }
}

/// `file("…")` paths follow the rule of `include` (MS0009): relative to the file that
/// names them, and below the compile root. They are not read at compile time but become
/// paths in generated scripts, so the check is on the text, without touching the disk.
fn file_paths(block: &ast::Block, root: &Root, sources: &SourceMap, diags: &mut Diagnostics) {
    fn visit(v: &ast::Value, out: &mut Vec<(String, Span)>) {
        match &v.kind {
            ast::ValueKind::Call(f, args) if f.name == "file" => {
                if let [ast::Value {
                    kind: ast::ValueKind::Str(p),
                    span,
                }] = args.as_slice()
                {
                    out.push((p.clone(), *span));
                }
            }
            ast::ValueKind::List(items) => items.iter().for_each(|i| visit(i, out)),
            ast::ValueKind::Record(fields) => fields.iter().for_each(|f| visit(&f.value, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for e in &block.entries {
        if let ast::Entry::Setting(s) = e {
            visit(&s.value, &mut found);
        }
    }
    for (path, span) in found {
        let base = sources
            .get(span.file)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if let Some(problem) = outside_root(&path, &base, &root.dir) {
            diags.push(
                Diag::new(Code::IncludeOutsideRoot, span, format!("`{path}` {problem}"))
                    .label("leaves the compile root")
                    .help(
                        "name the file relative to this intent file, below the compile root (like \"certs/root.cer\")",
                    ),
            );
        }
    }
}

/// Why `path` (as written, relative to `base`) is not below `root`, judged on the text.
fn outside_root(path: &str, base: &Path, root: &Path) -> Option<&'static str> {
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.starts_with(['/', '\\']) || drive || Path::new(path).is_absolute() {
        return Some("is an absolute path");
    }
    let mut dir: Vec<String> = base
        .strip_prefix(root)
        .ok()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if dir.pop().is_none() {
                    return Some("is outside the compile root");
                }
            }
            p => dir.push(p.to_string()),
        }
    }
    None
}

/// Checks a unit whose entry file is already parsed. Returns the unit (also when it has
/// errors, so that callers can report; lowering must not run when `diags` has errors).
pub fn check_unit(
    id: String,
    entry_path: &Path,
    entry: FileId,
    ast: ast::File,
    root: &Root,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Unit {
    let canon = entry_path.canonicalize().unwrap_or_else(|_| entry_path.to_path_buf());
    let mut loader = Loader {
        root,
        sources,
        diags,
        stack: Vec::new(),
        loaded: Vec::new(),
        files: Vec::new(),
        blocks: 0,
        validator: validate::Validator::default(),
        found: Diagnostics::new(),
    };
    loader.stack.push((canon.clone(), None));
    loader.file(canon, entry, ast);
    let Loader {
        files,
        blocks,
        mut validator,
        found,
        ..
    } = loader;
    if blocks > MAX_BLOCKS {
        diags.push(
            Diag::new(
                Code::TooManyBlocks,
                Span::new(entry, 0, 0),
                format!("the unit holds more than {MAX_BLOCKS} blocks"),
            )
            .label("this unit")
            .help("split the estate into one unit per organization; shared definitions go into libraries"),
        );
        // Checking a truncated unit would report its missing half: report the limit alone.
        validator = validate::Validator::default();
    } else {
        diags.extend(found);
    }
    check_blocks(id, entry, files, validator, diags)
}

/// Resolves the names of validated blocks as one unit and runs the unit-wide checks.
fn check_blocks(
    id: String,
    entry: FileId,
    files: Vec<FileId>,
    validator: validate::Validator,
    diags: &mut Diagnostics,
) -> Unit {
    let validate::Validator { mut checked, refs, .. } = validator;

    // Names: the unit-wide namespace, and one per connector kind.
    let mut names: IndexMap<String, usize> = IndexMap::new();
    let mut local: IndexMap<(&str, String), usize> = IndexMap::new();
    let mut org: Option<usize> = None;
    for (i, b) in checked.iter().enumerate() {
        if b.kind() == "organization" {
            if let Some(first) = org {
                diags.push(
                    Diag::new(
                        Code::TwoOrganizations,
                        b.kind_span,
                        "a unit has exactly one `organization`",
                    )
                    .label("second organization")
                    .with(checked[first].kind_span, "first organization here")
                    .help(
                        "put each organization in its own file; shared definitions go in a library that both include",
                    ),
                );
            } else {
                org = Some(i);
            }
            continue;
        }
        let Some(name) = &b.name else { continue };
        let first = if b.spec.global_name {
            match names.entry(name.text.clone()) {
                indexmap::map::Entry::Occupied(e) => Some(*e.get()),
                indexmap::map::Entry::Vacant(e) => {
                    e.insert(i);
                    None
                }
            }
        } else if b.kind() == "retire" {
            let key = (
                b.retired_kind.as_ref().map_or("", |k| k.text.as_str()),
                format!("retire:{}", name.text),
            );
            local.get(&key).copied().or_else(|| {
                local.insert(key, i);
                None
            })
        } else {
            let key = (b.kind(), name.text.clone());
            local.get(&key).copied().or_else(|| {
                local.insert(key, i);
                None
            })
        };
        if let Some(first) = first {
            let other = &checked[first];
            let what = if other.kind() == b.kind() {
                String::new()
            } else {
                format!(" (as a `{}`)", other.kind())
            };
            diags.push(
                Diag::new(
                    Code::DuplicateName,
                    name.span,
                    format!("`{}` is defined twice{what}", name.text),
                )
                .label("defined again here")
                .with(other.name_span(), "first defined here")
                .help("give each block its own name"),
            );
        }
    }

    let mut broken: Vec<(usize, &'static str)> = Vec::new();
    for r in &refs {
        let target = names.get(&r.name).map(|&i| &checked[i]);
        if !target.is_some_and(|t| r.kinds.contains(&t.kind())) {
            broken.push((r.owner, r.setting));
        }
        match target {
            Some(target) if r.kinds.contains(&target.kind()) => {}
            Some(target) => diags.push(
                Diag::new(
                    Code::WrongReferenceKind,
                    r.span,
                    format!(
                        "`{}` is {}, but `{}` needs {}",
                        r.name,
                        schema::a_kind(&[target.kind()]),
                        r.setting,
                        schema::a_kind(r.kinds)
                    ),
                )
                .label(format!("expected {}", schema::a_kind(r.kinds)))
                .with(target.name_span(), format!("`{}` is defined here", r.name))
                .help(
                    match names.iter().find(|(_, &i)| r.kinds.contains(&checked[i].kind())) {
                        Some((n, _)) => format!("name {} here, like `{n}`", schema::a_kind(r.kinds)),
                        None => format!("declare a `{}` block and name it here", r.kinds[0]),
                    },
                ),
            ),
            None => {
                let candidates = names
                    .iter()
                    .filter(|(_, &i)| r.kinds.contains(&checked[i].kind()))
                    .map(|(n, _)| n.as_str());
                let mut d = Diag::new(
                    Code::UnresolvedReference,
                    r.span,
                    format!(
                        "unknown {} `{}`",
                        r.kinds
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" or "),
                        r.name
                    ),
                )
                .label("not declared");
                d = match suggest(&r.name, candidates) {
                    Some(s) => d.help(format!("did you mean `{s}`?")).with(
                        names.get(s).map(|&i| checked[i].name_span()).unwrap_or(r.span),
                        format!("`{s}` is declared here"),
                    ),
                    None => d.help(format!(
                        "declare `{} {} {{ … }}` or include the file that does",
                        r.kinds[0], r.name
                    )),
                };
                diags.push(d);
            }
        }
    }

    // A setting whose reference did not resolve is dropped, like any invalid setting, so the
    // lints never follow a name to the wrong kind of block.
    for (owner, setting) in broken {
        checked[owner].settings.retain(|(name, _)| *name != setting);
    }
    let mut by_kind: std::collections::HashMap<&'static str, Vec<usize>> = std::collections::HashMap::new();
    for (i, b) in checked.iter().enumerate() {
        by_kind.entry(b.kind()).or_default().push(i);
    }
    let unit = Unit {
        id,
        entry,
        files,
        blocks: checked,
        names,
        by_kind,
    };
    // Lints read only settings that validated and names that resolved, so they can run
    // alongside structural errors and every problem is reported in one run.
    lints::run(&unit, diags);
    chain::run(&unit, diags);
    ws1::run(&unit, diags);
    mapping::run(&unit, diags);
    policy::run(&unit, diags);
    policy::apply_suppressions(&unit, diags);
    unit
}

/// Validates a library file on its own: syntax and schema, without name resolution (its
/// names are resolved in the units that include it).
pub fn check_library(blocks: impl IntoIterator<Item = ast::Block>, diags: &mut Diagnostics) {
    let mut validator = validate::Validator::default();
    for b in blocks {
        validator.block(b, diags);
    }
}
