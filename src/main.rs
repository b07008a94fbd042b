//! The `mailsec` command.

// A whole-estate build allocates and frees millions of small strings on every worker
// thread; glibc's allocator spent about a fifth of the build's CPU time on them. Built
// without transparent huge pages (`no_thp`): with them the peak resident memory of a
// 2,000-unit build rose by half (86 to 130 MB) for no gain in time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mailsec::cli::main()
}
