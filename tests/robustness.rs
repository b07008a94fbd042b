//! Tests: hostile and broken input gets one coded diagnostic and exit 1 — never a panic,
//! a stack overflow or a hang. Sizes are the ones the project promises to handle.

use crate::common::{bin, codes, compile_path};
use std::process::Command;

/// Writes `bytes` to a fresh directory and runs `mailsec check` on it.
fn check_bytes(bytes: &[u8]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.mailsec");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(bin())
        .args(["--message-format", "json", "check"])
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.code().expect("exited, not killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn assert_coded(bytes: &[u8], code: &str) {
    let (status, stdout) = check_bytes(bytes);
    assert_eq!(status, 1, "exit status; output: {}", &stdout[..stdout.len().min(500)]);
    assert!(
        stdout.contains(&format!("\"code\":\"{code}\"")),
        "expected {code} in {}",
        &stdout[..stdout.len().min(500)]
    );
    for line in stdout.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("each line is one JSON object");
        assert!(line.len() < 4096, "a diagnostic stays short even for huge input");
    }
}

#[test]
fn binary_file() {
    assert_coded(b"\x7fELF\x02\x01\x01\x00\x00\x00binary", "MS0003");
}

#[test]
fn invalid_utf8() {
    assert_coded(b"server a { fqdn = \"\xff\xfe\" }\n", "MS0002");
}

#[test]
fn utf16_file() {
    let utf16: Vec<u8> = "server a {}".encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_coded(&[&[0xFF, 0xFE][..], &utf16].concat(), "MS0002");
}

#[test]
fn unterminated_string() {
    assert_coded(b"server a {\n  fqdn = \"abc\n}\n", "MS0001");
}

#[test]
fn unbalanced_braces() {
    assert_coded(b"server a {\n  fqdn = \"a.b\"\n", "MS0001");
    assert_coded(b"server a { }\n}\n", "MS0001");
}

#[test]
fn deep_nesting() {
    let deep = format!(
        "server a {{ roles = {}{} }}\n",
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    assert_coded(deep.as_bytes(), "MS0005");
    assert_coded("{".repeat(200_000).as_bytes(), "MS0005");
    assert_coded("x = (".repeat(100_000).as_bytes(), "MS0005");
}

#[test]
fn ten_megabyte_line() {
    let line = format!("server a {{ roles = [eas] fqdn = \"{}\" }}\n", "a".repeat(10_000_000));
    assert_coded(line.as_bytes(), "MS0118");
    assert_coded("x".repeat(10_000_000).as_bytes(), "MS0001");
}

#[test]
fn three_hundred_thousand_bogus_lines() {
    assert_coded("this is not valid ; ; ;\n".repeat(300_000).as_bytes(), "MS0001");
}

#[test]
fn invisible_and_bidi_characters() {
    assert_coded(
        "server a {\n  fqdn = \"mail\u{202E}moc.example\"\n}\n".as_bytes(),
        "MS0004",
    );
    assert_coded("ser\u{200B}ver a {}\n".as_bytes(), "MS0004");
    assert_coded(
        "# comment with \u{2066}isolate\u{2069}\nserver a {}\n".as_bytes(),
        "MS0004",
    );
}

#[test]
fn too_large_file() {
    let big = vec![b' '; mailsec::syntax::MAX_FILE_BYTES + 1];
    assert_coded(&big, "MS0010");
}

#[test]
fn many_blocks_are_all_checked() {
    // 20,000 blocks with one error each: every error is reported, quickly.
    let text: String = (0..20_000)
        .map(|i| format!("server s{i} {{ fqdn = \"h{i}.example\" rolez = [eas] }}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.mailsec");
    std::fs::write(
        &path,
        format!("organization \"X\" {{ smtp_domains = [x.example] exchange = 2019 }}\n{text}"),
    )
    .unwrap();
    let c = compile_path(&path);
    let n = codes(&c).iter().filter(|c| **c == "MS0101").count();
    assert_eq!(n, 20_000);
}

#[test]
fn empty_and_whitespace_files_are_fine() {
    for text in ["", "\n\n", "# only a comment\n", "\u{FEFF}# BOM then comment\n"] {
        let (status, stdout) = check_bytes(text.as_bytes());
        assert_eq!(status, 0, "{text:?}: {stdout}");
    }
}

#[test]
fn missing_path_is_a_usage_error() {
    let out = Command::new(bin())
        .args(["check", "does/not/exist.mailsec"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
