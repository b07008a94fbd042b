//! The `runbook` backend (being written).

use super::{BackendError, OutputFile};
use crate::ir::Ir;

/// Whether this backend is complete.
pub(crate) const BUILT: bool = false;

/// Renders the unit's `runbook` artefacts.
pub(crate) fn render(_ir: &Ir) -> Result<Vec<OutputFile>, BackendError> {
    Ok(Vec::new())
}
