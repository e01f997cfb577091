//! Add and edit a student: one form, in a modal `<dialog>`.
//!
//! The form runs the shared rules (`zcrm_api::students::check_field`) as the coordinator types;
//! the edge's field errors land on their field. A create carries an `Idempotency-Key` that stays the
//! same while the same values are submitted again. When the session ends mid-work, the form's
//! content goes to sessionStorage and opens again after the same user signs back in.

use leptos::either::Either;
use leptos::html;
use leptos::prelude::*;
use zcrm_api::codes;
use zcrm_api::students::{Student, StudentField, StudentInput, check_field};

use crate::students::{StudentsCtx, focus_list};
use crate::{Auth, Ctx, api, dom, use_ctx};

/// The kept form lives in sessionStorage under these keys (plain strings: no JSON code needed).
const DRAFT: &str = "zcrm.draft.";

/// What the form edits: a new student (`id: None`) or an existing one.
#[derive(Clone, Debug, PartialEq)]
pub struct FormTarget {
    pub id: Option<String>,
    /// The name when the form opened, for the title.
    pub name: String,
    pub input: StudentInput,
    /// The last values submitted as a create, with their idempotency key.
    pub submitted: Option<(StudentInput, String)>,
    /// Opened again from a draft kept when the session ended.
    pub restored: bool,
}

impl FormTarget {
    pub fn new_student() -> FormTarget {
        FormTarget {
            id: None,
            name: String::new(),
            input: StudentInput::default(),
            submitted: None,
            restored: false,
        }
    }

    pub fn edit(student: &Student) -> FormTarget {
        FormTarget {
            id: Some(student.id.clone()),
            name: student.fields.full_name(),
            input: student.fields.clone(),
            submitted: None,
            restored: false,
        }
    }
}

fn draft_key(name: &str) -> String {
    format!("{DRAFT}{name}")
}

fn save_input(prefix: &str, input: &StudentInput) {
    for f in StudentField::ALL {
        dom::session_set(&draft_key(&format!("{prefix}{}", f.as_str())), input.get(f));
    }
}

fn load_input(prefix: &str) -> StudentInput {
    let mut input = StudentInput::default();
    for f in StudentField::ALL {
        *input.get_mut(f) =
            dom::session_get(&draft_key(&format!("{prefix}{}", f.as_str()))).unwrap_or_default();
    }
    input
}

const DRAFT_NAMES: [&str; 4] = ["owner", "id", "name", "key"];

fn save_draft(owner: &str, target: FormTarget) {
    dom::session_set(&draft_key("owner"), owner);
    if let Some(id) = &target.id {
        dom::session_set(&draft_key("id"), id);
    }
    dom::session_set(&draft_key("name"), &target.name);
    save_input("v.", &target.input);
    if let Some((submitted, key)) = &target.submitted {
        dom::session_set(&draft_key("key"), key);
        save_input("s.", submitted);
    }
}

pub fn has_draft() -> bool {
    dom::session_get(&draft_key("owner")).is_some()
}

pub fn clear_draft() {
    for name in DRAFT_NAMES {
        dom::session_remove(&draft_key(name));
    }
    for prefix in ["v.", "s."] {
        for f in StudentField::ALL {
            dom::session_remove(&draft_key(&format!("{prefix}{}", f.as_str())));
        }
    }
}

/// The kept form of `owner`, removed from storage. Another user's draft is dropped, never shown.
pub fn take_draft(owner: &str) -> Option<FormTarget> {
    let kept_for = dom::session_get(&draft_key("owner"))?;
    let target = FormTarget {
        id: dom::session_get(&draft_key("id")),
        name: dom::session_get(&draft_key("name")).unwrap_or_default(),
        input: load_input("v."),
        submitted: dom::session_get(&draft_key("key")).map(|key| (load_input("s."), key)),
        restored: true,
    };
    clear_draft();
    (kept_for == owner).then_some(target)
}

fn field_from_str(name: &str) -> Option<StudentField> {
    StudentField::ALL.into_iter().find(|f| f.as_str() == name)
}

fn input_id(field: StudentField) -> String {
    format!("f-{}", field.as_str())
}

fn focus_field(field: StudentField) {
    dom::focus_id(&input_id(field));
}

/// Opens or closes a `<dialog>` as a modal.
fn sync_dialog(dialog: NodeRef<html::Dialog>, open: bool) {
    if let Some(d) = dialog.get_untracked() {
        if open && !d.open() {
            let _ = d.show_modal();
        } else if !open && d.open() {
            d.close();
        }
    }
}

#[component]
pub fn StudentForm() -> impl IntoView {
    let ctx = use_ctx();
    let sctx = expect_context::<StudentsCtx>();
    let dialog = NodeRef::<html::Dialog>::new();
    let values = RwSignal::new(StudentInput::default());
    let touched = RwSignal::new([false; 6]);
    let server_errors: RwSignal<Vec<(StudentField, String)>> = RwSignal::new(Vec::new());
    let form_error: RwSignal<Option<String>> = RwSignal::new(None);
    let submitting = RwSignal::new(false);

    Effect::new(move |_| {
        let target = sctx.form.get();
        if let Some(t) = &target {
            values.set(t.input.clone());
            touched.set([t.restored; 6]);
            server_errors.set(Vec::new());
            form_error.set(None);
            submitting.set(false);
        }
        sync_dialog(dialog, target.is_some());
        if target.is_some() {
            dom::focus_id_soon("f-first_name");
        }
    });

    let error_of = move |field: StudentField| -> Option<String> {
        if let Some((_, m)) = server_errors.with(|e| e.iter().find(|(f, _)| *f == field).cloned()) {
            return Some(m);
        }
        let idx = field as usize;
        if !touched.with(|t| t[idx]) {
            return None;
        }
        let meta = match sctx.meta.get() {
            Some(Ok(m)) => m,
            _ => return None,
        };
        values.with(|v| check_field(field, v.get(field).trim(), &meta).err())
    };

    let on_edit = move |field: StudentField, text: String| {
        values.update(|v| *v.get_mut(field) = text);
        touched.update(|t| t[field as usize] = true);
        server_errors.update(|e| e.retain(|(f, _)| *f != field));
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submitting.get_untracked() {
            return;
        }
        let Some(target) = sctx.form.get_untracked() else {
            return;
        };
        let meta = match sctx.meta.get_untracked() {
            Some(Ok(m)) => m,
            _ => {
                form_error.set(Some(
                    "The course list has not loaded yet, so the student cannot be checked. Try again in a moment.".into(),
                ));
                return;
            }
        };
        touched.set([true; 6]);
        let clean = match values.get_untracked().validate(&meta) {
            Ok(clean) => clean,
            Err(errors) => {
                form_error.set(Some("Check the highlighted fields.".into()));
                if let Some(first) = errors.first() {
                    focus_field(first.field);
                }
                return;
            }
        };
        // The same values submitted again are the same submission: same key.
        let key = match &target.submitted {
            Some((input, key)) if *input == clean => key.clone(),
            _ => dom::random_id(),
        };
        let target = FormTarget {
            submitted: target.id.is_none().then(|| (clean.clone(), key.clone())),
            ..target
        };
        sctx.form.update_untracked(|f| *f = Some(target.clone()));
        submitting.set(true);
        form_error.set(None);
        leptos::task::spawn_local(async move {
            let result = match &target.id {
                Some(id) => api::update_student(id, &clean).await,
                None => api::create_student(&clean, &key).await,
            };
            submitting.set(false);
            match result {
                Ok(student) => {
                    clear_draft();
                    sctx.form.set(None);
                    let name = student.fields.full_name();
                    ctx.info(if target.id.is_some() {
                        format!("Saved the changes to {name}.")
                    } else {
                        format!("Added {name}.")
                    });
                    sctx.reload.update(|n| *n += 1);
                    crate::tabs::students_changed();
                    focus_list();
                }
                Err(f) => on_submit_error(
                    ctx,
                    f,
                    FormTarget {
                        input: values.try_get_untracked().unwrap_or(clean),
                        ..target
                    },
                    server_errors,
                    form_error,
                ),
            }
        });
    };

    let title = move || match sctx.form.get() {
        Some(FormTarget {
            id: Some(_), name, ..
        }) => format!("Edit {name}"),
        _ => "Add a student".to_owned(),
    };

    let course = move || values.with(|v| v.course.clone());
    let fields = StudentField::ALL
        .into_iter()
        .map(|field| {
            let id = input_id(field);
            let error_id = format!("{id}-error");
            let required = field.is_required();
            let label = if required {
                format!("{} (required)", field.label())
            } else {
                field.label().to_owned()
            };
            let invalid = move || if error_of(field).is_some() { "true" } else { "false" };
            let control = if field == StudentField::Course {
                Either::Left(view! {
                    <select
                        id=id.clone()
                        name=field.as_str()
                        data-testid=format!("field-{}", field.as_str())
                        aria-invalid=invalid
                        aria-describedby=error_id.clone()
                        required=true
                        prop:value=move || values.with(|v| v.course.clone())
                        on:change=move |ev| on_edit(field, event_target_value(&ev))
                    >
                        <option value="">{move || match sctx.meta.get() {
                            None => "Loading courses…",
                            Some(Err(_)) => "Courses could not be loaded",
                            Some(Ok(_)) => "Choose a course",
                        }}</option>
                        {move || {
                            let mut courses = match sctx.meta.get() {
                                Some(Ok(m)) => m.courses,
                                _ => Vec::new(),
                            };
                            // A course no longer offered still shows (and fails validation).
                            let current = course();
                            if !current.is_empty() && !courses.contains(&current) {
                                courses.push(current.clone());
                            }
                            courses
                                .into_iter()
                                .map(|c| {
                                    let selected = c == current;
                                    view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                })
            } else {
                let kind = match field {
                    StudentField::Email => "email",
                    StudentField::Phone => "tel",
                    _ => "text",
                };
                let autocomplete = match field {
                    StudentField::FirstName => "given-name",
                    StudentField::LastName => "family-name",
                    StudentField::Email => "email",
                    StudentField::Phone => "tel",
                    _ => "organization",
                };
                Either::Right(view! {
                    <input
                        id=id.clone()
                        name=field.as_str()
                        type=kind
                        autocomplete=autocomplete
                        data-testid=format!("field-{}", field.as_str())
                        aria-invalid=invalid
                        aria-describedby=error_id.clone()
                        aria-required=if required { "true" } else { "false" }
                        prop:value=move || values.with(|v| v.get(field).to_owned())
                        on:input=move |ev| on_edit(field, event_target_value(&ev))
                    />
                })
            };
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    {control}
                    <p class="field-error" id=error_id data-testid=format!("error-{}", field.as_str())>
                        {move || error_of(field)}
                    </p>
                </div>
            }
        })
        .collect_view();

    view! {
        <dialog
            node_ref=dialog
            class="dialog"
            aria-labelledby="student-form-title"
            data-testid="student-form"
            on:close=move |_| {
                if sctx.form.get_untracked().is_some() {
                    sctx.form.set(None);
                }
            }
        >
            <form novalidate=true on:submit=submit>
                <h2 id="student-form-title">{title}</h2>
                {move || sctx.form.with(|t| t.as_ref().is_some_and(|t| t.restored)).then(|| view! {
                    <p class="notice" role="status" data-testid="draft-restored">
                        "This is what you typed before your session ended. Check it and save."
                    </p>
                })}
                {move || match sctx.meta.get() {
                    Some(Err(f)) => Some(view! {
                        <div class="error-box" role="alert" data-testid="meta-error">
                            <p>{format!("The course list could not be loaded: {}", f.message())}</p>
                            <button type="button" on:click=move |_| sctx.load_meta()>"Try again"</button>
                        </div>
                    }),
                    _ => None,
                }}
                <div class="fields">{fields}</div>
                <p class="form-error" role="alert" data-testid="form-error">{move || form_error.get()}</p>
                <div class="dialog-actions">
                    <button type="submit" class="primary" data-testid="save-student" disabled=move || submitting.get()>
                        {move || match (submitting.get(), sctx.form.with(|t| t.as_ref().is_some_and(|t| t.id.is_some()))) {
                            (true, _) => "Saving…",
                            (false, true) => "Save changes",
                            (false, false) => "Add student",
                        }}
                    </button>
                    <button type="button" data-testid="cancel-student" on:click=move |_| sctx.form.set(None)>
                        "Cancel"
                    </button>
                </div>
            </form>
        </dialog>
    }
}

fn on_submit_error(
    ctx: Ctx,
    f: api::Failure,
    target: FormTarget,
    server_errors: RwSignal<Vec<(StudentField, String)>>,
    form_error: RwSignal<Option<String>>,
) {
    if f.is_unauthenticated() {
        if let Auth::SignedIn(user) = ctx.auth.get_untracked() {
            save_draft(&user.email, target);
        }
        ctx.session_ended(&f);
        return;
    }
    let api::Failure::Api { error, .. } = &f else {
        form_error.set(Some(format!("Not saved. {}", f.message())));
        return;
    };
    let mut errors: Vec<(StudentField, String)> = error
        .fields
        .iter()
        .map(|e| (e.field, e.message.clone()))
        .collect();
    if errors.is_empty() {
        let field = error
            .field
            .as_deref()
            .and_then(field_from_str)
            .or((error.code == codes::DUPLICATE).then_some(StudentField::Email));
        if let Some(field) = field {
            errors.push((field, error.message.clone()));
        }
    }
    if let Some((first, _)) = errors.first() {
        focus_field(*first);
        server_errors.set(errors);
        form_error.set(Some("Not saved: check the highlighted fields.".into()));
    } else {
        form_error.set(Some(format!("Not saved. {}", f.message())));
    }
}
