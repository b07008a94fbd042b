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

/// Runs `mailsec check` on a path with a deadline: a hang is a failure, not a stuck test.
fn check_path_within(path: &std::path::Path, secs: u64) -> (i32, String) {
    let mut child = Command::new(bin())
        .args(["--message-format", "json", "check"])
        .arg(path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
            return (status.code().expect("exited"), out);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`mailsec check {}` did not finish in {secs} s", path.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_argument_is_refused_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("estate.mailsec");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (status, out) = check_path_within(&fifo, 60);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("\"code\":\"MS0011\""), "{out}");
}

#[cfg(unix)]
#[test]
fn dev_zero_is_refused_not_read() {
    let (status, out) = check_path_within(std::path::Path::new("/dev/zero"), 60);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("\"code\":\"MS0011\""), "{out}");
}

#[test]
fn a_three_thousand_deep_include_chain_hits_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    for i in 1..3000 {
        std::fs::write(
            dir.path().join(format!("l{i}.inc")),
            format!("include \"l{}.inc\"\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("l3000.inc"),
        "server s { fqdn = s.x.example roles = [eas] }\n",
    )
    .unwrap();
    let unit = dir.path().join("u.mailsec");
    std::fs::write(
        &unit,
        "organization \"X\" { smtp_domains = [x.example] exchange = 2019 }\ninclude \"l1.inc\"\n",
    )
    .unwrap();
    let c = compile_path(&unit);
    assert_eq!(codes(&c), ["MS0012"], "{:?}", c.diags);
}

#[test]
fn file_references_stay_below_the_compile_root() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("site/u.mailsec");
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    let authority = |name: &str, path: &str| {
        format!("authority {name} {{ kind = partner common_name = \"{name}\" certificate = file(\"{path}\") }}\n")
    };
    let text = format!(
        "organization \"X\" {{ smtp_domains = [x.example] exchange = 2019 }}\n{}{}{}{}{}",
        authority("up", "../../etc/passwd"),
        authority("abs", "/etc/passwd"),
        authority("win", "C:\\\\Windows\\\\win.ini"),
        authority("back", "..\\\\..\\\\x.cer"),
        authority("ok", "certs/../certs/root.cer"),
    );
    std::fs::write(&unit, text).unwrap();
    let c = compile_path(&unit);
    assert_eq!(codes(&c), ["MS0009", "MS0009", "MS0009", "MS0009"], "{:?}", c.diags);
    let messages: Vec<&str> = c.diags.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.iter().filter(|m| m.contains("absolute")).count() == 2,
        "{messages:?}"
    );
}
