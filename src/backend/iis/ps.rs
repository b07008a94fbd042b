//! PowerShell quoting for the companion script `configure-iis.ps1`: the one function every
//! user string passes through, and the `#` comment sanitiser.
//!
//! Only strings that already passed the cmd rules reach this script (printable ASCII, see
//! `cmd::quote`), so a verbatim single-quoted literal with `'` doubled is exact; anything
//! else is refused rather than encoded. Windows PowerShell reads a script without a byte
//! order mark as ANSI, which is why non-ASCII text is not written at all.

use super::{fail, Fail};

/// `s` as a single-quoted (verbatim) PowerShell string: no interpolation, no escapes.
pub(super) fn quote(s: &str) -> Result<String, Fail> {
    if let Some(c) = s.chars().find(|c| !c.is_ascii() || c.is_ascii_control()) {
        return Err(fail(format!(
            "`{}` cannot be written into a PowerShell script: {c:?} is not printable ASCII",
            s.escape_debug()
        )));
    }
    Ok(format!("'{}'", s.replace('\'', "''")))
}

/// Text safe to follow `#` on one line.
pub(super) fn comment(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii_control() => ' ',
            c if c.is_ascii() => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("Default Web Site").unwrap(), "'Default Web Site'");
        assert_eq!(quote("it's $(x) `n").unwrap(), "'it''s $(x) `n'");
        assert!(quote("\u{2019}").is_err());
        assert_eq!(comment("a\r\nb\u{e9}"), "a  b?");
    }
}
