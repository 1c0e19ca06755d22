use policy_syntax::SourceFile;

use super::*;
use crate::compile;

const BASE: &str = r#"
tiers free < team < enterprise
permission files.manage "Files"
permission deploy "Deploy"
permission billing "Billing"
role member "Member" on enterprise { grants files.manage }
role developer "Developer" on enterprise { inherits member grants deploy }
role admin "Admin" { inherits developer grants billing }
"#;

fn diff(old: &str, new: &str) -> PolicyDiff {
    let (o, d1) = compile(&SourceFile::new("old.policy", old));
    let (n, d2) = compile(&SourceFile::new("new.policy", new));
    assert!(
        !crate::has_errors(&d1) && !crate::has_errors(&d2),
        "{d1:?} {d2:?}"
    );
    diff_policies(&o, &n)
}

type Expected<'a> = (&'a str, &'a str, Change, &'a [&'a str], &'a [ChangeReason]);

fn check(new: &str, expect: &[Expected<'_>]) {
    let d = diff(BASE, new);
    let got: Vec<_> = d
        .access
        .iter()
        .map(|a| {
            (
                a.role.as_str(),
                a.permission.as_str(),
                a.change,
                a.tiers
                    .iter()
                    .map(|t| t.as_deref().unwrap_or("-"))
                    .collect::<Vec<_>>(),
                a.reasons.clone(),
            )
        })
        .collect();
    let want: Vec<_> = expect
        .iter()
        .map(|(r, p, c, t, why)| (*r, *p, *c, t.to_vec(), why.to_vec()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn identical_and_refactored_policies_have_no_effective_change() {
    assert!(diff(BASE, BASE).is_empty());
    let refactored = r#"
tiers free < team < enterprise
permission files.manage "Files"
permission deploy "Deploy"
permission billing "Billing"
role base "Base" on free { grants files.manage, deploy, billing }
role member "Member" on enterprise { grants files.manage }
role developer "Developer" on enterprise { inherits member grants deploy }
role admin "Admin" { inherits base }
"#;
    let d = diff(BASE, refactored);
    assert!(d.access.is_empty(), "{:?}", d.access);
    assert_eq!(d.roles_added.len(), 1);
}

#[test]
fn removed_grant_is_reported_for_every_heir() {
    let s = |r: &str, p: &str| ChangeReason::GrantRemoved {
        role: r.to_string(),
        pattern: p.to_string(),
    };
    check(
        &BASE.replace("grants deploy", ""),
        &[
            (
                "admin",
                "deploy",
                Change::Lost,
                &["free", "team", "enterprise"],
                &[s("developer", "deploy")],
            ),
            (
                "developer",
                "deploy",
                Change::Lost,
                &["enterprise"],
                &[s("developer", "deploy")],
            ),
        ],
    );
}

#[test]
fn tier_gate_moves_are_attributed() {
    let gate = ChangeReason::GrantTierGateChanged {
        role: "admin".to_string(),
        pattern: "billing".to_string(),
        old_tiers: vec!["free".into(), "team".into(), "enterprise".into()],
        new_tiers: vec!["enterprise".into()],
    };
    check(
        &BASE.replace("grants billing", "grants billing on enterprise"),
        &[("admin", "billing", Change::Lost, &["free", "team"], &[gate])],
    );
    let role_gate = ChangeReason::RoleTierGateChanged {
        role: "developer".to_string(),
        old_tiers: vec![Some("enterprise".into())],
        new_tiers: vec![Some("team".into()), Some("enterprise".into())],
    };
    check(
        &BASE.replace(
            "role developer \"Developer\" on enterprise",
            "role developer \"Developer\" on >= team",
        ),
        &[
            (
                "developer",
                "deploy",
                Change::Gained,
                &["team"],
                std::slice::from_ref(&role_gate),
            ),
            (
                "developer",
                "files.manage",
                Change::Gained,
                &["team"],
                std::slice::from_ref(&role_gate),
            ),
        ],
    );
}

#[test]
fn inheritance_and_exclusions_are_attributed() {
    let edge = ChangeReason::InheritanceRemoved {
        role: "developer".to_string(),
        parent: "member".to_string(),
        acts_as: false,
    };
    check(
        &BASE.replace("inherits member ", ""),
        &[
            (
                "admin",
                "files.manage",
                Change::Lost,
                &["free", "team", "enterprise"],
                std::slice::from_ref(&edge),
            ),
            (
                "developer",
                "files.manage",
                Change::Lost,
                &["enterprise"],
                std::slice::from_ref(&edge),
            ),
        ],
    );
    let ex = ChangeReason::ExclusionAdded {
        role: "admin".to_string(),
        pattern: "files.*".to_string(),
    };
    check(
        &BASE.replace("grants billing", "grants billing excludes files.*"),
        &[(
            "admin",
            "files.manage",
            Change::Lost,
            &["free", "team", "enterprise"],
            &[ex],
        )],
    );
}

#[test]
fn renames_labels_and_new_permissions() {
    let new = BASE
        .replace(
            "role admin \"Admin\" { inherits developer",
            "role owner \"Owner\" { inherits developer",
        )
        .replace("\"Files\"", "\"Manage files\"")
        .replace("role member", "permission audit \"Audit\"\nrole member")
        .replace("grants billing", "grants billing, audit");
    let d = diff(BASE, &new);
    assert_eq!(d.roles_removed.len(), 1);
    assert_eq!(d.roles_removed[0].id, "admin");
    assert_eq!(d.roles_removed[0].same_as, None);
    assert_eq!(d.roles_added[0].id, "owner");
    assert_eq!(d.permissions_added[0].id, "audit");
    assert_eq!(d.labels.len(), 1);
    assert_eq!(d.labels[0].new, "Manage files");
    assert!(d.access.is_empty(), "{:?}", d.access);
    // A pure rename is recognised as such.
    let renamed = BASE.replace("role admin \"Admin\"", "role owner \"Admin\"");
    let d = diff(BASE, &renamed);
    assert_eq!(d.roles_added[0].same_as.as_deref(), Some("admin"));
    assert_eq!(d.roles_removed[0].same_as.as_deref(), Some("owner"));
}

#[test]
fn tierless_policies_compare_on_the_implicit_tier() {
    let a = "permission p \"P\"\npermission q \"Q\"\nrole r \"R\" { grants p }";
    let b = "permission p \"P\"\npermission q \"Q\"\nrole r \"R\" { grants p, q }";
    let d = diff(a, b);
    assert_eq!(d.access.len(), 1);
    assert_eq!(d.access[0].tiers, vec![None]);
    assert_eq!(
        d.access[0].reasons,
        vec![ChangeReason::GrantAdded {
            role: "r".into(),
            pattern: "q".into()
        }]
    );
}

#[test]
fn removing_an_inherit_is_the_reason_not_an_unchanged_grant_of_the_parent() {
    // Issue 7: `base` did not change, yet the loss was explained as a
    // change of the tier gate of `*.b` in `base`.
    let old = r#"
tiers t0 < t1
permission x.b "B"
role base "Base" {
  grants *.b on t1
  grants x.b
}
role user "User" { inherits base }
"#;
    let new = old.replace(
        "role user \"User\" { inherits base }",
        "role user \"User\" {}",
    );
    let d = diff(old, &new);
    assert!(!d.access.is_empty());
    for a in &d.access {
        assert_eq!((a.role.as_str(), a.change), ("user", Change::Lost));
        assert_eq!(
            a.reasons,
            [ChangeReason::InheritanceRemoved {
                role: "user".to_string(),
                parent: "base".to_string(),
                acts_as: false,
            }],
            "{a:?}"
        );
    }
}

/// Changing an inner level's role changes what every outer role that
/// acts as it can do there, and removing an `acts as` line is said so.
#[test]
fn acts_as_links_are_attributed_across_levels() {
    let old = r#"
scope organization "Organization"
permission billing.manage "Billing"
role manager "Manager" {
  grants billing.manage
  acts as team.admin
}
scope team "Team" in organization
permission projects.remove "Remove"
permission projects.view "View"
role admin "Admin" { grants projects.view, projects.remove }
"#;
    // The team admin loses a permission: so does the manager, on the team level.
    let d = diff(
        old,
        &old.replace(
            "grants projects.view, projects.remove",
            "grants projects.view",
        ),
    );
    let lost: Vec<(&str, &str)> = d
        .access
        .iter()
        .map(|a| (a.role.as_str(), a.permission.as_str()))
        .collect();
    assert_eq!(
        lost,
        [
            ("organization.manager", "team.projects.remove"),
            ("team.admin", "team.projects.remove")
        ]
    );
    // The `acts as` line goes: the manager loses the team's permissions.
    let d = diff(old, &old.replace("  acts as team.admin\n", ""));
    assert!(!d.access.is_empty());
    for a in &d.access {
        assert_eq!(a.role, "organization.manager");
        let reason = ChangeReason::InheritanceRemoved {
            role: "organization.manager".to_string(),
            parent: "team.admin".to_string(),
            acts_as: true,
        };
        assert_eq!(a.reasons, std::slice::from_ref(&reason), "{a:?}");
        assert_eq!(
            reason.describe(),
            "`acts as` removed: `organization.manager` no longer acts as `team.admin`"
        );
    }
}

/// A cell that turns from allowed to held under conditions, or whose
/// conditions change, is a change of its own, saying so.
#[test]
fn conditional_cells_are_diffed_by_their_conditions() {
    let old = "condition own \"Own\"\ncondition recent \"Recent\"\n\
               permission items.delete \"D\"\npermission items.edit \"E\"\n\
               role guest \"G\" {\n  grants items.delete\n  grants items.edit when own\n}\n";
    let new = old
        .replace("grants items.delete\n", "grants items.delete when own\n")
        .replace("when own\n}", "when own and recent\n}");
    let d = diff(old, &new);
    let got: Vec<(&str, Change, &[ChangeReason])> = d
        .access
        .iter()
        .map(|a| (a.permission.as_str(), a.change, a.reasons.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "items.delete",
                Change::Lost,
                &[ChangeReason::NowConditional {
                    when: vec!["own".to_string()]
                }][..]
            ),
            (
                "items.edit",
                Change::Conditional,
                &[ChangeReason::Conditions {
                    old: vec!["own".to_string()],
                    new: vec!["own and recent".to_string()]
                }][..]
            ),
        ]
    );
    assert_eq!(
        d.access[1].reasons[0].describe(),
        "conditions: when own → when own and recent"
    );
}
