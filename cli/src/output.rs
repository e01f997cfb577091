//! What the commands print: one JSON document with `--json`, else tables for people; progress
//! on stderr (a bar on a terminal, plain lines otherwise).

use std::io::{IsTerminal, Write};

use serde_json::Value;
use zcrm_api::students::Student;

use crate::error::printable;

/// One JSON document on stdout.
pub fn json(value: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, value);
    let _ = out.write_all(b"\n");
}

/// A student in the `--json` shape: the portal's `zcrm-api` type.
pub fn student_json(student: &Student) -> Value {
    serde_json::to_value(student).unwrap_or(Value::Null)
}

/// A table with a header, columns as wide as their widest cell (cells already printable).
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(cell);
            if i + 1 < widths.len() {
                s.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line(&mut header.iter().copied()));
    for row in rows {
        let _ = writeln!(out, "{}", line(&mut row.iter().map(String::as_str)));
    }
}

/// Students as a table.
pub fn students_table(students: &[Student]) {
    let rows: Vec<Vec<String>> = students
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                printable(&s.fields.full_name(), 40),
                printable(&s.fields.email, 50),
                printable(&s.fields.course, 30),
                printable(&s.fields.college, 40),
                printable(&s.fields.phone, 30),
            ]
        })
        .collect();
    table(
        &["ID", "NAME", "EMAIL", "COURSE", "COLLEGE", "PHONE"],
        &rows,
    );
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whether progress is drawn as a bar: stdout and stderr are both a terminal (a report or CSV
/// redirected to a file gets plain progress lines, as does a job's log).
pub fn on_terminal() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// Progress of a long command on stderr.
pub struct Progress {
    what: &'static str,
    total: Option<usize>,
    bar: bool,
}

impl Progress {
    pub fn new(what: &'static str, total: Option<usize>) -> Progress {
        Progress {
            what,
            total,
            bar: on_terminal(),
        }
    }

    /// `done` so far, and a short note (counts).
    pub fn update(&mut self, done: usize, note: &str) {
        let mut err = std::io::stderr().lock();
        if self.bar {
            let text = match self.total {
                Some(total) if total > 0 => {
                    let filled = done * 30 / total;
                    format!(
                        "\r{} [{}{}] {done}/{total} {note}",
                        self.what,
                        "#".repeat(filled),
                        " ".repeat(30 - filled.min(30))
                    )
                }
                _ => format!("\r{} {done} {note}", self.what),
            };
            let _ = write!(err, "{text}\x1b[K");
        } else {
            let _ = match self.total {
                Some(total) => writeln!(err, "{}: {done}/{total} {note}", self.what),
                None => writeln!(err, "{}: {done} {note}", self.what),
            };
        }
    }

    pub fn finish(&mut self) {
        if self.bar {
            let _ = writeln!(std::io::stderr());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
