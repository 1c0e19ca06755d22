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
    let name_chars = name.chars().count();
    let threshold = (name_chars / 3).clamp(1, 3);
    let lower = name.to_ascii_lowercase();
    let name_bag = ascii_bag(&lower);
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        // Cheap lower bounds on the distance first: with thousands of
        // candidates, the full distance for each one dominates a compile.
        if cand == name
            || cand.len().abs_diff(name.len()) > 4 * threshold
            || cand.chars().count().abs_diff(name_chars) > threshold
            || bag_distance(&name_bag, &ascii_bag(&cand.to_ascii_lowercase())) > threshold
        {
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

/// How often each ASCII character occurs in `text` (other characters are ignored).
fn ascii_bag(text: &str) -> [u16; 128] {
    let mut bag = [0u16; 128];
    for b in text.bytes() {
        if let Some(n) = bag.get_mut(usize::from(b)) {
            *n = n.saturating_add(1);
        }
    }
    bag
}

/// A lower bound on the edit distance of two strings, from their character
/// counts: each edit changes at most one character in and one out, and a
/// transposition none.
fn bag_distance(a: &[u16; 128], b: &[u16; 128]) -> usize {
    let (mut more, mut fewer) = (0usize, 0usize);
    for (x, y) in a.iter().zip(b.iter()) {
        if x > y {
            more += usize::from(x - y);
        } else {
            fewer += usize::from(y - x);
        }
    }
    more.max(fewer)
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
    fn prefilters_keep_close_candidates() {
        let cands: Vec<String> = (0..200_000)
            .map(|i| format!("area{i}.item.manage"))
            .collect();
        check_owned("area7.item.manag", &cands, Some("area7.item.manage"));
        check_owned("area7.missing", &cands, None);
    }

    fn check_owned(name: &str, cands: &[String], expect: Option<&str>) {
        assert_eq!(
            did_you_mean(name, cands.iter().map(String::as_str)).as_deref(),
            expect
        );
    }

    #[test]
    fn ties_break_by_name_not_order() {
        check("ab", &["bb", "aa"], Some("aa"));
        check("ab", &["aa", "bb"], Some("aa"));
    }
}
