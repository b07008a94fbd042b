//! Validation of blocks against the schema: kinds, headers, settings, value types, units.
//! Produces [`Checked`] blocks whose settings are known to have the declared types, and the
//! list of references still to resolve.

use super::schema::{self, BlockSpec, Field, Header, Ty};
use crate::diagnostics::{suggest, Code, Diag, Diagnostics};
use crate::source::Span;
use crate::syntax::ast::{Allow, Block, Entry, Ident, Value, ValueKind, Word};

/// A block that passed validation (possibly with some settings dropped for errors).
#[derive(Debug, Clone)]
pub struct Checked {
    /// Its kind's spec.
    pub(crate) spec: &'static BlockSpec,
    /// The block's name (for `retire`, the retired connector's name).
    pub name: Option<Word>,
    /// For `retire`: the retired kind (boxed: every other block leaves it empty).
    pub retired_kind: Option<Box<Word>>,
    /// Valid settings in the order written. A block has a handful, so a list searched by
    /// name is smaller and faster than a map per block.
    pub settings: Vec<(&'static str, Value)>,
    /// Every known setting written in the block, valid or not (lints about a missing
    /// setting must not fire when it was written wrongly: that is already an error), as
    /// bits over [`BlockSpec::fields`].
    pub(crate) given: u64,
    /// The whole block.
    pub span: Span,
    /// The block kind word.
    pub kind_span: Span,
    /// Valid `allow CODE "reason"` suppressions written in the block.
    pub allows: Vec<Suppression>,
}

/// A reasoned suppression of one lint code on one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The suppressed code.
    pub code: Code,
    /// Why the finding does not apply.
    pub reason: String,
    /// The `allow` entry.
    pub span: Span,
}

impl Checked {
    /// The block kind.
    pub fn kind(&self) -> &'static str {
        self.spec.kind
    }

    /// The name, or empty.
    pub fn name(&self) -> &str {
        self.name.as_ref().map_or("", |w| w.text.as_str())
    }

    /// Span of the name, or of the kind word when unnamed.
    pub fn name_span(&self) -> Span {
        self.name.as_ref().map_or(self.kind_span, |w| w.span)
    }
}

/// A reference awaiting resolution.
#[derive(Debug, Clone)]
pub(crate) struct PendingRef {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) kinds: &'static [&'static str],
    pub(crate) setting: &'static str,
    /// Index of the block (in the checked list) whose setting holds the reference.
    pub(crate) owner: usize,
}

/// Validates blocks one at a time, taking them over: the checked blocks keep the values of
/// the syntax tree instead of copies, so a block's tree is gone once it is validated.
#[derive(Debug, Default)]
pub(crate) struct Validator {
    /// The checked blocks, in the order validated (a nested block after its parent).
    pub(crate) checked: Vec<Checked>,
    /// References still to resolve.
    pub(crate) refs: Vec<PendingRef>,
    /// "`kind` needs `setting`" by kind and setting, made once and placed for each block:
    /// the help lists the setting's type (every role, say), and a large unit can repeat the
    /// same omission on every block. A handful at most, found by address.
    missing: Vec<(&'static BlockSpec, &'static Field, Diag)>,
}

impl Validator {
    /// Validates one block and keeps it (nothing for an unknown kind). A nested block is
    /// reported and then validated as if it stood at the top level, so that its name is
    /// still declared and references to it do not cascade into more errors.
    pub(crate) fn block(&mut self, b: Block, diags: &mut Diagnostics) {
        let first_ref = self.refs.len();
        let mut nested = Vec::new();
        let Some(checked) = self.block_alone(b, diags, &mut nested) else {
            return;
        };
        let owner = self.checked.len();
        for r in &mut self.refs[first_ref..] {
            r.owner = owner;
        }
        self.checked.push(checked);
        for inner in nested {
            self.block(inner, diags);
        }
    }

    fn block_alone(&mut self, b: Block, diags: &mut Diagnostics, nested: &mut Vec<Block>) -> Option<Checked> {
        let Block {
            kind,
            header: words,
            entries,
            span,
        } = b;
        let Some(spec) = schema::block(&kind.name) else {
            let mut d = Diag::new(
                Code::UnknownBlock,
                kind.span,
                format!("unknown block kind `{}`", kind.name),
            )
            .label("not a block kind");
            d = match suggest(&kind.name, schema::BLOCKS.iter().map(|s| s.kind)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("`mailsec explain MS0100` lists the block kinds"),
            };
            diags.push(d);
            return None;
        };
        for w in words.iter().filter(|w| w.quoted) {
            safe_text(&w.text, w.span, "name", diags);
        }
        let (name, retired_kind) = header(spec, &kind, words, diags);
        // At most one per entry: allocated once, and trimmed below only if some were not valid.
        let mut settings: Vec<(&'static str, Value)> = Vec::with_capacity(entries.len());
        // Where each known setting was first written, by its place in `spec.fields()`.
        let mut seen: Vec<(usize, Span)> = Vec::new();
        let mut given = 0u64;
        let mut allows: Vec<Suppression> = Vec::new();
        for entry in entries {
            match entry {
                Entry::Allow(a) => {
                    if let Some(s) = allow(&a, diags) {
                        allows.push(s);
                    }
                }
                Entry::Block(inner) => {
                    diags.push(
                        Diag::new(
                            Code::NotAllowedHere,
                            inner.kind.span,
                            format!("`{}` block cannot be nested in `{}`", inner.kind.name, spec.kind),
                        )
                        .label("nested block")
                        .with(kind.span, format!("inside this `{}`", spec.kind))
                        .help("blocks stand at the top level of a file; refer to them by name"),
                    );
                    nested.push(inner);
                }
                Entry::Setting(s) => {
                    let Some((k, field)) = spec.fields().enumerate().find(|(_, f)| f.name == s.name.name) else {
                        let known: Vec<&str> = spec.fields().map(|f| f.name).collect();
                        let mut d = Diag::new(
                            Code::UnknownSetting,
                            s.name.span,
                            format!("unknown setting `{}` in `{}`", s.name.name, spec.kind),
                        )
                        .label("not a setting of this block");
                        d = match suggest(&s.name.name, known.iter().copied()) {
                            Some(k) => d.help(format!("did you mean `{k}`?")),
                            None => d.help(format!("`{}` takes: {}", spec.kind, known.join(", "))),
                        };
                        diags.push(d);
                        continue;
                    };
                    if let Some((_, first)) = seen.iter().find(|(j, _)| *j == k) {
                        diags.push(
                            Diag::new(
                                Code::DuplicateSetting,
                                s.name.span,
                                format!("`{}` is set twice", field.name),
                            )
                            .label("set again here")
                            .with(*first, "first set here")
                            .help("keep one; to give several values, use a list"),
                        );
                        continue;
                    }
                    seen.push((k, s.name.span));
                    given |= 1 << k;
                    if value(&s.value, &field.ty, field, diags, &mut self.refs) {
                        settings.push((field.name, s.value));
                    }
                }
            }
        }
        for (k, f) in spec.fields().enumerate().filter(|(_, f)| f.required) {
            if given & (1 << k) == 0 {
                let known = self
                    .missing
                    .iter()
                    .position(|(s, g, _)| std::ptr::eq(*s, spec) && std::ptr::eq(*g, f));
                let at = known.unwrap_or_else(|| {
                    let d = Diag::new(
                        Code::MissingSetting,
                        kind.span,
                        format!("`{}` needs `{}`", spec.kind, f.name),
                    )
                    .label(format!("this {} has no `{}`", spec.kind, f.name))
                    .help(format!("add `{} = …` with {}", f.name, f.ty.describe()));
                    self.missing.push((spec, f, d));
                    self.missing.len() - 1
                });
                let mut d = self.missing[at].2.clone();
                d.span = kind.span;
                diags.push(d);
            }
        }
        settings.shrink_to_fit();
        Some(Checked {
            spec,
            name,
            retired_kind: retired_kind.map(Box::new),
            settings,
            given,
            span,
            kind_span: kind.span,
            allows,
        })
    }
}

/// A character that no output language can show as what it is: line breaks and other
/// control characters (a second command in a `.cmd` block), and invisible or bidirectional
/// formatting characters (a runbook that reads differently from what runs).
fn unsafe_char(c: char) -> Option<String> {
    let name = match c {
        '\n' => "a line break (`\\n`)".to_string(),
        '\r' => "a carriage return (`\\r`)".to_string(),
        '\t' => "a tab (`\\t`)".to_string(),
        '\u{2028}' => "LINE SEPARATOR U+2028".to_string(),
        '\u{2029}' => "PARAGRAPH SEPARATOR U+2029".to_string(),
        c if c.is_control() => format!("control character U+{:04X}", c as u32),
        c => format!("U+{:04X} {}", c as u32, crate::syntax::invisible(c)?),
    };
    Some(name)
}

/// Refuses text that no output can show as what it is. A name (of a block) may hold no
/// [`unsafe_char`] at all: it becomes a heading, a file label and a command argument. Other
/// strings may hold line breaks and control characters (every backend quotes them), but no
/// invisible or bidirectional formatting character: those are refused in raw form before
/// parsing, and written as an escape they would still reach a runbook invisibly.
/// Returns whether the text is safe.
fn safe_text(text: &str, span: Span, what: &str, diags: &mut Diagnostics) -> bool {
    // Names and suppression reasons stand on one line in every output.
    let strict = what != "string";
    let bad = text.chars().find_map(|c| {
        if strict {
            unsafe_char(c)
        } else {
            crate::syntax::invisible(c).map(|n| format!("U+{:04X} {n}", c as u32))
        }
    });
    let Some(bad) = bad else {
        return true;
    };
    diags.push(
        Diag::new(Code::UnsafeName, span, format!("this {what} contains {bad}"))
            .label("cannot be written safely into scripts and runbooks")
            .help(if strict {
                format!("write the {what} on one line with visible characters only")
            } else {
                format!("delete the character; the {what} must read the same in every output")
            }),
    );
    false
}

/// Validates `allow CODE "reason"`: the code must be a lint and the reason must say something.
fn allow(a: &Allow, diags: &mut Diagnostics) -> Option<Suppression> {
    let code = Code::parse(&a.code.name);
    let Some(code) = code.filter(|c| c.as_str() >= "MS0200") else {
        let what = match code {
            Some(c) => format!("`{}` ({}) is not a lint and cannot be suppressed", c, c.title()),
            None => format!("`{}` is not a mailsec diagnostic code", a.code.name),
        };
        diags.push(
            Diag::new(Code::BadSuppression, a.code.span, what)
                .label(if code.is_some() { "not a lint" } else { "unknown code" })
                .help(if code.is_some() {
                    "fix the text instead; `allow` takes lint codes (MS0200 and above)".to_string()
                } else {
                    "`mailsec explain --list` lists the codes; `allow` takes lint codes (MS0200 and above)".to_string()
                }),
        );
        return None;
    };
    match &a.reason {
        Some((reason, span)) if !safe_text(reason, *span, "reason", diags) => None,
        Some((reason, _)) if !reason.trim().is_empty() => Some(Suppression {
            code,
            reason: reason.clone(),
            span: a.span,
        }),
        Some((_, span)) => {
            diags.push(
                Diag::new(
                    Code::SuppressionWithoutReason,
                    *span,
                    format!("the reason for allowing `{code}` is empty"),
                )
                .label("empty reason")
                .help(format!("say why the finding does not apply: `allow {code} \"…\"`")),
            );
            None
        }
        None => {
            diags.push(
                // The entry's span runs on over the blanks after the code when no string follows.
                Diag::new(
                    Code::SuppressionWithoutReason,
                    Span::new(a.span.file, a.span.start as usize, a.code.span.end as usize),
                    format!("`allow {code}` gives no reason"),
                )
                .label("no reason")
                .help(format!(
                    "say why the finding does not apply: `allow {code} \"partner relay has no TLS; see contract 14\"`"
                )),
            );
            None
        }
    }
}

fn header(spec: &BlockSpec, kind: &Ident, h: Vec<Word>, diags: &mut Diagnostics) -> (Option<Word>, Option<Word>) {
    match spec.header {
        Header::Name => {
            match h.as_slice() {
                [] => {
                    let example = if spec.kind == "organization" {
                        "\"Contoso\""
                    } else {
                        "my_name"
                    };
                    diags.push(
                        Diag::new(Code::BadHeader, kind.span, format!("`{}` needs a name", spec.kind))
                            .label("name missing after this")
                            .help(format!("write `{} {example} {{ … }}`", spec.kind)),
                    );
                }
                [_] => {}
                [_, rest @ ..] => {
                    let last = rest.last().expect("non-empty").span;
                    diags.push(
                        Diag::new(
                            Code::BadHeader,
                            rest[0].span.to(last),
                            format!("`{}` takes one name, found {}", spec.kind, h.len()),
                        )
                        .label("extra words")
                        .help("quote a name that contains spaces: \"From ONE Mail\""),
                    );
                }
            }
            (h.into_iter().next(), None)
        }
        Header::Retire => match <[Word; 2]>::try_from(h) {
            Ok([k, n]) if !k.quoted => {
                if !schema::RETIRABLE.contains(&k.text.as_str()) {
                    let mut d = Diag::new(Code::BadHeader, k.span, format!("cannot retire a `{}`", k.text))
                        .label("not retirable");
                    d = match suggest(&k.text, schema::RETIRABLE.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("`retire` takes {}", schema::words_list(schema::RETIRABLE))),
                    };
                    diags.push(d);
                    return (Some(n), None);
                }
                (Some(n), Some(k))
            }
            Ok(two) => {
                retire_header(kind, &two, diags);
                (None, None)
            }
            Err(h) => {
                retire_header(kind, &h, diags);
                (None, None)
            }
        },
    }
}

/// A `retire` header that is not a bare kind and a name.
fn retire_header(kind: &Ident, h: &[Word], diags: &mut Diagnostics) {
    let span = h
        .first()
        .map_or(kind.span, |w| w.span.to(h.last().expect("non-empty").span));
    diags.push(
        Diag::new(
            Code::BadHeader,
            span,
            "`retire` needs the kind and the name of what it retires",
        )
        .label("expected a kind and a quoted name")
        .help("write `retire send_connector \"To ISP\" { after = \"…\" }`"),
    );
}

fn mismatch(v: &Value, ty: &Ty, diags: &mut Diagnostics, help: Option<String>) -> bool {
    let mut d = Diag::new(
        Code::TypeMismatch,
        v.span,
        format!("expected {}, found {}", ty.describe(), v.kind.describe()),
    )
    .label(format!("this is {}", v.kind.describe()));
    if let Some(h) = help {
        d = d.help(h);
    }
    diags.push(d);
    false
}

/// Checks `v` against `ty`; returns whether it is valid (errors pushed otherwise).
fn value(v: &Value, ty: &Ty, field: &Field, diags: &mut Diagnostics, refs: &mut Vec<PendingRef>) -> bool {
    use ValueKind as V;
    if let V::Str(text) = &v.kind {
        if !safe_text(text, v.span, "string", diags) {
            return false;
        }
    }
    match (ty, &v.kind) {
        (_, V::Invalid) => false,
        (Ty::Str, V::Str(_)) => true,
        (Ty::Str, V::Ref(w) | V::Hostname(w)) => mismatch(v, ty, diags, Some(format!("quote it: `\"{w}\"`"))),
        (Ty::Lookup, V::Str(s)) => lookups(s, v.span, diags),
        (Ty::Int(lo, hi), V::Int(n)) => {
            if n < lo || n > hi {
                diags.push(
                    Diag::new(
                        Code::OutOfRange,
                        v.span,
                        format!("`{}` must be from {lo} to {hi}, found {n}", field.name),
                    )
                    .label("out of range")
                    .help(format!("use a value from {lo} to {hi}")),
                );
                false
            } else {
                true
            }
        }
        (Ty::Int(..), V::Str(s)) if s.parse::<i64>().is_ok() => {
            mismatch(v, ty, diags, Some(format!("write the number without quotes: `{s}`")))
        }
        (Ty::Bool, V::Bool(_))
        | (Ty::Date, V::Date(_))
        | (Ty::Duration, V::Duration(_))
        | (Ty::Size, V::Size(_))
        | (Ty::Ip, V::Ip(_))
        | (Ty::IpOrCidr, V::Ip(_) | V::Cidr(..)) => true,
        (Ty::Bool, V::Str(s)) if s == "true" || s == "false" => {
            mismatch(v, ty, diags, Some(format!("write `{s}` without quotes")))
        }
        (Ty::Size, V::Int(n)) => mismatch(
            v,
            ty,
            diags,
            Some(format!("give a unit: `{n}B`, or `10MiB` for 10485760 bytes")),
        ),
        (Ty::Duration, V::Int(n)) => mismatch(
            v,
            ty,
            diags,
            Some(format!("give a unit: `{n}d` for days, `{n}h` for hours")),
        ),
        (Ty::Hostname, V::Hostname(h) | V::Str(h) | V::Ref(h)) => hostname(h, v.span, diags),
        (Ty::Url, V::Str(s)) => {
            let lower = s.to_ascii_lowercase();
            let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
            match rest {
                Some(r) if !r.is_empty() && !r.starts_with('/') => true,
                _ => mismatch(
                    v,
                    ty,
                    diags,
                    Some("write the whole URL with its scheme, like \"http://pki.contoso.com/crl/root.crl\"".into()),
                ),
            }
        }
        (Ty::Enum(words), V::Ref(w)) => enum_word(w, words, v.span, field, diags),
        (Ty::Enum(words), V::Str(w)) if words.contains(&w.as_str()) => {
            mismatch(v, ty, diags, Some(format!("write it without quotes: `{w}`")))
        }
        (Ty::ExchangeVersion, V::Int(n)) => enum_word(&n.to_string(), schema::VERSIONS, v.span, field, diags),
        (Ty::ExchangeVersion, V::Str(s) | V::Ref(s)) => {
            enum_word(&s.to_ascii_lowercase(), schema::VERSIONS, v.span, field, diags)
        }
        (Ty::Ref(kinds), V::Ref(name)) => {
            refs.push(PendingRef {
                name: name.clone(),
                span: v.span,
                kinds,
                setting: field.name,
                owner: 0,
            });
            true
        }
        (Ty::Ref(_), V::Str(s)) => mismatch(v, ty, diags, Some(format!("refer to a block by its bare name: `{s}`"))),
        (Ty::List(inner), V::List(items)) => {
            if items.is_empty() && field.required {
                diags.push(
                    Diag::new(Code::EmptyList, v.span, format!("`{}` must not be empty", field.name))
                        .label("empty list")
                        .help(format!("give at least one entry: {}", inner.describe())),
                );
                return false;
            }
            let mut ok = true;
            // First place of each entry, keyed by its value: linear in the list's length
            // (a pairwise scan made 100,000 remote addresses take most of a minute).
            let mut first: std::collections::HashMap<String, Span> =
                std::collections::HashMap::with_capacity(items.len());
            for item in items {
                ok &= value(item, inner, field, diags, refs);
                if matches!(item.kind, V::Invalid) {
                    continue;
                }
                let prev = match first.entry(entry_key(&item.kind)) {
                    std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(item.span);
                        None
                    }
                };
                if let Some(prev) = prev {
                    diags.push(
                        Diag::new(
                            Code::DuplicateEntry,
                            item.span,
                            format!("`{}` lists the same entry twice", field.name),
                        )
                        .label("repeated here")
                        .with(prev, "first listed here")
                        .help("remove the repetition"),
                    );
                    ok = false;
                }
            }
            ok
        }
        (Ty::List(Ty::Ref(_) | Ty::Enum(_) | Ty::Hostname | Ty::IpOrCidr | Ty::Str), _) => {
            mismatch(v, ty, diags, Some(format!("wrap it in brackets: `[{}]`", snippet(v))))
        }
        (Ty::Record(fields), V::Record(entries)) => {
            let mut ok = true;
            let mut seen: Vec<(&str, Span)> = Vec::new();
            for e in entries {
                let Some(f) = fields.iter().find(|f| f.name == e.name.name) else {
                    let mut d = Diag::new(
                        Code::UnknownSetting,
                        e.name.span,
                        format!("unknown field `{}` in `{}`", e.name.name, field.name),
                    )
                    .label("not a field of this record");
                    d = match suggest(&e.name.name, fields.iter().map(|f| f.name)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!(
                            "`{}` takes: {}",
                            field.name,
                            fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                        )),
                    };
                    diags.push(d);
                    ok = false;
                    continue;
                };
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == f.name) {
                    diags.push(
                        Diag::new(
                            Code::DuplicateSetting,
                            e.name.span,
                            format!("field `{}` is given twice", f.name),
                        )
                        .label("given again here")
                        .with(*first, "first given here")
                        .help("keep one"),
                    );
                    ok = false;
                    continue;
                }
                seen.push((f.name, e.name.span));
                ok &= value(&e.value, &f.ty, f, diags, refs);
            }
            for f in fields.iter().filter(|f| f.required) {
                if !seen.iter().any(|(n, _)| *n == f.name) {
                    diags.push(
                        Diag::new(
                            Code::MissingSetting,
                            v.span,
                            format!("`{}` needs the field `{}`", field.name, f.name),
                        )
                        .label(format!("no `{}` here", f.name))
                        .help(format!("add `{} = …` with {}", f.name, f.ty.describe())),
                    );
                    ok = false;
                }
            }
            ok
        }
        (Ty::Secret | Ty::SecretOrNone, V::Call(f, args)) if f.name == "secret" => secret_args(v, args, diags),
        (Ty::SecretOrNone | Ty::SmartHostAuth, V::Ref(w)) if w == "none" => true,
        (Ty::Secret | Ty::SecretOrNone | Ty::SmartHostAuth, V::Str(_)) => {
            diags.push(
                Diag::new(
                    Code::SecretLiteral,
                    v.span,
                    format!("`{}` holds a secret written in clear", field.name),
                )
                .label("this would end up in version control and in every artefact")
                .help(match ty {
                    Ty::SmartHostAuth => "write `basic(secret(\"NAME\"))` and provide NAME where the script runs",
                    _ => "write `secret(\"NAME\")` and provide NAME where the artefact is applied",
                }),
            );
            false
        }
        (Ty::SmartHostAuth, V::Call(f, args)) if f.name == "basic" => {
            match args.as_slice() {
                [inner] => match &inner.kind {
                    V::Call(g, a) if g.name == "secret" => secret_args(inner, a, diags),
                    V::Str(_) => {
                        diags.push(
                        Diag::new(Code::SecretLiteral, inner.span, "the smart-host password is written in clear")
                            .label("this would end up in version control and in every artefact")
                            .help("write `basic(secret(\"NAME\"))`; the script asks for the credential with Get-Credential"),
                    );
                        false
                    }
                    V::Call(g, _) => unknown_function(g, diags),
                    _ => bad_call(v, "`basic` takes one argument: `basic(secret(\"NAME\"))`", diags),
                },
                _ => bad_call(v, "`basic` takes one argument: `basic(secret(\"NAME\"))`", diags),
            }
        }
        (Ty::File, V::Call(f, args)) if f.name == "file" => match args.as_slice() {
            [Value { kind: V::Str(p), .. }] if !p.is_empty() && !p.chars().any(char::is_control) => true,
            _ => bad_call(
                v,
                "`file` takes one non-empty path string: `file(\"certs/root.cer\")`",
                diags,
            ),
        },
        (_, V::Call(f, _)) if !matches!(f.name.as_str(), "secret" | "file" | "basic") => unknown_function(f, diags),
        _ => mismatch(v, ty, diags, None),
    }
}

/// A key equal for two list entries exactly when their values are equal. Nested values
/// carry their spans, as the derived equality compares them too.
fn entry_key(kind: &ValueKind) -> String {
    match kind {
        ValueKind::Str(s) => format!("s{s}"),
        ValueKind::Ref(s) => format!("r{s}"),
        ValueKind::Hostname(s) => format!("h{s}"),
        ValueKind::Ip(a) => format!("i{a}"),
        ValueKind::Cidr(a, p) => format!("c{a}/{p}"),
        ValueKind::Int(n) => format!("n{n}"),
        other => format!("{other:?}"),
    }
}

fn snippet(v: &Value) -> String {
    match &v.kind {
        ValueKind::Str(s) => format!("\"{s}\""),
        ValueKind::Ref(s) | ValueKind::Hostname(s) => s.clone(),
        ValueKind::Ip(a) => a.to_string(),
        ValueKind::Cidr(a, p) => format!("{a}/{p}"),
        _ => "…".into(),
    }
}

fn unknown_function(f: &crate::syntax::ast::Ident, diags: &mut Diagnostics) -> bool {
    let mut d = Diag::new(Code::BadCall, f.span, format!("unknown function `{}`", f.name)).label("not a function");
    d = match suggest(&f.name, ["secret", "file", "basic"]) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help("the functions are `secret(\"NAME\")`, `file(\"path\")` and `basic(secret(\"NAME\"))`"),
    };
    diags.push(d);
    false
}

fn bad_call(v: &Value, help: &str, diags: &mut Diagnostics) -> bool {
    diags.push(
        Diag::new(Code::BadCall, v.span, "wrong arguments")
            .label("here")
            .help(help),
    );
    false
}

fn secret_args(v: &Value, args: &[Value], diags: &mut Diagnostics) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    match args {
        [Value {
            kind: ValueKind::Str(name),
            ..
        }] if !name.is_empty() && name.chars().all(ok_char) => true,
        [Value {
            kind: ValueKind::Str(name),
            span,
        }] => {
            let bad: String = name.chars().filter(|c| !ok_char(*c)).take(1).collect();
            let what = match bad.as_str() {
                "" => "is empty".to_string(),
                " " => "contains spaces".to_string(),
                b => format!("contains `{b}`"),
            };
            let fixed: String = name
                .chars()
                .map(|c| if ok_char(c) { c.to_ascii_uppercase() } else { '_' })
                .collect();
            diags.push(
                Diag::new(Code::BadCall, *span, format!("the secret name {what}"))
                    .label("not a secret name")
                    .help(if fixed.is_empty() {
                        "name the secret with letters, digits, `_`, `-` and `.`: `secret(\"ONE_MAIL_SMTP\")`"
                            .to_string()
                    } else {
                        format!("secret names are letters, digits, `_`, `-` and `.`: `secret(\"{fixed}\")`")
                    }),
            );
            false
        }
        _ => bad_call(
            v,
            "`secret` takes one name in quotes: `secret(\"ONE_MAIL_SMTP\")`",
            diags,
        ),
    }
}

fn enum_word(w: &str, words: &'static [&'static str], span: Span, field: &Field, diags: &mut Diagnostics) -> bool {
    if words.contains(&w) {
        return true;
    }
    let mut d = Diag::new(
        Code::UnknownVariant,
        span,
        format!("`{w}` is not a valid `{}`", field.name),
    )
    .label("unknown value");
    d = match suggest(w, words.iter().copied()) {
        Some(s) => d.help(format!(
            "did you mean `{s}`? `{}` takes {}",
            field.name,
            schema::words_list(words)
        )),
        None => d.help(format!("`{}` takes {}", field.name, schema::words_list(words))),
    };
    diags.push(d);
    false
}

/// Validates a DNS name (wildcards allowed as the first label).
pub(crate) fn hostname(h: &str, span: Span, diags: &mut Diagnostics) -> bool {
    // One pass over the bytes decides the common case (a million servers have a host name).
    let path_or_port = h.bytes().any(|b| b == b'/' || b == b':');
    let problem = if path_or_port && h.contains("://") {
        Some("a URL is not a host name".to_string())
    } else if path_or_port {
        Some("a host name has no path or port".to_string())
    } else if h.is_empty() || h.len() > 253 {
        Some("a host name has 1 to 253 characters".to_string())
    } else {
        h.split('.').enumerate().find_map(|(i, l)| {
            let b = l.as_bytes();
            let ok = (l == "*" && i == 0)
                || (!b.is_empty()
                    && b.len() <= 63
                    && b[0] != b'-'
                    && b[b.len() - 1] != b'-'
                    && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-'));
            (!ok).then(|| format!("label `{l}` is not a DNS label"))
        })
    };
    match problem {
        None => true,
        Some(p) => {
            let bare = h
                .split_once("://")
                .map_or(h, |(_, rest)| rest)
                .split(['/', ':'])
                .next()
                .unwrap_or("");
            diags.push(
                Diag::new(
                    Code::InvalidHostname,
                    span,
                    format!("`{h}` is not a valid host name: {p}"),
                )
                .label("invalid host name")
                .help(if bare != h && !bare.is_empty() {
                    format!("write the host only: `{bare}`")
                } else {
                    "labels are letters, digits and `-`, separated by dots".to_string()
                }),
            );
            false
        }
    }
}

/// Checks `{Lookup}` placeholders in a string: braces must pair up, without nesting, and
/// name a known lookup value.
fn lookups(s: &str, span: Span, diags: &mut Diagnostics) -> bool {
    // Point inside the string literal (+1 for the opening quote); escapes before the place
    // may shift this, in which case the whole string is marked.
    let sub = |start: usize, end: usize| {
        let (start, end) = (span.start as usize + 1 + start, span.start as usize + 1 + end);
        if end < span.end as usize {
            Span::new(span.file, start, end)
        } else {
            span
        }
    };
    let mut ok = true;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'}' => {
                diags.push(
                    Diag::new(Code::MalformedLookup, sub(i, i + 1), "`}` closes no lookup placeholder")
                        .label("no `{` before it")
                        .help("write lookup values as `{Name}`, like `{UserPrincipalName}`"),
                );
                return false;
            }
            b'{' => {
                let rest = &s[i + 1..];
                let close = rest.find(['{', '}']).filter(|&j| rest.as_bytes()[j] == b'}');
                let Some(close) = close else {
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                    diags.push(
                        Diag::new(Code::MalformedLookup, sub(i, i + 1), "lookup placeholder is not closed")
                            .label("this `{` has no `}`")
                            .help(if name.is_empty() {
                                "write lookup values as `{Name}`, like `{UserPrincipalName}`".to_string()
                            } else {
                                format!("close it: `{{{name}}}`")
                            }),
                    );
                    return false;
                };
                let name = &rest[..close];
                let known = schema::LOOKUPS.contains(&name)
                    || name
                        .strip_prefix("CustomAttribute")
                        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
                if !known {
                    let mut d = Diag::new(
                        Code::UnknownLookup,
                        sub(i, i + close + 2),
                        format!("`{{{name}}}` is not a Workspace ONE lookup value"),
                    )
                    .label("would reach the device literally");
                    d = match suggest(name, schema::LOOKUPS.iter().copied()) {
                        Some(x) => d.help(format!("did you mean `{{{x}}}`?")),
                        None => d.help("`mailsec explain MS0114` lists the lookup values"),
                    };
                    diags.push(d);
                    ok = false;
                }
                i += close + 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    ok
}
