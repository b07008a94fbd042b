//! pest → AST. One function per rule; a shape the grammar cannot produce is a bug.

use super::ast::{
    Allow, Block, Comment, Date, Entry, Field, File, Ident, Include, Item, Setting, Value, ValueKind, Word,
};
use crate::diagnostics::{Code, Diag, Diagnostics};
use crate::source::{FileId, Span};
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mailsec.pest"]
struct Grammar;

/// Parses `text` (file `file`) into an AST. Syntax errors are pushed into `diags`; on a
/// syntax error the returned file is empty.
pub fn parse(text: &str, file: FileId, diags: &mut Diagnostics) -> File {
    // Comments are collected here and blanked out (same byte length, so spans hold) before
    // pest runs: skipping them in the grammar costs a rule call per character and made
    // comments the largest part of parsing well-commented intent.
    let comments = comments(text, file);
    let mut bytes = text.as_bytes().to_vec();
    for c in &comments {
        bytes[c.span.start as usize..c.span.end as usize].fill(b' ');
    }
    let blanked = String::from_utf8(bytes).expect("whole characters were replaced by spaces");
    let text = blanked.as_str();
    // pest keeps a token queue for everything it parses: parsed as one piece, a file of a
    // few hundred thousand blocks holds gigabytes of tokens. Top-level items are parsed in
    // chunks instead; any chunk that fails sends the whole file down the error path, so
    // diagnostics are exactly those of a whole-file parse.
    let mut items = Vec::new();
    let mut found = Diagnostics::new();
    let mut chunked = true;
    'chunks: for (start, end) in chunks(text) {
        // Plain intent is read directly; when a chunk is not all plain, its plain items
        // still are, and pest takes only the items the direct parser leaves.
        if let Some(direct) = super::direct::items(&text[start..end], start, file) {
            items.extend(direct);
            continue;
        }
        for (start, end) in cut(text, start, end, 1) {
            if let Some(direct) = super::direct::items(&text[start..end], start, file) {
                items.extend(direct);
                continue;
            }
            let Ok(mut pairs) = Grammar::parse(Rule::file, &text[start..end]) else {
                chunked = false;
                break 'chunks;
            };
            let top = pairs.next().expect("grammar: `file` yields one pair");
            let mut cx = Cx {
                file,
                base: start,
                diags: &mut found,
            };
            cx.items(top, &mut items);
        }
    }
    if chunked {
        diags.extend(found);
        return File { items, comments };
    }
    match Grammar::parse(Rule::file, text) {
        // Not expected (a chunk holds whole items), but then the whole file is the answer.
        Ok(mut pairs) => {
            let top = pairs.next().expect("grammar: `file` yields one pair");
            let mut cx = Cx { file, base: 0, diags };
            let mut items = Vec::new();
            cx.items(top, &mut items);
            File { items, comments }
        }
        Err(_) => {
            // Re-parse with pest's detailed tracking to learn which punctuation was expected;
            // tracking costs time, so it is switched on only once a file has failed.
            pest::set_error_detail(true);
            recover(text, file, diags);
            File::default()
        }
    }
}

/// Reports every syntax error of a file that failed to parse: the file is cut into
/// top-level items (a line that starts in column 0 with a name starts one) and each is
/// parsed on its own, so one mistake does not hide the next, and a block that is not
/// closed is reported where its `}` is missing rather than at the end of the file.
fn recover(text: &str, file: FileId, diags: &mut Diagnostics) {
    let starts = item_starts(text);
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        let chunk = &text[start..end];
        let Err(e) = Grammar::parse(Rule::file, chunk) else {
            continue;
        };
        let next = (end < text.len()).then(|| first_line(&text[end..]));
        let d = syntax_error(&e, chunk, file, next.clone());
        let reported_unclosed = d.message.starts_with("missing `}`");
        diags.push(shift(d, start));
        // A block that is also never closed: say so too, where its `}` is missing.
        if !reported_unclosed {
            if let Some(d) = unclosed_diag(chunk, file, next.as_deref()) {
                diags.push(shift(d, start));
            }
        }
    }
}

/// Byte offsets where top-level items start (always including 0).
fn item_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if at > 0 && line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            starts.push(at);
        }
        at += line.len();
    }
    starts
}

/// The first line of `text`, trimmed, for messages.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let line = line.strip_suffix('{').unwrap_or(line).trim_end();
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(60).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Moves a diagnostic made on a slice starting at `by` to file positions.
fn shift(mut d: Diag, by: usize) -> Diag {
    let by = u32::try_from(by).unwrap_or(u32::MAX);
    let mv = |s: Span| Span {
        file: s.file,
        start: s.start.saturating_add(by),
        end: s.end.saturating_add(by),
    };
    d.span = mv(d.span);
    for (s, _) in &mut d.labels {
        *s = mv(*s);
    }
    d
}

/// The lines a parse error may be about: the line of `pos`, then the previous non-blank
/// line (pest reports a missing `=`, `]` or `}` at the token after it, often on the next
/// line). Each as (start, end) without the line break.
fn culprit_lines(text: &str, pos: usize) -> Vec<(usize, usize)> {
    let line_start = text[..pos].rfind('\n').map_or(0, |n| n + 1);
    let line_end = text[pos..].find('\n').map_or(text.len(), |n| pos + n);
    let mut out = vec![(line_start, line_end)];
    let mut end = line_start;
    while end > 0 {
        end -= 1;
        let start = text[..end].rfind('\n').map_or(0, |n| n + 1);
        if !text[start..end].trim().is_empty() {
            out.push((start, end));
            break;
        }
        end = start;
    }
    out
}

/// `name value` inside a block, where `name = value` was meant.
fn missing_equals(text: &str, pos: usize, file: FileId) -> Option<Diag> {
    culprit_lines(text, pos)
        .into_iter()
        .find_map(|(start, end)| missing_equals_on(text, start, end, file))
}

fn missing_equals_on(text: &str, start: usize, end: usize, file: FileId) -> Option<Diag> {
    let line = &text[start..end];
    let body = line.trim_start();
    let indent = line.len() - body.len();
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(body.len());
    let (name, rest) = body.split_at(name_len);
    let value = rest.trim();
    let is_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    let inside_block = depth_at(text, start) > 0;
    if !is_name
        || !rest.starts_with([' ', '\t'])
        || value.is_empty()
        || value.starts_with(['=', '{', ':'])
        || value.ends_with('{')
        || value.contains(" = ")
        || !inside_block
    {
        return None;
    }
    let at = start + indent + name_len;
    Some(
        Diag::new(
            Code::Syntax,
            Span::new(file, at, at + 1),
            format!("missing `=` between `{name}` and its value"),
        )
        .label("`=` goes here")
        .help(format!("write `{name} = {value}`")),
    )
}

/// `[a, b` with the `]` forgotten at the end of the line.
fn missing_bracket(text: &str, pos: usize, file: FileId) -> Option<Diag> {
    culprit_lines(text, pos)
        .into_iter()
        .find_map(|(start, end)| missing_bracket_on(text, start, end, file))
}

fn missing_bracket_on(text: &str, start: usize, end: usize, file: FileId) -> Option<Diag> {
    let line = &text[start..end];
    let bracket = innermost_open(line, b'[', b']')?;
    let trimmed = line.trim_end();
    // A list that continues on the next line ends its line with `,` or `[`; a `}` or `)`
    // after the `[` means something else is wrong on this line.
    let after = &trimmed[(bracket + 1).min(trimmed.len())..];
    if trimmed.ends_with([',', '[']) || after.trim().is_empty() || after.contains(['}', ')']) {
        return None;
    }
    let last = start + trimmed.len() - trimmed.chars().next_back().map_or(1, char::len_utf8);
    Some(
        Diag::new(
            Code::Syntax,
            Span::new(file, last, start + trimmed.len()),
            "missing `]` at the end of the list",
        )
        .label("the list needs `]` after this")
        .with(
            Span::new(file, start + bracket, start + bracket + 1),
            "the list starts here",
        )
        .help("close the list with `]`; a list that goes on over several lines ends each line with `,`"),
    )
}

/// A block of `text` (one top-level item) that is never closed, reported where its `}` is
/// missing: after the item's last line, before `next` (the following item's first line).
fn unclosed_diag(text: &str, file: FileId, next: Option<&str>) -> Option<Diag> {
    let (open, what) = unclosed(text)?;
    let content = text.trim_end();
    let last = content.len() - content.chars().next_back().map_or(0, char::len_utf8);
    let before = match next {
        Some(n) => format!("before `{n}`"),
        None => "before the end of the file".to_string(),
    };
    Some(
        Diag::new(
            Code::Syntax,
            Span::new(file, last, content.len()),
            format!("missing `}}` to close {what} {before}"),
        )
        .label("`}` missing after this line")
        .with(Span::new(file, open, open + 1), "this `{` is never closed")
        .help(format!("add `}}` on a line of its own here, {before}")),
    )
}

/// How many `{` are open at `pos` (strings skipped).
fn depth_at(text: &str, pos: usize) -> usize {
    let bytes = &text.as_bytes()[..pos];
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = super::prescan::string_end(bytes, i),
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    depth
}

/// Smallest chunk parsed on its own.
const CHUNK: usize = 64 * 1024;

/// Byte ranges of `text` that each hold whole top-level items: cut after a `}` that closes
/// a top-level block (outside strings; comments are already blanked) once a chunk is at
/// least [`CHUNK`] long. Unbalanced text simply yields chunks that fail to parse.
fn chunks(text: &str) -> Vec<(usize, usize)> {
    cut(text, 0, text.len(), CHUNK)
}

/// The range `from..to` of `text` (whole items) cut after each `}` that closes a top-level
/// block once a piece is at least `min` bytes long; `min` = 1 gives one item a piece (an
/// `include` goes with the block after it).
fn cut(text: &str, from: usize, to: usize, min: usize) -> Vec<(usize, usize)> {
    let bytes = &text.as_bytes()[..to];
    let mut out = Vec::new();
    let (mut start, mut depth, mut i) = (from, 0usize, from);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = super::prescan::string_end(bytes, i),
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && i + 1 - start >= min {
                    out.push((start, i + 1));
                    start = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() || out.is_empty() {
        out.push((start, bytes.len()));
    }
    out
}

struct Cx<'d> {
    file: FileId,
    /// Offset of the parsed chunk in the file.
    base: usize,
    diags: &'d mut Diagnostics,
}

impl Cx<'_> {
    /// The items of a `file` pair.
    fn items(&mut self, top: Pair<'_, Rule>, out: &mut Vec<Item>) {
        for pair in top.into_inner() {
            match pair.as_rule() {
                Rule::include => out.push(Item::Include(self.include(pair))),
                Rule::block => out.push(Item::Block(self.block(pair))),
                Rule::EOI => {}
                r => unreachable!("grammar: unexpected {r:?} in file"),
            }
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.base + s.start(), self.base + s.end())
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        debug_assert_eq!(pair.as_rule(), Rule::ident);
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn include(&mut self, pair: Pair<'_, Rule>) -> Include {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let _kw = inner.next().expect("grammar: include keyword");
        let s = inner.next().expect("grammar: include path");
        let path_span = self.span(&s);
        let path = self.string(s);
        Include { path, path_span, span }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let kind = self.ident(inner.next().expect("grammar: block kind"));
        let mut header = Vec::new();
        let mut entries = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::ident => {
                    let id = self.ident(p);
                    header.push(Word {
                        text: id.name,
                        quoted: false,
                        span: id.span,
                    });
                }
                Rule::string => {
                    let sp = self.span(&p);
                    header.push(Word {
                        text: self.string(p),
                        quoted: true,
                        span: sp,
                    });
                }
                Rule::setting => entries.push(Entry::Setting(self.setting(p))),
                Rule::block => entries.push(Entry::Block(self.block(p))),
                Rule::allow => entries.push(Entry::Allow(self.allow(p))),
                r => unreachable!("grammar: unexpected {r:?} in block"),
            }
        }
        // Pushing leaves room for four entries; most blocks have fewer, and a large unit
        // holds hundreds of thousands of blocks until they are validated.
        header.shrink_to_fit();
        entries.shrink_to_fit();
        Block {
            kind,
            header,
            entries,
            span,
        }
    }

    fn allow(&mut self, pair: Pair<'_, Rule>) -> Allow {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let _kw = inner.next().expect("grammar: allow keyword");
        let code = self.ident(inner.next().expect("grammar: allow code"));
        let reason = inner.next().map(|s| {
            let sp = self.span(&s);
            (self.string(s), sp)
        });
        Allow { code, reason, span }
    }

    fn setting(&mut self, pair: Pair<'_, Rule>) -> Setting {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: setting name"));
        let value = self.value(inner.next().expect("grammar: setting value"));
        Setting { name, value, span }
    }

    fn value(&mut self, pair: Pair<'_, Rule>) -> Value {
        let span = self.span(&pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::string => ValueKind::Str(self.string(pair)),
            Rule::list => ValueKind::List(pair.into_inner().map(|p| self.value(p)).collect()),
            Rule::record => ValueKind::Record(
                pair.into_inner()
                    .map(|f| {
                        let mut it = f.into_inner();
                        let name = self.ident(it.next().expect("grammar: field name"));
                        let value = self.value(it.next().expect("grammar: field value"));
                        Field { name, value }
                    })
                    .collect(),
            ),
            Rule::call => {
                let mut it = pair.into_inner();
                let name = self.ident(it.next().expect("grammar: call name"));
                ValueKind::Call(name, it.map(|p| self.value(p)).collect())
            }
            Rule::boolean => ValueKind::Bool(text == "true"),
            Rule::reference => ValueKind::Ref(text.to_string()),
            Rule::hostname => ValueKind::Hostname(text.to_string()),
            Rule::number => match text.parse::<i64>() {
                Ok(n) => ValueKind::Int(n),
                Err(_) => self.invalid(span, "number is too large", "numbers are 64-bit integers"),
            },
            Rule::ipv4 => match text.parse::<Ipv4Addr>() {
                Ok(a) => ValueKind::Ip(IpAddr::V4(a)),
                Err(_) => self.invalid(
                    span,
                    &format!("`{text}` is not an IPv4 address"),
                    "each of the four parts is 0..=255, without leading zeros",
                ),
            },
            Rule::ipv6 => match text.parse::<Ipv6Addr>() {
                Ok(a) => ValueKind::Ip(IpAddr::V6(a)),
                Err(_) => self.invalid(
                    span,
                    &format!("`{text}` is not an IPv6 address"),
                    "write eight groups of hex digits, with `::` once for a run of zeros",
                ),
            },
            Rule::cidr4 | Rule::cidr6 => self.cidr(text, span),
            Rule::date => self.date(text, span),
            Rule::duration => self.duration(text, span),
            Rule::size => self.size(text, span),
            r => unreachable!("grammar: unexpected {r:?} as a value"),
        };
        Value { kind, span }
    }

    fn invalid(&mut self, span: Span, message: &str, help: &str) -> ValueKind {
        self.diags.push(
            Diag::new(Code::InvalidLiteral, span, message)
                .label("invalid value")
                .help(help),
        );
        ValueKind::Invalid
    }

    fn cidr(&mut self, text: &str, span: Span) -> ValueKind {
        let (addr, prefix) = text.split_once('/').expect("grammar: cidr has `/`");
        let Ok(addr) = addr.parse::<IpAddr>() else {
            return self.invalid(
                span,
                &format!("`{text}` is not an address range"),
                "write an address and a prefix length, like `10.0.0.0/8` or `2001:db8::/32`",
            );
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        match prefix.parse::<u8>() {
            Ok(p) if p <= max => ValueKind::Cidr(addr, p),
            _ => self.invalid(
                span,
                &format!("prefix length `/{prefix}` is larger than {max}"),
                &format!(
                    "the prefix length of an {} range is 0..={max}",
                    if max == 32 { "IPv4" } else { "IPv6" }
                ),
            ),
        }
    }

    fn date(&mut self, text: &str, span: Span) -> ValueKind {
        let parts: Vec<u32> = text.split('-').filter_map(|p| p.parse().ok()).collect();
        if let [y, m, d] = parts[..] {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let days = match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 if leap => 29,
                2 => 28,
                _ => 0,
            };
            if (1..=days).contains(&d) && (1900..=9999).contains(&y) {
                return ValueKind::Date(Date {
                    year: y as u16,
                    month: m as u8,
                    day: d as u8,
                });
            }
        }
        self.invalid(
            span,
            &format!("`{text}` is not a calendar date"),
            "write a date as YYYY-MM-DD, like `2026-12-01`",
        )
    }

    fn duration(&mut self, text: &str, span: Span) -> ValueKind {
        let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &text[digits.len()..];
        let mult: u64 = match unit {
            "ms" => 0,
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => unreachable!("grammar: duration unit {unit}"),
        };
        match digits
            .parse::<u64>()
            .ok()
            .and_then(|n| if mult == 0 { Some(n / 1000) } else { n.checked_mul(mult) })
        {
            Some(secs) => ValueKind::Duration(secs),
            None => self.invalid(
                span,
                "duration is too large",
                "durations count in seconds as 64-bit integers",
            ),
        }
    }

    fn size(&mut self, text: &str, span: Span) -> ValueKind {
        let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &text[digits.len()..];
        let mult: u64 = match unit {
            "B" => 1,
            "KB" => 1000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "KiB" => 1024,
            "MiB" => 1024 * 1024,
            "GiB" => 1024 * 1024 * 1024,
            _ => unreachable!("grammar: size unit {unit}"),
        };
        match digits.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)) {
            Some(bytes) => ValueKind::Size(bytes),
            None => self.invalid(span, "size is too large", "sizes count in bytes as 64-bit integers"),
        }
    }

    /// Resolves escapes of a `string` pair.
    fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        debug_assert_eq!(pair.as_rule(), Rule::string);
        let span = self.span(&pair);
        let raw = pair.as_str();
        let body = &raw[1..raw.len() - 1];
        let mut out = String::with_capacity(body.len());
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next().map(|(_, c)| c) {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('u') if braced_hex(&body[i + 2..]).is_some() => {
                    // As the grammar reads it: `{`, one to six hex digits, `}`.
                    let digits = braced_hex(&body[i + 2..]).unwrap_or_default();
                    let hex = &body[i + 3..i + 3 + digits];
                    for _ in 0..digits + 2 {
                        chars.next();
                    }
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => {
                            let start = span.start as usize + 1 + i;
                            let esc = Span::new(self.file, start, start + 4 + digits);
                            self.diags.push(
                                Diag::new(
                                    Code::InvalidLiteral,
                                    esc,
                                    format!("`\\u{{{hex}}}` is not a Unicode character"),
                                )
                                .label("invalid escape")
                                .help("use a scalar value: 0..=D7FF or E000..=10FFFF"),
                            );
                        }
                    }
                }
                Some('u') => {
                    // `\u` without a well-formed `{hex}` after it: keep the text as written.
                    let start = span.start as usize + 1 + i;
                    self.diags.push(
                        Diag::new(
                            Code::InvalidLiteral,
                            Span::new(self.file, start, start + 2),
                            "malformed `\\u{…}` escape in a string",
                        )
                        .label("expected `{`, one to six hex digits and `}` after `\\u`")
                        .help("write a character by its code point as `\\u{202E}`, or a backslash as `\\\\`"),
                    );
                    out.push_str("\\u");
                }
                other => {
                    // Unknown escape, typically a Windows path or DOMAIN\\user written with one
                    // backslash: report it and keep the text as written.
                    let c = other.expect("grammar: a backslash is followed by a character");
                    let start = span.start as usize + 1 + i;
                    self.diags.push(
                        Diag::new(Code::InvalidLiteral, Span::new(self.file, start, start + 1 + c.len_utf8()), format!("unknown escape `\\{c}` in a string"))
                            .label("unknown escape")
                            .help("a backslash is written `\\\\` (as in \"CONTOSO\\\\svc-eas\"); the escapes are \\\" \\\\ \\n \\t \\r \\u{…}"),
                    );
                    out.push('\\');
                    out.push(c);
                }
            }
        }
        out
    }
}

/// The number of hex digits of a well-formed `{hex}` (one to six digits, then `}`) at the
/// start of `rest`, as the grammar's `escape` rule accepts it after `\u`.
fn braced_hex(rest: &str) -> Option<usize> {
    let inner = rest.strip_prefix('{')?;
    let digits = inner.bytes().take_while(u8::is_ascii_hexdigit).count();
    ((1..=6).contains(&digits) && inner[digits..].starts_with('}')).then_some(digits)
}

/// Collects `#` comments outside strings.
fn comments(text: &str, file: FileId) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = super::prescan::string_end(bytes, i),
            b'#' => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                out.push(Comment {
                    text: text[start + 1..i].trim_end_matches('\r').to_string(),
                    span: Span::new(file, start, i),
                });
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Readable name of what a rule stands for, for "expected …" messages.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::file | Rule::EOI => "end of file",
        Rule::include | Rule::kw_include => "`include`",
        // Suppressions are rare: naming them in every "expected …" inside a block is noise.
        Rule::allow | Rule::kw_allow => return None,
        Rule::block => "a block",
        Rule::setting => "a setting (`name = value`)",
        Rule::ident => "a name",
        Rule::list => "a list `[…]`",
        Rule::record => "a record `{ key = value }`",
        Rule::field => "a record field (`key = value`)",
        Rule::call => "a call like `secret(\"NAME\")`",
        Rule::boolean => "`true` or `false`",
        Rule::reference => "a name",
        Rule::hostname => "a host name",
        Rule::number => "a number",
        Rule::duration => "a duration like `30d`",
        Rule::size => "a size like `10MiB`",
        Rule::date => "a date like `2026-12-01`",
        Rule::ipv4 | Rule::ipv6 => "an IP address",
        Rule::cidr4 | Rule::cidr6 => "an address range",
        Rule::string | Rule::string_inner => "a string",
        Rule::item | Rule::entry => "a block or a setting",
        Rule::header => "a name",
        Rule::value => "a value",
        Rule::escape => "an escape (\\\" \\\\ \\n \\t \\r \\u{…})",
        Rule::WHITESPACE | Rule::COMMENT | Rule::ident_char | Rule::label | Rule::octet | Rule::ipv6_body => {
            return None
        }
    })
}

/// Turns pest's error into an MS0001 with plain-words expectations.
/// The diagnostic for a parse error of `text` (a whole file, or one top-level item of it;
/// `next` is the first line of the item that follows, if any).
fn syntax_error(e: &pest::error::Error<Rule>, text: &str, file: FileId, next: Option<String>) -> Diag {
    let mut pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // pest's own position can stop at the start of a construct that matched only partly;
    // the detailed attempts know how far it really got.
    if let Some(a) = e.parse_attempts() {
        let moved = a.max_position > pos
            && a.max_position <= text.len()
            && text.is_char_boundary(a.max_position)
            && !text[pos..a.max_position].contains(['"', '\n']);
        if moved {
            pos = a.max_position;
        }
    }
    let mut expected: Vec<&str> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().filter_map(|r| describe(*r)).collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    // A value position lists every literal kind; say "a value" instead of fifteen options.
    let literal_kinds = expected
        .iter()
        .filter(|d| {
            matches!(
                **d,
                "a string" | "a number" | "an IP address" | "a date like `2026-12-01`" | "a host name" | "a list `[…]`"
            )
        })
        .count();
    if literal_kinds >= 3 {
        expected.retain(|d| {
            !matches!(
                *d,
                "a string"
                    | "a number"
                    | "an IP address"
                    | "an address range"
                    | "a date like `2026-12-01`"
                    | "a duration like `30d`"
                    | "a size like `10MiB`"
                    | "a host name"
                    | "a list `[…]`"
                    | "a record `{ key = value }`"
                    | "a call like `secret(\"NAME\")`"
                    | "`true` or `false`"
                    | "a name"
            )
        });
        expected.insert(0, "a value");
    }
    // Punctuation is not a rule, so it is not in `positives`; pest's parse attempts have it.
    if let Some(attempts) = e.parse_attempts() {
        for token in attempts.expected_tokens() {
            {
                let d = match token.to_string().as_str() {
                    "}" => "`}`",
                    "{" => "`{`",
                    "=" => "`=`",
                    "]" => "`]`",
                    ")" => "`)`",
                    "(" => "`(`",
                    "," => "`,`",
                    "\"" => "`\"`",
                    _ => continue,
                };
                expected.push(d);
            }
        }
    }
    // Drop punctuation already implied by a listed construct.
    if expected.contains(&"a value") {
        expected.retain(|d| !matches!(*d, "`{`" | "`[`" | "`\"`" | "`(`"));
    }
    if expected.contains(&"a string") {
        expected.retain(|d| *d != "`\"`");
    }
    let found = found_at(text, pos);
    let at_end = pos >= text.len();
    let mut uniq: Vec<&str> = Vec::new();
    for x in expected {
        if !uniq.contains(&x) {
            uniq.push(x);
        }
    }
    // In a block body, "a name" is the start of a setting or a nested block.
    if uniq.contains(&"`}`") && !uniq.contains(&"`{`") {
        for d in &mut uniq {
            if *d == "a name" {
                *d = "a setting";
            }
        }
    }
    // After a list entry what is missing is a comma, not another value.
    if uniq.contains(&"`,`") && !at_end && !found.starts_with("`,") && !found.starts_with("`]") {
        uniq.retain(|d| *d != "a value");
    }
    let wants_equals = uniq.iter().any(|d| *d == "`=`" || *d == "`{`");
    let wants_bracket = uniq.contains(&"`]`");
    let expectation = match uniq.len() {
        0 => "unexpected input".to_string(),
        1 => format!("expected {}", uniq[0]),
        _ => {
            let last = uniq.pop().expect("non-empty");
            format!("expected {} or {}", uniq.join(", "), last)
        }
    };
    if at_end {
        if let Some(d) = unclosed_diag(text, file, next.as_deref()) {
            return d;
        }
    }
    if wants_equals {
        if let Some(d) = missing_equals(text, pos, file) {
            return d;
        }
    }
    if wants_bracket {
        if let Some(d) = missing_bracket(text, pos, file) {
            return d;
        }
    }
    if let Some((lo, hi)) = bad_ipv6(text, pos) {
        let run = &text[lo..hi];
        return Diag::new(
            Code::InvalidLiteral,
            Span::new(file, lo, hi),
            format!("`{run}` is not an IPv6 address"),
        )
        .label("invalid IPv6 address")
        .help("write up to eight groups of one to four hex digits, with `::` once for a run of zeros");
    }
    let end = if at_end { pos } else { pos + found_len(text, pos) };
    let (message, label) = if at_end {
        (
            format!("{expectation}, found end of file"),
            "file ends here".to_string(),
        )
    } else if found == "an unterminated string" {
        (
            "unterminated string".to_string(),
            "this string is not closed on its line".to_string(),
        )
    } else {
        let bare = found
            .strip_prefix("an ")
            .or_else(|| found.strip_prefix("a "))
            .unwrap_or(&found);
        (format!("{expectation}, found {found}"), format!("unexpected {bare}"))
    };
    let mut d = Diag::new(Code::Syntax, Span::new(file, pos, end), message).label(label);
    if let Some(h) = hint(text, pos) {
        d = d.help(h);
    } else if uniq.contains(&"`,`") && !at_end && found.starts_with('`') {
        d = d.help("separate list entries with `,`");
    }
    d
}

/// The byte range of an address-like run of hex digits and colons around `pos` that does
/// not parse as an IP address: the syntax error is really a malformed IPv6 literal.
fn bad_ipv6(text: &str, pos: usize) -> Option<(usize, usize)> {
    let addr_char = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
    let lo = text[..pos].rfind(|c: char| !addr_char(c)).map_or(0, |i| i + 1);
    let rest = &text[pos..];
    let hi = pos + rest.find(|c: char| !(addr_char(c) || c == '/')).unwrap_or(rest.len());
    let run = &text[lo..hi];
    let addr = run.split('/').next().unwrap_or(run);
    (run.matches(':').count() >= 2 && addr.parse::<std::net::IpAddr>().is_err()).then_some((lo, hi))
}

/// The offset of the innermost `open` bracket never closed in `text` (strings skipped).
fn innermost_open(text: &str, open: u8, close: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut stack: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = super::prescan::string_end(bytes, i),
            b if b == open => stack.push(i),
            b if b == close => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack.last().copied()
}

/// The innermost `{` never closed (outside strings), with a description of its block.
fn unclosed(text: &str) -> Option<(usize, String)> {
    let open = innermost_open(text, b'{', b'}')?;
    let line_start = text[..open].rfind('\n').map_or(0, |n| n + 1);
    let header = text[line_start..open].trim();
    let what = if header.is_empty() || header.contains('=') || header.len() > 80 {
        "the block".to_string()
    } else {
        format!("`{header}`")
    };
    Some((open, what))
}

/// A short description of the text at `pos`.
fn found_at(text: &str, pos: usize) -> String {
    let rest = &text[pos..];
    let c = rest.chars().next().unwrap_or(' ');
    match c {
        '"' => {
            if rest[1..]
                .find('"')
                .is_none_or(|q| rest[1..].find('\n').is_some_and(|n| n < q))
            {
                "an unterminated string".into()
            } else {
                "a string".into()
            }
        }
        '\n' | '\r' => "end of line".into(),
        c if c.is_alphanumeric() || c == '_' => {
            let w: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
                .take(40)
                .collect();
            format!("`{w}`")
        }
        c if c.is_control() => format!("control character U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}

fn found_len(text: &str, pos: usize) -> usize {
    let rest = &text[pos..];
    let c = rest.chars().next().unwrap_or(' ');
    if c.is_alphanumeric() || c == '_' {
        rest.char_indices()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
            .take(40)
            .last()
            .map_or(1, |(i, c)| i + c.len_utf8())
    } else {
        c.len_utf8()
    }
}

/// A targeted hint for common mistakes.
fn hint(text: &str, pos: usize) -> Option<String> {
    let rest = &text[pos..];
    if rest.starts_with('"')
        && rest[1..]
            .find('"')
            .is_none_or(|q| rest[1..].find('\n').is_some_and(|n| n < q))
    {
        return Some("close the string with `\"` on the same line; write `\\n` for a line break".into());
    }
    if rest.starts_with('\'') {
        return Some("strings use double quotes: \"like this\"".into());
    }
    let before = text[..pos].trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    let word = &text[before.len()..pos];
    if rest.starts_with("://") || (rest.starts_with(':') && word.eq_ignore_ascii_case("http")) {
        return Some(format!("quote URLs: \"{word}://…\""));
    }
    if rest.starts_with(':') {
        return Some("settings are written `name = value`".into());
    }
    if rest.starts_with('=') {
        // `name =` with nothing after it makes the next line's setting name its value.
        let line_start = text[..pos].rfind('\n').unwrap_or(0);
        let prev = text[..line_start].trim_end();
        if prev.ends_with('=') {
            let name = prev.trim_end_matches('=').trim_end();
            let name = &name[name.rfind(|c: char| c.is_whitespace() || c == '{').map_or(0, |i| i + 1)..];
            return Some(format!("`{name}` on the line above has no value"));
        }
    }
    if rest.starts_with("//") {
        return Some("comments start with `#`".into());
    }
    if rest.starts_with('$') {
        return Some("write `true` or `false` without `$`; this is not PowerShell".into());
    }
    if rest.starts_with(';') {
        return Some("settings are separated by line breaks, not `;`".into());
    }
    None
}

/// Differential check of the direct parser against the grammar: every top-level item of
/// `text` (and every chunk) that the direct parser accepts must parse with pest, without
/// diagnostics, to the same tree. Panics on the first disagreement; returns how many pieces
/// the direct parser accepted. Used by the unit tests and the `direct` fuzz target.
#[doc(hidden)]
pub fn direct_agrees_with_grammar(text: &str) -> usize {
    let file = FileId(0);
    let mut bytes = text.as_bytes().to_vec();
    for c in comments(text, file) {
        bytes[c.span.start as usize..c.span.end as usize].fill(b' ');
    }
    let text = String::from_utf8(bytes).expect("utf-8");
    let mut pieces = chunks(&text);
    let starts = item_starts(&text);
    for (k, &start) in starts.iter().enumerate() {
        pieces.push((start, starts.get(k + 1).copied().unwrap_or(text.len())));
    }
    let mut accepted = 0;
    for (start, end) in pieces {
        let Some(direct) = super::direct::items(&text[start..end], start, file) else {
            continue;
        };
        accepted += 1;
        let mut diags = Diagnostics::new();
        let mut pairs = Grammar::parse(Rule::file, &text[start..end])
            .unwrap_or_else(|e| panic!("direct parser accepted what pest refuses: {e}\n{}", &text[start..end]));
        let mut cx = Cx {
            file,
            base: start,
            diags: &mut diags,
        };
        let mut items = Vec::new();
        cx.items(pairs.next().expect("file"), &mut items);
        assert!(diags.is_empty(), "{}", &text[start..end]);
        assert_eq!(direct, items, "{}", &text[start..end]);
    }
    accepted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_parser_gives_pests_tree_on_the_repository_intent() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut accepted = 0;
        for dir in ["examples", "tests", "benches", "fuzz"] {
            for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
                let entry = entry.expect("readable");
                if entry.path().extension().is_some_and(|e| e == "mailsec") {
                    if let Ok(text) = std::fs::read_to_string(entry.path()) {
                        accepted += direct_agrees_with_grammar(&text);
                    }
                }
            }
        }
        assert!(accepted > 100, "only {accepted} chunks were read directly");
    }

    /// Random blocks built from tokens at the edges of the plain shape.
    #[test]
    fn direct_parser_gives_pests_tree_on_random_blocks() {
        const TOKENS: &[&str] = &[
            "server",
            "s0",
            "include",
            "allow",
            "allowed",
            "true",
            "false",
            "true.x",
            "truex",
            "_a",
            "a_b",
            "a-b",
            "s0.bench.example",
            "a..b",
            "a.b.",
            "a.-b",
            "1",
            "007",
            "2019",
            "-1",
            "1.2.3.4",
            "10.0.0.0/8",
            "fe80::1",
            "abcd",
            "dead.beef",
            "30d",
            "10MiB",
            "2026-12-01",
            "\"s\"",
            "\"a b\"",
            "\"\\n\"",
            "\"é\"",
            "é",
            "=",
            "=",
            "=",
            ",",
            ",",
            "[",
            "]",
            "{",
            "}",
            "(",
            ")",
            ":",
            "/",
            ".",
            " ",
            " ",
            "\n",
            "\t",
            "\r\n",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut accepted = 0;
        for round in 0..40_000 {
            let mut text = String::from("k n {");
            if round % 2 == 0 {
                for _ in 0..next(12) {
                    text.push(' ');
                    text.push_str(TOKENS[next(TOKENS.len())]);
                }
            } else {
                // Settings whose values are tokens or lists of tokens.
                let blank = [" ", "", "\n", "\t"];
                for _ in 0..next(4) {
                    text.push_str(blank[next(4)]);
                    text.push('a');
                    text.push_str(blank[next(4)]);
                    text.push('=');
                    text.push_str(blank[next(4)]);
                    if next(3) == 0 {
                        text.push('[');
                        for _ in 0..next(4) {
                            text.push_str(TOKENS[next(TOKENS.len())]);
                            text.push_str([",", ", ", " ,", " "][next(4)]);
                        }
                        text.push(']');
                    } else {
                        text.push_str(TOKENS[next(TOKENS.len())]);
                    }
                    text.push_str([" ", ",", "", "\n"][next(4)]);
                }
            }
            text.push_str(if next(8) == 0 { " " } else { " }" });
            accepted += direct_agrees_with_grammar(&text);
        }
        assert!(accepted > 1000, "only {accepted} random blocks were read directly");
    }

    #[test]
    fn direct_parser_gives_pests_tree_or_leaves_the_text_to_it() {
        let cases = [
            "server s0 { fqdn = s0.bench.example }",
            "server s0 {fqdn=s0.bench.example}\nserver s1 {\n  fqdn = s1.x , roles = [eas, hub_transport,]\n}\n",
            "x \"A b\" { a = \"t\"b = c d = [ ] e = [[a], \"b\" ,c.d] }",
            "x y { a = true b = false c = truex d = true.example e = false.x f = trueish.example }",
            "x y { a = 2019 b = 007 c = 99999999999999999999 d = -1 e = 1.2.3.4 f = 10.0.0.0/8 }",
            "x y { a = 2019-01-01 b = 30d c = 10MiB d = dead:beef::1 e = abcd f = fe80::1 }",
            "x y { a = b (c) d = e(f) g = h.i(j) k = _l m = _n.o p = a..b q = a.b. r = a.-b s = a._b }",
            "x y { a = \"\\n\" b = \"é\" c = é d = a.b:1 e = https://x f = a.b/c g = a.bé }",
            "include \"x\"\nx y { }",
            "includes y { } allow { } x y { allow MS0200 \"r\" allowed = 1 }",
            "x y { z w { } } x y.z { } x { a = { b = c } } x { a = b, , c = d }",
            "x\ty\r\n{\r\n a\t=\tb\r\n}\r\n",
            "x y { a = [b c] d = [e,] f = [,] g = [ h , ] }",
            "x y { a = b} c d { e = \"f\"}",
        ];
        let accepted: usize = cases.iter().map(|c| direct_agrees_with_grammar(c)).sum();
        assert!(accepted >= 10, "only {accepted} pieces were read directly");
    }
}
