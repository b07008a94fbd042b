//! The syntax tree. Generic on purpose: blocks, settings and values. What each block kind
//! means is the checker's business.

use crate::source::Span;
use std::net::IpAddr;

/// One parsed file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct File {
    /// Includes and blocks, in order.
    pub items: Vec<Item>,
    /// Comments, kept for a formatter.
    pub comments: Vec<Comment>,
}

/// A top-level item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `include "path"`.
    Include(Include),
    /// `kind name { ... }`.
    Block(Block),
}

/// `include "path"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    /// The path as written (escapes resolved).
    pub path: String,
    /// Span of the path string.
    pub path_span: Span,
    /// Span of the whole item.
    pub span: Span,
}

/// A comment, `#` to end of line.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Text after `#`.
    pub text: String,
    /// Span including `#`.
    pub span: Span,
}

/// An identifier with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A header word: a bare identifier or a quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text (escapes resolved for strings).
    pub text: String,
    /// Whether it was quoted.
    pub quoted: bool,
    /// Where it is.
    pub span: Span,
}

/// `kind words… { entries }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The block kind (`server`, `certificate`, …).
    pub kind: Ident,
    /// Words between the kind and `{`.
    pub header: Vec<Word>,
    /// Settings and nested blocks, in order.
    pub entries: Vec<Entry>,
    /// The whole block.
    pub span: Span,
}

/// A block body entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// `name = value`.
    Setting(Setting),
    /// A nested block.
    Block(Block),
    /// `allow MS0229 "why"`: a suppression of one code on this block.
    Allow(Allow),
}

/// `allow CODE "reason"` inside a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Allow {
    /// The code as written (checked against the catalogue by the checker).
    pub code: Ident,
    /// Why the finding does not apply, with the span of the string; `None` when missing.
    pub reason: Option<(String, Span)>,
    /// The whole suppression.
    pub span: Span,
}

/// `name = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The setting name.
    pub name: Ident,
    /// The value.
    pub value: Value,
    /// The whole setting.
    pub span: Span,
}

/// A value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What it is.
    pub kind: ValueKind,
    /// Where it is.
    pub span: Span,
}

/// Every kind of value the language has.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `"text"`.
    Str(String),
    /// `2048`.
    Int(i64),
    /// `true`.
    Bool(bool),
    /// `[a, b]`.
    List(Vec<Value>),
    /// `{ key = value, … }`.
    Record(Vec<Field>),
    /// `name(args…)`.
    Call(Ident, Vec<Value>),
    /// `76.75.133.96` or `2001:db8::1`.
    Ip(IpAddr),
    /// `10.0.0.0/8`.
    Cidr(IpAddr, u8),
    /// `2026-12-01`.
    Date(Date),
    /// `30d`, in seconds.
    Duration(u64),
    /// `10MiB`, in bytes.
    Size(u64),
    /// `smtp.tls.one-mail.on.ca`.
    Hostname(String),
    /// A bare identifier: a reference to a block or an enumeration word.
    Ref(String),
    /// A literal that failed validation (already reported).
    Invalid,
}

impl ValueKind {
    /// A short noun for messages ("a string", "a list").
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Str(_) => "a string",
            ValueKind::Int(_) => "a number",
            ValueKind::Bool(_) => "a boolean",
            ValueKind::List(_) => "a list",
            ValueKind::Record(_) => "a record",
            ValueKind::Call(..) => "a function call",
            ValueKind::Ip(_) => "an IP address",
            ValueKind::Cidr(..) => "an address range",
            ValueKind::Date(_) => "a date",
            ValueKind::Duration(_) => "a duration",
            ValueKind::Size(_) => "a size",
            ValueKind::Hostname(_) => "a host name",
            ValueKind::Ref(_) => "a name",
            ValueKind::Invalid => "an invalid value",
        }
    }
}

/// `name = value` inside a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The key.
    pub name: Ident,
    /// The value.
    pub value: Value,
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
