//! Arbitrary Udesk KM answers through the adapter's parsing and mapping: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = conversation_gateway::vendors::fuzzing::udesk(data);
});
