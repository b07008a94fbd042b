//! The one integration-test binary: a module per feature.

mod common;

mod cli;
mod diff;
mod exchange;
mod iis;
mod ir;
mod output_dir;
mod properties;
mod provenance;
mod robustness;
mod runbook;
mod syntax;
mod ui;
