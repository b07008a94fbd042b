//! Tests: compiling and rendering in parallel gives the same bytes as one thread, in the
//! same order, for an estate of several copies of every example.

use crate::common::examples;
use mailsec::backend::{OutputFile, Target};
use mailsec::driver;

/// Copies the examples (with their libraries) `copies` times below `dir`.
fn estate(dir: &std::path::Path, copies: usize) {
    let from = examples();
    for i in 0..copies {
        let to = dir.join(format!("site{i}"));
        std::fs::create_dir_all(to.join("lib")).expect("mkdir");
        for sub in ["", "lib"] {
            for e in std::fs::read_dir(from.join(sub)).expect("examples") {
                let p = e.expect("entry").path();
                if p.extension().is_some_and(|x| x == "mailsec") {
                    std::fs::copy(&p, to.join(sub).join(p.file_name().expect("name"))).expect("copy");
                }
            }
        }
    }
}

fn build(dir: &std::path::Path, threads: usize) -> Vec<(String, Vec<OutputFile>)> {
    let inputs = driver::discover(&[dir.to_path_buf()]).expect("discover");
    let compiled = driver::compile_all_on(&inputs, threads).expect("compile");
    let targets: Vec<Target> = Target::ALL.into_iter().filter(|t| t.is_built()).collect();
    let rendered = driver::render_all(&compiled, &targets, threads).expect("render");
    compiled.iter().map(|c| c.name.clone()).zip(rendered).collect()
}

#[test]
fn the_output_does_not_depend_on_the_number_of_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    estate(dir.path(), 3);
    let one = build(dir.path(), 1);
    let units = one.iter().filter(|(_, files)| !files.is_empty()).count();
    assert!(units >= 27, "units rendered: {units}");
    for threads in [2, 5] {
        let many = build(dir.path(), threads);
        assert_eq!(one.len(), many.len());
        for ((a, fa), (b, fb)) in one.iter().zip(&many) {
            assert_eq!(a, b, "input order");
            assert_eq!(fa, fb, "{a}: {threads} threads");
        }
    }
}

#[test]
fn plans_handed_over_come_back_in_input_order_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    estate(dir.path(), 2);
    let inputs = driver::discover(&[dir.path().to_path_buf()]).expect("discover");
    let compiled = driver::compile_all_on(&inputs, 1).expect("compile");
    let expected = driver::map_plans(&compiled, 1, |ir| ir.unit.clone());
    assert!(expected.len() >= 18, "units: {}", expected.len());
    for threads in [1, 2, 5] {
        let mut compiled = driver::compile_all_on(&inputs, threads).expect("compile");
        let got = driver::map_plans_owned(&mut compiled, threads, |ir| ir.unit);
        assert_eq!(got, expected, "{threads} threads");
        assert!(compiled.iter().all(|c| c.ir.is_none()), "the plans were handed over");
    }
}
