//! The list's, search's and count's requests to Zoho: `GET /api/students` and
//! `/api/students/count` parameters validated (page, search, course filter, sort), the Zoho
//! paths they make, and the sorting of a search's matches (Zoho's search has no `sort_by`).
//! Pure: the Worker glue sends what this builds.

use serde_json::Value;
use zcrm_api::students::{
    DEFAULT_PER_PAGE, MAX_COURSE_LEN, MAX_PER_PAGE, MAX_SEARCH_LEN, SortKey, SortOrder,
    StudentField, StudentsPage,
};
use zoho::criteria::Criteria;
use zoho::crm::{Info, Record};

use crate::leads::{LEAD_FIELDS, MAX_PAGED_RECORDS, MODULE, lead_field, student_from_record};

/// Text in lower case by Unicode's rules, as a search's matches are sorted (and as the simulator
/// sorts a list). In the Worker, the runtime's own `String.prototype.toLowerCase`: Rust's
/// `str::to_lowercase` would bring its case tables into the Wasm, 7.8 KB of the gzip bundle (README,
/// Performance), for one sort of at most a few hundred names.
#[cfg(target_arch = "wasm32")]
fn lower_case(text: &str) -> String {
    worker::js_sys::JsString::from(text).to_lower_case().into()
}

#[cfg(not(target_arch = "wasm32"))]
fn lower_case(text: &str) -> String {
    text.to_lowercase()
}

/// `GET /api/students` parameters, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub page: u32,
    pub per_page: u32,
    /// A search term, trimmed; `None` lists everyone.
    pub search: Option<String>,
    /// Only the students of this course (`course=`, trimmed; checked against the picklist by
    /// the caller, which knows it).
    pub course: Option<String>,
    /// `sort=`; `None`: the default order, last modified first.
    pub sort: Option<SortKey>,
    /// `order=`; `None`: ascending with `sort`, else descending.
    pub order: Option<SortOrder>,
}

/// The parameters of `GET /api/students`, for messages.
const LIST_PARAMS: &str = "page, per_page, q, course, sort, order";

impl ListQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<ListQuery, String> {
        let mut query = ListQuery {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            ..ListQuery::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "page" => {
                    query.page = value
                        .parse()
                        .ok()
                        .filter(|p| *p >= 1)
                        .ok_or("page must be a whole number from 1")?;
                }
                "per_page" => {
                    query.per_page = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                        .ok_or(format!("per_page must be from 1 to {MAX_PER_PAGE}"))?;
                }
                "q" => query.search = text_param("q", value, MAX_SEARCH_LEN)?,
                "course" => query.course = text_param("course", value, MAX_COURSE_LEN)?,
                "sort" => {
                    query.sort = Some(SortKey::parse(value).ok_or_else(|| {
                        let names: Vec<&str> = SortKey::ALL.iter().map(|k| k.as_str()).collect();
                        format!("sort `{}` is not one of {}", shown(value), names.join(", "))
                    })?);
                }
                "order" => {
                    query.order =
                        Some(SortOrder::parse(value).ok_or_else(|| {
                            format!("order `{}` is not asc or desc", shown(value))
                        })?);
                }
                other => {
                    return Err(format!(
                        "unknown parameter `{}` ({LIST_PARAMS})",
                        shown(other)
                    ));
                }
            }
        }
        if u64::from(query.page) * u64::from(query.per_page) > u64::from(MAX_PAGED_RECORDS)
            && query.page > 1
        {
            return Err(format!(
                "Zoho pages through the first {MAX_PAGED_RECORDS} students only; search to narrow the list"
            ));
        }
        Ok(query)
    }

    /// The order in force: `sort` (ascending unless `order` says otherwise), or the default,
    /// last modified first.
    pub fn sorting(&self) -> (SortKey, SortOrder) {
        match self.sort {
            Some(key) => (key, self.order.unwrap_or(SortOrder::Asc)),
            None => (SortKey::Modified, self.order.unwrap_or(SortOrder::Desc)),
        }
    }

    /// The search and the course filter as Zoho criteria; `None` lists everyone.
    pub fn criteria(&self) -> Option<Criteria> {
        let course = self
            .course
            .as_deref()
            .map(|c| Criteria::equals(lead_field(StudentField::Course), c));
        match (self.search.as_deref().map(search_criteria), course) {
            (Some(search), Some(course)) => Some(course.and(search)),
            (search, course) => search.or(course),
        }
    }

    /// Whether the Worker sorts the matches itself: Zoho's search has no `sort_by`
    /// (<https://www.zoho.com/crm/developer/docs/api/v8/search-records.html>), so a search or
    /// filter with an explicit order reads its matches (the 2,000 Zoho's search reaches) and
    /// sorts them.
    pub fn sorts_matches(&self) -> bool {
        self.criteria().is_some() && (self.sort.is_some() || self.order.is_some())
    }

    /// The path and query under `/crm/v8` for this list or search: one page, in Zoho's order
    /// (a list sorted by `sort_by`; a search as Zoho ranks it).
    pub fn zoho_path(&self) -> String {
        let paging = format!("page={}&per_page={}", self.page, self.per_page);
        match self.criteria() {
            None => {
                let (key, order) = self.sorting();
                format!(
                    "/{MODULE}?fields={LEAD_FIELDS}&{paging}&sort_by={}&sort_order={}",
                    sort_field(key),
                    order.as_str()
                )
            }
            Some(criteria) => search_path(&criteria, &paging, LEAD_FIELDS),
        }
    }

    /// Page `page` (of 200) of every match, with the fields the sort needs, when
    /// [`ListQuery::sorts_matches`].
    pub fn matches_path(&self, page: u32) -> Option<String> {
        let criteria = self.criteria()?;
        Some(search_path(
            &criteria,
            &format!("page={page}&per_page={MAX_PER_PAGE}"),
            &format!("{LEAD_FIELDS},Created_Time,Modified_Time"),
        ))
    }

    /// This query's page of `matches` (every match Zoho gave), sorted here.
    pub fn page_of_matches(&self, mut matches: Vec<Record>) -> StudentsPage {
        let (key, order) = self.sorting();
        let field = sort_field(key);
        let text = |r: &Record| {
            r.get(field)
                .and_then(Value::as_str)
                .map(lower_case)
                .unwrap_or_default()
        };
        let id = |r: &Record| {
            r.get("id")
                .and_then(Value::as_str)
                .and_then(|i| i.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // Ties on the text are broken by the id, which is unique: the order is total, so an
        // unstable sort (the smaller code) gives the same page.
        matches.sort_unstable_by(|a, b| text(a).cmp(&text(b)).then(id(a).cmp(&id(b))));
        if order == SortOrder::Desc {
            matches.reverse();
        }
        let start = (self.page as usize - 1) * self.per_page as usize;
        let students = matches
            .iter()
            .skip(start)
            .take(self.per_page as usize)
            .filter_map(student_from_record)
            .collect();
        StudentsPage {
            students,
            page: self.page,
            per_page: self.per_page,
            more: matches.len() > start + self.per_page as usize,
        }
    }
}

/// `GET /api/students/count` parameters: the list's search and course filter, nothing else.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CountQuery(ListQuery);

impl CountQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<CountQuery, String> {
        if let Some((other, _)) = pairs.iter().find(|(k, _)| k != "q" && k != "course") {
            return Err(format!("unknown parameter `{}` (q, course)", shown(other)));
        }
        ListQuery::parse(pairs).map(CountQuery)
    }

    pub fn course(&self) -> Option<&str> {
        self.0.course.as_deref()
    }

    /// Zoho's record count, with the criteria of the search and filter.
    pub fn zoho_path(&self) -> String {
        match self.0.criteria() {
            None => format!("/{MODULE}/actions/count"),
            Some(c) => format!(
                "/{MODULE}/actions/count?criteria={}",
                zoho::form::encode_component(&c.to_string())
            ),
        }
    }
}

/// `GET /api/students/export.csv` parameters: the list's search, course filter and sort (every
/// page: no `page`, `per_page`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ExportQuery(ListQuery);

impl ExportQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<ExportQuery, String> {
        let allowed = ["q", "course", "sort", "order"];
        if let Some((other, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(format!(
                "unknown parameter `{}` ({})",
                shown(other),
                allowed.join(", ")
            ));
        }
        ListQuery::parse(pairs).map(ExportQuery)
    }

    /// The list these parameters name (its first page).
    pub fn list(&self) -> &ListQuery {
        &self.0
    }

    /// Every page, in the list's order: Zoho's list sorted as asked, or the search in Zoho's
    /// order (a search with an explicit order is sorted by the Worker: [`ListQuery::sorts_matches`]).
    pub fn pages(&self) -> AllPages {
        match self.0.criteria() {
            None => {
                let (key, order) = self.0.sorting();
                AllPages::list(sort_field(key), order)
            }
            Some(criteria) => AllPages::search(&criteria),
        }
    }
}

/// Every page of a list or a search, 200 records at a time: a list by `page_token` after the
/// first page (no limit; <https://www.zoho.com/crm/developer/docs/api/v8/get-records.html>:
/// `page`/`per_page` reach the first 2,000 records, `info.next_page_token` the rest), a search by
/// page number (Zoho's search reaches its first 2,000 matches).
#[derive(Debug, PartialEq, Eq)]
pub struct AllPages {
    /// The encoded criteria of a search; `None`: a list.
    criteria: Option<String>,
    sort: String,
    /// Pages read so far.
    read: u32,
}

impl AllPages {
    /// A list sorted by `field`.
    pub fn list(field: &str, order: SortOrder) -> AllPages {
        AllPages {
            criteria: None,
            sort: format!("&sort_by={field}&sort_order={}", order.as_str()),
            read: 0,
        }
    }

    pub fn search(criteria: &Criteria) -> AllPages {
        AllPages {
            criteria: Some(zoho::form::encode_component(&criteria.to_string())),
            sort: String::new(),
            read: 0,
        }
    }

    /// The first page's path under `/crm/v8`.
    pub fn first(&mut self) -> String {
        self.read = 1;
        match &self.criteria {
            None => format!(
                "/{MODULE}?fields={LEAD_FIELDS}&per_page={MAX_PER_PAGE}{}",
                self.sort
            ),
            Some(c) => self.search_page(c, 1),
        }
    }

    fn search_page(&self, criteria: &str, page: u32) -> String {
        format!(
            "/{MODULE}/search?criteria={criteria}&fields={LEAD_FIELDS}&page={page}&per_page={MAX_PER_PAGE}"
        )
    }

    /// The next page's path after a page whose `info` this is; `None` when that was the last
    /// (or the last a search reaches: [`AllPages::capped`]). An error when Zoho says more
    /// records follow but gives no way to them.
    pub fn next(&mut self, info: &Info) -> Result<Option<String>, &'static str> {
        if !info.more_records || self.capped() {
            return Ok(None);
        }
        self.read += 1;
        match &self.criteria {
            None => {
                let token = info
                    .next_page_token
                    .as_deref()
                    .filter(|t| !t.is_empty())
                    .ok_or("Zoho said more records follow but gave no next_page_token.")?;
                Ok(Some(format!(
                    "/{MODULE}?fields={LEAD_FIELDS}&per_page={MAX_PER_PAGE}&page_token={}",
                    zoho::form::encode_component(token)
                )))
            }
            Some(c) => Ok(Some(self.search_page(c, self.read))),
        }
    }

    /// Whether a search has read the 2,000 matches Zoho's search reaches.
    pub fn capped(&self) -> bool {
        self.criteria.is_some() && self.read * MAX_PER_PAGE >= MAX_PAGED_RECORDS
    }
}

/// The Lead field a sort key sorts by (`name` by the last name, as Zoho's lists show it).
pub fn sort_field(key: SortKey) -> &'static str {
    match key {
        SortKey::Name => lead_field(StudentField::LastName),
        SortKey::College => lead_field(StudentField::College),
        SortKey::Course => lead_field(StudentField::Course),
        SortKey::Email => lead_field(StudentField::Email),
        SortKey::Created => "Created_Time",
        SortKey::Modified => "Modified_Time",
    }
}

fn search_path(criteria: &Criteria, paging: &str, fields: &str) -> String {
    format!(
        "/{MODULE}/search?criteria={}&fields={fields}&{paging}",
        zoho::form::encode_component(&criteria.to_string())
    )
}

/// A text parameter, trimmed (`None` when blank): at most `max` characters, no control
/// characters.
fn text_param(name: &str, value: &str, max: usize) -> Result<Option<String>, String> {
    let term = value.trim();
    if term.chars().count() > max {
        return Err(format!("{name} can be at most {max} characters"));
    }
    if term.chars().any(char::is_control) {
        return Err(format!("{name} cannot contain control characters"));
    }
    Ok((!term.is_empty()).then(|| term.to_owned()))
}

/// A value quoted back in a message: 32 characters at most, escaped.
fn shown(value: &str) -> String {
    value
        .chars()
        .take(32)
        .collect::<String>()
        .escape_debug()
        .to_string()
}

/// A search by name, email, phone or course. Zoho's criteria grammar is escaped by the builder,
/// so a term like `a)or(Email:starts_with:` is just text.
pub fn search_criteria(term: &str) -> Criteria {
    let mut criteria = Criteria::starts_with("First_Name", term)
        .or(Criteria::starts_with("Last_Name", term))
        .or(Criteria::starts_with("Email", term))
        .or(Criteria::starts_with("Course", term));
    if term.chars().filter(char::is_ascii_digit).count() >= 3 {
        criteria = criteria.or(Criteria::starts_with("Phone", term));
    }
    // "Asha Rao": also first and last name together.
    if let Some((first, last)) = term.split_once(' ') {
        let (first, last) = (first.trim(), last.trim());
        if !first.is_empty() && !last.is_empty() {
            criteria = criteria
                .or(Criteria::equals("First_Name", first)
                    .and(Criteria::starts_with("Last_Name", last)));
        }
    }
    criteria
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(s: &str) -> Vec<(String, String)> {
        zoho::form::parse(s)
    }

    #[test]
    fn list_queries() {
        assert_eq!(
            ListQuery::parse(&[]).unwrap(),
            ListQuery {
                page: 1,
                per_page: DEFAULT_PER_PAGE,
                ..ListQuery::default()
            }
        );
        let q = ListQuery::parse(&pairs("page=3&per_page=50&q=%20Asha%20")).unwrap();
        assert_eq!(
            (q.page, q.per_page, q.search.as_deref()),
            (3, 50, Some("Asha"))
        );
        assert_eq!(ListQuery::parse(&pairs("q=%20%20")).unwrap().search, None);
        for bad in [
            "page=0",
            "page=x",
            "per_page=201",
            "per_page=0",
            "sort_by=Email",
            "page=11&per_page=200",
        ] {
            assert!(ListQuery::parse(&pairs(bad)).is_err(), "{bad}");
        }
        assert!(ListQuery::parse(&pairs(&format!("q={}", "a".repeat(101)))).is_err());
        assert!(ListQuery::parse(&pairs("q=a%00b")).is_err());
        let long = ListQuery::parse(&pairs(&format!("{}=1", "k".repeat(5000)))).unwrap_err();
        assert!(
            long.len() < 100,
            "the unknown name is not echoed at length: {long}"
        );
        assert!(
            ListQuery::parse(&pairs("page=10&per_page=200")).is_ok(),
            "record 2000 is reachable"
        );
    }

    #[test]
    fn zoho_paths() {
        let list = ListQuery {
            page: 2,
            per_page: 20,
            ..ListQuery::default()
        };
        assert_eq!(
            list.zoho_path(),
            "/Leads?fields=First_Name,Last_Name,Company,Course,Email,Phone&page=2&per_page=20&sort_by=Modified_Time&sort_order=desc"
        );
        let search = ListQuery {
            page: 1,
            per_page: 20,
            search: Some("Rao".into()),
            ..ListQuery::default()
        };
        let path = search.zoho_path();
        assert!(path.starts_with("/Leads/search?criteria="), "{path}");
        let criteria = zoho::form::decode_component(
            path.split("criteria=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap(),
        );
        assert_eq!(Criteria::parse(&criteria).unwrap(), search_criteria("Rao"));
    }

    #[test]
    fn sort_and_course_filter() {
        let q = ListQuery::parse(&pairs(
            "sort=college&order=desc&course=%20Data%20Science%20",
        ))
        .unwrap();
        assert_eq!(q.sorting(), (SortKey::College, SortOrder::Desc));
        assert_eq!(q.course.as_deref(), Some("Data Science"));
        assert_eq!(
            ListQuery::parse(&pairs("sort=name")).unwrap().sorting(),
            (SortKey::Name, SortOrder::Asc),
            "a sort is ascending unless told"
        );
        assert_eq!(
            ListQuery::parse(&[]).unwrap().sorting(),
            (SortKey::Modified, SortOrder::Desc)
        );
        for (bad, named) in [
            ("sort=shoe", "sort `shoe`"),
            ("sort=Name", "sort `Name`"),
            ("order=up", "order `up`"),
            ("course=a%00b", "course"),
        ] {
            let e = ListQuery::parse(&pairs(bad)).unwrap_err();
            assert!(e.contains(named), "{bad}: {e}");
        }
        assert!(ListQuery::parse(&pairs(&format!("course={}", "c".repeat(121)))).is_err());
        // No search: Zoho's list sorts.
        for (key, field) in [
            ("name", "Last_Name"),
            ("college", "Company"),
            ("course", "Course"),
            ("email", "Email"),
            ("created", "Created_Time"),
            ("modified", "Modified_Time"),
        ] {
            let q = ListQuery::parse(&pairs(&format!("sort={key}&order=asc"))).unwrap();
            assert!(!q.sorts_matches());
            assert!(
                q.zoho_path()
                    .ends_with(&format!("&sort_by={field}&sort_order=asc")),
                "{key}: {}",
                q.zoho_path()
            );
        }
        // A course and a search: both conditions, as text.
        let q = ListQuery::parse(&pairs("q=Rao&course=Data%20Science")).unwrap();
        assert_eq!(
            q.criteria(),
            Some(Criteria::equals("Course", "Data Science").and(search_criteria("Rao")))
        );
        assert!(q.zoho_path().starts_with("/Leads/search?criteria="));
        assert!(!q.sorts_matches(), "Zoho's order unless one is asked for");
        let sorted =
            ListQuery::parse(&pairs("course=Data%20Science&sort=email&per_page=2&page=2")).unwrap();
        assert!(sorted.sorts_matches());
        let path = sorted.matches_path(3).unwrap();
        assert!(path.contains("&page=3&per_page=200"), "{path}");
        assert!(path.contains("Created_Time,Modified_Time"), "{path}");
        let record = |id: &str, email: &str| -> Record {
            serde_json::from_value(json!({"id": id, "Last_Name": "X", "Email": email})).unwrap()
        };
        let page = sorted.page_of_matches(vec![
            record("5", "d@x.example"),
            record("1", "B@x.example"),
            record("3", "a@x.example"),
            record("4", "c@x.example"),
            record("2", "b@x.example"),
        ]);
        let ids: Vec<&str> = page.students.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            ["2", "4"],
            "a, b (1), b (2), c, d: ignoring case, ties by id"
        );
        assert!(page.more);
        let desc = ListQuery::parse(&pairs("course=Data%20Science&sort=email&order=desc"))
            .unwrap()
            .page_of_matches(vec![record("1", "a@x.example"), record("2", "z@x.example")]);
        assert_eq!(desc.students[0].id, "2");
        assert!(!desc.more);
    }

    #[test]
    fn counts_with_the_lists_search_and_filter() {
        assert_eq!(
            CountQuery::parse(&[]).unwrap().zoho_path(),
            "/Leads/actions/count"
        );
        let q = CountQuery::parse(&pairs("q=Rao&course=Data%20Science")).unwrap();
        assert_eq!(q.course(), Some("Data Science"));
        let path = q.zoho_path();
        let criteria = zoho::form::decode_component(path.split("criteria=").nth(1).unwrap());
        assert_eq!(
            Criteria::parse(&criteria).unwrap(),
            ListQuery::parse(&pairs("q=Rao&course=Data%20Science"))
                .unwrap()
                .criteria()
                .unwrap()
        );
        for bad in ["page=2", "sort=name", "q=a%00", "x=1"] {
            assert!(CountQuery::parse(&pairs(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_export_reads_every_page() {
        let info = |more: bool, token: Option<&str>| Info {
            per_page: 200,
            count: 200,
            page: 1,
            sort_by: None,
            sort_order: None,
            more_records: more,
            next_page_token: token.map(str::to_owned),
            previous_page_token: None,
            page_token_expiry: None,
        };
        // A list: sorted as asked, then by page_token past record 2,000.
        let q = ExportQuery::parse(&pairs("sort=college&order=desc")).unwrap();
        let mut pages = q.pages();
        assert_eq!(
            pages.first(),
            "/Leads?fields=First_Name,Last_Name,Company,Course,Email,Phone&per_page=200&sort_by=Company&sort_order=desc"
        );
        for _ in 0..15 {
            let next = pages.next(&info(true, Some("a+b/c"))).unwrap().unwrap();
            assert!(next.ends_with("&page_token=a%2Bb%2Fc"), "{next}");
        }
        assert!(!pages.capped(), "a list has no 2,000 limit");
        assert_eq!(pages.next(&info(false, None)), Ok(None));
        assert!(pages.next(&info(true, None)).is_err(), "more, but no token");
        // The default order is the list's: last modified first.
        assert!(
            ExportQuery::parse(&[])
                .unwrap()
                .pages()
                .first()
                .ends_with("&sort_by=Modified_Time&sort_order=desc")
        );
        // A search: by page number, up to the 2,000 matches Zoho's search reaches.
        let mut search = ExportQuery::parse(&pairs("q=Rao&course=Data%20Science"))
            .unwrap()
            .pages();
        assert!(search.first().contains("/Leads/search?criteria="));
        let mut last = String::new();
        while let Some(next) = search.next(&info(true, None)).unwrap() {
            last = next;
        }
        assert!(last.ends_with("&page=10&per_page=200"), "{last}");
        assert!(search.capped());
        for bad in ["page=2", "per_page=10", "sort=shoe", "x=1"] {
            assert!(ExportQuery::parse(&pairs(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn search_terms_cannot_inject_criteria() {
        let hostile = "x)or(Email:starts_with:";
        let text = search_criteria(hostile).to_string();
        let parsed = Criteria::parse(&text).unwrap();
        assert_eq!(parsed, search_criteria(hostile));
        assert_eq!(parsed.condition_count(), 4, "{text}");
        let everyone = |_: &str| Some("anything".to_owned());
        assert!(!parsed.matches(&everyone), "the term is matched as text");
    }

    #[test]
    fn search_by_full_name_and_phone() {
        let c = search_criteria("Asha Rao");
        let asha = |f: &str| match f {
            "First_Name" => Some("Asha".to_owned()),
            "Last_Name" => Some("Rao".to_owned()),
            _ => None,
        };
        assert!(c.matches(&asha));
        let phone = search_criteria("98765");
        assert!(phone.matches(&|f: &str| (f == "Phone").then(|| "98765 43210".to_owned())));
        assert!(phone.condition_count() <= 10);
    }
}
