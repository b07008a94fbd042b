//! The `mailsec` command.

fn main() -> std::process::ExitCode {
    mailsec::cli::main()
}
