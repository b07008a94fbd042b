//! The one integration-test binary: a module per feature.

mod common;

mod ci;
mod cli;
mod diff;
mod exchange;
mod fmt;
mod iis;
mod ir;
mod output_dir;
mod parallel;
mod properties;
mod provenance;
mod reference;
mod robustness;
mod runbook;
mod syntax;
mod tmg;
mod ui;
mod workspace_one;
