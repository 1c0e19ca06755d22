//! The facts of a test case: `when: {own: true, setting.public: false}`,
//! each a condition the policy declares.

use policy_compiler::Facts;
use policy_syntax::did_you_mean;

use super::super::locate::Seg;
use super::{quoted, Resolver};

impl Resolver<'_> {
    /// The facts `when` states (none when absent); an unknown condition is
    /// a problem with a did-you-mean, and the case is not run.
    pub(super) fn facts(
        &mut self,
        at: &[Seg],
        when: Option<&std::collections::BTreeMap<String, bool>>,
    ) -> Option<Facts> {
        let mut facts = Facts::default();
        let mut ok = true;
        for (name, value) in when.into_iter().flatten() {
            match self.policy.condition_id(name) {
                Some(i) => facts.set(i, *value),
                None => {
                    ok = false;
                    let mut names: Vec<&str> = self
                        .policy
                        .conditions()
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect();
                    names.sort_unstable();
                    let suggestion = did_you_mean(name, names.iter().copied());
                    let help = if names.is_empty() {
                        "the policy declares no condition".to_string()
                    } else {
                        format!("the conditions are {}", quoted(&names))
                    };
                    let mut path = at.to_vec();
                    path.push(Seg::Key(&["when"]));
                    self.problem(
                        &path,
                        format!("unknown condition `{name}`"),
                        &format!("not a condition of `{}`", self.policy_name()),
                        suggestion,
                        Some(help),
                    );
                }
            }
        }
        ok.then_some(facts)
    }
}
