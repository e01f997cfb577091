//! The students screen: a table of one page of students, paging driven by the edge's `more`, a
//! debounced search, a course filter, sorting by the column headers (all four kept in the page's
//! URL, so a reload shows the same list), and the add/edit form and delete confirmation of
//! [`crate::form`].

use std::time::Duration;

use leptos::either::EitherOf3 as Either3;
use leptos::prelude::*;
use zcrm_api::codes;
use zcrm_api::students::{
    DEFAULT_PER_PAGE, MAX_SEARCH_LEN, SortKey, SortOrder, Student, StudentsMeta, StudentsPage,
};

use crate::chunks;
use crate::form::FormTarget;
use crate::{Auth, Ctx, api, dom, form, tabs, use_ctx};

const SEARCH_DEBOUNCE: Duration = Duration::from_millis(350);

/// Shared by the screen, the form and the delete dialog.
#[derive(Clone, Copy)]
pub struct StudentsCtx {
    pub app: Ctx,
    pub meta: RwSignal<Option<Result<StudentsMeta, api::Failure>>>,
    pub form: RwSignal<Option<FormTarget>>,
    /// Bumped to load the current page again.
    pub reload: RwSignal<u32>,
    pub page: RwSignal<u32>,
    /// The column the list is sorted by and which way, as the URL has it (`sort=name&order=asc`);
    /// empty: last modified first. (A `String`, like the search: another signal type would
    /// cost the first load its own copy of the reactive code.)
    pub sort: RwSignal<String>,
    /// Set once the list's first answer (rows or an error) is on the screen: the chunks
    /// (`chunks.rs`) are fetched after it, never beside it.
    pub drawn: RwSignal<bool>,
}

/// `sort=…&order=…` of a column and a way.
fn sort_param(key: SortKey, order: SortOrder) -> String {
    format!("sort={}&order={}", key.as_str(), order.as_str())
}

/// The column and way a `sort` value names.
fn sort_of(param: &str) -> Option<(SortKey, SortOrder)> {
    let (key, order) = param.strip_prefix("sort=")?.split_once("&order=")?;
    Some((SortKey::parse(key)?, SortOrder::parse(order)?))
}

/// What the list shows, as the query of the page's URL and of `GET /api/students`: `page`,
/// `q`, `course`, `sort` and `order`, defaults left out.
fn list_query(page: u32, q: &str, course: &str, sort: &str) -> String {
    let mut query = String::new();
    let mut add = |part: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(part);
    };
    if page > 1 {
        add(&format!("page={page}"));
    }
    for (name, value) in [("q", q), ("course", course)] {
        if !value.is_empty() {
            add(&format!("{name}={}", api::encode(value)));
        }
    }
    if !sort.is_empty() {
        add(sort);
    }
    query
}

/// The list the page's URL names (a reload, a shared link); what it does not name is the default.
fn list_from_url() -> (u32, String, String, String) {
    let param = |name| dom::url_param(name).unwrap_or_default();
    let page = param("page").parse().ok().filter(|p| *p >= 1).unwrap_or(1);
    let q: String = param("q").chars().take(MAX_SEARCH_LEN).collect();
    let order = SortOrder::parse(&param("order")).unwrap_or(SortOrder::Asc);
    let sort = SortKey::parse(&param("sort"))
        .map(|k| sort_param(k, order))
        .unwrap_or_default();
    (page, q, param("course"), sort)
}

/// On load with a session's hint: the list's first page as the URL names it, its count and the
/// courses, asked beside the session check (the screen, from its chunk, takes the answers:
/// [`api::early`]), not after it and its chunk.
pub fn ask_early() {
    let (page, q, course, sort) = list_from_url();
    api::early(api::students_url(
        DEFAULT_PER_PAGE,
        &list_query(page, &q, &course, &sort),
    ));
    api::early(api::students_count_url(&list_query(1, &q, &course, "")));
    api::early(api::STUDENTS_META_URL.to_owned());
}

impl StudentsCtx {
    pub fn load_meta(self) {
        let ctx = self.app;
        self.meta.set(None);
        leptos::task::spawn_local(async move {
            let result = api::students_meta().await;
            if let Err(f) = &result
                && f.is_unauthenticated()
            {
                ctx.session_ended(f);
                return;
            }
            self.meta.set(Some(result));
        });
    }
}

#[component]
pub fn Students() -> impl IntoView {
    let ctx = use_ctx();
    let (first_page, first_q, first_course, first_sort) = list_from_url();
    let sctx = StudentsCtx {
        app: ctx,
        meta: RwSignal::new(None),
        form: RwSignal::new(None),
        reload: RwSignal::new(0),
        page: RwSignal::new(first_page),
        sort: RwSignal::new(first_sort),
        drawn: RwSignal::new(false),
    };
    provide_context(sctx);
    sctx.load_meta();

    let page = sctx.page;
    let sort = sctx.sort;
    let course = RwSignal::new(first_course);
    let query = RwSignal::new(first_q.clone());
    let search_text = RwSignal::new(first_q);
    let list: RwSignal<Option<Result<StudentsPage, api::Failure>>> = RwSignal::new(None);
    let loading = RwSignal::new(true);
    let seq = StoredValue::new(0u32);
    let total = RwSignal::new(String::new());

    // Load whenever the page, the search or the reload counter changes; only the newest answer counts.
    Effect::new(move |_| {
        let p = page.get();
        let (q, c) = (query.get(), course.get());
        let shown = list_query(p, &q, &c, &sort.get());
        let filter = list_query(1, &q, &c, "");
        sctx.reload.track();
        ctx.students_changed.track();
        dom::set_url_query(&shown);
        let n = seq.get_value().wrapping_add(1);
        seq.set_value(n);
        loading.set(true);
        leptos::task::spawn_local(async move {
            let result = api::students(DEFAULT_PER_PAGE, &shown).await;
            if seq.try_get_value() != Some(n) {
                return;
            }
            if let Err(f) = &result
                && f.is_unauthenticated()
            {
                ctx.session_ended(f);
                return;
            }
            // A page emptied by deletes: step back.
            if let Ok(r) = &result
                && r.students.is_empty()
                && p > 1
            {
                page.set(p - 1);
                return;
            }
            let shown_ok = result.is_ok();
            list.set(Some(result));
            loading.set(false);
            if !sctx.drawn.get_untracked() {
                sctx.drawn.set(true);
            }
            // "N students": Zoho's count of the list with this search and course.
            if shown_ok {
                let counted = api::students_count(&filter).await;
                if seq.try_get_value() == Some(n) {
                    total.set(counted.map_or_else(
                        |_| String::new(),
                        |c| format!("{} student{}", c.count, if c.count == 1 { "" } else { "s" }),
                    ));
                }
            }
        });
    });

    // A form kept when the session ended opens again once the same user is back.
    if let Auth::SignedIn(user) = ctx.auth.get_untracked()
        && let Some(target) = form::take_draft(&user.email)
    {
        sctx.form.set(Some(target));
    }

    let debounce = StoredValue::new(None::<TimeoutHandle>);
    let commit_search = move |text: String| {
        if let Some(h) = debounce.get_value() {
            h.clear();
        }
        let text = text.trim().to_owned();
        if text != query.get_untracked() {
            page.set(1);
            query.set(text);
        }
    };
    let on_search = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        search_text.set(text.clone());
        if let Some(h) = debounce.get_value() {
            h.clear();
        }
        let handle = set_timeout_with_handle(move || commit_search(text), SEARCH_DEBOUNCE).ok();
        debounce.set_value(handle);
    };

    let open_add = move |_| {
        sctx.form.set(Some(FormTarget::new_student()));
    };

    view! {
        <section class="students" aria-labelledby="students-heading" data-testid="students-screen">
            <div class="toolbar">
                <h1 id="students-heading" tabindex="-1">"Students"</h1>
                <form
                    class="search"
                    role="search"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        commit_search(search_text.get_untracked());
                    }
                >
                    <label for="search" class="visually-hidden">"Search students"</label>
                    <input
                        id="search"
                        type="search"
                        data-testid="search"
                        placeholder="Search name, email, phone or course"
                        maxlength=MAX_SEARCH_LEN.to_string()
                        autocomplete="off"
                        prop:value=move || search_text.get()
                        on:input=on_search
                    />
                </form>
                <label for="course-filter" class="visually-hidden">"Course"</label>
                <select
                    id="course-filter"
                    data-testid="course-filter"
                    on:change=move |ev| {
                        page.set(1);
                        course.set(event_target_value(&ev));
                    }
                >
                    {move || {
                        let mut courses = sctx
                            .meta
                            .get()
                            .and_then(Result::ok)
                            .map(|m| m.courses)
                            .unwrap_or_default();
                        let chosen = course.get();
                        // The URL's course shows before the course list has come.
                        if !chosen.is_empty() && !courses.contains(&chosen) {
                            courses.push(chosen.clone());
                        }
                        courses.insert(0, String::new());
                        courses
                            .into_iter()
                            .map(|c| {
                                let selected = c == chosen;
                                let value = c.clone();
                                let label = if c.is_empty() { "All courses".to_owned() } else { c };
                                view! { <option value=value selected=selected>{label}</option> }
                            })
                            .collect_view()
                    }}
                </select>
                <chunks::Import />
                <button type="button" id="add-student" class="primary" data-testid="add-student" on:click=open_add>
                    "Add student"
                </button>
            </div>
            <p class="count">
                <span class="muted" data-testid="student-count" aria-live="polite">{move || total.get()}</span>
                <a
                    class="button"
                    data-testid="export-csv"
                    download="students.csv"
                    href=move || format!(
                        "/api/students/export.csv?{}",
                        list_query(1, &query.get(), &course.get(), &sort.get())
                    )
                >
                    "Export CSV"
                </a>
            </p>
            <div aria-live="polite" class="list-status">
                {move || loading.get().then(|| view! {
                    <p class="muted" data-testid="students-loading">"Loading students…"</p>
                })}
            </div>
            // Its height reserved: the pager starts below the fold, so rows arriving move nothing
            // on screen (no layout shift).
            <div class="list-area">
            {move || match list.get() {
                None => None,
                Some(Err(f)) => Some(Either3::A(view! {
                    <div class="error-box" role="alert" data-testid="students-error">
                        <p>{format!("Could not load the students: {}", f.message())}</p>
                        <button type="button" data-testid="students-retry" on:click=move |_| sctx.reload.update(|n| *n += 1)>
                            "Try again"
                        </button>
                    </div>
                })),
                Some(Ok(r)) if r.students.is_empty() => Some(Either3::B(view! {
                    <p class="empty" data-testid="students-empty">
                        {match (query.get_untracked(), course.get_untracked()) {
                            (q, c) if q.is_empty() && c.is_empty() => {
                                "No students yet. Add the first one with “Add student”.".to_owned()
                            }
                            (q, c) if c.is_empty() => format!("No students match “{q}”."),
                            (q, c) if q.is_empty() => format!("No students in {c}."),
                            (q, c) => format!("No students in {c} match “{q}”."),
                        }}
                    </p>
                })),
                Some(Ok(r)) => Some(Either3::C(view! { <Table page=r busy=loading /> })),
            }}
            </div>
            <nav class="pager" aria-label="Pages of students">
                <button
                    type="button"
                    data-testid="prev-page"
                    disabled=move || page.get() <= 1 || loading.get()
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
                >
                    "← Previous"
                </button>
                <span data-testid="page-number" aria-live="polite">{move || format!("Page {}", page.get())}</span>
                <button
                    type="button"
                    data-testid="next-page"
                    disabled=move || loading.get() || !matches!(list.get(), Some(Ok(ref r)) if r.more)
                    on:click=move |_| page.update(|p| *p += 1)
                >
                    "Next →"
                </button>
            </nav>
            <chunks::Form />
        </section>
    }
}

#[component]
fn Table(page: StudentsPage, busy: RwSignal<bool>) -> impl IntoView {
    let sctx = expect_context::<StudentsCtx>();
    let rows = page
        .students
        .into_iter()
        .map(|s| {
            let name = s.fields.full_name();
            let edit_label = format!("Edit {name}");
            let delete_label = format!("Delete {name}");
            let for_edit = s.clone();
            let for_delete = s.clone();
            let f = s.fields;
            view! {
                <tr data-testid="student-row" data-id=s.id.clone()>
                    <th scope="row" data-label="Name" data-testid="student-name">{name}</th>
                    <td data-label="College">{f.college}</td>
                    <td data-label="Course" data-testid="student-course">{f.course}</td>
                    <td data-label="Email" data-testid="student-email">{f.email}</td>
                    <td data-label="Phone">{f.phone}</td>
                    <td class="actions">
                        <button
                            type="button"
                            data-testid="edit-student"
                            aria-label=edit_label
                            on:click=move |_| sctx.form.set(Some(FormTarget::edit(&for_edit)))
                        >
                            "Edit"
                        </button>
                        <button
                            type="button"
                            class="danger"
                            data-testid="delete-student"
                            aria-label=delete_label
                            on:click=move |_| delete(sctx, &for_delete)
                        >
                            "Delete"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let head = move |key: SortKey, label: &'static str| {
        // The table is drawn again for every answer: the header shows the order of this one.
        let order = sort_of(&sctx.sort.get_untracked())
            .filter(|(k, _)| *k == key)
            .map(|(_, o)| o);
        let aria_sort = match order {
            Some(SortOrder::Asc) => "ascending",
            Some(SortOrder::Desc) => "descending",
            None => "none",
        };
        view! {
            <th scope="col" aria-sort=aria_sort>
                <button
                    type="button"
                    class="sort"
                    id=sort_button_id(key)
                    data-testid=sort_button_id(key)
                    on:click=move |_| {
                        let next = match order {
                            Some(SortOrder::Asc) => SortOrder::Desc,
                            _ => SortOrder::Asc,
                        };
                        sctx.page.set(1);
                        sctx.sort.set(sort_param(key, next));
                        // The table is drawn again: the button keeps the focus.
                        dom::focus_id_soon(sort_button_id(key));
                    }
                >
                    {label}
                </button>
            </th>
        }
    };
    view! {
        <div class="table-wrap">
            <table data-testid="students-table" aria-busy=move || if busy.get() { "true" } else { "false" }>
                <thead>
                    <tr>
                        {head(SortKey::Name, "Name")}
                        {head(SortKey::College, "College")}
                        {head(SortKey::Course, "Course")}
                        {head(SortKey::Email, "Email")}
                        <th scope="col">"Phone"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn sort_button_id(key: SortKey) -> &'static str {
    match key {
        SortKey::Name => "sort-name",
        SortKey::College => "sort-college",
        SortKey::Course => "sort-course",
        SortKey::Email => "sort-email",
        SortKey::Created => "sort-created",
        SortKey::Modified => "sort-modified",
    }
}

/// Asks (the browser's own confirmation: keyboard-accessible, focus comes back by itself), then
/// deletes. Progress and the outcome go to the page's notice.
fn delete(sctx: StudentsCtx, student: &Student) {
    let ctx = sctx.app;
    let name = student.fields.full_name();
    let question = format!(
        "Delete {name}?\n\nThe student is deleted from Zoho CRM. This cannot be undone here."
    );
    if !window().confirm_with_message(&question).unwrap_or(false) {
        return;
    }
    ctx.info(format!("Deleting {name}…"));
    let id = student.id.clone();
    leptos::task::spawn_local(async move {
        match api::delete_student(&id).await {
            Ok(()) => ctx.info(format!("Deleted {name}.")),
            Err(f) if f.is_unauthenticated() => return ctx.session_ended(&f),
            Err(f) if f.code() == codes::NOT_FOUND => {
                ctx.info(format!("{name} was already deleted."))
            }
            Err(f) => return ctx.error(format!("{name} was not deleted. {}", f.message())),
        }
        tabs::students_changed();
        sctx.reload.update(|n| *n += 1);
        focus_list();
    });
}

/// After a save or a delete, focus goes back to the list's heading (the rows are redrawn).
pub fn focus_list() {
    dom::focus_id_soon("students-heading");
}
