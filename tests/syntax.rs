//! Tests: syntax.
