//! The one integration-test binary: a module per feature.

mod common;

mod cli;
mod exchange;
mod iis;
mod ir;
mod parallel;
mod provenance;
mod robustness;
mod runbook;
mod syntax;
mod ui;
