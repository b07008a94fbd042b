//! Tests: `mailsec fmt` — canonical layout, comments kept, idempotent, safe.

use crate::common::{bin, examples};
use mailsec::syntax::fmt::format;
use std::path::Path;
use std::process::Command;

/// A small fixed-seed generator (xorshift), so the mangling is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
    fn spaces(&mut self) -> String {
        [" ", "", "  ", "\t", "   "][self.below(5)].to_string()
    }
}

/// Changes only layout: indentation, spaces around punctuation, trailing blanks, runs of
/// blank lines, CRLF line ends. Strings and comments are left alone.
fn mangle(text: &str, rng: &mut Rng) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.is_empty() {
            out.push_str(&"\n".repeat(1 + rng.below(3)));
            continue;
        }
        out.push_str(&rng.spaces());
        let mut in_string = false;
        let mut chars = line.trim_start().chars().peekable();
        while let Some(c) = chars.next() {
            if in_string {
                out.push(c);
                if c == '\\' {
                    out.extend(chars.next());
                } else if c == '"' {
                    in_string = false;
                }
                continue;
            }
            match c {
                '"' => {
                    in_string = true;
                    out.push(c);
                }
                '#' => {
                    out.push_str(&rng.spaces());
                    out.push(c);
                    out.extend(chars.by_ref());
                }
                '=' | ',' | '[' | ']' | '{' | '}' | '(' | ')' => {
                    while out.ends_with(' ') && rng.below(2) == 0 {
                        out.pop();
                    }
                    out.push_str(&rng.spaces());
                    out.push(c);
                    out.push_str(&rng.spaces());
                    while chars.peek() == Some(&' ') {
                        chars.next();
                    }
                }
                ' ' => out.push_str(if rng.below(3) == 0 { "  " } else { " " }),
                _ => out.push(c),
            }
        }
        out.push_str(&" ".repeat(rng.below(3)));
        out.push_str(if rng.below(2) == 0 { "\r\n" } else { "\n" });
    }
    out
}

fn example_files() -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(examples())
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "mailsec"))
        .collect()
}

#[test]
fn mangled_examples_format_back_to_the_canonical_text() {
    let mut rng = Rng(0x5eed_f00d_dead_beef);
    for path in example_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let canonical = format(&text);
        assert_eq!(
            canonical,
            text,
            "{}: the shipped file is the canonical text",
            path.display()
        );
        assert_eq!(format(&canonical), canonical, "{}: idempotent", path.display());
        for round in 0..5 {
            let mangled = mangle(&canonical, &mut rng);
            assert_ne!(mangled, canonical);
            assert_eq!(
                format(&mangled),
                canonical,
                "{} round {round}: mangled text:\n{mangled}",
                path.display()
            );
        }
    }
}

#[test]
fn formatting_keeps_every_comment_and_the_meaning() {
    for path in example_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = format(&text);
        let comments = |t: &str| -> Vec<String> {
            t.lines()
                .filter_map(|l| l.find('#').map(|i| l[i..].trim_end().to_string()))
                .collect()
        };
        assert_eq!(comments(&text), comments(&formatted), "{}", path.display());
    }
    // Both texts compile to the same plan.
    let dir = tempfile::tempdir().unwrap();
    for path in example_files() {
        let rel = path.strip_prefix(examples()).unwrap();
        let dest = dir.path().join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, format(&std::fs::read_to_string(&path).unwrap())).unwrap();
    }
    let irs = |root: &Path| -> Vec<String> {
        crate::common::compile_dir(root)
            .into_iter()
            .filter_map(|c| c.ir)
            .map(|mut ir| {
                for op in &mut ir.operations {
                    op.source = op.source_file().to_string();
                }
                for w in &mut ir.warnings {
                    w.source = w.source_file().to_string();
                }
                serde_json::to_string(&ir).unwrap()
            })
            .collect()
    };
    assert_eq!(irs(&examples()), irs(dir.path()));
}

#[test]
fn fmt_command_checks_writes_and_refuses_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("u.mailsec");
    let messy = "organization \"X\"{smtp_domains=[x.example]   # d\nexchange=2019}\n";
    std::fs::write(&f, messy).unwrap();
    let run = |args: &[&str]| Command::new(bin()).current_dir(dir.path()).args(args).output().unwrap();
    let o = run(&["fmt", "--check", "u.mailsec"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("+++ b/u.mailsec"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), messy, "--check writes nothing");
    assert_eq!(run(&["fmt", "u.mailsec"]).status.code(), Some(0));
    let tidy = std::fs::read_to_string(&f).unwrap();
    assert_eq!(
        tidy,
        "organization \"X\" { smtp_domains = [x.example]   # d\n  exchange = 2019 }\n"
    );
    assert_eq!(run(&["fmt", "--check", "u.mailsec"]).status.code(), Some(0));
    std::fs::write(&f, "organization \"X\" {\n  smtp_domains = [x.example\n}\n").unwrap();
    let o = run(&["fmt", "u.mailsec"]);
    assert_eq!(o.status.code(), Some(1), "syntax errors are reported, not formatted");
    assert!(String::from_utf8_lossy(&o.stderr).contains("MS0"));
}

#[test]
fn shipped_examples_are_in_the_canonical_layout() {
    for path in example_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            format(&text) == text,
            "{} is not formatted: run `mailsec fmt examples`",
            path.display()
        );
    }
}
