//! Name → index lookup for the by-name path.

use std::collections::HashMap;

/// The name maps of the by-name path. foldhash hashes every byte of a key
/// (a hash of only part of a name would let names such as
/// `workspace.p1.settings.view` and `workspace.p2.settings.view` collide and
/// degrade lookups to a linear scan) and is several times faster than SipHash
/// on short keys. Its per-process random seed makes collisions impossible to
/// precompute; lookup results never depend on it.
pub(crate) type FxMap<V> = HashMap<Box<str>, V, foldhash::fast::RandomState>;

/// Name → index lookup for the by-name path. Up to [`NameIndex::SMALL`]
/// names are found by a linear scan (length first, then bytes), which beats
/// hashing for the handful of tiers and roles most policies have; larger
/// sets go through an [`FxMap`].
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    names: Vec<Box<str>>,
    /// Per name: its length and its first 8 bytes, compared before the name.
    keys: Vec<(usize, u64)>,
    map: Option<FxMap<u32>>,
}

/// A name's length and first (up to) 8 bytes, as one comparable key.
#[inline]
fn quick_key(name: &str) -> (usize, u64) {
    let b = name.as_bytes();
    let w = match b.first_chunk::<8>() {
        Some(c) => u64::from_le_bytes(*c),
        None => b
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, &x)| acc | (u64::from(x) << (8 * i))),
    };
    (b.len(), w)
}

impl NameIndex {
    /// The most names searched linearly.
    pub(crate) const SMALL: usize = 16;

    /// Indexes `names`; a name's index is its position.
    pub(crate) fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        let names: Vec<Box<str>> = names.map(Into::into).collect();
        if names.len() > Self::SMALL {
            // Large sets are only hashed: the names move into the map, one
            // allocation per name.
            let mut m = FxMap::default();
            m.reserve(names.len());
            for (i, n) in names.into_iter().enumerate() {
                m.entry(n).or_insert(i as u32);
            }
            return NameIndex {
                names: Vec::new(),
                keys: Vec::new(),
                map: Some(m),
            };
        }
        let keys = names.iter().map(|n| quick_key(n)).collect();
        NameIndex {
            names,
            keys,
            map: None,
        }
    }

    /// The position of `name`, if indexed.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        match &self.map {
            Some(m) => m.get(name).copied(),
            None => {
                let key = quick_key(name);
                self.keys
                    .iter()
                    .zip(&self.names)
                    .position(|(k, n)| *k == key && (key.0 <= 8 || **n == *name))
                    .map(|i| i as u32)
            }
        }
    }
}

#[cfg(test)]
mod name_index_tests {
    use super::NameIndex;

    fn check(names: &[&str]) {
        let index = NameIndex::new(names.iter().copied());
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.get(n), Some(i as u32), "{n}");
        }
        for missing in [
            "",
            "x",
            "organization.settings",
            "organization.settings.changes",
            "ADMIN",
        ] {
            if !names.contains(&missing) {
                assert_eq!(index.get(missing), None, "{missing}");
            }
        }
    }

    #[test]
    fn small_sets_scan() {
        // Same length and same first 8 bytes: the full name decides.
        check(&[
            "admin",
            "member",
            "workspace.p1.view",
            "workspace.p2.view",
            "a",
            "",
        ]);
    }

    #[test]
    fn large_sets_hash() {
        let names: Vec<String> = (0..NameIndex::SMALL * 3)
            .map(|i| format!("workspace.p{i}.settings.view"))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        check(&refs);
    }
}
