//! The work bounds the project promises (issue 9), measured, not asserted in unit tests:
//!
//! - one unit of 1,000,000 small blocks checks (as `mailsec check` does: parse and check,
//!   no lowering) in under 5 s and 1 GB;
//! - 40,000 diagnostics of one file render for people in under 2 s;
//! - a receive connector with 100,000 remote IP addresses checks in well under a second.
//!
//! Run with `cargo bench --bench limits`. Prints one line per case with the time and, for
//! the first case, the peak resident memory of the process (Linux only). Exits non-zero when
//! a bound is missed, so it can serve as a gate.

use mailsec::diagnostics::{HumanRenderer, RenderOptions};
use mailsec::driver;
use std::path::Path;
use std::time::{Duration, Instant};

const HEAD: &str = "organization \"Bench\" { smtp_domains = [bench.example] exchange = 2019 }\n";

fn compile(path: &Path) -> driver::Compiled {
    let inputs = driver::discover(&[path.to_path_buf()]).expect("discover");
    driver::compile_all(&inputs).expect("compile").remove(0)
}

/// What `mailsec check` runs: the diagnostics of [`compile`], without lowering.
fn check(path: &Path) -> driver::Compiled {
    let inputs = driver::discover(&[path.to_path_buf()]).expect("discover");
    driver::check_all(&inputs).expect("check").remove(0)
}

/// Peak resident set size of this process in MiB, where the platform says.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn report(name: &str, took: Duration, bound: Duration, extra: &str) -> bool {
    let ok = took <= bound;
    println!(
        "{name}: {:.3} s (bound {:.1} s){extra} {}",
        took.as_secs_f64(),
        bound.as_secs_f64(),
        if ok { "ok" } else { "OVER" }
    );
    ok
}

/// A million blocks in one unit: four libraries of 250,000 servers (each file under the
/// 16 MiB limit) and the unit that includes them.
fn million_blocks(dir: &Path) -> bool {
    let per_file = 250_000;
    let mut unit = String::from(HEAD);
    for f in 0..4 {
        let mut text = String::with_capacity(per_file * 48);
        for i in 0..per_file {
            let n = f * per_file + i;
            text.push_str(&format!("server s{n} {{ fqdn = s{n}.bench.example }}\n"));
        }
        let name = format!("lib{f}.mailsec");
        std::fs::write(dir.join(&name), text).expect("write");
        unit.push_str(&format!("include \"{name}\"\n"));
    }
    let path = dir.join("million.mailsec");
    std::fs::write(&path, unit).expect("write");
    let start = Instant::now();
    let c = check(&path);
    let took = start.elapsed();
    let errors = c.diags.error_count();
    let blocks = 4 * per_file;
    let mem = peak_rss_mib();
    let mut ok = report(
        &format!("check {blocks} blocks ({errors} errors)"),
        took,
        Duration::from_secs(5),
        &mem.map_or_else(String::new, |m| format!(", peak {m} MiB")),
    );
    ok &= mem.is_none_or(|m| m < 1024);
    drop(c);
    ok
}

/// 40,000 errors in one file, rendered the way `mailsec check` prints them.
fn forty_thousand_errors(dir: &Path) -> bool {
    let mut text = String::from(HEAD);
    for i in 0..40_000 {
        text.push_str(&format!(
            "server s{i} {{ fqdn = s{i}.bench.example roles = [eas] rolez = [eas] }}\n"
        ));
    }
    let path = dir.join("errors.mailsec");
    std::fs::write(&path, text).expect("write");
    let c = compile(&path);
    let start = Instant::now();
    let renderer = HumanRenderer::new(&c.sources, RenderOptions::default());
    let mut bytes = 0;
    for d in c.diags.iter() {
        bytes += renderer.render(d).len();
    }
    let took = start.elapsed();
    report(
        &format!("render {} diagnostics ({} KiB)", c.diags.len(), bytes / 1024),
        took,
        Duration::from_secs(2),
        "",
    )
}

/// One receive connector with 100,000 distinct remote addresses.
fn hundred_thousand_ips(dir: &Path) -> bool {
    let ips: Vec<String> = (0..100_000u32)
        .map(|i| format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255))
        .collect();
    let text = format!(
        "{HEAD}server hub01 {{ fqdn = hub01.bench.example roles = [hub_transport] }}\n\
         receive_connector \"From Partners\" {{\n  server = hub01\n  remote_ips = [{}]\n  auth = [tls]\n}}\n",
        ips.join(", ")
    );
    let path = dir.join("ips.mailsec");
    std::fs::write(&path, text).expect("write");
    let start = Instant::now();
    let c = compile(&path);
    let took = start.elapsed();
    report(
        &format!("check 100000 remote IPs ({} diagnostics)", c.diags.len()),
        took,
        Duration::from_secs(1),
        "",
    )
}

fn main() {
    // `cargo bench --bench limits -- ips` runs the cases whose name holds `ips`.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ok = true;
    // The million-block case runs first so that the peak memory is its own.
    if wanted("million") {
        ok &= million_blocks(dir.path());
    }
    if wanted("errors") {
        ok &= forty_thousand_errors(dir.path());
    }
    if wanted("ips") {
        ok &= hundred_thousand_ips(dir.path());
    }
    if !ok {
        std::process::exit(1);
    }
}
