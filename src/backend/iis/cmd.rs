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

/// The scratch file `appcmd list … /text:…` writes the current value into (`set /p` reads it
/// back: a `for /f` or a pipe would run appcmd in a child cmd.exe, which expands `%` in the
/// quoted names a second time).
pub(super) const CURRENT: &str = "%CURRENT%";

/// What a comparison sets when the value differs and is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnChange {
    /// Only `CHANGED`.
    Changed,
    /// `CHANGED` and `RESTART`: the setting takes effect only after IIS restarts.
    Restart,
}

/// Writes the `appcmd set` line for a value.
pub(super) type SetLine<'a> = Box<dyn Fn(&str) -> Result<String, Fail> + 'a>;

/// One attribute brought to a value only when it differs: `appcmd list … /text:<attribute>`
/// into [`CURRENT`], compared (spaces removed, case ignored: appcmd prints flags without the
/// space the schema's examples write) with the wanted value, and `set` only on a difference.
pub(super) struct Ensure<'a> {
    /// Unique label prefix (`s4_1`).
    pub(super) label: String,
    /// The `appcmd list` line without its redirection.
    pub(super) list: String,
    /// The wanted value (schema spelling; never a user string).
    pub(super) value: &'a str,
    /// The `appcmd set` line for a value.
    pub(super) set: SetLine<'a>,
    /// For `access@sslFlags`: an existing `Ssl128` ("Require 128-bit SSL") is kept.
    pub(super) keep_ssl128: bool,
    /// What a write records.
    pub(super) on_change: OnChange,
}

/// The value as the comparison sees it: no spaces.
fn compact(value: &str) -> String {
    debug_assert!(
        value.chars().all(|c| c.is_ascii_alphanumeric() || c == ',' || c == ' '),
        "compared value {value:?} is not a schema value"
    );
    value.replace(' ', "")
}

impl Ensure<'_> {
    /// The script lines.
    pub(super) fn lines(&self) -> Result<Vec<String>, Fail> {
        let l = &self.label;
        let mut out = vec![
            format!("{} >\"{CURRENT}\" || goto :fail", self.list),
            format!("set \"VALUE=-\" & set /p VALUE=<\"{CURRENT}\""),
        ];
        if self.keep_ssl128 {
            let with = format!("{}, Ssl128", self.value);
            out.push(format!(
                "findstr /i /l /c:\"Ssl128\" \"{CURRENT}\" >nul && goto :{l}_ssl128"
            ));
            out.push(format!(
                "if /i \"%VALUE: =%\"==\"{}\" goto :{l}_same",
                compact(self.value)
            ));
            out.push(format!("{} || goto :fail", (self.set)(self.value)?));
            out.push(format!("goto :{l}_changed"));
            out.push(format!(":{l}_ssl128"));
            out.push(format!("if /i \"%VALUE: =%\"==\"{}\" goto :{l}_same", compact(&with)));
            out.push(format!("{} || goto :fail", (self.set)(&with)?));
            out.push(format!(":{l}_changed"));
        } else {
            out.push(format!(
                "if /i \"%VALUE: =%\"==\"{}\" goto :{l}_same",
                compact(self.value)
            ));
            out.push(format!("{} || goto :fail", (self.set)(self.value)?));
        }
        out.push("set \"CHANGED=1\"".to_string());
        if self.on_change == OnChange::Restart {
            out.push("set \"RESTART=1\"".to_string());
        }
        out.push(format!(":{l}_same"));
        Ok(out)
    }
}

/// `appcmd list config [path] -section:… /text:<attribute>`: the value in effect there
/// (set at that path or inherited).
pub(super) fn list_config(path: Option<&str>, section: &str, attribute: &str) -> Result<String, Fail> {
    let mut line = format!("{APPCMD} list config");
    if let Some(p) = path {
        line.push(' ');
        line.push_str(&quote(p)?);
    }
    line.push_str(&format!(" -section:{section} /text:{attribute}"));
    Ok(line)
}

/// `appcmd list apppool "<pool>" /text:processModel.identityType`.
pub(super) fn list_pool_identity(pool: &str) -> Result<String, Fail> {
    Ok(format!(
        "{APPCMD} list apppool {} /text:processModel.identityType",
        quote(pool)?
    ))
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
