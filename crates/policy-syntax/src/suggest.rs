//! Did-you-mean suggestions.

/// The candidate closest to `name`, if it is close enough to be a likely typo.
///
/// Uses the Damerau–Levenshtein distance (`strsim`) with a threshold of a
/// third of the name's length (at least 1, at most 3); ties go to the
/// alphabetically first candidate, so the result does not depend on the
/// order of `candidates`. An empty candidate list gives `None`.
///
/// To suggest for many names against the same candidates, build a
/// [`Suggester`] once instead: this function builds one per call.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    Suggester::new(candidates).did_you_mean(name)
}

/// The most trie nodes one [`Suggester::did_you_mean`] visits; past it, the
/// search stops with the best candidate found so far (possibly none). Far
/// above what real names need (a few hundred), so that an adversarial
/// candidate list cannot make each diagnostic cost time proportional to it.
pub const MAX_VISITS_PER_SUGGESTION: usize = 20_000;

/// An index of did-you-mean candidates, built once and asked many times.
///
/// The candidates are sorted by their ASCII-lowercase form, which makes the
/// sorted list an implicit trie. A query walks it depth first carrying a
/// row of longest-common-subsequence lengths against the (lowercased)
/// name, and prunes every prefix that already needs more than `t`
/// deletions: two strings within Damerau–Levenshtein distance `t` have a
/// common subsequence reached from each by at most `t` deletions (each
/// edit, a transposition included, costs at most one). Each survivor is
/// checked with the exact distance. The walk is repeated for `t` = 0, 1, …
/// up to the threshold and stops at the first `t` with a match, so a name
/// one edit from its candidate visits only the prefixes one deletion away.
/// The result is the same as scanning every candidate (a property test
/// checks it), at a cost of [`MAX_VISITS_PER_SUGGESTION`] at most.
///
/// Names outside ASCII (the grammar's names never are; a command-line
/// query may be) are compared by a plain scan.
#[derive(Debug, Clone, Default)]
pub struct Suggester {
    /// `(lowercase, original)`, sorted; ASCII candidates only.
    sorted: Vec<(Box<[u8]>, Box<str>)>,
    /// Candidates with a non-ASCII character: scanned.
    other: Vec<Box<str>>,
}

impl Suggester {
    /// Indexes `candidates` (in any order; duplicates are harmless).
    pub fn new<S: AsRef<str>>(candidates: impl IntoIterator<Item = S>) -> Self {
        let mut sorted = Vec::new();
        let mut other = Vec::new();
        for c in candidates {
            let c = c.as_ref();
            if c.is_ascii() {
                sorted.push((c.as_bytes().to_ascii_lowercase().into(), c.into()));
            } else {
                other.push(c.into());
            }
        }
        sorted.sort_unstable();
        sorted.dedup();
        Suggester { sorted, other }
    }

    /// The candidate closest to `name`, as [`did_you_mean`] defines it.
    pub fn did_you_mean(&self, name: &str) -> Option<String> {
        if name.is_empty() || name.len() > 256 {
            return None;
        }
        let threshold = (name.chars().count() / 3).clamp(1, 3);
        let lower = name.to_ascii_lowercase();
        let mut best = Best::default();
        if name.is_ascii() {
            let mut walk = Walk {
                query: lower.as_bytes(),
                lower: &lower,
                name,
                rows: Vec::new(),
                visits: 0,
                best: &mut best,
            };
            for t in 0..=threshold {
                walk.best.limit = t;
                walk.node(&self.sorted, 0, t);
                if walk.best.found.is_some() || walk.visits >= MAX_VISITS_PER_SUGGESTION {
                    break;
                }
            }
            best.limit = threshold;
            for c in &self.other {
                best.offer(&lower, name, c.as_ref());
            }
        } else {
            best.limit = threshold;
            let all = self.sorted.iter().map(|(_, c)| c);
            for c in all.chain(self.other.iter()) {
                best.offer(&lower, name, c.as_ref());
            }
        }
        best.found.map(|(_, c)| c.to_string())
    }
}

/// The best candidate so far: smallest distance, then alphabetically first.
#[derive(Default)]
struct Best<'a> {
    limit: usize,
    found: Option<(usize, &'a str)>,
}

impl<'a> Best<'a> {
    /// Considers `cand` for the name `name` (lowercased: `lower`).
    fn offer(&mut self, lower: &str, name: &str, cand: &'a str) {
        if cand == name {
            return;
        }
        let d = strsim::damerau_levenshtein(lower, &cand.to_ascii_lowercase());
        if d > self.limit {
            return;
        }
        self.found = match self.found {
            Some((bd, bc)) if bd < d || (bd == d && bc <= cand) => Some((bd, bc)),
            _ => Some((d, cand)),
        };
    }
}

/// One query's walk over the implicit trie.
struct Walk<'q, 'a, 'b> {
    /// The lowercased name, as bytes and as text.
    query: &'q [u8],
    lower: &'q str,
    name: &'q str,
    /// `rows[d]`: LCS lengths of the query's prefixes against the current
    /// prefix of length `d`.
    rows: Vec<Vec<u16>>,
    visits: usize,
    best: &'b mut Best<'a>,
}

impl<'a> Walk<'_, 'a, '_> {
    /// Visits the node at `depth` whose entries (all sharing their first
    /// `depth` bytes) are `range`, with at most `t` deletions on each side.
    fn node(&mut self, range: &'a [(Box<[u8]>, Box<str>)], depth: usize, t: usize) {
        if self.visits >= MAX_VISITS_PER_SUGGESTION {
            return;
        }
        self.visits += 1;
        if depth == 0 {
            self.rows.clear();
            self.rows.push(vec![0; self.query.len() + 1]);
        }
        let m = self.query.len();
        let Some(lcs) = self.rows.get(depth).and_then(|r| r.get(m)).copied() else {
            return;
        };
        let lcs = usize::from(lcs);
        // A single entry left: run its tail through the rows without the
        // binary searches, and compare it if it stays within `t`.
        if let [(key, c)] = range {
            let mut d = depth;
            for &byte in key.get(depth..).unwrap_or_default() {
                self.visits += 1;
                if !self.push_row(d, byte, t) {
                    return;
                }
                d += 1;
            }
            let lcs = self.rows.get(d).and_then(|r| r.get(m)).copied();
            let lcs = usize::from(lcs.unwrap_or(0));
            if m - lcs <= t && d - lcs <= t {
                self.best.offer(self.lower, self.name, c.as_ref());
            }
            return;
        }
        // Entries equal to the prefix come first.
        let ends = range.partition_point(|(k, _)| k.len() == depth);
        if ends > 0 && m - lcs <= t && depth - lcs <= t {
            for (_, c) in range.iter().take(ends) {
                self.best.offer(self.lower, self.name, c.as_ref());
            }
        }
        let mut rest = range.get(ends..).unwrap_or_default();
        while let Some((key, _)) = rest.first() {
            let Some(&byte) = key.get(depth) else {
                break;
            };
            let split = rest.partition_point(|(k, _)| k.get(depth).is_some_and(|b| *b <= byte));
            let (child, after) = rest.split_at(split);
            rest = after;
            if self.push_row(depth, byte, t) {
                self.node(child, depth + 1, t);
            }
            if self.visits >= MAX_VISITS_PER_SUGGESTION {
                return;
            }
        }
    }

    /// Computes `rows[depth + 1]` for the next byte `byte`; whether any
    /// alignment of the extended prefix is still within `t` deletions on
    /// both sides.
    fn push_row(&mut self, depth: usize, byte: u8, t: usize) -> bool {
        let m = self.query.len();
        let d = depth + 1;
        if self.rows.len() <= d {
            self.rows.resize(d + 1, Vec::new());
        }
        let mut next = self.rows.get_mut(d).map(std::mem::take).unwrap_or_default();
        next.clear();
        next.resize(m + 1, 0);
        let Some(prev) = self.rows.get(depth) else {
            return false;
        };
        // The alignment that deletes the whole prefix.
        let mut alive = d <= t;
        // Only the band |j - d| <= t can be alive; cells outside it stay 0,
        // a lower bound, so the pruning stays sound.
        for j in d.saturating_sub(t).max(1)..=m.min(d + t) {
            let diag = prev.get(j - 1).copied().unwrap_or(0)
                + u16::from(self.query.get(j - 1) == Some(&byte));
            let up = prev.get(j).copied().unwrap_or(0);
            let left = next.get(j - 1).copied().unwrap_or(0);
            let v = diag.max(up).max(left);
            if let Some(cell) = next.get_mut(j) {
                *cell = v;
            }
            let v = usize::from(v);
            alive |= j - v <= t && d - v <= t;
        }
        if let Some(slot) = self.rows.get_mut(d) {
            *slot = next;
        }
        alive
    }
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, Suggester};
    use proptest::prelude::*;

    /// The definition: scan every candidate.
    fn naive<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
        if name.is_empty() || name.len() > 256 {
            return None;
        }
        let threshold = (name.chars().count() / 3).clamp(1, 3);
        let lower = name.to_ascii_lowercase();
        let mut best: Option<(usize, &str)> = None;
        for &cand in candidates {
            if cand == name {
                continue;
            }
            let d = strsim::damerau_levenshtein(&lower, &cand.to_ascii_lowercase());
            if d > threshold {
                continue;
            }
            best = match best {
                Some((bd, bc)) if bd < d || (bd == d && bc <= cand) => Some((bd, bc)),
                _ => Some((d, cand)),
            };
        }
        best.map(|(_, c)| c)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        /// Same answer as the scan, on small alphabets where many
        /// candidates are close (transpositions, case, dots, non-ASCII).
        #[test]
        fn index_agrees_with_the_scan(
            name in "[abAB.é]{0,9}",
            cands in proptest::collection::vec("[abAB.é]{0,9}", 0..40),
        ) {
            let refs: Vec<&str> = cands.iter().map(String::as_str).collect();
            let index = Suggester::new(refs.iter().copied());
            let got = index.did_you_mean(&name);
            prop_assert_eq!(got.as_deref(), naive(&name, &refs));
        }

        #[test]
        fn index_agrees_with_the_scan_on_longer_names(
            name in "[a-d_]{3,14}",
            cands in proptest::collection::vec("[a-d_]{1,16}", 0..60),
        ) {
            let refs: Vec<&str> = cands.iter().map(String::as_str).collect();
            let index = Suggester::new(refs.iter().copied());
            let got = index.did_you_mean(&name);
            prop_assert_eq!(got.as_deref(), naive(&name, &refs));
        }
    }

    #[test]
    fn many_typos_cost_little_each() {
        let cands: Vec<String> = (0..20_000)
            .map(|i| format!("area{i}.item.manage"))
            .collect();
        let index = Suggester::new(cands.iter().map(String::as_str));
        for i in (0..20_000).step_by(97) {
            let typo = format!("area{i}.item.manag");
            let expect = format!("area{i}.item.manage");
            assert_eq!(index.did_you_mean(&typo).as_deref(), Some(expect.as_str()));
        }
    }

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
