//! Typed reads of validated settings. Values were checked against the schema, so a read
//! either finds the declared type or the setting is absent (or was dropped for an error).

use super::Checked;
use crate::source::Span;
use crate::syntax::ast::{Date, Field, Value, ValueKind};

impl Checked {
    fn setting(&self, name: &str) -> Option<&Value> {
        self.settings.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn raw(&self, name: &str) -> Option<&ValueKind> {
        self.setting(name).map(|v| &v.kind)
    }

    /// Whether the setting was written at all, valid or not.
    pub fn given(&self, name: &str) -> bool {
        self.spec
            .fields()
            .position(|f| f.name == name)
            .is_some_and(|k| self.given & (1 << k) != 0)
    }

    /// Whether the setting is present and valid.
    pub fn has(&self, name: &str) -> bool {
        self.setting(name).is_some()
    }

    /// Span of a setting's value, or of the block kind when absent.
    pub fn span_of(&self, name: &str) -> Span {
        self.setting(name).map_or(self.kind_span, |v| v.span)
    }

    /// A string, host name, enum word or version as text.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.raw(name)? {
            ValueKind::Str(s) | ValueKind::Hostname(s) | ValueKind::Ref(s) => Some(s),
            _ => None,
        }
    }

    /// An integer.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.raw(name)? {
            ValueKind::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The Exchange version as written, normalised (`2010`, `se`, `online`).
    pub fn version(&self, name: &str) -> Option<String> {
        match self.raw(name)? {
            ValueKind::Int(n) => Some(n.to_string()),
            ValueKind::Str(s) | ValueKind::Ref(s) => Some(s.to_ascii_lowercase()),
            _ => None,
        }
    }

    /// A boolean.
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.raw(name)? {
            ValueKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A size in bytes.
    pub fn size(&self, name: &str) -> Option<u64> {
        match self.raw(name)? {
            ValueKind::Size(n) => Some(*n),
            _ => None,
        }
    }

    /// A duration in seconds.
    pub fn duration(&self, name: &str) -> Option<u64> {
        match self.raw(name)? {
            ValueKind::Duration(n) => Some(*n),
            _ => None,
        }
    }

    /// A date.
    pub fn date(&self, name: &str) -> Option<Date> {
        match self.raw(name)? {
            ValueKind::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// An IP address as text.
    pub fn ip(&self, name: &str) -> Option<String> {
        match self.raw(name)? {
            ValueKind::Ip(a) => Some(a.to_string()),
            _ => None,
        }
    }

    /// Every element of a list as text: strings, host names, words, names, addresses, ranges.
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.raw(name) {
            Some(ValueKind::List(items)) => items
                .iter()
                .filter_map(|v| match &v.kind {
                    ValueKind::Str(s) | ValueKind::Hostname(s) | ValueKind::Ref(s) => Some(s.clone()),
                    ValueKind::Ip(a) => Some(a.to_string()),
                    ValueKind::Cidr(a, p) => Some(format!("{a}/{p}")),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Spans of a list's elements, paired with their text.
    pub fn list_spans(&self, name: &str) -> Vec<(String, Span)> {
        match self.raw(name) {
            Some(ValueKind::List(items)) => items
                .iter()
                .filter_map(|v| match &v.kind {
                    ValueKind::Str(s) | ValueKind::Hostname(s) | ValueKind::Ref(s) => Some((s.clone(), v.span)),
                    ValueKind::Ip(a) => Some((a.to_string(), v.span)),
                    ValueKind::Cidr(a, p) => Some((format!("{a}/{p}"), v.span)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The fields of a record.
    pub fn record(&self, name: &str) -> Option<&[Field]> {
        match self.raw(name)? {
            ValueKind::Record(f) => Some(f),
            _ => None,
        }
    }

    /// The records of a list of records.
    pub fn records(&self, name: &str) -> Vec<&[Field]> {
        match self.raw(name) {
            Some(ValueKind::List(items)) => items
                .iter()
                .filter_map(|v| match &v.kind {
                    ValueKind::Record(f) => Some(f.as_slice()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The secret name of `secret("NAME")` (also inside `basic(…)`).
    pub fn secret(&self, name: &str) -> Option<&str> {
        fn inner(v: &ValueKind) -> Option<&str> {
            match v {
                ValueKind::Call(f, args) if f.name == "secret" => match args.first().map(|a| &a.kind) {
                    Some(ValueKind::Str(s)) => Some(s),
                    _ => None,
                },
                ValueKind::Call(f, args) if f.name == "basic" => args.first().and_then(|a| inner(&a.kind)),
                _ => None,
            }
        }
        inner(self.raw(name)?)
    }

    /// The path of `file("path")`.
    pub fn file(&self, name: &str) -> Option<&str> {
        match self.raw(name)? {
            ValueKind::Call(f, args) if f.name == "file" => match args.first().map(|a| &a.kind) {
                Some(ValueKind::Str(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A text field of a record.
pub fn field_text<'a>(fields: &'a [Field], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|f| f.name.name == name)
        .and_then(|f| match &f.value.kind {
            ValueKind::Str(s) | ValueKind::Hostname(s) | ValueKind::Ref(s) => Some(s.as_str()),
            _ => None,
        })
}

/// An integer field of a record.
pub fn field_int(fields: &[Field], name: &str) -> Option<i64> {
    fields
        .iter()
        .find(|f| f.name.name == name)
        .and_then(|f| match f.value.kind {
            ValueKind::Int(n) => Some(n),
            _ => None,
        })
}

/// A boolean field of a record.
pub fn field_bool(fields: &[Field], name: &str) -> Option<bool> {
    fields
        .iter()
        .find(|f| f.name.name == name)
        .and_then(|f| match f.value.kind {
            ValueKind::Bool(b) => Some(b),
            _ => None,
        })
}

/// The span of a record field's value.
pub fn field_span(fields: &[Field], name: &str) -> Option<Span> {
    fields.iter().find(|f| f.name.name == name).map(|f| f.value.span)
}
