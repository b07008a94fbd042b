//! The `mailsec` command.

// A whole-estate build allocates and frees millions of small strings on every worker
// thread; glibc's allocator spent about a fifth of the build's CPU time on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mailsec::cli::main()
}
