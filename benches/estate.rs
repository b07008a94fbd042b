//! Whole-estate compile time: copies the shipped examples into an estate of N units
//! (default 2,000, `MAILSEC_BENCH_UNITS` to change) and times discover → check → lower →
//! render of every built target, the way `mailsec build` runs them.
//!
//! Run with `cargo bench --bench estate`. Prints the best and median of several runs.

use mailsec::backend::Target;
use mailsec::driver;
use std::path::Path;
use std::time::{Duration, Instant};

fn copy_examples(from: &Path, to: &Path, copies: usize) -> usize {
    let lib = from.join("lib");
    let units: Vec<_> = std::fs::read_dir(from)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mailsec"))
        .collect();
    let mut n = 0;
    for i in 0..copies.div_ceil(units.len()) {
        let dir = to.join(format!("site{i:04}"));
        std::fs::create_dir_all(dir.join("lib")).expect("mkdir");
        for entry in std::fs::read_dir(&lib).expect("lib") {
            let p = entry.expect("entry").path();
            std::fs::copy(&p, dir.join("lib").join(p.file_name().expect("name"))).expect("copy");
        }
        for u in &units {
            if n == copies {
                return n;
            }
            std::fs::copy(u, dir.join(u.file_name().expect("name"))).expect("copy");
            n += 1;
        }
    }
    n
}

fn main() {
    let units: usize = std::env::var("MAILSEC_BENCH_UNITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let estate = tempfile::tempdir().expect("tempdir");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let n = copy_examples(&examples, estate.path(), units);
    let targets: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_built()).collect();
    let mut times: Vec<Duration> = Vec::new();
    let mut files = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let inputs = driver::discover(&[estate.path().to_path_buf()]).expect("discover");
        let compiled = driver::compile_all(&inputs).expect("compile");
        files = 0;
        for c in &compiled {
            assert!(!c.diags.has_errors(), "{} has errors", c.name);
            if let Some(ir) = &c.ir {
                files += driver::render_unit(ir, &targets).expect("render").len();
            }
        }
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "estate: {n} units, {files} artefacts ({} targets), best {:.3} s, median {:.3} s over {} runs",
        targets.len(),
        times[0].as_secs_f64(),
        times[times.len() / 2].as_secs_f64(),
        times.len()
    );
}
