fn main() -> std::process::ExitCode {
    tsunagi_core::cli::main()
}
