//! Bytes → the whole pipeline: check, lower, render every built target.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailsec::driver::fuzz_compile(data);
});
