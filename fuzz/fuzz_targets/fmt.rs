//! `fmt` on arbitrary bytes: when the text parses, formatting is
//! idempotent and keeps the diagnostics' codes, every role's effective
//! permissions on every tier, labels, descriptions and assertions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_syntax::SourceFile;

fuzz_target!(|data: &[u8]| {
    let text = policyc_fuzz::text_of(data);
    let source = SourceFile::new("fuzz.policy", text);
    let Ok(formatted) = policy_syntax::format(&source) else {
        return;
    };
    let again = SourceFile::new("fuzz.policy", formatted.clone());
    match policy_syntax::format(&again) {
        Ok(twice) => assert_eq!(twice, formatted, "fmt is not idempotent"),
        Err(d) => panic!(
            "formatted text does not parse: {:?}",
            d.first().map(|d| d.message().to_string())
        ),
    }
    policyc_fuzz::check_same_meaning(&source, &again);
});
