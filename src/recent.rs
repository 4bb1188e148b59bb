//! A small first-in, first-out memory of the last few values a thread used.
//!
//! Every callback to a relay carries one of a few `Host` values, a state whose target is
//! one of a few preview callback URLs, and one of a few metric label sets. The three
//! caches of the hot path are each a [`Recent`] on the thread that handles the request:
//! the last parsed `Host` (`relay::authority`), the last 16 parsed targets
//! (`relay::decide`) and the last 16 label sets with their counters (`metrics`). They
//! save a URL parse or a label lookup per request. A [`Recent`] is only ever consulted
//! for a value that a fresh computation would give again for the same key, so an answer
//! from memory is the answer a fresh computation would give; it changes the cost, never
//! the result.

use std::collections::VecDeque;

/// At most `N` values, newest first; adding one more forgets the oldest.
#[derive(Debug)]
pub struct Recent<T, const N: usize> {
    kept: VecDeque<T>,
}

impl<T, const N: usize> Default for Recent<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Recent<T, N> {
    /// An empty memory. `const`, so that it can initialise a `thread_local!`.
    pub const fn new() -> Self {
        Self {
            kept: VecDeque::new(),
        }
    }

    /// The newest kept value that `is` accepts.
    pub fn find(&self, is: impl FnMut(&&T) -> bool) -> Option<&T> {
        self.kept.iter().find(is)
    }

    /// Keeps `value` as the newest, forgetting the oldest when `N` are kept already.
    pub fn keep(&mut self, value: T) {
        if N == 0 {
            return;
        }
        self.kept.truncate(N - 1);
        self.kept.push_front(value);
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The kept values, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.kept.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_is_forgotten_and_the_newest_comes_first() {
        let mut r: Recent<u32, 3> = Recent::new();
        assert!(r.is_empty());
        for i in 0..5 {
            r.keep(i);
        }
        assert_eq!(r.len(), 3);
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), [4, 3, 2]);
        assert_eq!(r.find(|&&v| v < 4), Some(&3));
        assert_eq!(r.find(|&&v| v < 2), None);
    }

    #[test]
    fn a_memory_of_nothing_keeps_nothing() {
        let mut r: Recent<u32, 0> = Recent::new();
        r.keep(1);
        assert!(r.is_empty());
    }
}
