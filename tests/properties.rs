//! Property tests with a fixed seed (the fuzz crate in `fuzz/` explores further): random
//! mutations of the shipped examples never make mailsec panic, and whatever still compiles
//! keeps its output escaping — no `%` from the intent can expand in a runbook `bat` block,
//! no user string opens HTML in a runbook.

use crate::common::examples;
use mailsec::backend::Target;
use mailsec::check::Root;
use mailsec::driver;

/// xorshift64*: small, fast and the same on every platform, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Text that mailsec's languages treat specially, and the grammar's own punctuation.
const HOSTILE: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    ",",
    "\"",
    "\\",
    "\\n",
    "\\u{202E}",
    "\n",
    "#",
    "%PATH%",
    "`",
    "``` x",
    "<script>",
    "&",
    "|",
    "'",
    "$(calc)",
    "^",
    "!",
    "allow MS0229 \"r\"",
    "allow MS0229",
    "include \"x\"",
    "file(\"../x\")",
    "{UserPrincipalName",
    "0.0.0.0/0",
    "::",
    "2026-02-30",
    "99999999999999999999",
    "\u{202E}",
    "é",
    "\r\n",
];

/// One random edit: delete, duplicate or replace a span, or insert hostile text.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut t = text.to_string();
    for _ in 0..=rng.below(3) {
        let len = t.len();
        let mut at = rng.below(len + 1);
        while !t.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + rng.below(40)).min(len);
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        match rng.below(4) {
            0 => t.replace_range(at..end, ""),
            1 => {
                let piece = t[at..end].to_string();
                t.insert_str(end, &piece);
            }
            2 => t.replace_range(at..end, HOSTILE[rng.below(HOSTILE.len())]),
            _ => t.insert_str(at, HOSTILE[rng.below(HOSTILE.len())]),
        }
    }
    t
}

/// Every `%` in a `bat` block of the runbook stands behind a caret, outside quotes (see the
/// runbook's `cmd` quoting), except the `%windir%` and `%TEMP%` mailsec writes itself.
fn bat_percents_are_inert(md: &str) -> Result<(), String> {
    let mut inside = false;
    for line in md.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            inside = !inside && t.trim_start_matches('`') == "bat";
            continue;
        }
        if inside {
            let ours = t.replace("%windir%", "").replace("%TEMP%", "");
            for (i, _) in ours.match_indices('%') {
                if i == 0 || ours.as_bytes()[i - 1] != b'^' {
                    return Err(format!("bare `%` in `{t}`"));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn mutated_examples_never_panic_and_keep_escaping() {
    let root = Root {
        dir: examples().canonicalize().expect("examples"),
    };
    let mut units: Vec<(String, String)> = std::fs::read_dir(examples())
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mailsec"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("read"))
        })
        .collect();
    units.sort();
    let targets: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_built()).collect();
    let mut rng = Rng(0x5EED_0009_2026_1203);
    let (mut compiled, mut rendered) = (0, 0);
    for round in 0..40 {
        for (name, text) in &units {
            let input = mutate(text, &mut rng);
            let c = driver::compile_bytes(name, input.as_bytes(), &root);
            // Rendering diagnostics must not panic either.
            for d in c.diags.iter() {
                let _ = mailsec::diagnostics::render_json(d, &c.sources);
            }
            let Some(ir) = &c.ir else { continue };
            compiled += 1;
            let files = driver::render_unit(ir, &targets)
                .unwrap_or_else(|e| panic!("round {round}, {name}: a clean unit failed to render: {e}\n{input}"));
            for f in &files {
                if f.path.ends_with(".md") {
                    let md = String::from_utf8_lossy(&f.contents);
                    if let Err(e) = bat_percents_are_inert(&md) {
                        panic!("round {round}, {name}: {e}\n{input}");
                    }
                }
                if f.path.ends_with(".html") {
                    let html = String::from_utf8_lossy(&f.contents);
                    assert!(
                        !html.contains("<script"),
                        "round {round}, {name}: a user string opened HTML\n{input}"
                    );
                }
            }
            rendered += files.len();
        }
    }
    // The mutations are small: many inputs must still compile, or the property says little.
    assert!(compiled > 40, "only {compiled} mutated units compiled");
    assert!(rendered > 0);
}
