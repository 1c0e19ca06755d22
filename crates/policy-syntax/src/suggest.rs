//! Did-you-mean suggestions.

/// The candidate closest to `name`, if it is close enough to be a likely typo.
///
/// Uses the Damerau–Levenshtein distance (`strsim`) with a threshold of a
/// third of the name's length (at least 1, at most 3); ties go to the
/// alphabetically first candidate, so the result does not depend on the
/// order of `candidates`. An empty candidate list gives `None`.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    if name.is_empty() || name.len() > 256 {
        return None;
    }
    let threshold = (name.chars().count() / 3).clamp(1, 3);
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        if cand == name || cand.len() > name.len() + 8 || name.len() > cand.len() + 8 {
            continue;
        }
        let d = if cand.eq_ignore_ascii_case(name) {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &cand.to_ascii_lowercase()).max(1)
        };
        if d > threshold {
            continue;
        }
        best = match best {
            Some((bd, bc)) if bd < d || (bd == d && bc <= cand) => Some((bd, bc)),
            _ => Some((d, cand)),
        };
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    fn check(name: &str, cands: &[&str], expect: Option<&str>) {
        assert_eq!(did_you_mean(name, cands.iter().copied()).as_deref(), expect);
    }

    #[test]
    fn finds_typos() {
        check(
            "develper",
            &["admin", "developer", "member"],
            Some("developer"),
        );
        check("Admin", &["admin", "member"], Some("admin"));
        check("grnts", &["grants", "inherits"], Some("grants"));
    }

    #[test]
    fn rejects_distant_names() {
        check("billing", &["admin", "member"], None);
        check("x", &[], None);
    }

    #[test]
    fn ties_break_by_name_not_order() {
        check("ab", &["bb", "aa"], Some("aa"));
        check("ab", &["aa", "bb"], Some("aa"));
    }
}
