//! The JSONata reference-behaviour corpus, one named test per case (`family::case_name`):
//! each case in `tests/jsonata/cases/<family>.json` holds an expression, an optional input and
//! variables, and what jsonata-js 2.0.6 produced for it (a result, undefined, or an error
//! code); see `tests/jsonata/README.md`. Results compare as JSON (key order ignored, numbers
//! by value); errors compare by code only.
//!
//! `tests/jsonata/pending.txt` names the cases the evaluator fails today. They are ignored
//! (`-- --include-ignored` runs them to show how they fail), but a pending case that passes
//! fails the run so that the list only shrinks: remove its line. `JSONATA_WRITE_PENDING=1`
//! evaluates every case, rewrites pending.txt with those that fail and prints how many pass
//! per family.

mod json_diff;

use json_diff::first_difference;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use expressway_asl::jsonata::{Bindings, Expr, JsonataError};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Value};

/// A case that runs longer than this is stopped (through [`Bindings::check`]) and fails.
const DEADLINE: Duration = Duration::from_secs(10);

/// One case of a family file.
struct Case {
    family: String,
    name: String,
    value: Value,
}

impl Case {
    fn full_name(&self) -> String {
        format!("{}::{}", self.family, self.name)
    }
}

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jsonata");
    let cases = match load(&dir.join("cases")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot read the JSONata corpus: {e}");
            std::process::exit(1);
        }
    };
    let pending_path = dir.join("pending.txt");
    if std::env::var_os("JSONATA_WRITE_PENDING").is_some_and(|v| v != "0") {
        write_pending(&cases, &pending_path);
    }
    let pending = read_pending(&pending_path);

    // A pending case is checked now, so that one which passes can be reported as such rather
    // than silently ignored; only the cases the filter selects are evaluated.
    let selected = |name: &str| match &args.filter {
        None => true,
        Some(f) if args.exact => name == f,
        Some(f) => name.contains(f.as_str()),
    };
    let now_passing: HashSet<String> = parallel(
        cases.iter().filter(|c| pending.contains(&c.full_name()) && selected(&c.full_name())).collect(),
        |c| check(&c.value).is_ok().then(|| c.full_name()),
    )
    .into_iter()
    .flatten()
    .collect();

    let known: HashSet<String> = cases.iter().map(Case::full_name).collect();
    let stale: Vec<String> = pending.iter().filter(|n| !known.contains(*n)).cloned().collect();

    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|case| {
            let name = case.full_name();
            if now_passing.contains(&name) {
                Trial::test(name, || Err("passes now: remove it from tests/jsonata/pending.txt".into()))
            } else {
                let ignored = pending.contains(&name);
                Trial::test(name, move || check(&case.value)).with_ignored_flag(ignored)
            }
        })
        .collect();
    trials.push(Trial::test("pending_txt_names_only_existing_cases", move || {
        if stale.is_empty() {
            Ok(())
        } else {
            Err(format!("pending.txt names cases that do not exist: {}", stale.join(", ")).into())
        }
    }));
    libtest_mimic::run(&args, trials).exit();
}

/// Every case of every family file, in file order, families sorted by name.
fn load(dir: &Path) -> Result<Vec<Case>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let family = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let list: Vec<Value> = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for value in list {
            let name = value["name"].as_str().ok_or_else(|| format!("{}: a case without a name", path.display()))?;
            cases.push(Case { family: family.clone(), name: name.to_string(), value });
        }
    }
    Ok(cases)
}

/// The names listed in pending.txt (blank lines and `#` comments skipped).
fn read_pending(path: &Path) -> HashSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Evaluates every case, writes the failing ones to pending.txt and prints passes per family.
fn write_pending(cases: &[Case], path: &Path) {
    let outcomes = parallel(cases.iter().collect(), |c| check(&c.value).is_ok());
    let mut per_family: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failing = Vec::new();
    for (case, passed) in cases.iter().zip(outcomes) {
        let entry = per_family.entry(case.family.as_str()).or_default();
        entry.1 += 1;
        if passed {
            entry.0 += 1;
        } else {
            failing.push(case.full_name());
        }
    }
    let mut text = String::from(
        "# JSONata corpus cases the evaluator fails today (regenerate: JSONATA_WRITE_PENDING=1 cargo test -p expressway-asl --test jsonata).\n",
    );
    for name in &failing {
        text.push_str(name);
        text.push('\n');
    }
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    eprintln!("| family | cases | pass |");
    eprintln!("|---|---:|---:|");
    let (mut pass, mut total) = (0, 0);
    for (family, (p, t)) in &per_family {
        eprintln!("| {family} | {t} | {p} |");
        pass += p;
        total += t;
    }
    eprintln!("| total | {total} | {pass} |");
}

/// `f` applied to every item on as many threads as there are cores, results in item order.
/// Each evaluation gets its own thread with a large stack: a deeply recursive case must not
/// take the whole run down.
fn parallel<T: Sync, R: Send>(items: Vec<&T>, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> = items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn_scoped(s, || loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                })
                .expect("spawn a worker");
        }
    });
    results.into_iter().filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect()
}

/// The case's variables: `$states.input` is the input (absent: undefined), the rest are the
/// case's bindings. Evaluation stops with an error once the deadline has passed.
struct CaseBindings {
    vars: HashMap<String, Value>,
    started: Instant,
}

impl Bindings for CaseBindings {
    fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    fn check(&self, _steps: u64) -> Result<(), JsonataError> {
        if self.started.elapsed() > DEADLINE {
            return Err(JsonataError { code: "TIMEOUT", message: format!("still running after {DEADLINE:?}") });
        }
        Ok(())
    }
}

/// What the evaluator produced, in the corpus's terms.
#[derive(Debug)]
enum Outcome {
    Result(Value),
    Undefined,
    Error(String),
}

/// Runs one case on a thread of its own (a large stack for deep recursion) and compares.
fn check(case: &Value) -> Result<(), Failed> {
    let case = Arc::new(case.clone());
    let shared = case.clone();
    let outcome = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || evaluate(&shared))
        .map_err(|e| format!("cannot spawn: {e}"))?
        .join()
        .map_err(|p| {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!("the evaluator panicked: {why}")
        })?;
    compare(&case, &outcome).map_or(Ok(()), |why| Err(format!("{}\nexpr: {}", why, case["expr"]).into()))
}

fn evaluate(case: &Value) -> Outcome {
    let mut vars: HashMap<String, Value> = HashMap::new();
    if let Some(Value::Object(b)) = case.get("bindings") {
        vars.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let states = match case.get("input") {
        Some(input) => json!({ "input": input }),
        None => json!({}),
    };
    vars.insert("states".to_string(), states);
    let src = case["expr"].as_str().unwrap_or_default();
    let expr = match Expr::parse(src) {
        Ok(e) => e,
        Err(message) => return Outcome::Error(error_code(&message)),
    };
    match expr.evaluate(&CaseBindings { vars, started: Instant::now() }) {
        Ok(Some(v)) => Outcome::Result(v),
        Ok(None) => Outcome::Undefined,
        Err(e) => Outcome::Error(e.code.to_string()),
    }
}

/// The code a parse error starts with (`S0203: …`), else the whole message.
fn error_code(message: &str) -> String {
    let code: String = message.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let looks_like_code = code.len() == 5
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code[1..].chars().all(|c| c.is_ascii_digit());
    if looks_like_code {
        code
    } else {
        message.to_string()
    }
}

/// `None` when the outcome matches the recorded expectation, else why not.
fn compare(case: &Value, actual: &Outcome) -> Option<String> {
    if let Some(expected) = case.get("result") {
        return match actual {
            Outcome::Result(v) => first_difference(expected, v, "$").map(|d| format!("result {d}\nactual: {v}")),
            other => Some(format!("expected the result {expected}, got {other:?}")),
        };
    }
    if let Some(code) = case.get("error").and_then(Value::as_str) {
        return match actual {
            Outcome::Error(c) if c == code => None,
            other => Some(format!("expected the error {code}, got {other:?}")),
        };
    }
    if case.get("undefined") == Some(&Value::Bool(true)) {
        return match actual {
            Outcome::Undefined => None,
            other => Some(format!("expected undefined, got {other:?}")),
        };
    }
    Some("the case has no recorded expectation: run tests/jsonata/record.mjs".into())
}
