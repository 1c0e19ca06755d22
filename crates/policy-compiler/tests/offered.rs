//! `offered` lines restrict the contexts and change no decision in the
//! contexts they keep: a generated policy (one or two dimensions, with its
//! deliberate mistakes) compiled with `offered` lines selecting a random
//! subset of its contexts decides, assigns and words every cell of those
//! contexts as the policy without them, and has exactly those contexts.

use policy_compiler::{compile, Policy, TierId};
use policy_syntax::SourceFile;
use proptest::prelude::*;

/// Every cell of a context: (role, permission, allowed), then each role's
/// assignability, then each permission's wording.
type Cells = (Vec<(String, String, bool)>, Vec<bool>, Vec<Option<String>>);

/// The cells of context `t` of `p`.
fn cells(p: &Policy, t: TierId) -> Cells {
    let mut allowed = Vec::new();
    for (r, role) in p.roles().iter().enumerate() {
        for (q, perm) in p.permissions().iter().enumerate() {
            let (r, q) = (
                policy_compiler::RoleId(r as u32),
                policy_compiler::PermId(q as u32),
            );
            allowed.push((role.id.clone(), perm.id.clone(), p.allows(t, r, q)));
        }
    }
    let assignable = (0..p.roles().len())
        .map(|r| p.role_assignable(policy_compiler::RoleId(r as u32), t))
        .collect();
    let labels = (0..p.permissions().len())
        .map(|q| {
            p.perm_label(policy_compiler::PermId(q as u32), t)
                .map(str::to_string)
        })
        .collect();
    (allowed, assignable, labels)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn offered_lines_keep_every_decision_of_the_offered_contexts(
        raw in policy_testkit::policy(),
        keep in proptest::collection::vec(any::<bool>(), 64),
    ) {
        let spec = policy_testkit::build(&raw);
        let (full, _) = compile(&SourceFile::new("p.policy", &spec.text));
        prop_assume!(!full.dimensions().is_empty());
        let chosen: Vec<String> = full
            .tiers()
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(t, _)| t.id.clone())
            .collect();
        prop_assume!(!chosen.is_empty());
        // One line per context (`offered on t1 and e0`): lines add up.
        let mut text = spec.text.clone();
        for c in &chosen {
            text.push_str(&format!("\noffered on {}\n", c.replace('+', " and ")));
        }
        let (restricted, _) = compile(&SourceFile::new("p.policy", &text));
        let names: Vec<String> = restricted.tiers().iter().map(|t| t.id.clone()).collect();
        prop_assert_eq!(&names, &chosen);
        for c in &chosen {
            let (a, b) = (full.tier_id(c).unwrap(), restricted.tier_id(c).unwrap());
            prop_assert_eq!(cells(&full, a), cells(&restricted, b), "context {}\n{}", c, text);
        }
    }
}

/// Conjunctions an `on` clause can be built from, over the dimensions of
/// [`or_policy`].
const CONJUNCTIONS: &[&str] = &[
    "cloud",
    "server, dedicated",
    ">= pro",
    "< enterprise",
    "server and free",
    "cloud, dedicated and >= pro",
    ">= pro and < enterprise",
];

/// A policy whose role `any` is on `a or b` (and, with `offered`, only
/// some combinations exist), beside roles on `a` and on `b` alone.
fn or_policy(a: &str, b: &str, offered: bool) -> String {
    let offered = if offered {
        "offered on cloud\noffered on server, dedicated and >= pro\n"
    } else {
        ""
    };
    format!(
        "dimension edition cloud | server | dedicated\ndimension plan free < pro < enterprise\n{offered}\
         permission p.x \"X\"\n\
         role any \"Any\" on {a} or {b} {{\n  grants p.x\n}}\n\
         role left \"Left\" on {a} {{\n  grants p.x\n}}\n\
         role right \"Right\" on {b} {{\n  grants p.x\n}}\n\
         role gated \"Gated\" {{\n  grants p.x on {a} or {b}\n}}\n"
    )
}

proptest! {
    #[test]
    fn an_or_clause_selects_the_union_of_its_alternatives(
        a in proptest::sample::select(CONJUNCTIONS),
        b in proptest::sample::select(CONJUNCTIONS),
        offered in any::<bool>(),
    ) {
        let text = or_policy(a, b, offered);
        let (p, _) = compile(&SourceFile::new("p.policy", &text));
        let role = |n: &str| p.role_id(n).unwrap();
        let x = p.perm_id("p.x").unwrap();
        for t in p.tier_ids() {
            let either = p.allows(t, role("left"), x) || p.allows(t, role("right"), x);
            prop_assert_eq!(p.allows(t, role("any"), x), either, "{:?}\n{}", p.tier(t), text);
            prop_assert_eq!(p.allows(t, role("gated"), x), either, "{:?}\n{}", p.tier(t), text);
        }
    }
}
