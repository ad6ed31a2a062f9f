//! Definition loading: JSON text -> parse -> validate -> compile, for both machine types.
//! Any input must give `Ok` or a `DefinitionError`, never a panic, hang or stack overflow.
#![no_main]

use expressway_asl::definition::parse_json;
use expressway_asl::{DefinitionError, MachineType, StateMachine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 65536 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };

    // Parse + validate + compile as an Express machine (what CreateStateMachine does).
    match StateMachine::from_json_with(text, MachineType::Express) {
        Ok(m) => {
            let _ = m.comment();
            let _ = m.timeout_seconds();
        }
        Err(e) => describe(&e),
    }

    // The same document validated as a Standard machine (other integration patterns allowed).
    if let Ok(value) = parse_json(text) {
        match StateMachine::from_value(&value, MachineType::Standard) {
            Ok(m) => {
                let _ = m.timeout_seconds();
            }
            Err(e) => describe(&e),
        }
    }
});

fn describe(e: &DefinitionError) {
    let _ = e.to_string();
    for d in e.diagnostics() {
        let _ = (d.code, d.message.len(), d.location.len());
    }
}
