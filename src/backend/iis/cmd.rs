//! cmd.exe: the one quoting function every user string passes through on its way into
//! `configure-iis.cmd`, the comment sanitiser, and the appcmd command lines.
//!
//! The script runs with `setlocal DisableDelayedExpansion`, so inside double quotes the only
//! character cmd still interprets is `%` (written `%%` in a batch file). cmd has no way to
//! write `"` inside a quoted argument, so a string holding one is refused. The quoted text then
//! reaches the program through the C runtime's argument parser, where backslashes are literal
//! except before a `"`: trailing backslashes are doubled so the closing quote stays a quote.
//! Output is printable ASCII only: cmd reads a batch file in the console's OEM code page, so
//! any other character would not arrive as written.

use super::schema::APP_POOLS;
use super::{fail, Fail};

/// The 64-bit appcmd (never the SysWOW64 copy, which 32-bit guides name).
pub(super) const APPCMD: &str = r"%windir%\system32\inetsrv\appcmd.exe";

/// `s` as one double-quoted cmd argument, or an error naming what cannot be written.
pub(super) fn quote(s: &str) -> Result<String, Fail> {
    if let Some(c) = s.chars().find(|c| !c.is_ascii() || c.is_ascii_control()) {
        return Err(fail(format!(
            "`{}` cannot be written into a cmd script: {c:?} is not printable ASCII",
            s.escape_debug()
        )));
    }
    if s.contains('"') {
        return Err(fail(format!(
            "`{s}` cannot be written into a cmd script: cmd cannot quote `\"`"
        )));
    }
    let body = s.replace('%', "%%");
    let trailing = body.len() - body.trim_end_matches('\\').len();
    Ok(format!("\"{body}{}\"", "\\".repeat(trailing)))
}

/// Text safe to follow `REM` on one line: `%` doubled (cmd expands `%` even in remarks),
/// cmd's operator characters and `"` replaced, anything but printable ASCII replaced.
pub(super) fn comment(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '%' => "%%".to_string(),
            '"' | '&' | '|' | '<' | '>' | '^' => "_".to_string(),
            c if c.is_ascii() && !c.is_ascii_control() => c.to_string(),
            c if c.is_ascii_control() => " ".to_string(),
            _ => "?".to_string(),
        })
        .collect()
}

/// Whether `s` can follow `echo` unquoted: text mailsec wrote, without cmd's operators.
pub(super) fn is_echo_safe(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii() && !c.is_ascii_control() && !matches!(c, '%' | '"' | '&' | '|' | '<' | '>' | '^' | '(' | ')' | '!')
    })
}

/// `appcmd set config [path] -section:… /attr:"value"… /commit:apphost`. `/commit:apphost`
/// writes into applicationHost.config (inside `<location path>` for a path), so no section
/// has to be unlocked for a web.config.
pub(super) fn set_config(path: Option<&str>, section: &str, attributes: &[(&str, &str)]) -> Result<String, Fail> {
    let mut line = format!("{APPCMD} set config");
    if let Some(p) = path {
        line.push(' ');
        line.push_str(&quote(p)?);
    }
    line.push_str(" -section:");
    line.push_str(section);
    for (name, value) in attributes {
        line.push_str(&format!(" /{name}:{}", quote(value)?));
    }
    line.push_str(" /commit:apphost");
    Ok(line)
}

/// Sets an application pool's identity: the collection item is selected by name.
pub(super) fn set_pool_identity(pool: &str, identity: &str) -> Result<String, Fail> {
    Ok(format!(
        "{APPCMD} set config -section:{APP_POOLS} {} /commit:apphost",
        quote(&format!("/[name='{pool}'].processModel.identityType:{identity}"))?
    ))
}

/// `appcmd list <object> "<id>"`: fails (non-zero exit) when the object does not exist.
pub(super) fn list(object: &str, id: &str) -> Result<String, Fail> {
    Ok(format!("{APPCMD} list {object} {}", quote(id)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("Default Web Site").unwrap(), "\"Default Web Site\"");
        assert_eq!(quote("A & B (100%) ^!").unwrap(), "\"A & B (100%%) ^!\"");
        assert_eq!(quote(r"dir\").unwrap(), r#""dir\\""#);
        assert_eq!(quote(r"a\b").unwrap(), r#""a\b""#);
        assert!(quote("say \"hi\"").is_err());
        assert!(quote("line\nbreak").is_err());
        assert!(quote("Café").is_err());
    }

    #[test]
    fn comments_are_inert() {
        assert_eq!(comment("a & b | c % \"d\"\r\n"), "a _ b _ c %% _d_  ");
        assert_eq!(comment("é"), "?");
    }
}
