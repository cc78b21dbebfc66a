//! The `bench` command line, run as a program.

use std::{fs, path::PathBuf, process::Command};

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bench"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bench-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn report_merges_parts_into_one_table_and_file() {
    let dir = temp_dir("report");
    fs::write(
        dir.join("a.json"),
        r#"[{"group":"signaling","name":"invite delivery p99","value":0.7,"unit":"ms","baseline":0.5,"ratio":1.4,"cores":2,"limited_by":"CPU"}]"#,
    )
    .unwrap();
    // The browser benchmark writes figures without a core count.
    fs::write(
        dir.join("b.json"),
        r#"[{"group":"browser","name":"call() to INVITED, median","value":11.6,"unit":"ms","baseline":null,"ratio":null,"limited_by":"page"}]"#,
    )
    .unwrap();
    let out = dir.join("results.json");
    let run = bench()
        .arg("report")
        .arg("--out")
        .arg(&out)
        .arg(dir.join("a.json"))
        .arg(dir.join("b.json"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(
        table.contains("invite delivery p99") && table.contains("1.4"),
        "{table}"
    );
    assert!(table.contains("call() to INVITED, median"), "{table}");
    let merged: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    let merged = merged.as_array().unwrap();
    assert_eq!(merged.len(), 2);
    assert!(merged.iter().all(|f| f["cores"].as_u64().unwrap() >= 1));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let run = bench().arg("fly").output().unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("unknown command"));

    let run = bench().args(["signaling", "--smoke"]).output().unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("--server"));

    let run = bench()
        .args(["report", "/nonexistent/part.json"])
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("/nonexistent/part.json"));
}
