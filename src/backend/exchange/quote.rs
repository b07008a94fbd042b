//! PowerShell quoting: the one function every user string passes through on its way into a
//! script, and the sanitiser for the few places a user string lands in a `#` comment.
//!
//! Output is pure ASCII on purpose. Windows PowerShell 5.1 reads a `.ps1` without a byte
//! order mark as ANSI (Windows-1252), where the UTF-8 continuation bytes 0x91 and 0x92 decode
//! to `‘` and `’` — characters PowerShell treats as single quotes. A UTF-8 script holding a
//! non-ASCII user string could therefore end its own string literal. Writing every
//! non-ASCII or control character as `[char]0xNNNN` makes the script mean the same thing
//! whatever encoding it is read with, and keeps line endings uniform (a user string never
//! puts a raw CR or LF into the file).

use std::fmt::Write as _;

/// The characters PowerShell ends a single-quoted string on: `'` and the typographic
/// single quotes ‘ ’ ‚ ‛. Only `'` can reach a literal segment (the others are non-ASCII and
/// encoded), but the set is kept complete so the rule is visible in one place.
const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// A PowerShell expression whose value is exactly `s`.
///
/// Printable ASCII becomes a single-quoted (verbatim) literal with quote characters doubled;
/// there is no interpolation, escape or sub-expression in such a literal, so `$(…)`, backticks
/// and `"` are inert. Any other character is appended as `[char]0xNNNN` (surrogate pairs for
/// characters outside the BMP), and the pieces are joined with `+` inside parentheses, which
/// is valid both in expression mode and as a command argument. The first piece is always a
/// string, so `+` concatenates rather than adds character codes.
pub(crate) fn quote(s: &str) -> String {
    let mut pieces: Vec<String> = Vec::new();
    let mut literal = String::new();
    let mut open = false;
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            open = true;
            if SINGLE_QUOTES.contains(&c) {
                literal.push(c);
            }
            literal.push(c);
        } else {
            if open {
                pieces.push(format!("'{literal}'"));
                literal.clear();
                open = false;
            }
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                pieces.push(format!("[char]0x{unit:04X}"));
            }
        }
    }
    if open || pieces.is_empty() {
        pieces.push(format!("'{literal}'"));
    }
    if pieces.len() == 1 {
        return pieces.remove(0);
    }
    if !pieces[0].starts_with('\'') {
        pieces.insert(0, "''".to_string());
    }
    format!("({})", pieces.join(" + "))
}

/// Text safe to follow `#` on one line: line breaks and other control characters become
/// spaces, non-ASCII characters become `\u{…}` escapes (the intent language's own spelling).
pub(crate) fn comment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_control() {
            out.push(' ');
        } else if c.is_ascii() {
            out.push(c);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    out
}

/// Whether `s` may be written unquoted as a cmdlet, parameter or property name:
/// an ASCII letter followed by letters, digits and `-`.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_are_single_quoted() {
        assert_eq!(quote("From ONE Mail"), "'From ONE Mail'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("C:\\Cert\\CSR.txt"), "'C:\\Cert\\CSR.txt'");
    }

    #[test]
    fn single_quotes_are_doubled() {
        assert_eq!(
            quote("x'; Remove-Item C:\\ -Recurse; '"),
            "'x''; Remove-Item C:\\ -Recurse; '''"
        );
        assert_eq!(quote("'"), "''''");
    }

    #[test]
    fn expansion_characters_stay_inert() {
        assert_eq!(quote("$(calc)"), "'$(calc)'");
        assert_eq!(quote("`n\"; & calc"), "'`n\"; & calc'");
    }

    #[test]
    fn typographic_quotes_are_encoded() {
        assert_eq!(quote("it\u{2019}s"), "('it' + [char]0x2019 + 's')");
        assert_eq!(
            quote("\u{2018}x\u{201A}\u{201B}"),
            "('' + [char]0x2018 + 'x' + [char]0x201A + [char]0x201B)"
        );
        assert_eq!(
            quote("\u{201C}smart\u{201D}"),
            "('' + [char]0x201C + 'smart' + [char]0x201D)"
        );
    }

    #[test]
    fn control_characters_are_encoded() {
        assert_eq!(quote("a\nb"), "('a' + [char]0x000A + 'b')");
        assert_eq!(quote("\r\n"), "('' + [char]0x000D + [char]0x000A)");
        assert_eq!(quote("tab\t"), "('tab' + [char]0x0009)");
    }

    #[test]
    fn non_bmp_characters_become_surrogate_pairs() {
        assert_eq!(quote("\u{1F600}"), "('' + [char]0xD83D + [char]0xDE00)");
        assert_eq!(
            quote("Soci\u{e9}t\u{e9}"),
            "('Soci' + [char]0x00E9 + 't' + [char]0x00E9)"
        );
    }

    #[test]
    fn quoted_output_is_ascii_without_line_breaks() {
        for s in ["x\u{2028}y", "\u{85}", "\0", "\u{7f}", "\u{feff}"] {
            let q = quote(s);
            assert!(q.is_ascii() && !q.contains(['\n', '\r']), "{q}");
        }
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(comment("a\nRemove-Item C:\\"), "a Remove-Item C:\\");
        assert_eq!(comment("caf\u{e9}\r"), "caf\\u{e9} ");
    }

    #[test]
    fn identifiers() {
        assert!(is_ident("New-ReceiveConnector"));
        assert!(is_ident("RequireTLS"));
        assert!(!is_ident("-Name"));
        assert!(!is_ident("a b"));
        assert!(!is_ident(""));
        assert!(!is_ident("x;y"));
    }
}
