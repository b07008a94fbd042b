//! A direct parser for the plain shape most intent takes: blocks of settings whose values
//! are strings without escapes, host names, names, whole numbers, booleans and lists of
//! those. pest spends tens of thousands of instructions on such a block; this reads it in
//! one pass. Anything else (includes, suppressions, nested blocks, records, calls,
//! addresses, dates, escapes, syntax errors…) makes it give up on the whole chunk, which
//! pest then parses. What it accepts, it turns into exactly the tree the grammar and the
//! parser give, spans included (a test compares the two on every intent file of the
//! repository).

use super::ast::{Block, Entry, Ident, Item, Setting, Value, ValueKind, Word};
use crate::source::{FileId, Span};

/// The items of `text` (whole top-level items starting at byte `base` of file `file`), or
/// `None` when some of it is not of the plain shape.
pub(super) fn items(text: &str, base: usize, file: FileId) -> Option<Vec<Item>> {
    let mut p = Direct {
        text,
        bytes: text.as_bytes(),
        at: 0,
        base,
        file,
        header: Vec::new(),
        entries: Vec::new(),
    };
    let mut out = Vec::new();
    loop {
        p.blanks();
        if p.at == p.bytes.len() {
            return Some(out);
        }
        out.push(Item::Block(p.block()?));
    }
}

struct Direct<'t> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
    base: usize,
    file: FileId,
    /// The header and entries of the block being read: each block's lists are then made
    /// at their length in one allocation.
    header: Vec<Word>,
    entries: Vec<Entry>,
}

fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl Direct<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.base + start, self.base + end)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// The grammar's implicit WHITESPACE (comments are blanked before parsing).
    fn blanks(&mut self) {
        while self.peek().is_some_and(blank) {
            self.at += 1;
        }
    }

    /// `ident`: a letter or `_`, then letters, digits, `_` and `-`.
    fn ident(&mut self) -> Option<Ident> {
        let start = self.at;
        if !self.peek().is_some_and(ident_start) {
            return None;
        }
        while self.peek().is_some_and(ident_char) {
            self.at += 1;
        }
        Some(Ident {
            name: self.text[start..self.at].to_string(),
            span: self.span(start, self.at),
        })
    }

    /// A string without escapes, with its span (quotes included).
    fn string(&mut self) -> Option<(String, Span)> {
        let start = self.at;
        debug_assert_eq!(self.peek(), Some(b'"'));
        let body = start + 1;
        let len = self.bytes[body..]
            .iter()
            .position(|&b| matches!(b, b'"' | b'\\' | b'\n'))?;
        if self.bytes[body + len] != b'"' {
            return None;
        }
        self.at = body + len + 1;
        Some((self.text[body..body + len].to_string(), self.span(start, self.at)))
    }

    /// `kind words… { settings }` at the top level.
    fn block(&mut self) -> Option<Block> {
        let start = self.at;
        let kind = self.ident()?;
        // `include …` is an include (or, failing that, an error): left to pest.
        if kind.name == "include" {
            return None;
        }
        self.header.clear();
        loop {
            self.blanks();
            match self.peek()? {
                b'{' => break,
                b'"' => {
                    let (text, span) = self.string()?;
                    self.header.push(Word {
                        text,
                        quoted: true,
                        span,
                    });
                }
                _ => {
                    let id = self.ident()?;
                    self.header.push(Word {
                        text: id.name,
                        quoted: false,
                        span: id.span,
                    });
                }
            }
        }
        self.at += 1; // `{`
        self.entries.clear();
        loop {
            self.blanks();
            if self.peek()? == b'}' {
                self.at += 1;
                break;
            }
            let setting = self.setting()?;
            self.entries.push(Entry::Setting(setting));
        }
        Some(Block {
            kind,
            header: self.header.drain(..).collect(),
            entries: self.entries.drain(..).collect(),
            span: self.span(start, self.at),
        })
    }

    /// `name = value`, with an optional `,`. Like pest's, the span runs over the blanks
    /// after the value, which the grammar skips before looking for the `,`.
    fn setting(&mut self) -> Option<Setting> {
        let start = self.at;
        let name = self.ident()?;
        // `allow CODE "why"` and nested blocks are left to pest.
        if name.name == "allow" {
            return None;
        }
        self.blanks();
        if self.peek()? != b'=' {
            return None;
        }
        self.at += 1;
        self.blanks();
        let value = self.value()?;
        self.blanks();
        if self.peek() == Some(b',') {
            self.at += 1;
        }
        Some(Setting {
            name,
            value,
            span: self.span(start, self.at),
        })
    }

    fn value(&mut self) -> Option<Value> {
        let start = self.at;
        let kind = match self.peek()? {
            b'"' => {
                let (text, span) = self.string()?;
                return Some(Value {
                    kind: ValueKind::Str(text),
                    span,
                });
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.blanks();
                    if self.peek()? == b']' {
                        break;
                    }
                    items.push(self.value()?);
                    self.blanks();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => break,
                        _ => return None,
                    }
                }
                self.at += 1; // `]`
                ValueKind::List(items)
            }
            _ => self.word()?,
        };
        Some(Value {
            kind,
            span: self.span(start, self.at),
        })
    }

    /// A bare word: a host name, a name, `true` or `false`, or a whole number. The grammar
    /// tries calls, addresses, dates, durations and sizes first: a word that could be one
    /// of those, or that the grammar would cut short, is left to pest.
    fn word(&mut self) -> Option<ValueKind> {
        let start = self.at;
        while self.peek().is_some_and(|b| ident_char(b) || b == b'.') {
            self.at += 1;
        }
        let word = &self.text[start..self.at];
        // What follows must end the value: anything else (`:` or `/` of an address, `(` of
        // a call, a character the grammar does not know) is pest's to judge.
        if !self.peek().is_none_or(|b| blank(b) || matches!(b, b',' | b']' | b'}')) {
            return None;
        }
        let after = self.bytes[self.at..].iter().find(|&&b| !blank(b));
        let first = *word.as_bytes().first()?;
        if first.is_ascii_digit() {
            // Digits only: the grammar's `number` (addresses, dates and units have more).
            if !word.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            return word.parse().ok().map(ValueKind::Int);
        }
        if !first.is_ascii_alphabetic() {
            return None;
        }
        if after == Some(&b'(') {
            return None; // a call
        }
        if word == "true" || word == "false" {
            return Some(ValueKind::Bool(word == "true"));
        }
        // A host name's labels (between dots) start with a letter or digit, none is empty.
        let (mut dotted, mut labels_ok, mut label_start) = (false, true, true);
        for &b in word.as_bytes() {
            labels_ok &= !label_start || b.is_ascii_alphanumeric();
            label_start = b == b'.';
            dotted |= label_start;
        }
        labels_ok &= !label_start;
        if !dotted {
            return Some(ValueKind::Ref(word.to_string()));
        }
        // `true.x` is the boolean `true` and then an error.
        if !labels_ok || word.starts_with("true.") || word.starts_with("false.") {
            return None;
        }
        Some(ValueKind::Hostname(word.to_string()))
    }
}
