//! The fair start: the pre-queue's order is drawn, not earned.

use crate::ports::RandomSource;

/// Puts `items` (the pre-queue, in any order) into a uniformly random order:
/// Fisher–Yates, so every permutation is equally likely when `rng` is uniform.
pub fn draw_line_order<T>(mut items: Vec<T>, rng: &dyn RandomSource) -> Vec<T> {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
    items
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A seeded xorshift: a fixed, reproducible stream for tests.
    struct Seeded(Mutex<u64>);

    impl RandomSource for Seeded {
        fn below(&self, bound: u64) -> u64 {
            let mut s = self.0.lock().unwrap();
            *s ^= *s << 13;
            *s ^= *s >> 7;
            *s ^= *s << 17;
            *s % bound
        }
    }

    #[test]
    fn a_fixed_seed_gives_a_fixed_permutation() {
        let a = draw_line_order((1..=20).collect::<Vec<_>>(), &Seeded(Mutex::new(42)));
        let b = draw_line_order((1..=20).collect::<Vec<_>>(), &Seeded(Mutex::new(42)));
        let c = draw_line_order((1..=20).collect::<Vec<_>>(), &Seeded(Mutex::new(7)));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (1..=20).collect::<Vec<_>>(), "a permutation");
        assert_ne!(a, (1..=20).collect::<Vec<_>>());
    }

    #[test]
    fn every_permutation_of_three_is_about_equally_likely() {
        let rng = Seeded(Mutex::new(0x9E37_79B9_7F4A_7C15));
        let mut counts = std::collections::HashMap::new();
        for _ in 0..60_000 {
            *counts
                .entry(draw_line_order(vec![1, 2, 3], &rng))
                .or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 6);
        for (perm, n) in counts {
            assert!((9_000..11_000).contains(&n), "{perm:?} drawn {n} times");
        }
    }

    #[test]
    fn empty_and_single_lines_stay_as_they_are() {
        let rng = Seeded(Mutex::new(1));
        assert!(draw_line_order(Vec::<u8>::new(), &rng).is_empty());
        assert_eq!(draw_line_order(vec![9], &rng), vec![9]);
    }
}
