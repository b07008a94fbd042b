//! The command line: parses arguments, runs the driver, prints diagnostics, writes files.

/// `println!` that never panics: a closed pipe (`mailsec … | head`) is a normal end of output.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that never panics when stderr is a closed pipe.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod diff;
mod fmt;
mod output;

use crate::backend::Target;
use crate::diagnostics::{render_json, Code, HumanRenderer, RenderOptions, Severity};
use crate::driver::{self, Compiled};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Compile mail-security intent into Exchange, IIS, TMG and Workspace ONE artefacts and runbooks.
#[derive(Debug, Parser)]
#[command(name = "mailsec", version, about, propagate_version = true)]
pub struct Cli {
    /// How diagnostics are printed.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human, global = true)]
    pub message_format: MessageFormat,
    /// Colour in human output (`NO_COLOR` also turns it off).
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
    /// No status lines (summaries, notes, "wrote N files"); diagnostics and errors still print.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Diagnostic output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// Rendered reports on stderr.
    Human,
    /// One JSON object per diagnostic on stdout.
    Json,
    /// One SARIF 2.1.0 log on stdout, for code-scanning services.
    Sarif,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour when stderr is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// What to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The artefacts of the selected targets.
    Artefacts,
    /// The IR as `<out>/<unit>/ir.json`.
    Ir,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check intent files (files or directories).
    Check {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Treat warnings as errors.
        #[arg(long, value_name = "warnings", value_parser = ["warnings"])]
        deny: Option<String>,
    },
    /// Compile units and write artefacts.
    Build {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output directory (replaced as a whole by a successful build).
        #[arg(long, short)]
        out: PathBuf,
        /// Targets to render (repeatable); all when omitted.
        #[arg(long = "target", short = 't', value_enum)]
        targets: Vec<Target>,
        /// Artefacts or IR.
        #[arg(long, value_enum, default_value_t = Emit::Artefacts)]
        emit: Emit,
        /// Do not write: fail if `--out` differs from what would be written.
        #[arg(long)]
        check: bool,
        /// Record the intent's revision (`git describe --always --dirty`) in the runbook and
        /// the IR. Off by default: a stamp changes with every commit.
        #[arg(long)]
        stamp: bool,
        /// Treat warnings as errors.
        #[arg(long, value_name = "warnings", value_parser = ["warnings"])]
        deny: Option<String>,
    },
    /// Compare the artefacts two revisions of the intent generate (exit 0 equal, 1 different, 2 error).
    ///
    /// Each side is a file or directory, or a git revision written `<rev>:<path>`;
    /// `--git <rev> <path>` compares <path> at <rev> with the working tree.
    Diff {
        /// The old side (or, with `--git`, the path compared).
        old: String,
        /// The new side.
        new: Option<String>,
        /// Take the old side from this git revision of the single path given.
        #[arg(long, value_name = "REV")]
        git: Option<String>,
        /// Only the summary, with per-file line counts; no diff text.
        #[arg(long)]
        stat: bool,
        /// Targets to compare (repeatable); all built targets when omitted.
        #[arg(long = "target", short = 't', value_enum)]
        targets: Vec<Target>,
    },
    /// Rewrite intent files in the canonical layout (comments kept); `--check` only lists them.
    Fmt {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write nothing; exit 3 with a diff if a file is not in the canonical layout.
        #[arg(long)]
        check: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout: `mailsec man > mailsec.1`.
    Man,
    /// Explain a diagnostic code.
    Explain {
        /// The code, like MS0201.
        code: Option<String>,
        /// List every code with its title.
        #[arg(long, conflicts_with = "code")]
        list: bool,
    },
}

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the input has errors.
pub const EXIT_INPUT: u8 = 1;
/// Exit code: usage or I/O problem.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of `build --check`: the intent is fine but `--out` is not what it generates.
pub const EXIT_DRIFT: u8 = 3;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    ExitCode::from(run(&cli))
}

struct Printer {
    format: MessageFormat,
    opts: RenderOptions,
    quiet: bool,
    /// SARIF results gathered until [`Printer::finish`] prints the log.
    sarif: std::cell::RefCell<Vec<serde_json::Value>>,
    /// Repository roots found for source directories (diagnostic paths are shown relative
    /// to the repository, so CI annotations land on the right file).
    repos: std::cell::RefCell<std::collections::HashMap<PathBuf, Option<PathBuf>>>,
}

impl Printer {
    fn new(cli: &Cli) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => !no_color && std::io::stderr().is_terminal(),
        };
        Printer {
            format: cli.message_format,
            opts: RenderOptions { color, width: 100 },
            quiet: cli.quiet,
            sarif: std::cell::RefCell::default(),
            repos: std::cell::RefCell::default(),
        }
    }

    /// A status line for people: stderr, human mode only, not with `--quiet`.
    fn status(&self, line: &str) {
        if !self.machine() && !self.quiet {
            errln!("{line}");
        }
    }

    /// Whether stdout carries a machine-readable stream that nothing else may enter.
    fn machine(&self) -> bool {
        self.format != MessageFormat::Human
    }

    /// The repository (a directory holding `.git`) around `dir`, cached.
    fn repo_of(&self, dir: &std::path::Path) -> Option<PathBuf> {
        let mut repos = self.repos.borrow_mut();
        repos
            .entry(dir.to_path_buf())
            .or_insert_with(|| dir.ancestors().find(|a| a.join(".git").exists()).map(PathBuf::from))
            .clone()
    }

    /// The sources of a compiled file with names relative to the repository root when the
    /// file is inside one (else the compile-root-relative names are kept).
    fn display_sources(&self, c: &Compiled) -> crate::source::SourceMap {
        let mut sources = c.sources.clone();
        sources.rename(|f| {
            let repo = self.repo_of(f.path.parent()?)?;
            let rel = f.path.strip_prefix(&repo).ok()?;
            Some(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
            )
        });
        sources
    }

    /// Prints what was gathered for the end of the run (the SARIF log).
    fn finish(&self) {
        if self.format == MessageFormat::Sarif {
            let results = std::mem::take(&mut *self.sarif.borrow_mut());
            let log = crate::diagnostics::sarif::log(results);
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut out, &log);
            let _ = writeln!(out);
        }
    }

    /// Prints every diagnostic of the compiled files, each once even when a library is
    /// shared by several units. Returns (errors, warnings).
    fn diagnostics(&self, compiled: &[Compiled], deny_warnings: bool) -> (usize, usize) {
        let mut seen = std::collections::HashSet::new();
        let (mut errors, mut warnings) = (0, 0);
        let stderr = std::io::stderr();
        let stdout = std::io::stdout();
        let mut err = stderr.lock();
        let mut out = stdout.lock();
        for c in compiled {
            if c.diags.iter().next().is_none() {
                continue;
            }
            let sources = self.display_sources(c);
            let human = (self.format == MessageFormat::Human).then(|| HumanRenderer::new(&sources, self.opts));
            for d in c.diags.iter() {
                let key = (
                    c.sources.get(d.span.file).name.clone(),
                    d.span.start,
                    d.span.end,
                    d.code,
                    d.message.clone(),
                );
                if !seen.insert(key) {
                    continue;
                }
                let mut d = d.clone();
                if deny_warnings && d.severity == Severity::Warning {
                    d.severity = Severity::Error;
                }
                if d.is_error() {
                    errors += 1;
                } else {
                    warnings += 1;
                }
                match self.format {
                    MessageFormat::Human => {
                        if let Some(h) = &human {
                            let _ = write!(err, "{}", h.render(&d));
                        }
                        let _ = writeln!(err);
                    }
                    MessageFormat::Json => {
                        let _ = writeln!(out, "{}", render_json(&d, &sources));
                    }
                    MessageFormat::Sarif => {
                        self.sarif
                            .borrow_mut()
                            .push(crate::diagnostics::sarif::result(&d, &sources));
                    }
                }
            }
        }
        (errors, warnings)
    }

    fn summary(&self, verb: &str, units: usize, libraries: usize, errors: usize, warnings: usize) {
        if self.machine() {
            return;
        }
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        let what = format!(
            "{} and {}",
            plural(units, "unit"),
            plural(libraries, "library").replace("librarys", "libraries")
        );
        if errors > 0 {
            errln!(
                "error: {verb} failed: {}, {} in {what}",
                plural(errors, "error"),
                plural(warnings, "warning")
            );
        } else {
            self.status(&format!("{verb}: {what}, {}", plural(warnings, "warning")));
        }
    }

    fn fail(&self, message: &str) {
        errln!("error: {message}");
    }
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: &Cli) -> u8 {
    let printer = Printer::new(cli);
    let code = run_command(cli, &printer);
    printer.finish();
    code
}

fn run_command(cli: &Cli, printer: &Printer) -> u8 {
    match &cli.command {
        Command::Explain { code, list } => explain(code.as_deref(), *list),
        Command::Fmt { paths, check } => fmt::fmt(printer, paths, *check),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "mailsec", &mut out);
            write_stdout(printer, &out)
        }
        Command::Man => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out) {
                Ok(()) => write_stdout(printer, &out),
                Err(e) => {
                    printer.fail(&format!("cannot render the manual page: {e}"));
                    EXIT_USAGE
                }
            }
        }
        Command::Check { paths, deny } => {
            let compiled = match driver::discover(paths).and_then(|i| driver::check_all(&i)) {
                Ok(c) => c,
                Err(e) => {
                    printer.fail(&e.to_string());
                    return EXIT_USAGE;
                }
            };
            let (errors, warnings) = printer.diagnostics(&compiled, deny.is_some());
            let units = compiled.iter().filter(|c| c.unit.is_some()).count();
            printer.summary("check", units, compiled.len() - units, errors, warnings);
            if errors > 0 {
                EXIT_INPUT
            } else {
                EXIT_OK
            }
        }
        Command::Build {
            paths,
            out,
            targets,
            emit,
            check,
            stamp,
            deny,
        } => output::build(
            printer,
            paths,
            out,
            targets,
            output::Options {
                emit: *emit,
                check: *check,
                stamp: *stamp,
                deny: deny.is_some(),
            },
        ),
        Command::Diff {
            old,
            new,
            git,
            stat,
            targets,
        } => diff::diff(
            printer,
            &diff::DiffArgs {
                old,
                new: new.as_deref(),
                git: git.as_deref(),
                stat: *stat,
                targets,
            },
        ),
    }
}

/// Writes generated text to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(printer: &Printer, bytes: &[u8]) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            printer.fail(&format!("cannot write to stdout: {e}"));
            EXIT_USAGE
        }
    }
}

fn explain(code: Option<&str>, list: bool) -> u8 {
    if list || code.is_none() {
        for c in Code::ALL {
            outln!("{}  {:<7}  {}", c.as_str(), c.severity().to_string(), c.title());
        }
        return EXIT_OK;
    }
    let raw = code.unwrap_or_default();
    match Code::parse(raw) {
        Some(c) => {
            outln!("{} ({}): {}\n", c.as_str(), c.severity(), c.title());
            outln!("{}", c.explain());
            EXIT_OK
        }
        None => {
            errln!("error: `{raw}` is not a mailsec diagnostic code; `mailsec explain --list` lists them");
            EXIT_USAGE
        }
    }
}
