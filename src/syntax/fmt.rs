//! The formatter behind `mailsec fmt`: one canonical layout, comments kept, idempotent.
//!
//! It works on tokens, not on the AST, so that every comment and every line break the
//! author chose survives; only horizontal whitespace, indentation and blank lines are
//! decided here:
//! - two spaces of indentation per open `{`, `[` or `(`; closers dedent their line;
//! - one space around `=` and after `,`, none inside `[ ]`/`( )`, one inside a one-line
//!   record `{ a = 1 }`, none before `,`, `(` of a call, `)` or `]`;
//! - `=` aligned over a run of settings at the same depth: comment lines and the inner
//!   lines of a multi-line value stay in the run, a blank line or any other line ends it;
//!   trailing comments aligned over consecutive lines that have one (a group ends where
//!   code widths would differ by more than 24), three spaces after the longest code;
//! - at most one blank line in a row, none after an opening or before a closing line,
//!   exactly one after a top-level block, none at the start; LF line endings, one final
//!   newline, no trailing whitespace.
//!
//! Only files without syntax errors are formatted (the caller parses first).

/// One token of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    /// `{ } [ ] ( ) = ,`
    Punct(u8),
    /// A quoted string, verbatim with its quotes and escapes.
    Str(&'a str),
    /// Anything else: names, numbers, addresses, dotted host names.
    Word(&'a str),
}

/// A source line: its code tokens and its trailing comment.
#[derive(Debug, Default)]
struct Line<'a> {
    toks: Vec<Tok<'a>>,
    comment: Option<&'a str>,
}

impl Line<'_> {
    fn is_blank(&self) -> bool {
        self.toks.is_empty() && self.comment.is_none()
    }
}

fn is_punct(b: u8) -> bool {
    matches!(b, b'{' | b'}' | b'[' | b']' | b'(' | b')' | b'=' | b',')
}

/// Splits text into lines of tokens. Strings never span lines (the grammar forbids it).
fn lex(text: &str) -> Vec<Line<'_>> {
    let bytes = text.as_bytes();
    let mut lines = vec![Line::default()];
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let line = lines.last_mut().expect("at least one line");
        match b {
            b'\n' => {
                lines.push(Line::default());
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                let end = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                line.comment = Some(text[i..end].trim_end());
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' && bytes[j] != b'\n' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(bytes.len());
                line.toks.push(Tok::Str(&text[i..end]));
                i = end;
            }
            _ if is_punct(b) => {
                line.toks.push(Tok::Punct(b));
                i += 1;
            }
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n' | b'#' | b'"')
                    && !is_punct(bytes[i])
                {
                    i += 1;
                }
                line.toks.push(Tok::Word(&text[start..i]));
            }
        }
    }
    lines
}

/// The code of one line with canonical spacing (no indentation, no comment).
fn code(toks: &[Tok<'_>]) -> String {
    let mut s = String::new();
    for (k, t) in toks.iter().enumerate() {
        let prev = k.checked_sub(1).map(|p| &toks[p]);
        let space = !matches!(
            (prev, t),
            (None, _)
                | (Some(Tok::Punct(b'[' | b'(')), _)
                | (Some(_), Tok::Punct(b',' | b']' | b')'))
                | (Some(Tok::Word(_)), Tok::Punct(b'('))
                | (Some(Tok::Punct(b'{')), Tok::Punct(b'}'))
        );
        if space {
            s.push(' ');
        }
        match t {
            Tok::Punct(b) => s.push(char::from(*b)),
            Tok::Str(x) | Tok::Word(x) => s.push_str(x),
        }
    }
    s
}

/// Net change of bracket depth over a line, and how many closers it starts with.
fn depth_change(toks: &[Tok<'_>]) -> (i64, i64) {
    let mut net = 0i64;
    let mut leading = 0i64;
    let mut at_start = true;
    for t in toks {
        match t {
            Tok::Punct(b'{' | b'[' | b'(') => {
                net += 1;
                at_start = false;
            }
            Tok::Punct(b'}' | b']' | b')') => {
                net -= 1;
                if at_start {
                    leading += 1;
                }
            }
            _ => at_start = false,
        }
    }
    (net, leading)
}

/// A setting line: `name = …` (the alignment key is the width of `name`).
fn setting_name<'a>(toks: &[Tok<'a>]) -> Option<&'a str> {
    match toks {
        [Tok::Word(name), Tok::Punct(b'='), ..] => Some(name),
        _ => None,
    }
}

/// A laid-out line before comment alignment.
struct Out {
    indent: usize,
    code: String,
    comment: Option<String>,
    blank: bool,
}

/// Formats a file's text. The result is stable: `format(format(t)) == format(t)`.
pub fn format(text: &str) -> String {
    let lines = lex(text);
    let mut outs: Vec<Out> = Vec::new();
    let mut depth: i64 = 0;
    let mut meta: Vec<Meta> = Vec::new();
    for line in &lines {
        if line.is_blank() {
            outs.push(Out {
                indent: 0,
                code: String::new(),
                comment: None,
                blank: true,
            });
            meta.push(Meta {
                depth,
                name: None,
                comment_only: false,
                closer_first: false,
            });
            continue;
        }
        let (net, leading) = depth_change(&line.toks);
        let indent = (depth - leading).max(0);
        let name = setting_name(&line.toks).map(str::len);
        outs.push(Out {
            indent: usize::try_from(indent).unwrap_or(0) * 2,
            code: code(&line.toks),
            comment: line.comment.map(str::to_string),
            blank: false,
        });
        meta.push(Meta {
            depth: indent,
            name,
            comment_only: line.toks.is_empty(),
            closer_first: leading > 0,
        });
        depth = (depth + net).max(0);
    }
    align_settings(&mut outs, &meta);
    let outs = blank_lines(outs, &lines);
    render(&outs)
}

/// Pads `name` so that the `=` of the settings of one run line up.
fn align_settings(outs: &mut [Out], meta: &[Meta]) {
    let mut i = 0;
    while i < outs.len() {
        if meta[i].name.is_none() {
            i += 1;
            continue;
        }
        let depth = meta[i].depth;
        // The run: settings at this depth, with comment lines and the inner and closing
        // lines of multi-line values between them.
        let mut j = i;
        while j < outs.len() && !outs[j].blank {
            let m = &meta[j];
            let inside = m.depth > depth || (m.depth == depth && m.closer_first && j > i);
            if !(m.name.is_some() && m.depth == depth || m.comment_only || inside) {
                break;
            }
            j += 1;
        }
        let width = meta[i..j]
            .iter()
            .filter(|m| m.depth == depth)
            .filter_map(|m| m.name)
            .max()
            .unwrap_or(0);
        for k in i..j {
            if let (Some(name), true) = (meta[k].name, meta[k].depth == depth) {
                // `name = …`: the name is the first `name` bytes, then " =".
                outs[k].code.insert_str(name, &" ".repeat(width - name));
            }
        }
        i = j.max(i + 1);
    }
}

/// What alignment needs to know of a line.
struct Meta {
    /// Indentation depth of the line.
    depth: i64,
    /// Width of the setting name, for `name = …` lines.
    name: Option<usize>,
    /// A line holding only a comment.
    comment_only: bool,
    /// The line starts with `}`, `]` or `)`.
    closer_first: bool,
}

/// Collapses and places blank lines.
fn blank_lines(outs: Vec<Out>, lines: &[Line<'_>]) -> Vec<Out> {
    let opens = |l: &Line<'_>| matches!(l.toks.last(), Some(Tok::Punct(b'{' | b'[' | b'(')));
    let closes = |l: &Line<'_>| matches!(l.toks.first(), Some(Tok::Punct(b'}' | b']' | b')')));
    let mut kept: Vec<Out> = Vec::new();
    let mut kept_src: Vec<usize> = Vec::new();
    for (i, out) in outs.into_iter().enumerate() {
        if out.blank {
            let after_open = kept_src.last().is_none_or(|&p| opens(&lines[p]));
            let double = kept.last().is_some_and(|o| o.blank);
            let before_close = lines[i + 1..].iter().find(|l| !l.is_blank()).is_none_or(closes);
            if after_open || double || before_close {
                continue;
            }
        } else if let Some(&p) = kept_src.last() {
            // A top-level block ends: one blank line before whatever follows.
            let prev = &kept[kept.len() - 1];
            if !prev.blank && prev.indent == 0 && closes(&lines[p]) && prev.code == "}" {
                kept.push(Out {
                    indent: 0,
                    code: String::new(),
                    comment: None,
                    blank: true,
                });
                kept_src.push(p);
            }
        }
        kept.push(out);
        kept_src.push(i);
    }
    while kept.last().is_some_and(|o| o.blank) {
        kept.pop();
    }
    kept
}

/// Widest difference of code widths within one group of aligned trailing comments.
const COMMENT_SPREAD: usize = 24;

/// Writes the lines, aligning trailing comments over consecutive commented code lines.
fn render(outs: &[Out]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < outs.len() {
        let trailing = |o: &Out| !o.code.is_empty() && o.comment.is_some();
        if trailing(&outs[i]) {
            // A group: consecutive commented lines whose code widths stay within
            // COMMENT_SPREAD of each other, so one long line does not push every comment
            // of its neighbours far to the right.
            let width = |o: &Out| o.indent + o.code.len();
            let (mut lo, mut hi) = (width(&outs[i]), width(&outs[i]));
            let mut j = i + 1;
            while j < outs.len() && trailing(&outs[j]) {
                let w = width(&outs[j]);
                if w.max(hi) - w.min(lo) > COMMENT_SPREAD {
                    break;
                }
                (lo, hi) = (lo.min(w), hi.max(w));
                j += 1;
            }
            let col = hi + 3;
            for o in &outs[i..j] {
                let head = format!("{}{}", " ".repeat(o.indent), o.code);
                let pad = col - head.len();
                s.push_str(&head);
                s.push_str(&" ".repeat(pad));
                s.push_str(o.comment.as_deref().unwrap_or_default());
                s.push('\n');
            }
            i = j;
            continue;
        }
        let o = &outs[i];
        if !o.blank {
            s.push_str(&" ".repeat(o.indent));
            s.push_str(&o.code);
            if let Some(c) = &o.comment {
                if !o.code.is_empty() {
                    s.push_str("   ");
                }
                s.push_str(c);
            }
        }
        s.push('\n');
        i += 1;
    }
    s
}

/// The code tokens of a text, for checking that formatting changed only layout.
pub fn same_tokens(a: &str, b: &str) -> bool {
    let toks = |t: &str| -> Vec<(Vec<String>, Option<String>)> {
        lex(t)
            .into_iter()
            .filter(|l| !l.is_blank())
            .map(|l| {
                (
                    l.toks.iter().map(|t| format!("{t:?}")).collect(),
                    l.comment.map(str::to_string),
                )
            })
            .collect()
    };
    toks(a) == toks(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_spacing_indentation_and_alignment() {
        let src = "include   \"lib/x.mailsec\"  # lib\n\n\n\nserver hub01 {\n\n  fqdn=a.b.c   # the host\n        roles   =[ hub_transport ,edge ]\n\n\n\tkey = {size=2048 , exportable = true}\n request = file( \"r.req\" )\n\n}\nserver b {\r\n fqdn = b.c\r\n}\n\n\n";
        let want = "include \"lib/x.mailsec\"   # lib\n\nserver hub01 {\n  fqdn  = a.b.c   # the host\n  roles = [hub_transport, edge]\n\n  key     = { size = 2048, exportable = true }\n  request = file(\"r.req\")\n}\n\nserver b {\n  fqdn = b.c\n}\n";
        assert_eq!(format(src), want);
        assert_eq!(format(want), want, "idempotent");
        assert!(same_tokens(src, want));
    }

    #[test]
    fn multi_line_lists_and_comment_lines() {
        let src = "organization \"X\" {\n# first\nremote_ips = [\n1.2.3.4,   # a\n  5.6.7.8,\n]\n   }\n";
        let want = "organization \"X\" {\n  # first\n  remote_ips = [\n    1.2.3.4,   # a\n    5.6.7.8,\n  ]\n}\n";
        assert_eq!(format(src), want);
        assert_eq!(format(want), want);
    }

    #[test]
    fn strings_are_kept_verbatim() {
        let src = "a b { s = \"x  #  \\\" ,= {\" }\n";
        assert_eq!(format(src), "a b { s = \"x  #  \\\" ,= {\" }\n");
    }
}
