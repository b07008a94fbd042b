//! The one integration-test binary: a module per feature.

mod common;

mod cli;
mod exchange;
mod iis;
mod provenance;
mod ir;
mod robustness;
mod runbook;
mod syntax;
mod ui;
