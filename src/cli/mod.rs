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
            let human = (self.format == MessageFormat::Human).then(|| HumanRenderer::new(&c.sources, self.opts));
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
                        let _ = writeln!(out, "{}", render_json(&d, &c.sources));
                    }
                }
            }
        }
        (errors, warnings)
    }

    fn summary(&self, verb: &str, units: usize, libraries: usize, errors: usize, warnings: usize) {
        if self.format == MessageFormat::Json {
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
            errln!("{verb}: {what}, {}", plural(warnings, "warning"));
        }
    }

    fn fail(&self, message: &str) {
        errln!("error: {message}");
    }
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: &Cli) -> u8 {
    let printer = Printer::new(cli);
    match &cli.command {
        Command::Explain { code, list } => explain(code.as_deref(), *list),
        Command::Check { paths, deny } => {
            let compiled = match driver::discover(paths).and_then(|i| driver::compile_all(&i)) {
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
            deny,
        } => output::build(&printer, paths, out, targets, *emit, *check, deny.is_some()),
        Command::Diff {
            old,
            new,
            git,
            stat,
            targets,
        } => diff::diff(
            &printer,
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
