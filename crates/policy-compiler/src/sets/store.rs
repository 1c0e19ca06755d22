//! [`PermSets`]: many permission sets stored by what they contain.
//!
//! A set is a sorted directory of its non-empty 512-bit chunks. Chunks are
//! interned (two sets with an equal chunk store it once) and so are whole
//! directories (a child role whose set equals its parent's, or a tier whose
//! set equals the tier below, gets the same [`SetId`]). Memory is therefore
//! proportional to the distinct chunks and directory entries the policy
//! produces, not to roles × permissions; a lookup is a scan (or binary
//! search) of a directory that is usually one or two entries long, and one
//! word of one chunk.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

/// Bits per chunk.
pub const CHUNK_BITS: usize = 512;
/// `u64` words per chunk.
pub const CHUNK_WORDS: usize = CHUNK_BITS / 64;
/// One chunk: permissions `key * CHUNK_BITS ..` as bits, lowest first.
pub type Chunk = [u64; CHUNK_WORDS];

/// Directory entries up to which a lookup scans instead of bisecting.
const SCAN: usize = 8;

/// A set in a [`PermSets`]. [`SetId::EMPTY`] is the empty set in every store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SetId(u32);

impl SetId {
    /// The empty set.
    pub const EMPTY: SetId = SetId(0);

    /// Its offset in its store's directory (below [`PermSets::id_bound`]).
    pub(crate) fn offset(self) -> usize {
        self.0 as usize
    }
}

/// A family of permission sets (see the module documentation).
#[derive(Debug, Clone)]
pub struct PermSets {
    /// At `SetId(o)`: `n`, then `n` ascending chunk keys, then `n` indices
    /// into `chunks`. Offset 0 holds the empty set (`n = 0`).
    dir: Vec<u32>,
    chunks: Vec<Chunk>,
}

impl Default for PermSets {
    fn default() -> Self {
        PermSets {
            dir: vec![0],
            chunks: Vec::new(),
        }
    }
}

impl PermSets {
    /// The keys and chunk indices of `set` (empty for an unknown id).
    #[inline]
    fn entries(&self, set: SetId) -> (&[u32], &[u32]) {
        let o = set.0 as usize;
        let n = self.dir.get(o).map_or(0, |&n| n as usize);
        let keys = self.dir.get(o + 1..o + 1 + n).unwrap_or(&[]);
        let idx = self.dir.get(o + 1 + n..o + 1 + 2 * n).unwrap_or(&[]);
        (keys, idx)
    }

    /// Whether `perm` is in `set`. Unknown ids and out-of-range
    /// permissions are not.
    #[inline]
    pub fn contains(&self, set: SetId, perm: usize) -> bool {
        let Ok(key) = u32::try_from(perm / CHUNK_BITS) else {
            return false;
        };
        let (keys, idx) = self.entries(set);
        let i = if keys.len() <= SCAN {
            keys.iter().position(|&k| k >= key)
        } else {
            Some(keys.partition_point(|&k| k < key))
        };
        let Some(i) = i.filter(|&i| keys.get(i) == Some(&key)) else {
            return false;
        };
        idx.get(i)
            .and_then(|&c| self.chunks.get(c as usize))
            .and_then(|c| c.get((perm / 64) % CHUNK_WORDS))
            .is_some_and(|w| (w >> (perm % 64)) & 1 != 0)
    }

    /// The non-empty chunks of `set`, by ascending key: chunk `key` holds
    /// permissions `key * CHUNK_BITS .. (key + 1) * CHUNK_BITS`.
    pub fn chunks(&self, set: SetId) -> impl Iterator<Item = (u32, &Chunk)> + '_ {
        let (keys, idx) = self.entries(set);
        keys.iter()
            .zip(idx)
            .filter_map(|(&k, &c)| Some((k, self.chunks.get(c as usize)?)))
    }

    /// The members of `set`, ascending.
    pub fn iter(&self, set: SetId) -> impl Iterator<Item = usize> + '_ {
        self.chunks(set).flat_map(|(k, chunk)| {
            let base = k as usize * CHUNK_BITS;
            chunk.iter().enumerate().flat_map(move |(w, &word)| {
                let mut rest = word;
                std::iter::from_fn(move || {
                    if rest == 0 {
                        return None;
                    }
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    Some(base + w * 64 + b)
                })
            })
        })
    }

    /// Every id of this store is below this (for tables indexed by id).
    pub(crate) fn id_bound(&self) -> usize {
        self.dir.len()
    }

    /// Whether `set` is empty.
    pub fn is_empty(&self, set: SetId) -> bool {
        self.entries(set).0.is_empty()
    }

    /// Bytes of directory and chunks held (capacity not counted).
    pub fn stored_bytes(&self) -> usize {
        self.dir.len() * 4 + self.chunks.len() * std::mem::size_of::<Chunk>()
    }
}

/// A fixed hasher: the layout of a store never depends on a random seed.
type Fixed = foldhash::fast::FixedState;

fn hash_of<T: Hash + ?Sized>(x: &T) -> u64 {
    Fixed::default().hash_one(x)
}

/// Builds a [`PermSets`], interning chunks and directories. A hash names
/// the first chunk (directory) stored with it; a different one with the
/// same hash is stored again, which costs memory, never a wrong answer.
#[derive(Debug, Default)]
pub struct SetBuilder {
    store: PermSets,
    chunk_ids: HashMap<u64, u32, Fixed>,
    set_ids: HashMap<u64, u32, Fixed>,
    scratch: Vec<u32>,
}

impl SetBuilder {
    /// An empty builder (holding only [`SetId::EMPTY`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The sets built so far.
    pub fn store(&self) -> &PermSets {
        &self.store
    }

    /// Interns a set given as its chunks by strictly ascending key; empty
    /// chunks are dropped.
    pub fn intern<'a>(&mut self, chunks: impl IntoIterator<Item = (u32, &'a Chunk)>) -> SetId {
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        let mut idx = Vec::new();
        for (k, c) in chunks {
            if c.iter().all(|&w| w == 0) {
                continue;
            }
            keys.push(k);
            idx.push(self.intern_chunk(c));
        }
        let id = self.intern_dir(&keys, &idx);
        self.scratch = keys;
        id
    }

    fn intern_chunk(&mut self, c: &Chunk) -> u32 {
        let h = hash_of(c);
        if let Some(&i) = self.chunk_ids.get(&h) {
            if self.store.chunks.get(i as usize) == Some(c) {
                return i;
            }
        }
        let i = self.store.chunks.len() as u32;
        self.store.chunks.push(*c);
        self.chunk_ids.entry(h).or_insert(i);
        i
    }

    fn intern_dir(&mut self, keys: &[u32], idx: &[u32]) -> SetId {
        if keys.is_empty() {
            return SetId::EMPTY;
        }
        let h = hash_of(&(keys, idx));
        if let Some(&o) = self.set_ids.get(&h) {
            if self.store.entries(SetId(o)) == (keys, idx) {
                return SetId(o);
            }
        }
        let o = self.store.dir.len() as u32;
        self.store.dir.push(keys.len() as u32);
        self.store.dir.extend_from_slice(keys);
        self.store.dir.extend_from_slice(idx);
        self.set_ids.entry(h).or_insert(o);
        SetId(o)
    }

    /// The finished store (the interning tables are dropped).
    pub fn finish(mut self) -> PermSets {
        self.store.dir.shrink_to_fit();
        self.store.chunks.shrink_to_fit();
        self.store
    }
}

/// A set being computed: a dense array of chunks with the list of the
/// chunks touched, so building a set costs what it touches, and clearing
/// it too.
#[derive(Debug)]
pub(crate) struct WorkSet {
    chunks: Vec<Chunk>,
    touched: Vec<u32>,
    is_touched: Vec<bool>,
}

impl WorkSet {
    /// A work set for permissions `0..n_perms`.
    pub fn new(n_perms: usize) -> Self {
        let n = n_perms.div_ceil(CHUNK_BITS);
        WorkSet {
            chunks: vec![[0; CHUNK_WORDS]; n],
            touched: Vec::new(),
            is_touched: vec![false; n],
        }
    }

    /// Empties it.
    pub fn clear(&mut self) {
        for &k in &self.touched {
            if let Some(c) = self.chunks.get_mut(k as usize) {
                *c = [0; CHUNK_WORDS];
            }
            if let Some(t) = self.is_touched.get_mut(k as usize) {
                *t = false;
            }
        }
        self.touched.clear();
    }

    fn chunk_mut(&mut self, key: usize) -> Option<&mut Chunk> {
        let t = self.is_touched.get_mut(key)?;
        if !*t {
            *t = true;
            self.touched.push(key as u32);
        }
        self.chunks.get_mut(key)
    }

    /// Adds every member of `set`; returns the chunks visited.
    pub fn union_with(&mut self, store: &PermSets, set: SetId) -> usize {
        let mut n = 0;
        for (k, c) in store.chunks(set) {
            n += 1;
            if let Some(mine) = self.chunk_mut(k as usize) {
                for (a, b) in mine.iter_mut().zip(c) {
                    *a |= b;
                }
            }
        }
        n
    }

    /// Whether `perm` is in the set.
    pub fn contains(&self, perm: usize) -> bool {
        self.chunks
            .get(perm / CHUNK_BITS)
            .and_then(|c| c.get((perm / 64) % CHUNK_WORDS))
            .is_some_and(|w| (w >> (perm % 64)) & 1 != 0)
    }

    /// Adds `perm` (ignored when out of range).
    pub fn insert(&mut self, perm: usize) {
        if let Some(w) = self
            .chunk_mut(perm / CHUNK_BITS)
            .and_then(|c| c.get_mut((perm / 64) % CHUNK_WORDS))
        {
            *w |= 1 << (perm % 64);
        }
    }

    /// Removes `perm`.
    pub fn remove(&mut self, perm: usize) {
        if !self.contains(perm) {
            return;
        }
        if let Some(w) = self
            .chunks
            .get_mut(perm / CHUNK_BITS)
            .and_then(|c| c.get_mut((perm / 64) % CHUNK_WORDS))
        {
            *w &= !(1 << (perm % 64));
        }
    }

    /// Interns the set into `builder`.
    pub fn intern(&mut self, builder: &mut SetBuilder) -> SetId {
        self.touched.sort_unstable();
        let chunks = &self.chunks;
        builder.intern(
            self.touched
                .iter()
                .filter_map(|&k| Some((k, chunks.get(k as usize)?))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(sets: &[&[usize]], n_perms: usize) -> (PermSets, Vec<SetId>) {
        let mut b = SetBuilder::new();
        let mut w = WorkSet::new(n_perms);
        let ids = sets
            .iter()
            .map(|s| {
                w.clear();
                for &p in *s {
                    w.insert(p);
                }
                w.intern(&mut b)
            })
            .collect();
        (b.finish(), ids)
    }

    #[test]
    fn members_round_trip_and_equal_sets_share() {
        let far = 40 * CHUNK_BITS + 7;
        let many: Vec<usize> = (0..20).map(|k| k * CHUNK_BITS + k).collect();
        let sets: &[&[usize]] = &[&[], &[0], &[0, 511, 512, far], &[0], &many, &[far]];
        let (store, ids) = build(sets, far + 1);
        assert_eq!(ids[0], SetId::EMPTY);
        assert_eq!(ids[1], ids[3], "equal sets share one id");
        for (s, id) in sets.iter().zip(&ids) {
            assert_eq!(store.iter(*id).collect::<Vec<_>>(), s.to_vec());
            for p in 0..far + 2 {
                assert_eq!(store.contains(*id, p), s.contains(&p), "{p} in {s:?}");
            }
            assert_eq!(store.is_empty(*id), s.is_empty());
        }
        // `{0}` and `{0, 511, …}` have different first chunks; `{far}` shares a chunk.
        assert!(!store.contains(SetId::EMPTY, 0));
        assert!(!store.contains(ids[2], usize::MAX));
        assert!(!store.contains(SetId(9999), 0), "unknown ids hold nothing");
    }

    #[test]
    fn work_set_union_remove_and_clear() {
        let (store, ids) = build(&[&[1, 700], &[2, 700]], 1024);
        let mut w = WorkSet::new(1024);
        assert_eq!(w.union_with(&store, ids[0]), 2);
        w.union_with(&store, ids[1]);
        w.remove(700);
        w.remove(5);
        w.insert(5000);
        let mut b = SetBuilder::new();
        let id = w.intern(&mut b);
        assert_eq!(b.store().iter(id).collect::<Vec<_>>(), vec![1, 2]);
        w.clear();
        assert!(!w.contains(1));
        assert_eq!(w.intern(&mut b), SetId::EMPTY);
    }
}
