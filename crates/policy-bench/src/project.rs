//! A generated policy as a policy project: its declarations in `files`
//! files of about equal size, for measuring a project against the same
//! policy in one file (issue 26).

use policy_syntax::{parse, Item, SourceFile};

/// The text of each file of `text` split into `files` files (at least
/// one) at declaration boundaries, in order: each file holds consecutive
/// declarations with the comments before them, and a file that starts
/// inside a level's section repeats its `scope` line first (a project
/// reopens a level that way).
pub fn split(text: &str, files: usize) -> Vec<String> {
    let source = SourceFile::new("split.policy", text);
    let (file, _) = parse(&source);
    let n = files.max(1);
    let per = file.items.len().div_ceil(n).max(1);
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut scope: Option<&str> = None;
    let mut start = 0usize;
    for (k, item) in file.items.iter().enumerate() {
        if k % per == 0 {
            let mut chunk = String::new();
            if let (Some(line), false) = (scope, matches!(item, Item::Scope(_))) {
                chunk.push_str(line);
                chunk.push('\n');
            }
            out.push(chunk);
        }
        if let Item::Scope(s) = item {
            scope = text.get(s.span.start..s.span.end);
        }
        let end = item.span().end;
        if let (Some(last), Some(piece)) = (out.last_mut(), text.get(start..end)) {
            last.push_str(piece);
            last.push('\n');
        }
        start = end;
    }
    if let (Some(last), Some(rest)) = (out.last_mut(), text.get(start..)) {
        last.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
