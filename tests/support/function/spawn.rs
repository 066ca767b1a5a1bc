//! Starting the emulator and the function binary for [`Function`](super::Function).

use super::*;

/// The binary under test: `HARBOR_FLASHDUTY_E2E_BIN` or the one Cargo built for this test.
pub(super) fn function_binary() -> PathBuf {
    let binary = std::env::var_os(BIN_OVERRIDE_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_harbor-flashduty")));
    assert!(
        binary.is_file(),
        "the function binary {} does not exist (build it with `cargo build --bins`)",
        binary.display()
    );
    binary
}

/// The emulator needs a Cargo manifest to run `cargo metadata` on; a stub one keeps it away from
/// the project's lock files and target directory.
pub(super) fn write_stub_manifest(dir: &Path) {
    let manifest = format!(
        "[package]\nname = \"{FUNCTION_NAME}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [[bin]]\nname = \"{FUNCTION_NAME}\"\npath = \"main.rs\"\n\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("writing the stub manifest");
    std::fs::write(dir.join("main.rs"), "fn main() {}\n").expect("writing the stub main.rs");
}

pub(super) fn spawn_emulator(
    cargo_lambda: &Path,
    port: u16,
    dir: &Path,
    attempt: usize,
) -> ChildGuard {
    let mut command = Command::new(cargo_lambda);
    command
        .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
        .args(["-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(dir);
    let log = dir.join(format!("emulator-{attempt}.log"));
    ChildGuard::spawn("cargo-lambda watch", command, &log)
}

pub(super) fn spawn_function(
    binary: &Path,
    port: u16,
    env: &[(&str, &str)],
    dir: &Path,
    instance: usize,
) -> ChildGuard {
    let runtime_api = format!("http://127.0.0.1:{port}/.rt/{FUNCTION_NAME}");
    // Empty AWS config and credentials files: nothing from ~/.aws reaches the function, and the
    // SDK does not warn about missing files.
    let no_aws_files = dir.join("empty-aws-config");
    std::fs::write(&no_aws_files, "").expect("writing an empty AWS config file");
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", &no_aws_files)
        .env("AWS_SHARED_CREDENTIALS_FILE", &no_aws_files)
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "info")
        .env("RUST_BACKTRACE", "1")
        .envs(env.iter().copied())
        .current_dir(dir);
    let log = if instance == 1 {
        dir.join("function.log")
    } else {
        dir.join(format!("function-{instance}.log"))
    };
    ChildGuard::spawn("harbor-flashduty", command, &log)
}

pub(super) fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}
