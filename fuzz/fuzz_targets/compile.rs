//! Parses and compiles arbitrary bytes; on a policy without errors, checks
//! every decision of the compiler against a naive reference, the evaluator
//! against the compiler, the artifact round trip, every grant expansion
//! against the pattern matcher, and every explanation against its decision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_syntax::{Severity, SourceFile};

fuzz_target!(|data: &[u8]| {
    let text = policyc_fuzz::text_of(data);
    let (policy, diags) = policy_compiler::compile(&SourceFile::new("fuzz.policy", text));
    for d in &diags {
        // Rendering must not panic either, and every diagnostic renders.
        let _ = d.render(false, 80);
    }
    if diags.iter().any(|d| d.severity() == Severity::Error) {
        return;
    }
    policyc_fuzz::check_decisions(&policy);
});
