//! The one integration-test binary: a module per feature.

mod common;

mod cli;
mod exchange;
mod iis;
mod ir;
mod robustness;
mod syntax;
mod ui;
