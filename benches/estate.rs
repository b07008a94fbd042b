//! Whole-estate compile time. Builds a synthetic estate: N units (default 2,000,
//! `MAILSEC_BENCH_UNITS`) made of copies of every shipped example, each copy in its own
//! directory so unit ids differ, plus one large unit of `MAILSEC_BENCH_BIG` (default 400)
//! servers, each with a certificate and a receive connector (about 26 lines each).
//!
//! Measures, best of `MAILSEC_BENCH_RUNS` (default 3) runs:
//! - the stages on one thread, summed over the estate: parse (read + parse the unit file),
//!   check (includes, validation, lints), lower, render of each target alone;
//! - end to end in process, `discover` → `compile_all` → `render_all`, on 1 thread and on
//!   every core;
//! - `mailsec build` (the binary, output written, each run into a new directory) against
//!   the I/O floor: `cat` of every input and `cp -r` of the output it wrote;
//! - the large unit alone: check and lower, and its render;
//! - the slope: the pipeline over a quarter, a half and all of the estate (time per unit),
//!   and the large unit at half, once and twice `MAILSEC_BENCH_BIG` (time per line);
//! - peak memory: this process (`VmHWM`), and `mailsec build` through `/usr/bin/time` when
//!   it exists.
//!
//! Run with `cargo bench --bench estate`.

use mailsec::backend::{self, Target};
use mailsec::check;
use mailsec::diagnostics::Diagnostics;
use mailsec::driver::{self, Input};
use mailsec::ir;
use mailsec::source::SourceMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

// The allocator of the `mailsec` binary, so in-process figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn copy_dir_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "mailsec") {
            std::fs::copy(&p, to.join(p.file_name().expect("name"))).expect("copy");
        }
    }
}

/// N copies of the example units, each directory with its own copy of the libraries.
fn copy_examples(from: &Path, to: &Path, copies: usize) -> usize {
    let units: Vec<_> = {
        let mut u: Vec<_> = std::fs::read_dir(from)
            .expect("examples")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "mailsec"))
            .collect();
        u.sort();
        u
    };
    let mut n = 0;
    for i in 0..copies.div_ceil(units.len()) {
        let dir = to.join(format!("site{i:04}"));
        copy_dir_files(&from.join("lib"), &dir.join("lib"));
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

/// One unit with `servers` hub servers, each with a certificate and a receive connector.
fn large_unit(examples: &Path, dir: &Path, servers: usize) -> (PathBuf, usize) {
    copy_dir_files(&examples.join("lib"), &dir.join("lib"));
    let mut s = String::from(
        "include \"lib/one-mail-partner.mailsec\"\n\norganization \"Large Estate\" {\n  smtp_domains = [large.example]\n  exchange     = 2010\n  ad_domain    = large.example\n  owner        = \"Messaging team\"\n}\n\n",
    );
    for i in 0..servers {
        s.push_str(&format!(
            r#"server hub{i:05} {{
  fqdn  = hub{i:05}.large.example
  roles = [hub_transport]
}}

certificate cert{i:05} {{
  subject   = {{ C = "CA", S = "ON", O = "Large Estate", CN = "ref{i:06}" }}
  domains   = [large.example]
  key       = {{ size = 2048, exportable = true }}
  issuer    = ssha_root
  servers   = [hub{i:05}]
  services  = [smtp]
  reference = "ref{i:06}"
  request   = file("requests/ref{i:06}.req")
  issued    = file("certs/ref{i:06}.cer")
}}

receive_connector "From partner {i}" {{
  server            = hub{i:05}
  certificate       = cert{i:05}
  remote_ips        = [76.{}.{}.{}]
  auth              = [tls, basic, integrated]
  permission_groups = [anonymous, exchange_users, exchange_servers, exchange_legacy_servers]
}}

"#,
            75 + i / 62_500,
            (i / 250) % 250,
            i % 250 + 1
        ));
    }
    let path = dir.join("large.mailsec");
    std::fs::write(&path, &s).expect("write the large unit");
    (path, s.lines().count())
}

fn input_bytes(root: &Path) -> u64 {
    walk(root)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mailsec"))
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum()
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn best(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// The stages of one input, on this thread, added to `acc` (parse, check, lower, then one
/// per target).
fn stages(input: &Input, targets: &[Target], acc: &mut [Duration]) {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::new();
    let t = Instant::now();
    let (entry, file) = check::load_file(&input.path, &input.root, &mut sources, &mut diags).expect("read");
    acc[0] += t.elapsed();
    if !check::is_unit(&file) {
        return;
    }
    let t = Instant::now();
    let unit = check::check_unit(
        driver::unit_id(&input.path, &input.root),
        &input.path,
        entry,
        file,
        &input.root,
        &mut sources,
        &mut diags,
    );
    acc[1] += t.elapsed();
    assert!(!diags.has_errors(), "{} has errors", input.path.display());
    let t = Instant::now();
    let plan = ir::lower(&unit, &sources, &diags);
    acc[2] += t.elapsed();
    for (k, target) in targets.iter().enumerate() {
        let t = Instant::now();
        backend::render(*target, &plan).expect("render");
        acc[3 + k] += t.elapsed();
    }
}

/// The 1-minute load average: a wall-clock figure is only worth its stated conditions.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn sh(script: &str) -> Duration {
    timed(|| {
        let ok = Command::new("sh").arg("-c").arg(script).status().expect("sh").success();
        assert!(ok, "{script}");
    })
}

fn main() {
    let units = env_usize("MAILSEC_BENCH_UNITS", 2_000);
    let servers = env_usize("MAILSEC_BENCH_BIG", 400);
    let runs = env_usize("MAILSEC_BENCH_RUNS", 3).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let work = tempfile::tempdir().expect("tempdir");
    let estate = work.path().join("estate");
    let n = copy_examples(&examples, &estate, units);
    let (large, large_lines) = large_unit(&examples, &estate.join("large"), servers);
    let bytes = input_bytes(&estate);
    let mb = bytes as f64 / 1e6;
    let targets: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_built()).collect();
    let inputs = driver::discover(std::slice::from_ref(&estate)).expect("discover");
    println!(
        "estate: {} units ({n} example copies + 1 large unit of {large_lines} lines), {} files, {:.2} MB of input; {cores} cores; best of {runs} runs; load average {}",
        n + 1,
        inputs.len(),
        mb,
        load_average()
    );

    // Stages, one thread.
    let mut names = vec!["parse".to_string(), "check".to_string(), "lower".to_string()];
    names.extend(targets.iter().map(|t| format!("render {}", t.name())));
    let mut stage_best = vec![Duration::MAX; names.len()];
    for _ in 0..runs {
        let mut acc = vec![Duration::ZERO; names.len()];
        for input in &inputs {
            stages(input, &targets, &mut acc);
        }
        for (b, a) in stage_best.iter_mut().zip(acc) {
            *b = (*b).min(a);
        }
    }
    println!("stages on 1 thread (render of each target alone; the runbook renders the scripts it links):");
    for (name, d) in names.iter().zip(&stage_best) {
        println!(
            "  {name:<16} {:>8.3} s  {:>9.0} units/s",
            d.as_secs_f64(),
            (n + 1) as f64 / d.as_secs_f64()
        );
    }

    // End to end in process.
    for threads in [1, 0] {
        let mut files = 0;
        let d = best(runs, || {
            timed(|| {
                let inputs = driver::discover(std::slice::from_ref(&estate)).expect("discover");
                let compiled = driver::compile_all_on(&inputs, threads).expect("compile");
                let rendered = driver::render_all(&compiled, &targets, threads).expect("render");
                files = rendered.iter().map(Vec::len).sum();
            })
        });
        println!(
            "in process, {} thread(s): {:.3} s, {:.0} units/s, {:.2} MB/s, {files} artefacts",
            if threads == 0 { cores } else { threads },
            d.as_secs_f64(),
            (n + 1) as f64 / d.as_secs_f64(),
            mb / d.as_secs_f64()
        );
    }
    if let Some(kib) = peak_kib() {
        println!("peak memory of this process: {:.1} MB", kib as f64 / 1024.0);
    }

    // The large unit alone.
    let large_input = inputs
        .iter()
        .find(|i| i.path == large)
        .expect("the large unit was discovered");
    let check_lower = best(runs, || {
        timed(|| {
            let c = driver::compile_file(large_input).expect("compile");
            assert!(c.ir.is_some(), "the large unit lowers");
        })
    });
    let compiled = driver::compile_file(large_input).expect("compile");
    let plan = compiled.ir.expect("plan");
    let render = best(runs, || {
        timed(|| {
            backend::render_targets(&plan, &targets).expect("render");
        })
    });
    println!(
        "large unit ({large_lines} lines, {} operations): parse+check+lower {:.1} ms, render {:.1} ms",
        plan.operations.len(),
        check_lower.as_secs_f64() * 1e3,
        render.as_secs_f64() * 1e3
    );

    // The slope: the pipeline over a quarter, a half and all of the estate, and the large
    // unit at half, once and twice its size. Linear growth keeps the time per unit and per
    // line flat.
    println!("slope (in process, {cores} cores, best of {runs}):");
    let mut sites: Vec<&Path> = inputs
        .iter()
        .filter_map(|i| i.path.parent())
        .filter(|d| !d.starts_with(estate.join("large")))
        .collect();
    sites.dedup();
    for part in [4, 2, 1] {
        let keep = &sites[..sites.len().div_ceil(part)];
        let subset: Vec<Input> = inputs
            .iter()
            .filter(|i| i.path.parent().is_some_and(|d| keep.contains(&d)))
            .cloned()
            .collect();
        let mut units = 0;
        let d = best(runs, || {
            timed(|| {
                let compiled = driver::compile_all_on(&subset, 0).expect("compile");
                units = compiled.iter().filter(|c| c.ir.is_some()).count();
                driver::render_all(&compiled, &targets, 0).expect("render");
            })
        });
        println!(
            "  {units:>6} units: {:>7.3} s, {:>6.1} µs per unit",
            d.as_secs_f64(),
            d.as_secs_f64() * 1e6 / units as f64
        );
    }
    for size in [servers / 2, servers, servers * 2] {
        let dir = work.path().join(format!("slope-{size}"));
        let (path, lines) = large_unit(&examples, &dir, size);
        let input = Input {
            root: mailsec::check::Root::for_path(&dir).expect("root"),
            path,
        };
        let d = best(runs, || {
            timed(|| {
                let c = driver::compile_file(&input).expect("compile");
                let plan = c.ir.expect("the large unit lowers");
                backend::render_targets(&plan, &targets).expect("render");
            })
        });
        println!(
            "  one unit of {lines:>6} lines ({size} servers): {:>7.1} ms, {:>5.2} µs per line",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() * 1e6 / lines as f64
        );
    }

    // `mailsec build` against the I/O floor.
    let out = work.path().join("out");
    let exe = env!("CARGO_BIN_EXE_mailsec");
    let q = |p: &Path| format!("'{}'", p.display());
    // Every run writes into a new directory and nothing is deleted until the end: on a
    // file system without a journal (ext4 `^has_journal`), creating files just after many
    // were deleted is several times slower, and would measure the previous run's clean-up.
    let mut run = 0;
    let mut fresh = |name: &str| {
        run += 1;
        work.path().join(format!("{name}-{run}"))
    };
    let build = best(runs, || {
        let to = fresh("out");
        sh(&format!("{exe} build {} --out {} >/dev/null 2>&1", q(&estate), q(&to)))
    });
    sh(&format!("{exe} build {} --out {} >/dev/null 2>&1", q(&estate), q(&out)));
    let read = best(runs, || {
        sh(&format!(
            "find {} -name '*.mailsec' -exec cat {{}} + >/dev/null",
            q(&estate)
        ))
    });
    let copy = best(runs, || {
        let to = fresh("copy");
        sh(&format!("cp -r {} {}", q(&out), q(&to)))
    });
    let out_bytes: u64 = walk(&out)
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    println!(
        "mailsec build: {:.3} s ({:.0} units/s, {:.2} MB/s in, {:.1} MB out); cat inputs {:.3} s + cp -r output {:.3} s = {:.3} s; ratio {:.1}x",
        build.as_secs_f64(),
        (n + 1) as f64 / build.as_secs_f64(),
        mb / build.as_secs_f64(),
        out_bytes as f64 / 1e6,
        read.as_secs_f64(),
        copy.as_secs_f64(),
        (read + copy).as_secs_f64(),
        build.as_secs_f64() / (read + copy).as_secs_f64()
    );
    if Path::new("/usr/bin/time").exists() {
        let out = fresh("out");
        let o = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(exe)
            .arg("build")
            .arg(&estate)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("time");
        let err = String::from_utf8_lossy(&o.stderr);
        if let Some(kib) = err.lines().last().and_then(|l| l.trim().parse::<f64>().ok()) {
            println!(
                "peak memory of mailsec build: {:.1} MB ({:.1}x the input)",
                kib / 1024.0,
                kib * 1024.0 / bytes as f64
            );
        }
    }
}
