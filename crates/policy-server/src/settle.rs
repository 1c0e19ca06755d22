//! When the watch loop reloads. A change is loaded once the files have
//! stood still for one interval (the stamp read at two ticks in a row is
//! the same), so the files of a project written one after another are
//! loaded together, not as a half-edited mixture; and a load during which
//! the stamp moved is not swapped in (the next settled stamp is loaded).

/// What the watch loop knows of the policy's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settle {
    /// The stamp of the files the last load (good or failed) read.
    loaded: Option<String>,
    /// The stamp read at the last tick.
    seen: Option<String>,
}

impl Settle {
    /// The state after a load that read the files as `stamp` says.
    pub fn new(stamp: Option<String>) -> Settle {
        Settle {
            loaded: stamp.clone(),
            seen: stamp,
        }
    }

    /// A tick that read `now`: whether to load. A stamp that differs from
    /// the last tick's waits one interval; one that stood still and
    /// differs from what was loaded is loaded. Files gone at both ends
    /// (`None`) are no change.
    pub fn tick(&mut self, now: Option<String>) -> bool {
        let settled = now == self.seen;
        self.seen = now;
        settled && self.seen != self.loaded
    }

    /// A load of the files stamped `before` (the tick's stamp) finished,
    /// and the stamp read after it is `after`: whether what it read may
    /// be swapped in. When the files moved during the load it may have
    /// read some old and some new: it is dropped, and the stamp waits to
    /// settle again.
    pub fn loaded(&mut self, before: Option<String>, after: Option<String>) -> bool {
        let still = before == after;
        if still {
            self.loaded = before;
        }
        self.seen = after;
        still
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    #[test]
    fn a_change_is_loaded_once_it_has_stood_still_for_one_tick() {
        let mut w = Settle::new(s("a"));
        assert!(!w.tick(s("a")), "no change");
        assert!(!w.tick(s("b")), "changed since the last tick: wait");
        assert!(w.tick(s("b")), "stood still: load");
        assert!(w.loaded(s("b"), s("b")));
        assert!(!w.tick(s("b")), "loaded: nothing more");
    }

    #[test]
    fn files_written_one_after_another_are_loaded_together() {
        // Two files of a project written across two ticks: the first
        // alone is never loaded.
        let mut w = Settle::new(s("a1 b1"));
        assert!(!w.tick(s("a2 b1")));
        assert!(!w.tick(s("a2 b2")));
        assert!(w.tick(s("a2 b2")));
    }

    #[test]
    fn a_load_the_files_moved_under_is_dropped_and_retried() {
        let mut w = Settle::new(s("a"));
        assert!(!w.tick(s("b")));
        assert!(w.tick(s("b")));
        assert!(!w.loaded(s("b"), s("c")), "moved during the load");
        assert!(w.tick(s("c")), "settled on what it moved to: load");
        assert!(w.loaded(s("c"), s("c")));
        assert!(!w.tick(s("c")));
    }

    #[test]
    fn files_gone_are_one_failed_load_then_quiet_until_back() {
        let mut w = Settle::new(s("a"));
        assert!(!w.tick(None));
        assert!(w.tick(None), "gone and settled: a load, which fails");
        assert!(w.loaded(None, None));
        assert!(!w.tick(None), "still gone: counted once");
        assert!(!w.tick(s("a")));
        assert!(w.tick(s("a")), "back: loaded again");
    }

    #[test]
    fn a_change_back_before_it_settles_is_no_change() {
        let mut w = Settle::new(s("a"));
        assert!(!w.tick(s("b")));
        assert!(!w.tick(s("a")));
        assert!(!w.tick(s("a")));
    }
}
