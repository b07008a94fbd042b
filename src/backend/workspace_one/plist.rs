//! A property list value and its XML form (Apple's `PropertyList-1.0` DTD), written with
//! quick-xml's writer: every string goes through the XML writer's escaping, never `format!`.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// A plist value. Dictionaries are written with sorted keys, so the output is deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    /// `<string>`.
    String(String),
    /// `<integer>`.
    Integer(i64),
    /// `<true/>` / `<false/>`.
    Boolean(bool),
    /// `<data>` (base64; only empty data is written by this backend).
    Data(Vec<u8>),
    /// `<array>`.
    Array(Vec<Value>),
    /// `<dict>`.
    Dict(Dict),
}

/// A dictionary; written with its keys sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Dict(Vec<(String, Value)>);

impl Dict {
    /// An empty dictionary.
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Adds a key (builder style). A key given twice is a bug in the caller.
    pub(super) fn with(mut self, key: &str, value: Value) -> Self {
        debug_assert!(self.0.iter().all(|(k, _)| k != key), "plist key {key} twice");
        self.0.push((key.to_string(), value));
        self
    }

    /// Adds a string.
    pub(super) fn s(self, key: &str, value: &str) -> Self {
        self.with(key, Value::String(value.to_string()))
    }
}

/// The XML document for a top-level dictionary: declaration, DOCTYPE, `<plist version="1.0">`,
/// tab indentation as Apple's tools write it, final newline.
pub(super) fn to_xml(root: &Dict) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b'\t', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::DocType(BytesText::from_escaped(
        r#"plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd""#,
    )))?;
    let mut start = BytesStart::new("plist");
    start.push_attribute(("version", "1.0"));
    w.write_event(Event::Start(start))?;
    dict(&mut w, root)?;
    w.write_event(Event::End(BytesEnd::new("plist")))?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

fn text(w: &mut Writer<Vec<u8>>, tag: &str, body: &str) -> std::io::Result<()> {
    w.create_element(tag).write_text_content(BytesText::new(body))?;
    Ok(())
}

fn dict(w: &mut Writer<Vec<u8>>, d: &Dict) -> std::io::Result<()> {
    if d.0.is_empty() {
        return w.write_event(Event::Empty(BytesStart::new("dict")));
    }
    w.write_event(Event::Start(BytesStart::new("dict")))?;
    // Keys sorted, as Apple's own tools write them: the builder's order does not matter.
    let mut entries: Vec<&(String, Value)> = d.0.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in entries {
        text(w, "key", k)?;
        value(w, v)?;
    }
    w.write_event(Event::End(BytesEnd::new("dict")))
}

fn value(w: &mut Writer<Vec<u8>>, v: &Value) -> std::io::Result<()> {
    match v {
        Value::String(s) => text(w, "string", s),
        Value::Integer(i) => text(w, "integer", &i.to_string()),
        Value::Boolean(b) => w.write_event(Event::Empty(BytesStart::new(if *b { "true" } else { "false" }))),
        Value::Data(bytes) => text(w, "data", &base64(bytes)),
        Value::Array(items) => {
            if items.is_empty() {
                return w.write_event(Event::Empty(BytesStart::new("array")));
            }
            w.write_event(Event::Start(BytesStart::new("array")))?;
            for i in items {
                value(w, i)?;
            }
            w.write_event(Event::End(BytesEnd::new("array")))
        }
        Value::Dict(d) => dict(w, d),
    }
}

/// Standard base64 with padding (RFC 4648), as plist `<data>` holds it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn strings_are_escaped_by_the_writer() {
        let d = Dict::new().s("Name", "a<b>&\"c'");
        let xml = String::from_utf8(to_xml(&d).unwrap()).unwrap();
        assert!(xml.contains("<string>a&lt;b&gt;&amp;"), "{xml}");
        assert!(!xml.contains("a<b>"), "{xml}");
    }
}
