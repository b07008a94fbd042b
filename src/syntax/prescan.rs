//! Cheap checks over the raw text before pest sees it: size, binary content, encoding,
//! invisible characters and nesting depth. They turn inputs that would make a recursive
//! parser slow or crash into one coded diagnostic.

use crate::diagnostics::{Code, Diag, Diagnostics};
use crate::source::{FileId, Span};

/// Largest accepted intent file.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Most blocks one unit may hold, its includes counted (one file is counted before it is
/// parsed, so an oversized file costs one byte scan).
pub const MAX_BLOCKS: usize = 2_000_000;

/// Deepest accepted nesting of `{`, `[` and `(`.
pub(crate) const MAX_DEPTH: usize = 64;

/// Why raw bytes are not an intent file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge(usize),
    /// A NUL byte at this offset.
    Binary(usize),
    /// Invalid UTF-8 at this byte offset, line and column.
    NotUtf8(usize, usize, usize),
    /// A UTF-16 byte-order mark.
    Utf16,
}

impl DecodeError {
    /// The diagnostic for this problem; the file is registered with empty text, so the span
    /// is its start and the offset is in the message.
    pub fn to_diag(&self, file: FileId) -> Diag {
        match *self {
            DecodeError::TooLarge(n) => Diag::new(
                Code::FileTooLarge,
                Span::new(file, 0, 0),
                if n > MAX_FILE_BYTES + 1 {
                    format!("file is {n} bytes, more than the limit of {MAX_FILE_BYTES}")
                } else {
                    format!("file is larger than the limit of {MAX_FILE_BYTES} bytes")
                },
            )
            .help("split the estate into several units or libraries"),
            DecodeError::Binary(at) => Diag::new(
                Code::Binary,
                Span::new(file, 0, 0),
                format!("file contains a NUL byte at byte {at}; it is not a text file"),
            )
            .help("an intent file is UTF-8 text; check the path does not name a certificate or archive"),
            DecodeError::Utf16 => Diag::new(Code::NotUtf8, Span::new(file, 0, 0), "file is UTF-16, not UTF-8")
                .help("save the file as UTF-8 (in Notepad: Save As, Encoding UTF-8)"),
            DecodeError::NotUtf8(at, line, col) => Diag::new(
                Code::NotUtf8,
                Span::new(file, 0, 0),
                format!("file is not valid UTF-8: invalid byte sequence at line {line}, column {col} (byte {at})"),
            )
            .help("save the file as UTF-8"),
        }
    }
}

/// Decodes raw bytes, rejecting binary and non-UTF-8 content. A UTF-8 BOM is dropped.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(DecodeError::TooLarge(bytes.len()));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(DecodeError::Utf16);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary(at));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            let before = std::str::from_utf8(&bytes[..at]).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(DecodeError::NotUtf8(at, line, col))
        }
    }
}

/// Characters that make text display differently from what is compiled: the name of one,
/// or `None` for any other character.
pub fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{061C}' => "ARABIC LETTER MARK",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{2060}' => "WORD JOINER",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE",
        '\u{00AD}' => "SOFT HYPHEN",
        _ => return None,
    })
}

/// Returns false when the text must not be parsed (the reason was pushed).
pub(crate) fn scan(text: &str, file: FileId, diags: &mut Diagnostics) -> bool {
    if text.is_ascii() {
        // Every character flagged below is outside ASCII: most intent files skip the scan.
        return depth_ok(text, file, diags);
    }
    let mut ok = true;
    let mut reported_invisible = 0;
    for (i, c) in text.char_indices() {
        if let Some(name) = invisible(c) {
            ok = false;
            // One report per character kind and place is enough; cap the flood.
            if reported_invisible < 10 {
                diags.push(
                    Diag::new(
                        Code::InvisibleChar,
                        Span::new(file, i, i + c.len_utf8()),
                        format!("invisible character U+{:04X} {name}", c as u32),
                    )
                    .label("this character is not shown by most editors")
                    .help(format!(
                        "delete it; if it is really meant inside a string, write `\\u{{{:X}}}`",
                        c as u32
                    )),
                );
            }
            reported_invisible += 1;
        }
    }
    if !ok {
        return false;
    }
    depth_ok(text, file, diags)
}

/// Counts bracket depth outside strings and comments.
fn depth_ok(text: &str, file: FileId, diags: &mut Diagnostics) -> bool {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut opened: Vec<usize> = Vec::new();
    let mut blocks = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                if depth == 0 && bytes[i] == b'{' {
                    // At the top level only a block opens a brace.
                    blocks += 1;
                    if blocks > MAX_BLOCKS {
                        diags.push(
                            Diag::new(
                                Code::TooManyBlocks,
                                Span::new(file, i, i + 1),
                                format!("the file holds more than {MAX_BLOCKS} blocks"),
                            )
                            .label(format!("block number {}", MAX_BLOCKS + 1))
                            .help(
                                "split the estate into one unit per organization; shared definitions go into libraries",
                            ),
                        );
                        return false;
                    }
                }
                depth += 1;
                if opened.len() < MAX_DEPTH {
                    opened.push(i);
                }
                if depth > MAX_DEPTH {
                    diags.push(
                        Diag::new(
                            Code::TooDeep,
                            Span::new(file, i, i + 1),
                            format!("nesting deeper than {MAX_DEPTH} levels"),
                        )
                        .label("this bracket opens level 65")
                        .with(Span::new(file, opened[0], opened[0] + 1), "outermost level opened here")
                        .help("flatten the structure: blocks, lists and records rarely need more than four levels"),
                    );
                    return false;
                }
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                opened.pop();
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// Index of the byte that ends the string opened at `open` (its closing quote, the end of the
/// line for an unterminated string, or the end of the text), skipping escaped characters.
/// The raw-text scanners (depth, comments, unclosed blocks) share it so they agree with the
/// grammar on where strings are.
pub(crate) fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i
}
