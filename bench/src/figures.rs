//! The benchmarks' output: figures, their JSON file and the printed table.

use std::{fs, path::Path};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// One measured number, with the baseline it is judged against when there is one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    pub group: String,
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub baseline: Option<f64>,
    pub ratio: Option<f64>,
    #[serde(default)]
    pub cores: usize,
    /// What bounds this figure on this machine (CPU, the load generator, the browser...).
    #[serde(default)]
    pub limited_by: String,
}

impl Figure {
    pub fn new(group: &str, name: impl Into<String>, value: f64, unit: &str) -> Self {
        Self {
            group: group.into(),
            name: name.into(),
            value: round(value),
            unit: unit.into(),
            baseline: None,
            ratio: None,
            cores: cores(),
            limited_by: String::new(),
        }
    }

    pub fn against(mut self, baseline: f64) -> Self {
        self.baseline = Some(round(baseline));
        self.ratio = (baseline > 0.0).then(|| round_ratio(self.value / baseline));
        self
    }

    pub fn limited_by(mut self, what: &str) -> Self {
        self.limited_by = what.into();
        self
    }
}

fn round(v: f64) -> f64 {
    if v.abs() >= 100.0 {
        v.round()
    } else {
        (v * 100.0).round() / 100.0
    }
}

fn round_ratio(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn write(path: &Path, figures: &[Figure]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(figures)?;
    fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

pub fn read(path: &Path) -> anyhow::Result<Vec<Figure>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut figures: Vec<Figure> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for f in &mut figures {
        if f.cores == 0 {
            f.cores = cores();
        }
    }
    Ok(figures)
}

/// The figures as a plain-text table, grouped as they came.
pub fn table(figures: &[Figure]) -> String {
    let fmt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v}"));
    let rows: Vec<[String; 6]> = figures
        .iter()
        .map(|f| {
            [
                f.group.clone(),
                f.name.clone(),
                format!("{} {}", f.value, f.unit),
                f.baseline
                    .map_or_else(|| "-".into(), |b| format!("{b} {}", f.unit)),
                fmt(f.ratio),
                f.limited_by.clone(),
            ]
        })
        .collect();
    let header = [
        "group",
        "figure",
        "value",
        "baseline",
        "ratio",
        "limited by",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 6]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            // Numbers right-aligned, words left-aligned.
            if (2..=4).contains(&i) {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            }
            s.push_str("  ");
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header);
    out.push_str(&line(&widths.map(|w| "-".repeat(w))));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_value_over_baseline() {
        let f = Figure::new("g", "p99", 3.0, "ms").against(2.0);
        assert_eq!(f.ratio, Some(1.5));
        assert_eq!(f.baseline, Some(2.0));
        assert!(Figure::new("g", "x", 1.0, "ms")
            .against(0.0)
            .ratio
            .is_none());
    }

    #[test]
    fn table_lines_up_columns() {
        let figures = vec![
            Figure::new("signaling", "invite p99", 1.234, "ms").against(1.0),
            Figure::new("download", "wasm gzip", 462_000.0, "B"),
        ];
        let t = table(&figures);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[2].contains("1.23 ms") && lines[2].contains("1.23"),
            "{t}"
        );
        assert!(
            lines[3].contains("462000 B") && lines[3].contains(" - "),
            "{t}"
        );
        let col = |l: &str| l.find("ms").or_else(|| l.find(" B"));
        assert!(col(lines[2]).is_some() && col(lines[3]).is_some());
    }

    #[test]
    fn figures_survive_a_round_trip() {
        let dir = std::env::temp_dir().join(format!("bench-fig-{}", std::process::id()));
        let path = dir.join("f.json");
        let figures = vec![Figure::new("g", "n", 5.0, "ms").limited_by("CPU")];
        write(&path, &figures).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back[0].name, "n");
        assert_eq!(back[0].limited_by, "CPU");
        fs::remove_dir_all(dir).unwrap();
    }
}
