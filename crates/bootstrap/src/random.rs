use domain::ports::RandomSource;
use rand::rngs::OsRng;
use rand::Rng;

/// The operating system's cryptographic RNG: the pre-queue's draw cannot be
/// predicted from earlier output, nor replayed from a seed.
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn below(&self, bound: u64) -> u64 {
        // `gen_range` rejects out-of-zone samples, so there is no modulo bias.
        OsRng.gen_range(0..bound.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_below_its_bound() {
        assert!((0..1000).all(|_| OsRandom.below(7) < 7));
        assert_eq!(OsRandom.below(1), 0);
    }
}
