//! Direct parser vs grammar on the same text: they must agree (differential fuzzing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailsec::driver::fuzz_direct(data);
});
