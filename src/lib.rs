//! mailsec: a compiler for mail-security intent.
//!
//! The pipeline, one module per stage: [`syntax`] (text → AST) → [`check`] (names, types,
//! lints) → [`ir`] (the per-host plan) → [`backend`] (artefacts per target). [`driver`]
//! runs the stages for every unit of an estate; [`cli`] is the command line.

pub mod backend;
pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod driver;
pub mod ir;
pub mod source;
pub mod syntax;
