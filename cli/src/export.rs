//! `zcrm students export [--out FILE.csv]`: every student of the org as CSV (the rules of
//! [`zcrm_api::csv`]: `id` and the import's columns, formula characters neutralised), sorted by
//! id, paging past record 2,000 with `page_token`. A file is written whole or not at all
//! (temporary file, then rename), `0600`: it holds people's contact details.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

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
    let mut text = csv::export_header();
    let mut progress = Progress::new("exporting", None);
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let count = all_pages(session, None, "sort_by=id&sort_order=asc", |page, seen| {
        for s in page {
            text.push_str(&csv::export_row(s));
        }
        if bar {
            progress.update(seen, "students");
        }
        Ok(())
    })
    .await?;
    if bar {
        progress.finish();
    }
    match &out {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| Error::failure(format!("Cannot write the CSV: {e}")))?;
        }
        Some(path) => write_whole(path, &text)?,
    }
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

fn write_whole(path: &str, text: &str) -> Result<()> {
    let target = std::path::Path::new(path);
    let name = target
        .file_name()
        .ok_or_else(|| Error::usage("--out must name a file."))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = target.with_file_name(tmp_name);
    let shown = printable(path, 200);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::failure(format!("Cannot write {shown}: {e}"))
    })
}
