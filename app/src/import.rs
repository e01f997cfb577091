//! Import from a spreadsheet: a CSV file is read in the browser with the rules the `zcrm` CLI
//! uses (`zcrm_api::csv`: columns, `name` splitting, formula quotes, every row validated against
//! the org's course picklist), shown as a preview before anything is sent, then sent through
//! `POST /api/students/bulk` at most [`MAX_BULK`] rows a request with a progress bar, and ends
//! with a report of every row: created, skipped (the email is already in Zoho, or an earlier row
//! of the file has it) or refused (the field and why). Importing the same file again creates
//! nothing twice: the Worker looks for every email in Zoho before it creates anything.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;
use zcrm_api::csv;
use zcrm_api::students::{BulkRequest, BulkStatus, MAX_BULK, StudentField, StudentInput};

use crate::students::StudentsCtx;
use crate::{api, tabs};

/// The largest file read (far above 100,000 rows of students at their usual length).
const MAX_FILE_BYTES: f64 = 20.0 * 1024.0 * 1024.0;

/// What became (or will become) of one row of the file.
#[derive(Clone, Debug, PartialEq)]
enum Status {
    /// Valid, not sent yet.
    Ready(StudentInput),
    /// Refused, by the portal's rules before sending or by the Worker or Zoho: why.
    Refused(String),
    /// Not created: an earlier row has the email (`Some(that row)`), or Zoho has it (`None`).
    Duplicate(Option<usize>),
    Created,
    /// The import stopped before this row was sent.
    NotSent,
}

impl Status {
    fn key(&self) -> &'static str {
        match self {
            Status::Ready(_) => "ready",
            Status::Refused(_) => "invalid",
            Status::Duplicate(_) => "duplicate",
            Status::Created => "created",
            Status::NotSent => "not_sent",
        }
    }

    fn text(&self) -> String {
        match self {
            Status::Ready(_) => "Ready to import".into(),
            Status::Refused(why) => format!("Refused: {why}"),
            Status::Duplicate(Some(row)) => format!("Skipped: row {row} has the same email"),
            Status::Duplicate(None) => {
                "Skipped: a student with this email is already in Zoho".into()
            }
            Status::Created => "Created".into(),
            Status::NotSent => "Not sent".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Line {
    row: usize,
    name: String,
    email: String,
    status: Status,
}

/// The import under way: the file's rows and how far it got.
#[derive(Clone, Debug, PartialEq, Default)]
struct Import {
    file: String,
    /// The file could not be read as students at all.
    file_error: Option<String>,
    lines: Vec<Line>,
    /// Rows sent so far and rows to send, once sending started.
    progress: Option<(usize, usize)>,
    done: bool,
    /// Why the import stopped early.
    stopped: Option<String>,
}

impl Import {
    fn count(&self, key: &str) -> usize {
        self.lines.iter().filter(|l| l.status.key() == key).count()
    }

    /// "300 rows: 270 created, 24 refused, …" (only the kinds there are).
    fn summary(&self) -> String {
        let kinds = [
            ("ready", "ready to import"),
            ("created", "created"),
            ("duplicate", "skipped as duplicates"),
            ("invalid", "refused"),
            ("not_sent", "not sent"),
        ];
        let parts: Vec<String> = kinds
            .iter()
            .filter_map(|(key, label)| match self.count(key) {
                0 => None,
                n => Some(format!("{n} {label}")),
            })
            .collect();
        let n = self.lines.len();
        format!(
            "{n} row{}: {}.",
            if n == 1 { "" } else { "s" },
            if parts.is_empty() {
                "nothing to import".to_owned()
            } else {
                parts.join(", ")
            }
        )
    }
}

/// The preview of `text`: every row validated, repeats of an earlier row's email marked.
fn preview(file: String, text: &str, meta: &zcrm_api::students::StudentsMeta) -> Import {
    let rows = match csv::read_students(text, meta) {
        Ok(rows) => rows,
        Err(e) => {
            return Import {
                file,
                file_error: Some(e.0),
                ..Import::default()
            };
        }
    };
    let mut lines = Vec::with_capacity(rows.len());
    let mut valid = Vec::new();
    for r in rows {
        let status = match r.student {
            Ok(input) => {
                valid.push((r.row, input.clone(), ()));
                Status::Ready(input)
            }
            Err(e) => Status::Refused(match e.field {
                Some(f) => format!("{}: {}", f.label(), e.reason),
                None => e.reason,
            }),
        };
        lines.push(Line {
            row: r.row,
            name: r.name,
            email: r.email,
            status,
        });
    }
    // Sent once: the first row of each email; the Worker would skip the others anyway.
    let (_, repeated) = csv::first_of_each_email(valid);
    for (row, first) in repeated {
        if let Some(line) = lines.iter_mut().find(|l| l.row == row) {
            line.status = Status::Duplicate(Some(first));
        }
    }
    Import {
        file,
        lines,
        ..Import::default()
    }
}

/// The "Import CSV" button and its dialog (preview, progress, report).
#[component]
pub fn ImportButton() -> impl IntoView {
    let sctx = expect_context::<StudentsCtx>();
    let state: RwSignal<Option<Import>> = RwSignal::new(None);
    let dialog = NodeRef::<html::Dialog>::new();
    let busy = RwSignal::new(false);

    let open = move |_| {
        state.set(Some(Import::default()));
        if let Some(d) = dialog.get_untracked() {
            let _ = d.show_modal();
        }
    };
    let close = move || {
        if busy.get_untracked() {
            return;
        }
        let imported = state.with_untracked(|s| s.as_ref().is_some_and(|s| s.count("created") > 0));
        state.set(None);
        if let Some(d) = dialog.get_untracked()
            && d.open()
        {
            d.close();
        }
        if imported {
            sctx.reload.update(|n| *n += 1);
        }
        crate::dom::focus_id_soon("import-open");
    };

    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        let meta = match sctx.meta.get_untracked() {
            Some(Ok(m)) => m,
            _ => {
                state.set(Some(Import {
                    file: name,
                    file_error: Some(
                        "The course list has not loaded yet, so the rows cannot be checked. Try again in a moment.".into(),
                    ),
                    ..Import::default()
                }));
                return;
            }
        };
        if file.size() > MAX_FILE_BYTES {
            state.set(Some(Import {
                file: name,
                file_error: Some("The file is larger than 20 MB: split it.".into()),
                ..Import::default()
            }));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let text = JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string());
            busy.set(false);
            state.set(Some(match text {
                Some(text) => preview(name, &text, &meta),
                None => Import {
                    file: name,
                    file_error: Some("The file could not be read.".into()),
                    ..Import::default()
                },
            }));
        });
    };

    let start = move |_| {
        let Some(import) = state.get_untracked() else {
            return;
        };
        let to_send: Vec<(usize, StudentInput)> = import
            .lines
            .iter()
            .enumerate()
            .filter_map(|(at, l)| match &l.status {
                Status::Ready(input) => Some((at, input.clone())),
                _ => None,
            })
            .collect();
        if to_send.is_empty() {
            return;
        }
        busy.set(true);
        let total = to_send.len();
        state.update(|s| {
            if let Some(s) = s {
                s.progress = Some((0, total));
            }
        });
        leptos::task::spawn_local(async move {
            let mut sent = 0;
            for batch in to_send.chunks(MAX_BULK) {
                let request = BulkRequest {
                    students: batch.iter().map(|(_, s)| s.clone()).collect(),
                };
                match api::import_students(&request).await {
                    Ok(answer) => state.update(|s| {
                        let Some(s) = s else { return };
                        for result in answer.results {
                            let Some((at, _)) =
                                result.row.checked_sub(1).and_then(|i| batch.get(i))
                            else {
                                continue;
                            };
                            s.lines[*at].status = match result.status {
                                BulkStatus::Created => Status::Created,
                                BulkStatus::Duplicate => Status::Duplicate(None),
                                BulkStatus::Invalid => Status::Refused(
                                    result
                                        .fields
                                        .into_iter()
                                        .map(|(field, why)| format!("{}: {why}", label_of(&field)))
                                        .collect::<Vec<_>>()
                                        .join("; "),
                                ),
                            };
                        }
                        sent += batch.len();
                        s.progress = Some((sent, total));
                    }),
                    Err(f) if f.is_unauthenticated() => {
                        busy.set(false);
                        return sctx.app.session_ended(&f);
                    }
                    Err(f) => {
                        state.update(|s| {
                            if let Some(s) = s {
                                s.stopped = Some(format!(
                                    "The import stopped: {} Importing the file again sends the rest (nothing is created twice).",
                                    f.message()
                                ));
                            }
                        });
                        break;
                    }
                }
            }
            busy.set(false);
            state.update(|s| {
                if let Some(s) = s {
                    for l in &mut s.lines {
                        if let Status::Ready(_) = l.status {
                            l.status = Status::NotSent;
                        }
                    }
                    s.done = true;
                }
            });
            tabs::students_changed();
            crate::dom::focus_id_soon("import-summary");
        });
    };

    let body = move || {
        let Some(import) = state.get() else {
            return ().into_any();
        };
        let sending = import.progress.is_some();
        let chooser = (!sending).then(|| view! {
            <div class="field">
                <label for="import-file">"CSV file (a header row naming the columns: name or first_name and last_name, college, course, email, phone)"</label>
                <input
                    id="import-file"
                    type="file"
                    accept=".csv,text/csv"
                    data-testid="import-file"
                    disabled=move || busy.get()
                    on:change=on_file
                />
            </div>
        });
        let error = import.file_error.clone().map(|e| view! {
            <p class="form-error" role="alert" data-testid="import-error">{format!("{}: {e}", import.file)}</p>
        });
        let progress = import.progress.map(|(sent, total)| view! {
            <div class="import-progress" data-testid="import-progress">
                <label for="import-bar">{if import.done { format!("Sent {sent} of {total} rows.") } else { format!("Sending {sent} of {total} rows…") }}</label>
                <progress id="import-bar" max=total.to_string() value=sent.to_string()></progress>
            </div>
        });
        let stopped = import.stopped.clone().map(|s| {
            view! {
                <p class="form-error" role="alert" data-testid="import-stopped">{s}</p>
            }
        });
        let ready = import.count("ready");
        let has_rows = !import.lines.is_empty();
        let summary = has_rows.then(|| view! {
            <p id="import-summary" tabindex="-1" class="import-summary" role="status" data-testid="import-summary">
                {if import.done { "Import finished. " } else { "" }}
                {import.summary()}
            </p>
        });
        let rows = import
            .lines
            .into_iter()
            .map(|l| {
                view! {
                    <tr data-testid="import-row" data-row=l.row.to_string() data-status=l.status.key()>
                        <td>{l.row}</td>
                        <td>{l.name}</td>
                        <td>{l.email}</td>
                        <td>{l.status.text()}</td>
                    </tr>
                }
            })
            .collect_view();
        let table = has_rows.then(|| view! {
            <div class="table-wrap import-table" tabindex="0" role="region" aria-label="Rows of the file">
                <table data-testid=if import.done { "import-report" } else { "import-preview" }>
                    <caption class="visually-hidden">{if import.done { "What became of each row" } else { "The rows of the file, checked" }}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Row"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Result"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        });
        let send = (!sending && ready > 0).then(|| view! {
            <button type="button" class="primary" data-testid="import-start" disabled=move || busy.get() on:click=start>
                {format!("Import {ready} student{}", if ready == 1 { "" } else { "s" })}
            </button>
        });
        view! {
            {chooser}
            {error}
            {summary}
            {progress}
            {stopped}
            // The actions before the rows: in reach however long the file is.
            <div class="dialog-actions">
                {send}
                <button type="button" data-testid="import-close" disabled=move || busy.get() on:click=move |_| close()>
                    {if import.done { "Close" } else { "Cancel" }}
                </button>
            </div>
            {table}
        }
        .into_any()
    };

    view! {
        <button type="button" id="import-open" data-testid="import-open" on:click=open>
            "Import CSV"
        </button>
        <dialog
            node_ref=dialog
            class="dialog dialog-wide"
            aria-labelledby="import-title"
            data-testid="import-dialog"
            on:cancel=move |ev: leptos::ev::Event| {
                if busy.get_untracked() {
                    ev.prevent_default();
                }
            }
            on:close=move |_| close()
        >
            <h2 id="import-title">"Import students from a spreadsheet"</h2>
            {body}
        </dialog>
    }
}

/// A field's label, from the name the Worker gives it (`row` for the row as a whole).
fn label_of(name: &str) -> &str {
    StudentField::ALL
        .into_iter()
        .find(|f| f.as_str() == name)
        .map_or(name, |f| f.label())
}
