//! Parsing: text to AST. pest stays inside this module; nothing outside sees a `Pair`.

pub mod ast;
mod direct;
pub mod fmt;
mod parser;
#[doc(hidden)]
pub use parser::direct_agrees_with_grammar;
mod prescan;

pub use parser::parse;
pub use prescan::{MAX_BLOCKS, MAX_FILE_BYTES};

use crate::diagnostics::Diagnostics;
use crate::source::{FileId, SourceMap};

/// Checks raw bytes (size, NUL, UTF-8) before they become a source file. Returns the text, or
/// the diagnostic-worthy problem with its byte offset.
pub fn decode(bytes: &[u8]) -> Result<String, prescan::DecodeError> {
    prescan::decode(bytes)
}

pub use prescan::DecodeError;

/// Why an intent file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The operating system refused (missing file, permissions…).
    Io(std::io::Error),
    /// Not a regular file: what it is instead ("a named pipe (FIFO)", "a device"…).
    NotRegular(&'static str),
}

/// Reads an intent file without trusting it: only regular files (a FIFO would block, a
/// device such as `/dev/zero` never ends), and never more than [`MAX_FILE_BYTES`] + 1 bytes,
/// so [`decode`] reports a larger file without it ever being held in memory.
pub fn read(path: &std::path::Path) -> Result<Vec<u8>, ReadError> {
    use std::io::Read as _;
    // Looked at before opening: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(file_kind(&meta.file_type())));
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    // The path could have been swapped between the two looks: ask the open handle too.
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(file_kind(&meta.file_type())));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).min(MAX_FILE_BYTES + 1));
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    Ok(bytes)
}

/// What a non-regular file is, in words.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}
pub use prescan::invisible;

/// Parses one file of the map into an AST, pushing syntax diagnostics.
pub fn parse_file(sources: &SourceMap, file: FileId, diags: &mut Diagnostics) -> ast::File {
    let text = &sources.get(file).text;
    if !prescan::scan(text, file, diags) {
        return ast::File::default();
    }
    parse(text, file, diags)
}
