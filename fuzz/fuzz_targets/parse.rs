//! Bytes → decode → prescan → parse: never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailsec::driver::fuzz_parse(data);
});
