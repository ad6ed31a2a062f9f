//! `benches/capacity.py` computes the capacity table from the bench's JSON as
//! docs/capacity.md says: cores from the CPU per execution, pods at the utilisation asked
//! (at least two), partitions with room for the workers to double and the per-partition rate,
//! Redis shards from its CPU and from the memory retained.

use std::collections::BTreeMap;
use std::process::Command;

/// The table's rows, by label, one cell per rate.
fn table(out: &str) -> BTreeMap<String, Vec<String>> {
    out.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| |"))
        .map(|l| {
            let cells: Vec<String> = l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect();
            (cells[0].clone(), cells[1..].to_vec())
        })
        .collect()
}

fn row<'a>(t: &'a BTreeMap<String, Vec<String>>, starts: &str) -> &'a [String] {
    t.iter()
        .find(|(k, _)| k.starts_with(starts))
        .map(|(_, v)| v.as_slice())
        .unwrap_or_else(|| panic!("no row {starts}: {t:?}"))
}

#[test]
fn capacity_table_follows_the_measured_figures() {
    let dir = std::env::temp_dir().join(format!("xw-capacity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("figures.json");
    let figures = serde_json::json!({
        "expressway_cpu_us_per_execution": {"frontend": 50.0, "worker": 40.0, "results": 5.0, "broker": 100.0, "redis": 25.0},
        "redis_commands_per_execution": 10.0,
        "redis_commands_by_name": {"set": 4.0, "get": 6.0},
        "redis_memory_bytes_per_execution": 2000.0,
        "kafka_records_per_execution": {"expressway.executions": 1.0, "expressway.results": 0.25, "__consumer_offsets": 0.05},
    });
    std::fs::write(&file, figures.to_string()).expect("write");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capacity.py");
    let out =
        Command::new("python3").arg(&script).arg(&file).args(["--rates", "10000", "200000"]).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let t = table(&text);

    // 10,000/s x 50 us = 0.5 cores; 200,000/s: 10 cores, 17 pods of one core at 60 %.
    assert_eq!(row(&t, "frontend CPU"), ["0.50", "10.00"]);
    assert_eq!(row(&t, "frontend pods"), ["2", "17"]);
    assert_eq!(row(&t, "worker CPU"), ["0.40", "8.00"]);
    assert_eq!(row(&t, "worker pods"), ["2", "14"]);
    assert_eq!(row(&t, "results service pods"), ["2", "2"]);
    // Partitions: 12 at least; 2 x 14 workers = 28, and 200,000 records/s at 5,000 each = 40:
    // 48, the next multiple of 12.
    assert_eq!(row(&t, "executions topic partitions"), ["12", "48"]);
    assert_eq!(row(&t, "Kafka records appended"), ["13,000", "260,000"]);
    assert_eq!(row(&t, "Redis commands"), ["100,000", "2,000,000"]);
    // 10,000/s x 3,600 s x 2,000 bytes = 67.1 GiB: 3 shards of 24 GiB; 200,000/s: 1,341 GiB,
    // 56 shards; CPU 0.25 and 5 cores at 50 %: 1 and 10.
    assert_eq!(row(&t, "Redis memory"), ["67.1 GiB", "1,341.1 GiB"]);
    assert_eq!(row(&t, "Redis shards"), ["3 (CPU 1, memory 3)", "56 (CPU 10, memory 56)"]);
    assert!(text.contains("frontend 50.0 µs"), "{text}");

    // Shorter retention, fewer shards.
    let out = Command::new("python3")
        .arg(&script)
        .arg(&file)
        .args(["--rates", "10000", "--retention-seconds", "300"])
        .output()
        .expect("python3");
    assert_eq!(row(&table(&String::from_utf8_lossy(&out.stdout)), "Redis shards"), ["1 (CPU 1, memory 1)"]);

    // The chart's sizing block carries the same figures.
    let out = Command::new("python3").arg(&script).arg(&file).arg("--helm").output().expect("python3");
    let helm = String::from_utf8_lossy(&out.stdout);
    for line in ["frontend: 50.0", "worker: 40.0", "results: 5.0"] {
        assert!(helm.contains(line), "{helm}");
    }
}
