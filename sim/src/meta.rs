//! Metadata answers in Zoho's full shape: `settings/modules` (the standard modules), the keys
//! Zoho documents per field in `settings/fields`, the org, and `If-Modified-Since`.
//!
//! Shapes follow Zoho's OpenAPI description of CRM v8 (GitHub zoho/crm-oas, `v8.0/modules.json`
//! `modules`, `v8.0/fields.json` `fields` and `pick_list_values`, `v8.0/org.json` `Org`), with
//! the departures listed (and sourced) in `sim/tests/oas/exceptions.json`; the conformance suite
//! (`sim/tests/conformance.rs`) checks every answer against it.

use crate::seed::{self, ModuleKind, SeedOrg};
use serde_json::{Value, json};
use zoho::fields::Field;

/// When the simulated orgs' metadata (modules, fields, layouts) last changed: 2026-01-15T10:00:00Z.
/// Nothing changes it at run time, so an `If-Modified-Since` at or after it gets 304.
pub const META_MODIFIED: i64 = 1_768_471_200;

/// A standard module of Zoho CRM: api name, module name, singular and plural labels, the field
/// that names a record, and whether the simulator keeps records of it.
pub struct Standard {
    pub api_name: &'static str,
    pub module_name: &'static str,
    pub singular: &'static str,
    pub plural: &'static str,
    pub name_field: (&'static str, &'static str),
    pub records: Option<ModuleKind>,
}

/// The standard modules of a Zoho CRM org (Zoho's "Get Modules" answer lists these with
/// `generated_type: default`), in their usual tab order. Only Leads and Contacts hold records here.
#[rustfmt::skip]
pub const STANDARD: [Standard; 17] = [
    std_module("Leads", "Leads", "Lead", "Leads", ("Last_Name", "Last Name"), Some(ModuleKind::Leads)),
    std_module("Contacts", "Contacts", "Contact", "Contacts", ("Last_Name", "Last Name"), Some(ModuleKind::Contacts)),
    std_module("Accounts", "Accounts", "Account", "Accounts", ("Account_Name", "Account Name"), None),
    std_module("Deals", "Deals", "Deal", "Deals", ("Deal_Name", "Deal Name"), None),
    std_module("Tasks", "Tasks", "Task", "Tasks", ("Subject", "Subject"), None),
    std_module("Events", "Meetings", "Meeting", "Meetings", ("Event_Title", "Title"), None),
    std_module("Calls", "Calls", "Call", "Calls", ("Subject", "Subject"), None),
    std_module("Products", "Products", "Product", "Products", ("Product_Name", "Product Name"), None),
    std_module("Quotes", "Quotes", "Quote", "Quotes", ("Subject", "Subject"), None),
    std_module("Sales_Orders", "SalesOrders", "Sales Order", "Sales Orders", ("Subject", "Subject"), None),
    std_module("Purchase_Orders", "PurchaseOrders", "Purchase Order", "Purchase Orders", ("Subject", "Subject"), None),
    std_module("Invoices", "Invoices", "Invoice", "Invoices", ("Subject", "Subject"), None),
    std_module("Campaigns", "Campaigns", "Campaign", "Campaigns", ("Campaign_Name", "Campaign Name"), None),
    std_module("Vendors", "Vendors", "Vendor", "Vendors", ("Vendor_Name", "Vendor Name"), None),
    std_module("Price_Books", "PriceBooks", "Price Book", "Price Books", ("Price_Book_Name", "Price Book Name"), None),
    std_module("Cases", "Cases", "Case", "Cases", ("Subject", "Subject"), None),
    std_module("Solutions", "Solutions", "Solution", "Solutions", ("Solution_Title", "Solution Title"), None),
];

const fn std_module(
    api_name: &'static str,
    module_name: &'static str,
    singular: &'static str,
    plural: &'static str,
    name_field: (&'static str, &'static str),
    records: Option<ModuleKind>,
) -> Standard {
    Standard {
        api_name,
        module_name,
        singular,
        plural,
        name_field,
        records,
    }
}

/// The standard module of that name (case-insensitive, as Zoho matches module names).
pub fn standard(name: &str) -> Option<(usize, &'static Standard)> {
    STANDARD
        .iter()
        .enumerate()
        .find(|(_, m)| m.api_name.eq_ignore_ascii_case(name))
}

fn module_id(index: usize) -> String {
    match STANDARD[index].records {
        Some(kind) => kind.id().to_owned(),
        None => (5_725_767_000_000_002_100u64 + 2 * index as u64).to_string(),
    }
}

const PROFILES: [(&str, &str); 2] = [
    ("Administrator", "5725767000000026011"),
    ("Standard", "5725767000000026014"),
];

/// A `modules[]` element of `GET /settings/modules`. `modified_by` is the org's admin.
pub fn module_json(index: usize, modified_by: &Value, offset_min: i32) -> Value {
    let m = &STANDARD[index];
    let inventory = matches!(
        m.api_name,
        "Quotes" | "Sales_Orders" | "Purchase_Orders" | "Invoices"
    );
    let activity = matches!(m.api_name, "Tasks" | "Events" | "Calls");
    json!({
        "api_name": m.api_name,
        "module_name": m.module_name,
        "singular_label": m.singular,
        "plural_label": m.plural,
        "actual_singular_label": m.singular,
        "actual_plural_label": m.plural,
        "id": module_id(index),
        "api_supported": true,
        "generated_type": "default",
        "status": "visible",
        "visible": true,
        "visibility": 1,
        "sequence_number": index + 2,
        "creatable": true,
        "editable": true,
        "deletable": true,
        "viewable": true,
        "convertable": m.api_name == "Leads",
        "quick_create": true,
        "show_as_tab": true,
        "global_search_supported": true,
        "recycle_bin_on_delete": true,
        "inventory_template_supported": inventory,
        "presence_sub_menu": false,
        "sub_menu_available": false,
        "triggers_supported": true,
        "isBlueprintSupported": !activity,
        "emailTemplate_support": !activity,
        "email_parser_supported": matches!(m.api_name, "Leads" | "Contacts" | "Cases"),
        "filter_supported": true,
        "feeds_required": false,
        "scoring_supported": matches!(m.api_name, "Leads" | "Contacts" | "Accounts" | "Deals"),
        "webform_supported": matches!(m.api_name, "Leads" | "Contacts" | "Cases"),
        "access_type": "org_based",
        "arguments": [],
        "profile_count": PROFILES.len(),
        "has_more_profiles": false,
        "profiles": PROFILES.map(|(name, id)| json!({"name": name, "id": id})),
        "business_card_field_limit": 5,
        "description": null,
        "web_link": null,
        "parent_module": {},
        "modified_time": seed::iso_time(META_MODIFIED, offset_min),
        "modified_by": modified_by,
    })
}

/// The field metadata of a standard module without records here: its name field and the
/// system fields every module has.
pub fn generic_fields(index: usize) -> Vec<Field> {
    let m = &STANDARD[index];
    let mut fields = seed::module_fields(ModuleKind::Leads);
    let id_base = 5_725_767_000_000_030_000u64 + 100 * index as u64;
    fields.retain(|f| {
        matches!(
            f.api_name.as_str(),
            "Owner"
                | "Created_By"
                | "Modified_By"
                | "Created_Time"
                | "Modified_Time"
                | "Description"
        )
    });
    let mut name = seed::module_fields(ModuleKind::Leads)
        .into_iter()
        .find(|f| f.api_name == "Last_Name")
        .expect("Leads have Last_Name");
    name.api_name = m.name_field.0.to_owned();
    name.field_label = m.name_field.1.to_owned();
    name.display_label = m.name_field.1.to_owned();
    name.length = 120;
    fields.insert(1, name);
    for (i, f) in fields.iter_mut().enumerate() {
        f.id = (id_base + i as u64).to_string();
        if f.api_name == "Owner" {
            f.field_label = format!("{} Owner", m.singular);
            f.display_label = f.field_label.clone();
        }
    }
    fields
}

/// Zoho's `ui_type` of a data type (the numbers its field metadata answers carry).
fn ui_type(data_type: &str) -> i64 {
    match data_type {
        "text" => 1,
        "picklist" => 2,
        "textarea" => 3,
        "email" => 25,
        "phone" => 33,
        "ownerlookup" => 8,
        "datetime" => 333,
        _ => 1,
    }
}

/// The colour Zoho shows a picklist value with (`colour_code`; `null` for `-None-`).
fn colour(sequence: u32) -> Value {
    const COLOURS: [&str; 6] = [
        "#A8C4FF", "#FFB3B3", "#B4E6B4", "#FFE08A", "#D9B8FF", "#9FE6E0",
    ];
    match sequence {
        0 | 1 => Value::Null,
        n => COLOURS[(n as usize - 2) % COLOURS.len()].into(),
    }
}

/// A `fields[]` element of `GET /settings/fields` with every key Zoho documents for a field.
/// Keys for properties the field does not have are `null` (Zoho's Field Metadata answers),
/// or `{}`/`[]` where Zoho's description types them so.
pub fn field_json(f: &Field, module_api_name: &str, sequence: usize) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or_default();
    let writable = !f.read_only;
    let system = matches!(
        f.api_name.as_str(),
        "Created_By" | "Modified_By" | "Created_Time" | "Modified_Time"
    );
    let picklist = f.data_type == "picklist";
    if let Some(values) = v.get_mut("pick_list_values").and_then(Value::as_array_mut) {
        for p in values.iter_mut() {
            let seq = p["sequence_number"].as_u64().unwrap_or(0) as u32;
            p["colour_code"] = colour(seq);
            p["reference_value"] = p["display_value"].clone();
            p["show_value"] = json!(true);
        }
    }
    let convert_mapping = if module_api_name == "Leads" {
        let to_contact = matches!(
            f.api_name.as_str(),
            "First_Name" | "Last_Name" | "Email" | "Phone" | "Owner" | "Description"
        );
        let to_account = f.api_name == "Company";
        json!({
            "Contacts": to_contact.then_some(f.api_name.as_str()),
            "Deals": Value::Null,
            "Accounts": to_account.then_some("Account_Name"),
        })
    } else {
        json!({})
    };
    let extra = json!({
        "sequence_number": sequence,
        "column_name": f.api_name.to_ascii_uppercase(),
        "created_source": if f.custom_field { "crm" } else { "default" },
        "type": "used",
        "visible": true,
        "available_in_user_layout": true,
        "field_read_only": f.read_only,
        "operation_type": {
            "web_update": writable, "api_create": writable, "web_create": writable, "api_update": writable
        },
        "view_type": {"view": true, "edit": writable, "quick_create": f.system_mandatory, "create": writable},
        "webhook": true,
        "blueprint_supported": writable,
        "virtual_field": false,
        "customizable_properties": [],
        "businesscard_supported": !system,
        "filterable": true,
        "sortable": true,
        "searchable": f.json_type == "string" || f.data_type == "ownerlookup",
        "mass_update": writable && !f.system_mandatory,
        "display_field": f.system_mandatory,
        "separator": false,
        "pick_list_values_sorted_lexically": false,
        "enable_colour_code": picklist,
        "colour_code_enabled_by_system": false,
        "display_type": -1,
        "ui_type": ui_type(&f.data_type),
        "show_type": 1,
        "category": 0,
        "quick_sequence_number": sequence.to_string(),
        "decimal_place": null,
        "layout_associations": [{"api_name": "Standard", "name": "Standard", "id": "5725767000000091055"}],
        "profiles": PROFILES.map(|(name, id)| json!({
            "permission_type": if writable { "read_write" } else { "read_only" }, "name": name, "id": id
        })),
        "email_parser": {"fields_update_supported": false, "record_operations_supported": false},
        "sharing_properties": {},
        "convert_mapping": convert_mapping,
        "hipaa_compliance_enabled": false,
        "hipaa_compliance": {"restricted": false, "restricted_in_export": false},
        "number_separator": false,
        "static_field": false,
        "_update_existing_records": false,
        "allowed_modules": [],
        "additional_column": null,
        "created_time": null,
        "modified_time": null,
        "rollup_summary": {},
        "multi_module_lookup": {},
        "currency": {},
        "lookup": {},
        "unique": {},
        "formula": {},
        "subform": null,
        "multiselectlookup": {},
        "auto_number": {},
        "global_picklist": null,
        "textarea": if f.data_type == "textarea" { json!({"type": "large"}) } else { Value::Null },
        "associated_module": null,
        "refer_from_field": null,
        "crypt": null,
        "tooltip": null,
        "external": null,
        "history_tracking": null,
        "association_details": null,
        "sub_module": null,
        "multiuserlookup": null,
        "autonumber": null,
    });
    if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), extra) {
        obj.extend(extra);
    }
    v
}

/// The `org[0]` of `GET /org`: the keys Zoho documents for an organization.
pub fn org_json(
    org: &SeedOrg,
    org_id: &str,
    zgid: &str,
    env: zoho::Environment,
    admin: (&str, &str),
) -> Value {
    let (admin_email, admin_zuid) = admin;
    let (country, symbol, locale) = match org.country_code {
        "US" => ("United States", "$", "en_US"),
        "DE" => ("Germany", "€", "de_DE"),
        "IN" => ("India", "₹", "en_IN"),
        _ => ("", "", "en_US"),
    };
    json!({
        "id": org_id,
        "zgid": zgid,
        "ezgid": format!("ez{zgid}"),
        "zia_zgid": zgid.parse::<i64>().ok(),
        "zia_portal_id": null,
        "domain_name": format!("org{org_id}"),
        "company_name": org.company_name,
        "alias": null,
        "primary_email": admin_email,
        "primary_zuid": admin_zuid,
        "country": country,
        "country_code": org.country_code,
        "time_zone": org.time_zone,
        "currency": org.currency,
        "iso_code": org.currency,
        "currency_symbol": symbol,
        "currency_locale": locale,
        "description": null,
        "photo_id": null,
        "phone": "",
        "mobile": null,
        "fax": null,
        "street": null,
        "city": null,
        "state": null,
        "zip": null,
        "website": format!("https://{}", org.domain),
        "employee_count": "50",
        "mc_status": false,
        "gapps_enabled": false,
        "translation_enabled": false,
        "privacy_settings": false,
        "hipaa_compliance_enabled": false,
        "lite_users_enabled": false,
        "deletable_org_account": false,
        "oauth_presence": true,
        "call_icon": "",
        "max_per_page": 200,
        "created_time": seed::iso_time(META_MODIFIED - 365 * 86_400, org.utc_offset_min),
        // Zoho's description and both SDKs spell the environments capitalized here.
        "type": match env {
            zoho::Environment::Production => "Production",
            zoho::Environment::Sandbox => "Sandbox",
            zoho::Environment::Developer => "Developer",
        },
        "license_details": {
            "paid": true,
            "paid_type": "enterprise",
            "paid_expiry": seed::iso_time(META_MODIFIED + 3 * 365 * 86_400, org.utc_offset_min),
            "users_license_purchased": 10,
            "trial_type": null,
            "trial_expiry": null,
            "trial_action": ""
        },
        "hierarchy_preferences": {"type": "Role_Hierarchy", "strictly_reporting": false},
        "checkin_preferences": {"restricted_event_types": null},
    })
}

/// The instant of an `If-Modified-Since` header: ISO 8601 with an offset, as Zoho's docs and
/// SDKs send it (`2026-01-15T10:00:00+05:30`), or an HTTP date (`Thu, 15 Jan 2026 10:00:00 GMT`).
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    iso_instant(s).or_else(|| http_date(s))
}

fn iso_instant(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    instant(y, mo, d, h, mi, sec).map(|t| t - offset)
}

fn http_date(s: &str) -> Option<i64> {
    // `Thu, 15 Jan 2026 10:00:00 GMT`
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mo = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let t: Vec<i64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, sec] = t.as_slice() else {
        return None;
    };
    instant(year.parse().ok()?, mo, day.parse().ok()?, *h, *mi, *sec)
}

fn instant(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        assert_eq!(parse_instant("2026-01-15T10:00:00Z"), Some(META_MODIFIED));
        assert_eq!(
            parse_instant("2026-01-15T15:30:00+05:30"),
            Some(META_MODIFIED)
        );
        assert_eq!(
            parse_instant("2026-01-15T05:00:00.123-05:00"),
            Some(META_MODIFIED)
        );
        assert_eq!(
            parse_instant("Thu, 15 Jan 2026 10:00:00 GMT"),
            Some(META_MODIFIED)
        );
        assert_eq!(
            parse_instant(&seed::iso_time(META_MODIFIED, 60)),
            Some(META_MODIFIED)
        );
        assert_eq!(parse_instant("1970-01-01T00:00:00+00:00"), Some(0));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-01-15T10:00:00+0530",
            "Thu, 15 Foo 2026 10:00:00 GMT",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }

    #[test]
    fn standard_modules_are_unique_and_lead_with_the_record_modules() {
        let mut names: Vec<&str> = STANDARD.iter().map(|m| m.api_name).collect();
        assert_eq!(&names[..2], ["Leads", "Contacts"]);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), STANDARD.len());
        let ids: std::collections::HashSet<String> = (0..STANDARD.len()).map(module_id).collect();
        assert_eq!(ids.len(), STANDARD.len());
        assert_eq!(standard("deals").map(|(_, m)| m.api_name), Some("Deals"));
        assert!(standard("Spaceships").is_none());
        let deals = generic_fields(standard("Deals").unwrap().0);
        assert!(
            deals
                .iter()
                .any(|f| f.api_name == "Deal_Name" && f.system_mandatory)
        );
    }

    #[test]
    fn fields_keep_what_the_worker_reads_and_add_zohos_keys() {
        let course = seed::module_fields(ModuleKind::Leads)
            .into_iter()
            .find(|f| f.api_name == "Course")
            .unwrap();
        let v = field_json(&course, "Leads", 7);
        let back: Field = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(back, course);
        assert_eq!(v["pick_list_values"][0]["colour_code"], Value::Null);
        assert!(v["pick_list_values"][1]["colour_code"].is_string());
        assert_eq!(v["enable_colour_code"], true);
        assert_eq!(v["tooltip"], Value::Null);
        assert_eq!(v["operation_type"]["api_create"], true);
    }
}
