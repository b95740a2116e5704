//! How the `berth` process uses the C allocator (glibc malloc), set once at start.
//!
//! Two glibc defaults kept memory that berth had already freed (measured: 19 MiB RSS
//! after start, 62 MiB after creating the owner, signing in, making a token and opening
//! two pages, and it stayed there; 23.7 MiB with both settings below, 26.6 MiB with the
//! threshold alone, 44.5 MiB with the arena cap alone — `scripts/bench-idle`):
//!
//! - **The dynamic mmap threshold.** An argon2id hash (OWASP's minimum, m = 19 MiB)
//!   allocates one 19 MiB block. The first such block is above the 128 KiB threshold and
//!   is `mmap`ed; freeing it *raises* the threshold to 19 MiB, so every later hash gets
//!   its block from a malloc arena instead, and an arena keeps freed memory. Fixing the
//!   threshold (any `mallopt` of it turns the adjustment off) makes every large block an
//!   `mmap` of its own, given back to the kernel by `free`.
//! - **One arena per thread, up to 8 per core.** Tokio's workers and its blocking pool
//!   (where hashes run) each took an arena, and each arena holds on to its own free
//!   lists. Two arenas are enough for a mostly idle control plane on any core count.
//!
//! Chosen over a replacement global allocator (jemalloc, mimalloc): those compile C code
//! at install time and add a dependency, for the same effect on this workload.

/// Blocks at least this big (bytes) are mapped on their own and unmapped when freed.
pub const MMAP_THRESHOLD_BYTES: i32 = 256 * 1024;

/// The most malloc arenas the process uses, whatever the number of threads or cores.
pub const ARENA_MAX: i32 = 2;

/// Applies [`MMAP_THRESHOLD_BYTES`] and [`ARENA_MAX`]. Call first thing in `main`,
/// before any thread starts. Returns false when glibc refused a setting (it never
/// should); on other C libraries it does nothing and returns true.
pub fn tune_allocator() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes malloc's parameters; it is called before any
        // other thread exists, so nothing allocates concurrently.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
                && libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        true
    }
}
