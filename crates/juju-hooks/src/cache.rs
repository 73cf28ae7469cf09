//! Caching of hook-tool reads for the life of one hook.

/// Wraps any [`HookTools`](crate::HookTools) and answers repeated reads from memory.
#[derive(Debug)]
pub struct CachedTools<T> {
    inner: T,
}

impl<T> CachedTools<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Self { inner }
    }
    /// The wrapped tools.
    pub fn into_inner(self) -> T {
        self.inner
    }
}
