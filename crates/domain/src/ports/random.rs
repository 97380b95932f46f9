/// Uniform random numbers for the draws the domain makes (the pre-queue's order).
/// Production draws from the OS's cryptographic RNG; tests fix a seed.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait RandomSource: Send + Sync {
    /// A uniformly distributed integer in `0..bound` (`bound` > 0).
    fn below(&self, bound: u64) -> u64;
}
