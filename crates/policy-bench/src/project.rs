//! A generated policy as a policy project: its declarations in `files`
//! files of about equal size, for measuring a project against the same
//! policy in one file (issue 26).

pub use policy_syntax::split_declarations as split;

#[cfg(test)]
mod tests {
    use super::*;
    use policy_syntax::SourceFile;

    /// The files, compiled as a project, decide every cell as the one file.
    #[test]
    fn a_split_policy_decides_as_the_one_file() {
        for spec in [
            crate::Spec::new(60, 200, 6),
            crate::Spec::new(60, 200, 6).with_levels(),
            crate::Spec::new(60, 200, 6).with_conditions(),
        ] {
            let text = crate::generate(&spec);
            let parts = split(&text, 7);
            assert_eq!(parts.len(), 7);
            let sources: Vec<SourceFile> = parts
                .iter()
                .enumerate()
                .map(|(i, t)| SourceFile::new(format!("part{i:03}.policy"), t.as_str()))
                .collect();
            let (one, d1) = policy_compiler::compile(&SourceFile::new("one.policy", text.as_str()));
            let (project, d2) = policy_compiler::compile(&SourceFile::project("p", &sources));
            assert!(d1.is_empty() && d2.is_empty(), "{d1:?} {d2:?}");
            assert_eq!(one.roles().len(), project.roles().len());
            for t in one.tier_ids() {
                for r in 0..one.roles().len() as u32 {
                    for p in 0..one.permissions().len() as u32 {
                        let (r, p) = (policy_compiler::RoleId(r), policy_compiler::PermId(p));
                        assert_eq!(one.allows(t, r, p), project.allows(t, r, p));
                    }
                }
            }
        }
    }
}
