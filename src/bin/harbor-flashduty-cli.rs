//! `harbor-flashduty-cli`: the converter offline, without AWS (docs/SPEC.md section 8).
//!
//! ```text
//! harbor-flashduty-cli convert [--rules FILE] [PAYLOAD_FILE]   # stdin without a file
//! harbor-flashduty-cli convert --lines [--rules FILE]          # JSON Lines on stdin
//! harbor-flashduty-cli check-rules FILE
//! ```

use harbor_flashduty::report::Report;
use harbor_flashduty_core::convert::convert;
use harbor_flashduty_core::rules::Rules;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::process::ExitCode;

const USAGE: &str = "usage:
  harbor-flashduty-cli convert [--rules FILE] [PAYLOAD_FILE]   convert one payload (stdin without a file)
  harbor-flashduty-cli convert --lines [--rules FILE]          convert one payload per stdin line
  harbor-flashduty-cli check-rules FILE                        validate a rules file";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("convert") => parse_convert_args(&args[1..]).and_then(run_convert),
        Some("check-rules") => match &args[1..] {
            [file] => run_check_rules(file),
            _ => Err(Failure::Usage(
                "check-rules takes exactly one FILE".to_owned(),
            )),
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(Failure::Usage(format!("unknown command {other:?}"))),
        None => Err(Failure::Usage("no command given".to_owned())),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(message)) => {
            eprintln!("harbor-flashduty-cli: {message}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Io(message)) => {
            eprintln!("harbor-flashduty-cli: {message}");
            ExitCode::from(2)
        }
    }
}

enum Failure {
    Usage(String),
    Io(String),
}

struct ConvertArgs {
    rules: Option<String>,
    lines: bool,
    payload: Option<String>,
}

fn parse_convert_args(args: &[String]) -> Result<ConvertArgs, Failure> {
    let mut parsed = ConvertArgs {
        rules: None,
        lines: false,
        payload: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rules" => {
                let file = args
                    .next()
                    .ok_or_else(|| Failure::Usage("--rules needs a FILE".to_owned()))?;
                parsed.rules = Some(file.clone());
            }
            "--lines" => parsed.lines = true,
            flag if flag.starts_with("--") => {
                return Err(Failure::Usage(format!("unknown option {flag}")));
            }
            file if parsed.payload.is_none() => parsed.payload = Some(file.to_owned()),
            extra => return Err(Failure::Usage(format!("unexpected argument {extra:?}"))),
        }
    }
    if parsed.lines && parsed.payload.is_some() {
        return Err(Failure::Usage(
            "--lines reads stdin; give no PAYLOAD_FILE".to_owned(),
        ));
    }
    Ok(parsed)
}

fn load_rules(file: Option<&str>) -> Result<Result<Rules, String>, Failure> {
    let Some(file) = file else {
        return Ok(Ok(Rules::builtin()));
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Io(format!("cannot read {file}: {e}")))?;
    Ok(Rules::from_json(&text).map_err(|e| format!("invalid rules in {file}: {e}")))
}

fn run_convert(args: ConvertArgs) -> Result<ExitCode, Failure> {
    let rules = match load_rules(args.rules.as_deref())? {
        Ok(rules) => rules,
        Err(message) => {
            eprintln!("harbor-flashduty-cli: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.lines {
        let mut all_ok = true;
        for (n, line) in io::stdin().lock().lines().enumerate() {
            let line =
                line.map_err(|e| Failure::Io(format!("cannot read stdin line {}: {e}", n + 1)))?;
            if line.trim().is_empty() {
                continue;
            }
            let result = convert_one(line.as_bytes(), &rules);
            all_ok &= result.is_ok();
            let json = match result {
                Ok(report) => serde_json::to_string(&report),
                Err(error) => serde_json::to_string(&serde_json::json!({ "error": error })),
            };
            writeln!(out, "{}", json.map_err(|e| Failure::Io(e.to_string()))?)
                .map_err(io_failure)?;
        }
        out.flush().map_err(io_failure)?;
        return Ok(if all_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }

    let body = match &args.payload {
        Some(file) => {
            std::fs::read(file).map_err(|e| Failure::Io(format!("cannot read {file}: {e}")))?
        }
        None => {
            let mut body = Vec::new();
            io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| Failure::Io(format!("cannot read stdin: {e}")))?;
            body
        }
    };
    let (json, code) = match convert_one(&body, &rules) {
        Ok(report) => (serde_json::to_string_pretty(&report), ExitCode::SUCCESS),
        Err(error) => (
            serde_json::to_string_pretty(&serde_json::json!({ "error": error })),
            ExitCode::FAILURE,
        ),
    };
    writeln!(out, "{}", json.map_err(|e| Failure::Io(e.to_string()))?).map_err(io_failure)?;
    out.flush().map_err(io_failure)?;
    Ok(code)
}

/// What the function would answer in a dry run: the report, or the 400 error text.
fn convert_one(body: &[u8], rules: &Rules) -> Result<Report, String> {
    convert(body, None, rules)
        .map(Report::dry_run)
        .map_err(|e| e.to_string())
}

fn run_check_rules(file: &str) -> Result<ExitCode, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Io(format!("cannot read {file}: {e}")))?;
    match Rules::from_json(&text) {
        Ok(rules) => {
            let n = rules.len();
            println!("{file}: {n} {} OK", if n == 1 { "rule" } else { "rules" });
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            for problem in &error.problems {
                println!("{file}: {problem}");
            }
            println!(
                "{file}: {} {}",
                error.problems.len(),
                if error.problems.len() == 1 {
                    "problem"
                } else {
                    "problems"
                }
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn io_failure(e: io::Error) -> Failure {
    Failure::Io(e.to_string())
}
