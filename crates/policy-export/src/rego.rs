//! The policy as an OPA bundle: a Rego package (`NAME.rego`) with an
//! `allow` and a `reasons` rule, and `data.json` holding the roles and the
//! permissions, each with the `grants` lines that give it, under
//! `data.NAME`. The rules read
//! the policy's own semantics (inheritance along `inherits` and `acts as`,
//! exclusions taking from what is inherited, availability, gates and
//! conditions) for each role the user holds, so one request with all the
//! user's roles is decided as policyc decides. See `docs/integrations.md`.

use policy_compiler::{ConditionSet, PermId, Policy, RoleId};
use serde_json::{json, Map, Value};

use crate::contexts::Contexts;
use crate::flow::lines;
use crate::{header_lines, json_text, source_line, ExportFile, Header};

/// Rego's keywords and the names every module has, which a package path
/// segment cannot be.
const RESERVED: &[&str] = &[
    "as", "contains", "data", "default", "else", "every", "false", "if", "import", "in", "input",
    "not", "null", "package", "some", "true", "with",
];

/// The policy's name as one Rego identifier (`hcp-terraform` →
/// `hcp_terraform`): the package is `NAME.authz`, the data `data.NAME`.
pub fn package_root(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, '_');
    }
    if RESERVED.contains(&id.as_str()) {
        id.push_str("_policy");
    }
    id
}

const MODULE: &str = r#"
# A request is what `policyc serve` takes: the roles the user holds, the
# action, the context (`on`: one value of each dimension) and the facts
# (`when`: whether each condition holds), e.g.
#   {"roles": ["admin"], "action": "files.manage", "on": {"tier": "team"}, "when": {}}
# The roles and permissions are data: data.ROOT (data.json), each
# permission with the `grants` lines that give it.
package ROOT.authz

import rego.v1

policy := data.ROOT

# The request's context as policyc names it: the value of each dimension,
# joined by `+` (`team`, `cloud+pro`).
context_name := concat("+", [input.on[d] | some d in policy.dimensions])

# Every condition's fact is given: like Cedar, Rego gets no third outcome,
# so a request that leaves a fact out is denied.
facts_given if {
	every c in policy.conditions {
		is_boolean(input.when[c])
	}
}

default allow := false

# Allowed when some `grants` line gives the action to a role the user holds.
allow if {
	facts_given
	count(reasons) > 0
}

# Each way the request is allowed: the role held, the line and where it is.
reasons contains sprintf("%s: %s (%s, %s)", [held, line.grants, line.role, line.at]) if {
	some held in input.roles
	context_name in policy.roles[held].contexts
	permission := policy.permissions[input.action]
	context_name in permission.contexts
	reached := inherits_action(held, input.action)
	some line in permission.granted_by
	line.role in reached
	context_name in line.contexts
	holds(line.when)
	not wildcard_excluded(line, input.action)
}

# The roles `role` takes `action` from: itself, and along `inherits` and
# `acts as` the roles it inherits, but not through a role that excludes
# the action (an exclusion takes from what the role inherits).
inherits_action(role, action) := graph.reachable(edges, {role}) if {
	edges := {r: parents(r, action) | some r in object.keys(policy.roles)}
}

parents(r, action) := [] if excluded(r, action)

parents(r, action) := policy.roles[r].parents if not excluded(r, action)

# An `excludes` line of role `r` names the action, and its conditions hold.
excluded(r, action) if {
	some e in policy.roles[r].excludes
	action in e.actions
	holds(e.when)
}

# A line grants the action through a wildcard, which the line's own role
# excludes (an exclusion takes from the role's wildcards too).
wildcard_excluded(line, action) if {
	line.wildcard
	excluded(line.role, action)
}

# Every condition of a `when` clause holds as stated: {"own": true}.
holds(when) if {
	every c, value in when {
		input.when[c] == value
	}
}
"#;

/// The two files.
pub fn files(policy: &Policy, header: &Header) -> Vec<ExportFile> {
    let root = package_root(header.name);
    let mut module: String = header_lines(header, "rego")
        .iter()
        .map(|l| format!("# {l}\n"))
        .collect();
    module.push_str(&MODULE.replace("ROOT", &root));
    let mut data = Map::new();
    data.insert(root, data_of(policy, header));
    let text = json_text(Value::Object(data));
    let [module_path, data_path] = paths(header.name);
    vec![
        ExportFile {
            path: module_path,
            text: module,
        },
        ExportFile {
            path: data_path,
            text,
        },
    ]
}

/// The files of an export named `name`: the module and the bundle's data.
pub(crate) fn paths(name: &str) -> [String; 2] {
    [format!("{name}.rego"), "data.json".to_string()]
}

/// A `when` clause as an object: condition → whether it must hold.
fn when(policy: &Policy, set: ConditionSet) -> Value {
    let mut m = Map::new();
    for (i, holds) in set.literals() {
        if let Some(c) = policy.conditions().get(i) {
            m.insert(c.id.clone(), Value::Bool(holds));
        }
    }
    Value::Object(m)
}

fn ids(policy: &Policy, perms: &[PermId]) -> Value {
    perms
        .iter()
        .filter_map(|&p| policy.permission(p))
        .map(|p| Value::String(p.id.clone()))
        .collect()
}

fn data_of(policy: &Policy, header: &Header) -> Value {
    let contexts = Contexts::new(policy);
    let lines_of_header = header_lines(header, "rego");
    let mut roles = Map::new();
    let mut granted_by: Vec<Vec<Value>> = vec![Vec::new(); policy.permissions().len()];
    for (i, role) in policy.roles().iter().enumerate() {
        let parents: Vec<&str> = role
            .parents
            .iter()
            .filter_map(|p| policy.role(p.role))
            .map(|p| p.id.as_str())
            .collect();
        let excludes: Vec<Value> = role
            .exclusions
            .iter()
            .map(|e| json!({"actions": ids(policy, &e.matches), "when": when(policy, e.when)}))
            .collect();
        roles.insert(
            role.id.clone(),
            json!({
                "label": role.label,
                "parents": parents,
                "contexts": contexts.names(role.tiers),
                "excludes": excludes,
            }),
        );
        for line in lines(policy, RoleId(i as u32)) {
            let at = policy.location(line.span);
            let mut perms: Vec<(PermId, bool)> = line.exact.iter().map(|&p| (p, false)).collect();
            perms.extend(
                line.matched
                    .iter()
                    .filter(|p| !line.exact.contains(p))
                    .map(|&p| (p, true)),
            );
            for (p, wildcard) in perms {
                if let Some(list) = granted_by.get_mut(p.index()) {
                    list.push(json!({
                        "role": role.id,
                        "grants": source_line(policy, line.span),
                        "at": format!("{}:{}", policy.file_name_of(&at), at.line),
                        "wildcard": wildcard,
                        "contexts": contexts.names(line.gate),
                        "when": when(policy, line.when),
                    }));
                }
            }
        }
    }
    let permissions: Map<String, Value> = policy
        .permissions()
        .iter()
        .zip(granted_by)
        .map(|(p, by)| {
            (
                p.id.clone(),
                json!({"label": p.label, "contexts": contexts.names(p.tiers), "granted_by": by}),
            )
        })
        .collect();
    json!({
        "export": lines_of_header,
        "dimensions": contexts.dimension_names().collect::<Vec<_>>(),
        "contexts": contexts.names(contexts.all()),
        "conditions": policy.conditions().iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        "roles": roles,
        "permissions": permissions,
    })
}
