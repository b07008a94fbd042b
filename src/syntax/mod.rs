//! Parsing: text to AST. pest stays inside this module; nothing outside sees a `Pair`.

pub mod ast;
pub mod fmt;
mod parser;
mod prescan;

pub use parser::parse;
pub use prescan::MAX_FILE_BYTES;

use crate::diagnostics::Diagnostics;
use crate::source::{FileId, SourceMap};

/// Checks raw bytes (size, NUL, UTF-8) before they become a source file. Returns the text, or
/// the diagnostic-worthy problem with its byte offset.
pub fn decode(bytes: &[u8]) -> Result<String, prescan::DecodeError> {
    prescan::decode(bytes)
}

pub use prescan::DecodeError;

/// Parses one file of the map into an AST, pushing syntax diagnostics.
pub fn parse_file(sources: &SourceMap, file: FileId, diags: &mut Diagnostics) -> ast::File {
    let text = &sources.get(file).text;
    if !prescan::scan(text, file, diags) {
        return ast::File::default();
    }
    parse(text, file, diags)
}
