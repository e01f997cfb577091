//! The deterministic seed: orgs, users, module metadata and records.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use zoho::fields::{Field, PickListValue};
use zoho::{DataCenter, Environment};

/// The modules the simulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModuleKind {
    Leads,
    Contacts,
}

impl ModuleKind {
    pub const ALL: [ModuleKind; 2] = [ModuleKind::Leads, ModuleKind::Contacts];

    pub fn api_name(self) -> &'static str {
        match self {
            ModuleKind::Leads => "Leads",
            ModuleKind::Contacts => "Contacts",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            ModuleKind::Leads => "Lead",
            ModuleKind::Contacts => "Contact",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            ModuleKind::Leads => "5725767000000002175",
            ModuleKind::Contacts => "5725767000000002179",
        }
    }

    /// Module names in URLs are matched without regard to case.
    pub fn from_name(s: &str) -> Option<ModuleKind> {
        ModuleKind::ALL
            .into_iter()
            .find(|m| m.api_name().eq_ignore_ascii_case(s))
    }

    /// The scope path of the module (`ZohoCRM.modules.leads`).
    pub fn scope_path(self) -> &'static str {
        match self {
            ModuleKind::Leads => "ZohoCRM.modules.leads",
            ModuleKind::Contacts => "ZohoCRM.modules.contacts",
        }
    }

    /// A `modules[]` element of `GET /settings/modules`, with the keys of Zoho's v8 answer that a
    /// client may read (the SDK reads `api_name`, `api_supported` and `generated_type`).
    pub fn module_json(self) -> Value {
        let (sequence_number, convertable) = match self {
            ModuleKind::Leads => (2, true),
            ModuleKind::Contacts => (4, false),
        };
        json!({
            "api_name": self.api_name(),
            "module_name": self.api_name(),
            "singular_label": self.singular(),
            "plural_label": self.api_name(),
            "actual_singular_label": self.singular(),
            "actual_plural_label": self.api_name(),
            "api_supported": true,
            "generated_type": "default",
            "id": self.id(),
            "creatable": true,
            "editable": true,
            "deletable": true,
            "viewable": true,
            "convertable": convertable,
            "quick_create": true,
            "lookupable": true,
            "global_search_supported": true,
            "show_as_tab": true,
            "status": "visible",
            "visibility": 1,
            "sequence_number": sequence_number,
            "access_type": "org_based",
            "description": null,
            "web_link": null,
            "modified_time": null,
            "modified_by": null,
            "parent_module": {},
        })
    }
}

/// The courses of the `Course` picklist on Leads.
pub const COURSES: [&str; 6] = [
    "Rust Fundamentals",
    "Data Science",
    "Web Development",
    "Cloud Computing",
    "Machine Learning",
    "Cybersecurity Basics",
];

#[allow(clippy::too_many_arguments)]
fn field(
    id: u64,
    api: &str,
    label: &str,
    data_type: &str,
    json_type: &str,
    length: u32,
    mandatory: bool,
    custom: bool,
    read_only: bool,
) -> Field {
    Field {
        api_name: api.to_owned(),
        field_label: label.to_owned(),
        display_label: label.to_owned(),
        data_type: data_type.to_owned(),
        json_type: json_type.to_owned(),
        system_mandatory: mandatory,
        custom_field: custom,
        read_only,
        length,
        pick_list_values: Vec::new(),
        id: (5_725_767_000_000_010_000u64 + id).to_string(),
    }
}

/// The field metadata of a module, in layout order.
pub fn module_fields(m: ModuleKind) -> Vec<Field> {
    let base = match m {
        ModuleKind::Leads => 0,
        ModuleKind::Contacts => 100,
    };
    let f = |n: u64, api, label, dt, jt, len, mand, custom, ro| {
        field(base + n, api, label, dt, jt, len, mand, custom, ro)
    };
    let owner_label = format!("{} Owner", m.singular());
    let mut v = vec![
        f(
            1,
            "Owner",
            owner_label.as_str(),
            "ownerlookup",
            "jsonobject",
            120,
            false,
            false,
            false,
        ),
        f(
            2,
            "First_Name",
            "First Name",
            "text",
            "string",
            40,
            false,
            false,
            false,
        ),
        f(
            3,
            "Last_Name",
            "Last Name",
            "text",
            "string",
            80,
            true,
            false,
            false,
        ),
    ];
    match m {
        ModuleKind::Leads => {
            v.push(f(
                4, "Company", "Company", "text", "string", 200, false, false, false,
            ));
            v.push(f(
                5, "Email", "Email", "email", "string", 100, false, false, false,
            ));
            v.push(f(
                6, "Phone", "Phone", "phone", "string", 30, false, false, false,
            ));
            let mut course = f(
                7, "Course", "Course", "picklist", "string", 120, false, true, false,
            );
            course.pick_list_values = std::iter::once("-None-")
                .chain(COURSES)
                .enumerate()
                .map(|(i, c)| PickListValue {
                    display_value: c.to_owned(),
                    actual_value: c.to_owned(),
                    id: (5_725_767_000_000_020_000u64 + i as u64).to_string(),
                    sequence_number: i as u32 + 1,
                    value_type: "used".to_owned(),
                })
                .collect();
            v.push(course);
        }
        ModuleKind::Contacts => {
            v.push(f(
                5, "Email", "Email", "email", "string", 100, false, false, false,
            ));
            v.push(f(
                6, "Phone", "Phone", "phone", "string", 30, false, false, false,
            ));
            v.push(f(
                8,
                "Mailing_City",
                "Mailing City",
                "text",
                "string",
                100,
                false,
                false,
                false,
            ));
        }
    }
    v.push(f(
        9,
        "Description",
        "Description",
        "textarea",
        "string",
        32000,
        false,
        false,
        false,
    ));
    v.push(f(
        10,
        "Created_By",
        "Created By",
        "ownerlookup",
        "jsonobject",
        120,
        false,
        false,
        true,
    ));
    v.push(f(
        11,
        "Modified_By",
        "Modified By",
        "ownerlookup",
        "jsonobject",
        120,
        false,
        false,
        true,
    ));
    v.push(f(
        12,
        "Created_Time",
        "Created Time",
        "datetime",
        "string",
        120,
        false,
        false,
        true,
    ));
    v.push(f(
        13,
        "Modified_Time",
        "Modified Time",
        "datetime",
        "string",
        120,
        false,
        false,
        true,
    ));
    v
}

/// A user's role in an org.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sees and edits every record of the org.
    Admin,
    /// Sees and edits only the records they own.
    Standard,
}

#[derive(Clone, Debug)]
pub struct SeedUser {
    pub id: String,
    pub zuid: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub org: usize,
    pub role: Role,
}

impl SeedUser {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn owner_json(&self) -> Value {
        json!({"name": self.full_name(), "id": self.id, "email": self.email})
    }

    pub fn role_json(&self) -> (Value, Value) {
        match self.role {
            Role::Admin => (
                json!({"name": "CEO", "id": "5725767000000026005"}),
                json!({"name": "Administrator", "id": "5725767000000026011"}),
            ),
            Role::Standard => (
                json!({"name": "Coordinator", "id": "5725767000000026008"}),
                json!({"name": "Standard", "id": "5725767000000026014"}),
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct SeedOrg {
    pub key: &'static str,
    pub company_name: &'static str,
    pub domain: &'static str,
    pub dc: DataCenter,
    pub country_code: &'static str,
    pub time_zone: &'static str,
    /// Minutes east of UTC, for the record timestamps.
    pub utc_offset_min: i32,
    pub currency: &'static str,
    pub envs: Vec<Environment>,
    pub leads: usize,
    pub colleges: &'static [&'static str],
    pub phone_prefix: &'static str,
}

impl SeedOrg {
    /// The org id of the org in an environment (sandboxes and developer orgs are orgs of their own).
    pub fn org_id(&self, idx: usize, env: Environment) -> String {
        (60_000_000_000u64 + idx as u64 * 1000 + env_index(env) as u64).to_string()
    }

    pub fn zgid(&self, idx: usize, env: Environment) -> String {
        (700_000_000u64 + idx as u64 * 100 + env_index(env) as u64).to_string()
    }
}

pub fn env_index(env: Environment) -> usize {
    match env {
        Environment::Production => 0,
        Environment::Sandbox => 1,
        Environment::Developer => 2,
    }
}

/// A record as stored.
#[derive(Clone, Debug)]
pub struct Rec {
    pub id: u64,
    pub owner: usize,
    pub created_by: usize,
    pub modified_by: usize,
    pub created: i64,
    pub modified: i64,
    /// Writable fields only (First_Name, …).
    pub fields: Map<String, Value>,
}

/// 2025-09-01T00:00:00Z.
const SEED_EPOCH: i64 = 1_756_684_800;

const FIRST: [&str; 16] = [
    "Asha", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kavya",
    "Liam", "Maya", "Noah", "Olivia", "Priya",
];
const LAST: [&str; 16] = [
    "Anders", "Burns", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Iyer", "Jensen",
    "Kumar", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel",
];

/// The full seed: orgs (with their index), users.
pub fn orgs(big_org_leads: usize) -> Vec<SeedOrg> {
    use Environment::*;
    vec![
        SeedOrg {
            key: "zylker-academy",
            company_name: "Zylker Academy",
            domain: "zylker-academy.example",
            dc: DataCenter::Us,
            country_code: "US",
            time_zone: "America/New_York",
            utc_offset_min: -300,
            currency: "USD",
            envs: vec![Production, Sandbox],
            leads: 30,
            colleges: &[
                "Riverside Community College",
                "Lakeside State University",
                "Hill Valley College",
            ],
            phone_prefix: "+1 555 01",
        },
        SeedOrg {
            key: "northwind-college",
            company_name: "Northwind College Outreach",
            domain: "northwind-college.example",
            dc: DataCenter::Us,
            country_code: "US",
            time_zone: "America/Chicago",
            utc_offset_min: -360,
            currency: "USD",
            // A developer org too: a second organisation in that environment (the developer
            // Worker of test runs refuses it with ALLOWED_ORGS).
            envs: vec![Production, Developer],
            leads: 26,
            colleges: &["Northwind Technical College", "Prairie University"],
            phone_prefix: "+1 555 02",
        },
        SeedOrg {
            key: "eurotech-institute",
            company_name: "EuroTech Institute",
            domain: "eurotech-institute.example",
            dc: DataCenter::Eu,
            country_code: "DE",
            time_zone: "Europe/Berlin",
            utc_offset_min: 60,
            currency: "EUR",
            envs: vec![Production, Developer],
            leads: 27,
            colleges: &[
                "Hochschule Rheinland",
                "Université de Lyon",
                "Politecnico di Torino",
            ],
            phone_prefix: "+49 30 55",
        },
        SeedOrg {
            key: "bharat-learning",
            company_name: "Bharat Learning Foundation",
            domain: "bharat-learning.example",
            dc: DataCenter::In,
            country_code: "IN",
            time_zone: "Asia/Kolkata",
            utc_offset_min: 330,
            currency: "INR",
            envs: vec![Production],
            leads: 28,
            colleges: &["Pune Institute of Technology", "Chennai Arts College"],
            phone_prefix: "+91 98 45",
        },
        SeedOrg {
            key: "bulk-university",
            company_name: "Bulk University",
            domain: "bulk-university.example",
            dc: DataCenter::Us,
            country_code: "US",
            time_zone: "America/Los_Angeles",
            utc_offset_min: -480,
            currency: "USD",
            envs: vec![Production],
            leads: big_org_leads,
            colleges: &["Bulk University"],
            phone_prefix: "+1 555 03",
        },
    ]
}

pub fn users() -> Vec<SeedUser> {
    let u = |n: u64, email: &str, first: &str, last: &str, org: usize, role: Role| SeedUser {
        id: (5_725_767_000_000_300_000u64 + n).to_string(),
        zuid: (80_000_000u64 + n).to_string(),
        email: email.to_owned(),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        org,
        role,
    };
    vec![
        u(
            1,
            "admin@zylker-academy.example",
            "Amelia",
            "Zylker",
            0,
            Role::Admin,
        ),
        u(
            2,
            "coordinator@zylker-academy.example",
            "Carlos",
            "Rivera",
            0,
            Role::Standard,
        ),
        u(
            3,
            "admin@northwind-college.example",
            "Nora",
            "Winters",
            1,
            Role::Admin,
        ),
        u(
            4,
            "admin@eurotech-institute.example",
            "Elena",
            "Fischer",
            2,
            Role::Admin,
        ),
        u(
            5,
            "admin@bharat-learning.example",
            "Arjun",
            "Mehta",
            3,
            Role::Admin,
        ),
        u(
            6,
            "admin@bulk-university.example",
            "Bea",
            "Bulk",
            4,
            Role::Admin,
        ),
    ]
}

/// The records of one module of one org in one environment, keyed by id.
pub fn records(
    org_idx: usize,
    org: &SeedOrg,
    env: Environment,
    module: ModuleKind,
    org_users: &[usize],
    users: &[SeedUser],
) -> BTreeMap<u64, Rec> {
    let count = match (module, env) {
        (ModuleKind::Leads, Environment::Production) => org.leads,
        (ModuleKind::Leads, _) => 5,
        (ModuleKind::Contacts, _) => 6,
    };
    let base = id_base(org_idx, env);
    let admin = org_users
        .iter()
        .copied()
        .find(|&u| users[u].role == Role::Admin)
        .unwrap_or(org_users[0]);
    let standard: Vec<usize> = org_users
        .iter()
        .copied()
        .filter(|&u| users[u].role == Role::Standard)
        .collect();
    let mut out = BTreeMap::new();
    for i in 0..count {
        let n = i + if module == ModuleKind::Contacts {
            500_000
        } else {
            0
        };
        let id = base + n as u64 * 1000 + 1;
        let first = FIRST[(i * 7 + org_idx) % FIRST.len()];
        let last = LAST[(i * 5 + org_idx * 3 + i / FIRST.len()) % LAST.len()];
        let owner = if !standard.is_empty() && i % 3 == 0 {
            standard[(i / 3) % standard.len()]
        } else {
            admin
        };
        let created = SEED_EPOCH + org_idx as i64 * 600 + i as i64 * 3 * 3600;
        let mut fields = Map::new();
        fields.insert("First_Name".into(), first.into());
        fields.insert("Last_Name".into(), last.into());
        let email = format!(
            "{}.{}{}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            i + 1,
            if module == ModuleKind::Leads {
                "student.example"
            } else {
                org.domain
            }
        );
        fields.insert("Email".into(), email.into());
        fields.insert(
            "Phone".into(),
            format!(
                "{}{:05}",
                org.phone_prefix,
                i + 1
                    + if module == ModuleKind::Contacts {
                        50_000
                    } else {
                        0
                    }
            )
            .into(),
        );
        match module {
            ModuleKind::Leads => {
                fields.insert(
                    "Company".into(),
                    org.colleges[i % org.colleges.len()].into(),
                );
                fields.insert("Course".into(), COURSES[i % COURSES.len()].into());
            }
            ModuleKind::Contacts => {
                fields.insert(
                    "Mailing_City".into(),
                    ["Springfield", "Riverton", "Lakeview"][i % 3].into(),
                );
            }
        }
        out.insert(
            id,
            Rec {
                id,
                owner,
                created_by: admin,
                modified_by: admin,
                created,
                modified: created + 1800,
                fields,
            },
        );
    }
    out
}

/// Record ids of an org in an environment start here (19 digits, like Zoho's).
pub fn id_base(org_idx: usize, env: Environment) -> u64 {
    5_725_767_000_000_000_000u64
        + org_idx as u64 * 10_000_000_000
        + env_index(env) as u64 * 1_000_000_000
}

/// `2025-09-01T09:00:00-05:00` for `ts` (UTC seconds) at `offset_min` minutes east of UTC.
pub fn iso_time(ts: i64, offset_min: i32) -> String {
    let local = ts + offset_min as i64 * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset_min < 0 { '-' } else { '+' };
    let off = offset_min.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso_time(SEED_EPOCH, -300), "2025-08-31T19:00:00-05:00");
        assert_eq!(iso_time(SEED_EPOCH, 330), "2025-09-01T05:30:00+05:30");
        assert_eq!(iso_time(951_782_400, 0), "2000-02-29T00:00:00+00:00");
    }

    #[test]
    fn seed_is_deterministic_and_unique() {
        let us = users();
        let os = orgs(3000);
        let org_users: Vec<usize> = (0..us.len()).filter(|&u| us[u].org == 4).collect();
        let a = records(
            4,
            &os[4],
            Environment::Production,
            ModuleKind::Leads,
            &org_users,
            &us,
        );
        let b = records(
            4,
            &os[4],
            Environment::Production,
            ModuleKind::Leads,
            &org_users,
            &us,
        );
        assert_eq!(a.len(), 3000);
        let emails: std::collections::HashSet<_> = a
            .values()
            .map(|r| r.fields["Email"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(emails.len(), 3000);
        for (x, y) in a.values().zip(b.values()) {
            assert_eq!(x.id, y.id);
            assert_eq!(x.fields, y.fields);
        }
        let fields = module_fields(ModuleKind::Leads);
        for r in a.values().take(50) {
            for f in &fields {
                if let Some(v) = r.fields.get(&f.api_name) {
                    f.check(v).unwrap();
                }
            }
        }
    }
}
