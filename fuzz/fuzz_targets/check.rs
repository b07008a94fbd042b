//! Bytes → parse → check (schema, names, lints, suppressions), without lowering.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailsec::driver::fuzz_check(data);
});
