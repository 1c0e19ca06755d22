//! The artifact keeps what the context space says: the `offered`
//! contexts, and the empty set of `assignable nowhere` (with and without
//! dimensions), so a policy loaded from its artifact decides and assigns
//! as the one compiled from source.

use policy_eval::{Artifact, Evaluator};
use policy_syntax::SourceFile;

/// The policy compiled from `text`, which must compile cleanly.
fn compiled(text: &str) -> policy_compiler::Policy {
    let (policy, diags) = policy_compiler::compile(&SourceFile::new("p.policy", text));
    assert!(diags.is_empty(), "{diags:?}");
    policy
}

/// Every role's assignability on every context, by name.
fn assignability(policy: &policy_compiler::Policy) -> Vec<(String, Option<String>, bool)> {
    let mut out = Vec::new();
    for t in policy.tier_ids() {
        for (r, role) in policy.roles().iter().enumerate() {
            out.push((
                role.id.clone(),
                policy.tier(t).map(|x| x.id.clone()),
                policy.role_assignable(policy_compiler::RoleId(r as u32), t),
            ));
        }
    }
    out
}

/// Found by the fuzzer: `assignable nowhere` wrote an empty tier list the
/// loader refused; in a policy without dimensions it could not be told
/// from the implicit context at all.
#[test]
fn assignable_nowhere_survives_the_artifact_with_and_without_dimensions() {
    for text in [
        "permission a.b \"A\"\nrole legacy \"Legacy\" { grants a.b\n assignable nowhere }\nrole r \"R\" { grants a.b }\n",
        "dimension edition cloud | server\ndimension plan free < pro\npermission a.b \"A\"\n\
         role legacy \"Legacy\" { grants a.b\n assignable nowhere }\nrole r \"R\" { grants a.b\n assignable on pro }\n",
    ] {
        let policy = compiled(text);
        let artifact = Artifact::from_policy(&policy);
        let json = serde_json::to_string(&artifact).unwrap();
        let loaded = Evaluator::from_artifact_json(&json).unwrap();
        assert_eq!(assignability(loaded.policy()), assignability(&policy), "{text}");
        assert!(assignability(&policy)
            .iter()
            .any(|(r, _, yes)| r == "legacy" && !yes));
        assert_eq!(Artifact::from_policy(loaded.policy()), artifact, "{text}");
    }
}

const OFFERED: &str = "dimension edition cloud | community | commercial\n\
    dimension plan free < pro < business\n\
    offered on cloud\noffered on community and free\noffered on commercial and >= pro\n\
    permission a.b \"A\" on business\nrole r \"R\" { grants a.b }\n";

#[test]
fn offered_contexts_survive_the_artifact() {
    let policy = compiled(OFFERED);
    let names: Vec<&str> = policy.tiers().iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        names,
        [
            "cloud+free",
            "cloud+pro",
            "cloud+business",
            "community+free",
            "commercial+pro",
            "commercial+business"
        ]
    );
    let artifact = Artifact::from_policy(&policy);
    assert_eq!(artifact.offered.as_deref().map(<[String]>::len), Some(6));
    let json = serde_json::to_string(&artifact).unwrap();
    let loaded = Evaluator::from_artifact_json(&json).unwrap();
    assert_eq!(loaded.policy().tiers(), policy.tiers());
    assert_eq!(Artifact::from_policy(loaded.policy()), artifact);
    let refused = loaded.resolve_tier(Some("community+pro")).unwrap_err();
    assert_eq!(refused.code().as_str(), "P0401");
    assert_eq!(
        refused.to_string(),
        "the product does not offer context `community+pro`"
    );
    // Without `offered` lines the field is absent.
    let every =
        compiled("dimension plan free < pro\npermission a.b \"A\"\nrole r \"R\" { grants a.b }\n");
    assert!(Artifact::from_policy(&every).offered.is_none());
}

#[test]
fn a_malformed_offered_list_is_refused() {
    let policy = compiled(OFFERED);
    let refused = |edit: &dyn Fn(&mut Artifact), expect: &str| {
        let mut artifact = Artifact::from_policy(&policy);
        edit(&mut artifact);
        artifact.content_hash = artifact.computed_hash();
        let err = Evaluator::from_artifact(&artifact).unwrap_err();
        assert_eq!(err.code().as_str(), "P0507", "{err}");
        assert!(err.to_string().contains(expect), "{expect}: {err}");
    };
    refused(
        &|a| a.offered = Some(vec!["community+pro".into()]),
        "names unknown context",
    );
    refused(
        &|a| {
            if let Some(o) = &mut a.offered {
                o.reverse();
            }
        },
        "out of order",
    );
    refused(&|a| a.offered = Some(Vec::new()), "`offered` list is empty");
    refused(
        &|a| a.offered = Some(vec!["cloud+free".into(), "cloud+free".into()]),
        "twice or out of order",
    );
}
