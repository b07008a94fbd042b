//! UI tests: failing inputs under `tests/ui/`, each compiled and its diagnostics snapshotted
//! twice — rendered the way a person sees them (fixed width, no colour) and as the JSON lines
//! `--message-format json` prints — in `snapshots/ui/`.
//!
//! A case is a file `tests/ui/<name>.mailsec`, or a directory `tests/ui/<name>/` whose entry is
//! `main.mailsec` (for includes); a directory case is compiled with its own directory as the
//! compile root, a file case with `tests/ui/`. `<name>` starts with the code the case must
//! produce (`ms0101-…`); further codes are listed on a `# expect: MS0227` line. The set of
//! codes a case produces must be exactly the expected set.
//!
//! `tests/ui/bad-messages/` holds inputs whose diagnostics are known to be poor (STYLE.md
//! point 12); each file's leading comment says why. When a message is fixed, move its case up
//! into `tests/ui/`.
//!
//! Inputs that cannot be committed as text (NUL bytes, invalid UTF-8, invisible characters,
//! a file over the size limit) are generated into a temporary directory at test time.

use crate::common::{codes, render_all, render_all_json, root};
use mailsec::check::Root;
use mailsec::diagnostics::Code;
use mailsec::driver::{self, Compiled, Input};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Directories under `tests/ui/` that are not cases.
const NOT_CASES: &[&str] = &["bad-messages", "lib"];

/// Names of grammar rules that are not English words: no diagnostic may show them.
const GRAMMAR_RULES: &[&str] = &[
    "SOI",
    "EOI",
    "WHITESPACE",
    "COMMENT",
    "kw_include",
    "ident",
    "ident_char",
    "string_inner",
    "ipv4",
    "ipv6",
    "cidr4",
    "cidr6",
    "ipv6_body",
    "octet",
];

/// Fewest cases the suite may have (issue 2 asks for 40; the suite keeps more).
const MIN_CASES: usize = 45;

/// One failing input.
#[derive(Debug)]
struct Case {
    /// Snapshot name: the file stem or the directory name.
    name: String,
    /// The file compiled.
    entry: PathBuf,
    /// Its compile root.
    root: PathBuf,
    /// What the input is and why it is wrong: its leading comment.
    description: String,
}

impl Case {
    /// The case of an entry file found by the glob.
    fn from_entry(entry: &Path) -> Case {
        let file_name = entry.file_name().and_then(|n| n.to_str()).expect("UTF-8 file name");
        let (name, root) = if file_name == "main.mailsec" {
            let dir = entry.parent().expect("a case directory");
            (file_stem(dir), dir.to_path_buf())
        } else {
            let dir = entry.parent().expect("a suite directory");
            (file_stem(entry), dir.to_path_buf())
        };
        let text = std::fs::read_to_string(entry).unwrap_or_default();
        Case {
            name,
            entry: entry.to_path_buf(),
            root,
            description: leading_comment(&text),
        }
    }

    /// The codes the case must produce: the one in its name and any `# expect:` line.
    fn expected(&self) -> BTreeSet<String> {
        let text = std::fs::read_to_string(&self.entry).unwrap_or_default();
        let mut expected = BTreeSet::new();
        expected.insert(code_of_name(&self.name));
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# expect:") {
                for code in rest.split([',', ' ']).filter(|c| !c.is_empty()) {
                    assert!(
                        Code::parse(code).is_some(),
                        "{}: `# expect: {code}` is not a known code",
                        self.name
                    );
                    expected.insert(code.to_ascii_uppercase());
                }
            }
        }
        expected
    }

    fn compile(&self) -> Compiled {
        compile(&self.entry, &self.root)
    }
}

fn file_stem(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).expect("UTF-8 name");
    name.strip_suffix(".mailsec").unwrap_or(name).to_string()
}

/// `MS0101` from `ms0101-unknown-setting`.
fn code_of_name(name: &str) -> String {
    let code = name.split('-').next().unwrap_or("").to_ascii_uppercase();
    assert!(
        Code::parse(&code).is_some(),
        "case `{name}` must start with the code it produces, like `ms0101-unknown-setting`"
    );
    code
}

/// The comment lines at the top of a file, without `#` and without `# expect:` lines.
fn leading_comment(text: &str) -> String {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter(|l| !l.starts_with("# expect:"))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Compiles `entry` with `root` as the compile root, the way `mailsec build <root>` would.
fn compile(entry: &Path, root: &Path) -> Compiled {
    driver::compile_file(&input(entry, root)).expect("case file readable")
}

fn input(entry: &Path, root: &Path) -> Input {
    Input {
        path: entry.canonicalize().expect("case file exists"),
        root: Root {
            dir: root.canonicalize().expect("case root exists"),
        },
    }
}

/// `mailsec check` stops before lowering: on every UI case and every example it reports
/// exactly the diagnostics of a full compile, and makes no plan.
#[test]
fn check_reports_what_a_full_compile_reports() {
    let mut inputs: Vec<Input> = cases_in(&ui_dir(""))
        .into_iter()
        .chain(cases_in(&ui_dir("bad-messages")))
        .map(|c| input(&c.entry, &c.root))
        .collect();
    inputs.extend(driver::discover(&[crate::common::examples()]).expect("examples"));
    let mut lowered = 0;
    for i in &inputs {
        let full = driver::compile_file(i).expect("readable");
        let checked = driver::check_file(i).expect("readable");
        let diags = |c: &Compiled| c.diags.iter().cloned().collect::<Vec<_>>();
        assert_eq!(diags(&full), diags(&checked), "{}", i.path.display());
        assert!(checked.ir.is_none(), "{}", i.path.display());
        lowered += usize::from(full.ir.is_some());
    }
    assert!(lowered >= 7, "only {lowered} units were lowered by the full compile");
}

/// The distinct codes of a compiled case.
fn code_set(c: &Compiled) -> BTreeSet<String> {
    codes(c).into_iter().map(str::to_string).collect()
}

/// `tests/ui` or one of its suite directories.
fn ui_dir(sub: &str) -> PathBuf {
    let dir = root().join("tests/ui");
    if sub.is_empty() {
        dir
    } else {
        dir.join(sub)
    }
}

/// Every case of a suite directory, in name order.
fn cases_in(dir: &Path) -> Vec<Case> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("suite directory readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    let mut cases = Vec::new();
    for path in entries {
        if path.is_dir() {
            let main = path.join("main.mailsec");
            if main.is_file() {
                cases.push(Case::from_entry(&main));
            } else {
                let name = file_stem(&path);
                assert!(
                    NOT_CASES.contains(&name.as_str()),
                    "directory `{}` is neither a case (no `main.mailsec`) nor one of {NOT_CASES:?}",
                    path.display()
                );
            }
        } else if path.extension().is_some_and(|e| e == "mailsec") {
            cases.push(Case::from_entry(&path));
        }
    }
    cases
}

/// Characters that display differently from what they are (MS0004's list). The renderer
/// echoes them raw in the source excerpt; snapshots show them as `⟨U+202E⟩` so that a reviewer
/// sees them and the committed snapshot holds no Trojan Source text itself.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{00AD}'
            | '\u{061C}'
    )
}

/// Text with machine-specific paths replaced, so snapshots do not depend on the checkout or
/// the temporary directory, and invisible characters spelled out.
fn scrub(text: &str, temp: Option<&Path>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) {
            out.push_str(&format!("⟨U+{:04X}⟩", c as u32));
        } else {
            out.push(c);
        }
    }
    let mut paths: Vec<String> = vec![root().display().to_string()];
    if let Ok(canon) = root().canonicalize() {
        paths.push(canon.display().to_string());
    }
    if let Some(t) = temp {
        paths.push(t.display().to_string());
        if let Ok(canon) = t.canonicalize() {
            paths.push(canon.display().to_string());
        }
    }
    // Longest first, so a path is not half-replaced by a prefix of it.
    paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in paths {
        out = out.replace(
            &p,
            if temp.is_some_and(|t| p.starts_with(&t.display().to_string())) {
                "[TEMP]"
            } else {
                "[ROOT]"
            },
        );
    }
    out
}

/// Asserts the expected codes and snapshots both renderings of a compiled case.
fn check_case(
    name: &str,
    description: &str,
    expected: &BTreeSet<String>,
    compiled: &Compiled,
    snapshots: &str,
    temp: Option<&Path>,
) {
    let found = code_set(compiled);
    assert_eq!(
        &found, expected,
        "case `{name}` produced {found:?}, expected {expected:?} (add codes to a `# expect:` line if they are meant)"
    );
    for d in compiled.diags.iter() {
        let texts = std::iter::once(&d.message)
            .chain(std::iter::once(&d.label))
            .chain(d.help.iter())
            .chain(d.labels.iter().map(|(_, t)| t));
        for text in texts {
            assert!(
                !text.trim_end().ends_with('.'),
                "case `{name}`: `{text}` ends with a period (STYLE.md point 7)"
            );
            for rule in GRAMMAR_RULES {
                assert!(
                    !text
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|w| w == *rule),
                    "case `{name}`: `{text}` names the grammar rule `{rule}`"
                );
            }
        }
    }
    let human = scrub(&render_all(compiled), temp);
    let json = scrub(&render_all_json(compiled), temp);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshots);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.remove_snapshot_suffix();
    settings.set_description(description);
    settings.bind(|| {
        insta::assert_snapshot!(name.to_string(), human);
        insta::assert_snapshot!(format!("{name}.json"), json);
    });
}

#[test]
fn ui() {
    insta::glob!("ui", "{*.mailsec,*/main.mailsec}", |path| {
        let case = Case::from_entry(path);
        check_case(
            &case.name,
            &case.description,
            &case.expected(),
            &case.compile(),
            "../snapshots/ui",
            None,
        );
    });
}

#[test]
fn bad_messages() {
    insta::glob!("ui/bad-messages", "{*.mailsec,*/main.mailsec}", |path| {
        let case = Case::from_entry(path);
        check_case(
            &case.name,
            &case.description,
            &case.expected(),
            &case.compile(),
            "../snapshots/ui/bad-messages",
            None,
        );
    });
}

/// An input that is generated at test time rather than committed.
#[derive(Default)]
struct Generated {
    name: &'static str,
    description: &'static str,
    bytes: Vec<u8>,
    /// Whether it belongs to `bad-messages`.
    poor: bool,
    /// Further files written next to it (libraries it includes).
    extra: Vec<(String, Vec<u8>)>,
    /// Named pipes created next to it.
    fifos: Vec<&'static str>,
}

/// The S1 unit's opening, shared by the generated inputs.
const S1_HEAD: &str = r#"organization "eHealth Ontario ONE Mail Dev Lab" {
  smtp_domains = [eHoDevLab.on.ca]
  exchange     = 2010
}

server hub01 {
  fqdn  = EXCH2K10.mpn2k10.poc
  roles = [hub_transport]
}
"#;

fn generated() -> Vec<Generated> {
    let mut der = b"0\x82\x03\x5f0\x82\x02\x47\xa0\x03\x02\x01\x02\x02\x09\x00\xb1\x6d\x2e".to_vec();
    der.extend_from_slice(&[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
    ]);

    let mut cp1252 =
        b"# Saved from an editor set to Windows-1252.\n\norganization \"Soci\xe9t\xe9 G\xe9n\xe9rale\" {\n".to_vec();
    cp1252.extend_from_slice(b"  smtp_domains = [socgen.example]\n  exchange     = 2016\n}\n");

    let utf16: Vec<u8> = {
        let text = format!("# Saved by Notepad as \"Unicode\" (UTF-16 LE with a byte-order mark).\n\n{S1_HEAD}");
        let mut out = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out
    };

    let bidi = format!(
        "# A right-to-left override inside a connector name: reviewers see one name, Exchange gets another.\n\n{S1_HEAD}\n\
         receive_connector \"From ONE Mail\u{202E}lanretni\u{202C}\" {{\n  server     = hub01\n  remote_ips = [76.75.133.96]\n  auth       = [tls]\n}}\n"
    );

    let zero_width = format!(
        "# The smart host copied from a web page, with a zero-width space after `smtp`.\n\n{S1_HEAD}\n\
         send_connector \"To ONE Mail Smart Host\" {{\n  address_spaces = [\"*\"]\n  smart_hosts    = [smtp\u{200B}.tls.one-mail.on.ca]\n  auth           = basic(secret(\"ONE_MAIL_SMTP\"))\n  require_tls    = true\n  source_servers = [hub01]\n}}\n"
    );

    let mut huge = format!("# A transport log saved with the wrong extension.\n\n{S1_HEAD}\n").into_bytes();
    let line = b"# 2026-12-01T10:00:00.000Z,EXCH2K10\\From ONE Mail,08D1,0,10.0.0.5:25,76.75.133.96:41234,+,,\n";
    while huge.len() <= mailsec::syntax::MAX_FILE_BYTES {
        huge.extend_from_slice(line);
    }

    // An include chain one file deeper than the limit: chain-1 includes chain-2 and so on.
    let depth = mailsec::check::MAX_INCLUDE_DEPTH + 1;
    let chain: Vec<(String, Vec<u8>)> = (1..=depth)
        .map(|i| {
            let text = if i < depth {
                format!("include \"ms0012-chain-{}.inc\"\n", i + 1)
            } else {
                "server end { fqdn = end.contoso.local roles = [eas] }\n".to_string()
            };
            (format!("ms0012-chain-{i}.inc"), text.into_bytes())
        })
        .collect();
    let deep = format!(
        "# A generated estate whose libraries include each other in a chain {depth} files deep.\n\n{S1_HEAD}\ninclude \"ms0012-chain-1.inc\"\n"
    );

    let fifo = format!(
        "# A unit that includes a named pipe (a FIFO), as a generator might leave it: reading it would block.\n\n{S1_HEAD}\ninclude \"ms0011-partners.pipe\"\n"
    );

    let mut many =
        format!("# A generated file with one block more than a unit may hold, each block empty.\n\n{S1_HEAD}\n")
            .into_bytes();
    for _ in 0..mailsec::syntax::MAX_BLOCKS {
        many.extend_from_slice(b"a{}\n");
    }

    vec![
        Generated {
            name: "ms0011-include-a-fifo",
            description: "A unit that includes a named pipe (FIFO): reading it would block.",
            bytes: fifo.into_bytes(),
            fifos: vec!["ms0011-partners.pipe"],
            ..Generated::default()
        },
        Generated {
            name: "ms0012-include-chain-too-deep",
            description: "Libraries that include each other in a chain one file deeper than the limit.",
            bytes: deep.into_bytes(),
            extra: chain,
            ..Generated::default()
        },
        Generated {
            name: "ms0013-too-many-blocks",
            description: "A generated file with one block more than a unit may hold.",
            bytes: many,
            ..Generated::default()
        },
        Generated {
            name: "ms0003-der-certificate",
            description: "The partner's DER certificate (`ssha-root.cer`) saved under a `.mailsec` name: NUL bytes.",
            bytes: der,
            poor: false,
            ..Generated::default()
        },
        Generated {
            name: "ms0002-windows-1252",
            description: "An organization name with accents, saved as Windows-1252 instead of UTF-8.",
            bytes: cp1252,
            poor: false,
            ..Generated::default()
        },
        Generated {
            name: "ms0004-bidi-override",
            description: "A U+202E RIGHT-TO-LEFT OVERRIDE inside a connector name (Trojan Source).",
            bytes: bidi.into_bytes(),
            poor: false,
            ..Generated::default()
        },
        Generated {
            name: "ms0004-zero-width-space",
            description: "A U+200B ZERO WIDTH SPACE inside a smart host name copied from a web page.",
            bytes: zero_width.into_bytes(),
            poor: false,
            ..Generated::default()
        },
        Generated {
            name: "ms0010-file-too-large",
            description: "A 16 MiB transport log saved with the `.mailsec` extension.",
            bytes: huge,
            poor: false,
            ..Generated::default()
        },
        Generated {
            name: "ms0002-utf16-notepad",
            description: "A unit saved by Notepad as \"Unicode\" (UTF-16 LE with a byte-order mark).",
            bytes: utf16,
            poor: false,
            ..Generated::default()
        },
    ]
}

/// Writes the generated inputs into `dir` and compiles each with `dir` as the root.
fn compile_generated(dir: &Path) -> Vec<(Generated, Compiled)> {
    generated()
        .into_iter()
        .map(|g| {
            let path = dir.join(format!("{}.mailsec", g.name));
            std::fs::write(&path, &g.bytes).expect("write generated input");
            for (name, bytes) in &g.extra {
                std::fs::write(dir.join(name), bytes).expect("write generated library");
            }
            for name in &g.fifos {
                let fifo = dir.join(name);
                if !fifo.exists() {
                    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
                    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", fifo.display());
                }
            }
            let c = compile(&path, dir);
            (g, c)
        })
        .collect()
}

#[test]
fn generated_inputs() {
    let temp = tempfile::tempdir().expect("tempdir");
    for (g, compiled) in compile_generated(temp.path()) {
        let raw = render_all(&compiled) + &render_all_json(&compiled);
        assert!(
            !raw.contains(&temp.path().display().to_string()),
            "`{}`: a diagnostic names the temporary directory: {raw}",
            g.name
        );
        let mut expected = BTreeSet::new();
        expected.insert(code_of_name(g.name));
        check_case(
            g.name,
            g.description,
            &expected,
            &compiled,
            if g.poor {
                "../snapshots/ui/bad-messages"
            } else {
                "../snapshots/ui"
            },
            Some(temp.path()),
        );
    }
}

/// Every code of the catalogue is produced by at least one UI case, so that a new code cannot
/// be added without a test that shows its message.
#[test]
fn every_code_has_a_ui_case() {
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut count = 0;
    for case in cases_in(&ui_dir("")) {
        covered.extend(code_set(&case.compile()));
        count += 1;
    }
    let temp = tempfile::tempdir().expect("tempdir");
    for (g, c) in compile_generated(temp.path()) {
        covered.extend(code_set(&c));
        if !g.poor {
            count += 1;
        }
    }
    // Poor messages are shown too, but they do not stand in for a good example.
    let mut poor: BTreeSet<String> = BTreeSet::new();
    for case in cases_in(&ui_dir("bad-messages")) {
        poor.extend(code_set(&case.compile()));
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a UI case in tests/ui/: {missing:?}{}",
        if missing.iter().any(|m| poor.contains(*m)) {
            " (some appear only in tests/ui/bad-messages/)"
        } else {
            ""
        }
    );
    assert!(count >= MIN_CASES, "only {count} UI cases; keep at least {MIN_CASES}");
}

/// Every snapshot in `snapshots/ui/` belongs to a case, so renamed or deleted cases do not
/// leave stale snapshots behind.
#[test]
fn no_orphan_snapshots() {
    let generated = generated();
    for (suite, snaps, poor) in [
        ("", "snapshots/ui", false),
        ("bad-messages", "snapshots/ui/bad-messages", true),
    ] {
        let names: BTreeSet<String> = cases_in(&ui_dir(suite))
            .into_iter()
            .map(|c| c.name)
            .chain(generated.iter().filter(|g| g.poor == poor).map(|g| g.name.to_string()))
            .collect();
        let Ok(dir) = std::fs::read_dir(root().join(snaps)) else {
            continue;
        };
        for entry in dir {
            let path = entry.expect("directory entry").path();
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            let Some(stem) = file.strip_suffix(".snap") else {
                continue;
            };
            let stem = stem.strip_suffix(".json").unwrap_or(stem);
            assert!(
                names.contains(stem),
                "{snaps}/{file} belongs to no case; delete it or restore its input"
            );
        }
    }
}

/// The library that multi-file cases include from outside their root is itself clean, so the
/// only problem those cases show is the one they are about.
#[test]
fn shared_library_is_clean() {
    let lib = ui_dir("lib");
    for entry in std::fs::read_dir(&lib).expect("tests/ui/lib") {
        let path = entry.expect("directory entry").path();
        let c = compile(&path, &lib);
        assert!(c.diags.is_empty(), "{}: {}", path.display(), render_all(&c));
    }
}
