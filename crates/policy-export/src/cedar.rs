//! The policy as Cedar: a schema (`NAME.cedarschema`), the policies
//! (`NAME.cedar`) and the role entities with their hierarchy
//! (`NAME.entities.json`). See `docs/integrations.md` for the encoding.

use std::fmt::Write as _;

use policy_compiler::{Policy, RoleId};

use crate::contexts::{any_facts, has_top_level_or, string, when_parts, Contexts, Syntax, Test};
use crate::plan::{Plan, RoleTerm, Rule};
use crate::{header_lines, json_text, source_line, ExportFile, Header};

/// Cedar's reserved words, which cannot follow `context.`.
const RESERVED: &[&str] = &[
    "true", "false", "if", "then", "else", "in", "is", "like", "has", "__cedar",
];

/// Whether `name` can be written after a `.` (else `["name"]`).
fn plain(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name)
}

/// The context attribute `name`.
fn attr(name: &str) -> String {
    if plain(name) {
        format!("context.{name}")
    } else {
        format!("context[{}]", string(name))
    }
}

/// The attribute's name in a schema record.
fn schema_attr(name: &str) -> String {
    if plain(name) {
        name.to_string()
    } else {
        string(name)
    }
}

/// `Role::"id"`.
fn role_uid(policy: &Policy, r: RoleId) -> String {
    format!(
        "Role::{}",
        string(policy.role(r).map_or("", |role| role.id.as_str()))
    )
}

struct CedarSyntax;

impl Syntax for CedarSyntax {
    fn attr(&self, name: &str) -> String {
        attr(name)
    }

    fn dim_in(&self, dim: &str, values: &[&str]) -> String {
        match values {
            [one] => format!("{} == {}", attr(dim), string(one)),
            _ => {
                let vs: Vec<String> = values.iter().map(|v| string(v)).collect();
                format!("[{}].contains({})", vs.join(", "), attr(dim))
            }
        }
    }
}

/// The three files.
pub fn files(policy: &Policy, plan: &Plan, header: &Header) -> Vec<ExportFile> {
    let contexts = Contexts::new(policy);
    let [schema_path, policies_path, entities_path] = paths(header.name);
    vec![
        ExportFile {
            path: schema_path,
            text: schema(policy, &contexts, header),
        },
        ExportFile {
            path: policies_path,
            text: policies(policy, plan, &contexts, header),
        },
        ExportFile {
            path: entities_path,
            text: entities(policy),
        },
    ]
}

/// The files of an export named `name`: schema, policies, entities.
pub(crate) fn paths(name: &str) -> [String; 3] {
    [
        format!("{name}.cedarschema"),
        format!("{name}.cedar"),
        format!("{name}.entities.json"),
    ]
}

fn comment_header(header: &Header) -> String {
    header_lines(header, "cedar")
        .iter()
        .map(|l| format!("// {l}\n"))
        .collect()
}

fn schema(policy: &Policy, contexts: &Contexts, header: &Header) -> String {
    let mut out = comment_header(header);
    let _ = write!(
        out,
        "\n// Roles are groups: a user is in the roles they hold, and a role is in the\n\
         // roles it inherits or acts as ({}.entities.json), so `principal in\n\
         // Role::\"x\"` holds for a user holding `x` or any role below it.\n\
         entity Role in [Role];\n\
         entity User in [Role];\n\
         // policyc decides on the role, the permission and the context alone.\n\
         entity Resource;\n\n",
        header.name
    );
    let _ = writeln!(
        out,
        "// The request's context: one value of each dimension, and whether each\n\
         // condition holds (every one must be given; see docs/integrations.md)."
    );
    let mut fields: Vec<String> = contexts
        .dimension_names()
        .map(|d| format!("  {}: String,", schema_attr(d)))
        .collect();
    fields.extend(
        policy
            .conditions()
            .iter()
            .map(|c| format!("  {}: Bool,", schema_attr(&c.id))),
    );
    if fields.is_empty() {
        out.push_str("type Context = {};\n");
    } else {
        let _ = writeln!(out, "type Context = {{\n{}\n}};", fields.join("\n"));
    }
    for p in policy.permissions() {
        let _ = write!(
            out,
            "\n// {}\naction {} appliesTo {{\n  principal: [User],\n  resource: [Resource],\n  context: Context\n}};\n",
            p.label,
            string(&p.id)
        );
    }
    out
}

fn entities(policy: &Policy) -> String {
    let list: Vec<serde_json::Value> = policy
        .roles()
        .iter()
        .map(|r| {
            let parents: Vec<serde_json::Value> = r
                .parents
                .iter()
                .filter_map(|p| policy.role(p.role))
                .map(|p| serde_json::json!({"type": "Role", "id": p.id}))
                .collect();
            serde_json::json!({
                "uid": {"type": "Role", "id": r.id},
                "attrs": {},
                "parents": parents,
            })
        })
        .collect();
    json_text(serde_json::Value::Array(list))
}

/// A `when` or `unless` clause of `parts` joined by `op`: on one line
/// when short, else one part per line.
fn clause(keyword: &str, parts: &[String], op: &str) -> String {
    let one = format!("{keyword} {{ {} }}", parts.join(&format!(" {op} ")));
    if one.len() <= 78 {
        one
    } else {
        format!("{keyword} {{\n  {}\n}}", parts.join(&format!(" {op}\n  ")))
    }
}

/// The role part of a rule's `when`: `None` when any role below holds it
/// in every context of the gate.
fn role_test(policy: &Policy, contexts: &Contexts, rule: &Rule) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    for t in &rule.terms {
        let ctx = contexts.test(t.contexts, rule.gate, &CedarSyntax);
        let part = match (t.role == rule.role, ctx) {
            (_, Test::Never) => continue,
            (true, Test::Always) => return None,
            (true, Test::Expr(e)) => e,
            (false, Test::Always) => format!("principal in {}", role_uid(policy, t.role)),
            (false, Test::Expr(e)) => {
                CedarSyntax.and(&[format!("principal in {}", role_uid(policy, t.role)), e])
            }
        };
        parts.push(part);
    }
    Some(parts)
}

fn exception(
    policy: &Policy,
    plan: &Plan,
    contexts: &Contexts,
    rule: &Rule,
    u: &RoleTerm,
) -> String {
    let mut parts = vec![format!("principal in {}", role_uid(policy, u.role))];
    if u.itself {
        let children: Vec<String> = plan
            .hierarchy
            .children
            .get(u.role.index())
            .map_or(&[][..], |c| c.as_slice())
            .iter()
            .map(|&c| role_uid(policy, c))
            .collect();
        parts.push(format!("!(principal in [{}])", children.join(", ")));
    }
    if u.absent {
        let exists = policy.role(u.role).map_or(u.contexts, |r| r.tiers);
        if let Test::Expr(e) = contexts.test(exists, rule.gate, &CedarSyntax) {
            parts.push(format!("!({e})"));
        }
    } else if let Test::Expr(e) = contexts.test(u.contexts, rule.gate, &CedarSyntax) {
        parts.push(e);
    }
    CedarSyntax.and(&parts)
}

fn actions(policy: &Policy, perms: &[policy_compiler::PermId]) -> String {
    let names: Vec<String> = perms
        .iter()
        .filter_map(|&p| policy.permission(p))
        .map(|p| format!("Action::{}", string(&p.id)))
        .collect();
    match names.as_slice() {
        [one] => format!("action == {one}"),
        _ => {
            let one = names.join(", ");
            if one.len() <= 60 {
                format!("action in [{one}]")
            } else {
                format!("action in [\n    {}\n  ]", names.join(",\n    "))
            }
        }
    }
}

fn policies(policy: &Policy, plan: &Plan, contexts: &Contexts, header: &Header) -> String {
    let mut out = comment_header(header);
    let _ = writeln!(
        out,
        "//\n// One `permit` per `grants` line: `principal in Role::\"r\"` is the role and\n\
         // every role that inherits it. A user holding one role is decided as policyc\n\
         // decides; {}",
        if plan.several_roles_exact() {
            "so is a user holding several (allowed when any role allows)."
        } else {
            "for a user holding several, ask once per role (an `unless`\n\
             // takes a permission from one role, and group membership cannot tell\n\
             // which role a user holding several got it through)."
        }
    );
    if contexts.restricted() {
        if let Test::Expr(e) = contexts.offered_test(&CedarSyntax) {
            let _ = write!(
                out,
                "\n// Only the offered contexts exist.\n@id(\"offered\")\nforbid (principal, action, resource)\nunless {{ {e} }};\n"
            );
        }
    }
    for ex in &plan.existence {
        let names: Vec<&str> = ex
            .perms
            .iter()
            .filter_map(|&p| policy.permission(p))
            .map(|p| p.id.as_str())
            .collect();
        let test = match contexts.test(ex.contexts, contexts.all(), &CedarSyntax) {
            Test::Expr(e) => format!("\nunless {{ {e} }}"),
            _ => String::new(),
        };
        let _ = write!(
            out,
            "\n// {} exist{} only where declared.\n@id(\"exists:{}\")\nforbid (\n  principal,\n  {},\n  resource\n){test};\n",
            names.join(", "),
            if names.len() == 1 { "s" } else { "" },
            names.first().copied().unwrap_or(""),
            actions(policy, &ex.perms)
        );
    }
    let mut ids: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for rule in &plan.rules {
        let role = policy.role(rule.role).map_or("", |r| r.id.as_str());
        let at = policy.location(rule.span);
        let mut id = format!("{role}:{}", at.line);
        let mut n = 1;
        while !ids.insert(id.clone()) {
            n += 1;
            id = format!("{role}:{}.{n}", at.line);
        }
        let file = policy.file_name_of(&at);
        let line = source_line(policy, rule.span);
        let _ = write!(out, "\n// {role}, {file}:{}: {line}\n", at.line);
        let mut when: Vec<String> = Vec::new();
        if let Test::Expr(e) = contexts.test(rule.gate, contexts.all(), &CedarSyntax) {
            when.push(e);
        }
        match role_test(policy, contexts, rule) {
            None => {}
            Some(parts) if parts.is_empty() => {
                out.push_str("// (no role holds it in any context)\n");
                continue;
            }
            Some(parts) => when.push(CedarSyntax.or(&parts)),
        }
        when.extend(when_parts(policy, rule.when, &CedarSyntax));
        if let Some(terms) = &rule.facts {
            // The facts under which the line reaches these roles.
            when.push(any_facts(policy, terms, &CedarSyntax));
        }
        let unless: Vec<String> = rule
            .unless
            .iter()
            .map(|u| exception(policy, plan, contexts, rule, u))
            .collect();
        let mut text = String::new();
        if !unless.is_empty() {
            text.push_str(
                "// (`unless`: not for the roles below that exclude it or exist in fewer contexts)\n",
            );
        }
        let _ = write!(
            text,
            "@id({})\npermit (\n  principal in {},\n  {},\n  resource\n)",
            string(&id),
            role_uid(policy, rule.role),
            actions(policy, &rule.perms)
        );
        if !when.is_empty() {
            let parts: Vec<String> = when
                .iter()
                .map(|p| {
                    if has_top_level_or(p) && when.len() > 1 {
                        format!("({p})")
                    } else {
                        p.clone()
                    }
                })
                .collect();
            let _ = write!(text, "\n{}", clause("when", &parts, "&&"));
        }
        if !unless.is_empty() {
            let _ = write!(text, "\n{}", clause("unless", &unless, "||"));
        }
        text.push_str(";\n");
        out.push_str(&text);
    }
    out
}
