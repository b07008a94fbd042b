//! Tests: ir.
