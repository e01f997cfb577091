//! `zcrm students export [--out FILE.csv]`: every student of the org as CSV (the rules of
//! [`zcrm_api::csv`]: `id` and the import's columns, formula characters neutralised), sorted by
//! id, paging past record 2,000 with `page_token`. A file is written whole or not at all
//! (temporary file, then rename), `0600`: it holds people's contact details.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use serde_json::json;
use zcrm_api::csv;

use crate::args::Args;
use crate::error::{Error, Result, printable};
use crate::output::{self, Progress};
use crate::session::Session;
use crate::students::all_pages;

pub async fn export(session: &mut Session<'_>, mut args: Args, json: bool) -> Result<()> {
    let out = args.value("--out");
    args.finish("students export")?;
    if json && out.is_none() {
        return Err(Error::usage(
            "With --json, give the CSV's file with --out (stdout carries the JSON).",
        ));
    }
    let started = std::time::Instant::now();
    let mut sink = match &out {
        None => Sink::Stdout(BufWriter::new(std::io::stdout().lock())),
        Some(path) => Sink::file(path)?,
    };
    let mut progress = Progress::new("exporting", None);
    // Progress on a terminal only (a job's log gets the one line at the end), and not over the
    // CSV itself when that goes to the terminal.
    let bar = out.is_some() && output::on_terminal();
    let result = async {
        sink.write(csv::export_header().as_bytes())?;
        all_pages(session, None, "sort_by=id&sort_order=asc", |page, seen| {
            for s in page {
                sink.write(csv::export_row(s).as_bytes())?;
            }
            if bar {
                progress.update(seen, "students");
            }
            Ok(())
        })
        .await
    }
    .await;
    if bar {
        progress.finish();
    }
    let count = match result {
        Ok(count) => {
            sink.finish()?;
            count
        }
        Err(e) => {
            sink.abandon();
            return Err(e);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if json {
        output::json(&json!({"exported": count, "out": out}));
    } else if let Some(path) = &out {
        println!(
            "Exported {count} students to {} in {secs:.1} s.",
            printable(path, 200)
        );
    } else {
        eprintln!("Exported {count} students in {secs:.1} s.");
    }
    Ok(())
}

/// Where the CSV goes as it is read: stdout, or a temporary file renamed over `--out` once
/// complete.
enum Sink {
    Stdout(BufWriter<std::io::StdoutLock<'static>>),
    File {
        file: BufWriter<std::fs::File>,
        tmp: PathBuf,
        target: PathBuf,
        shown: String,
    },
}

impl Sink {
    fn file(path: &str) -> Result<Sink> {
        let target = PathBuf::from(path);
        let name = target
            .file_name()
            .ok_or_else(|| Error::usage("--out must name a file."))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = target.with_file_name(tmp_name);
        let shown = printable(path, 200);
        let file = crate::store::create_private(&tmp)
            .map_err(|e| Error::usage(format!("Cannot write {shown}: {e}")))?;
        Ok(Sink::File {
            file: BufWriter::new(file),
            tmp,
            target,
            shown,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Stdout(out) => out
                .write_all(bytes)
                .map_err(|e| Error::failure(format!("Cannot write the CSV to stdout: {e}"))),
            Sink::File { file, shown, .. } => file
                .write_all(bytes)
                .map_err(|e| Error::failure(format!("Cannot write {shown}: {e}"))),
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Stdout(mut out) => out
                .flush()
                .map_err(|e| Error::failure(format!("Cannot write the CSV to stdout: {e}"))),
            Sink::File {
                file,
                tmp,
                target,
                shown,
            } => {
                let result = file
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .and_then(|()| std::fs::rename(&tmp, &target));
                result.map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    Error::failure(format!("Cannot write {shown}: {e}"))
                })
            }
        }
    }

    /// After a failure: no half-written file is left under the name asked for.
    fn abandon(self) {
        if let Sink::File { tmp, file, .. } = self {
            drop(file);
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
