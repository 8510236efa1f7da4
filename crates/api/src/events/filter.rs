//! What a client of `GET /v1/events` asks for: the query, its filter, and the exact shape of
//! each comma-separated list (which the OpenAPI document states as a pattern).

use serde::Deserialize;

use huxin_types::id::REGION_PATTERN;
use huxin_types::identity::SubjectId;
use huxin_types::{Action, RegionCode};

use super::Event;
use crate::routes::parse;
use crate::ApiError;

/// Most values in one filter (kinds, regions, subjects).
pub const EVENTS_FILTER_VALUES_MAX: usize = 64;

/// A subject as the server parses it: a USCC (its check character is verified too), a
/// pilot-era `legacy:` code, or an expert's `expert:` salted hash.
pub(crate) const SUBJECT_PATTERN: &str = "[0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64}";

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Comma-separated transaction kinds (at most 64); empty or absent: every kind.
    pub kinds: Option<String>,
    /// Comma-separated region codes (at most 64); empty or absent: every region.
    pub regions: Option<String>,
    /// Comma-separated subjects (USCC, `legacy:…`, `expert:…`; at most 64); empty or absent:
    /// every subject.
    pub subjects: Option<String>,
    /// Replay from this height (inclusive); default: only new events.
    pub from_height: Option<u64>,
}

/// The events a client asked for: each list empty means "any".
pub(super) struct Filter {
    kinds: Vec<&'static str>,
    regions: Vec<RegionCode>,
    subjects: Vec<SubjectId>,
}

impl Filter {
    pub(super) fn parse(q: &EventsQuery) -> Result<Self, ApiError> {
        Ok(Filter {
            kinds: list("kinds", &q.kinds, |k| {
                Action::KINDS.iter().copied().find(|known| *known == k).ok_or_else(|| {
                    ApiError::bad_request("bad_query", format!("kinds names {k:?}, which is no transaction kind"))
                })
            })?,
            regions: list("regions", &q.regions, |r| parse("region", r))?,
            subjects: list("subjects", &q.subjects, |x| parse("subject", x))?,
        })
    }

    pub(super) fn admits(&self, e: &Event) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&e.kind.as_str()))
            && (self.regions.is_empty() || e.national || e.regions.iter().any(|r| self.regions.contains(r)))
            && (self.subjects.is_empty() || e.subjects.iter().any(|s| self.subjects.contains(s)))
    }
}

/// A comma-separated list: empty (no filter), or 1 to [`EVENTS_FILTER_VALUES_MAX`] values,
/// none of them empty.
fn list<T>(name: &str, value: &Option<String>, item: impl Fn(&str) -> Result<T, ApiError>) -> Result<Vec<T>, ApiError> {
    let Some(value) = value.as_deref().filter(|v| !v.is_empty()) else { return Ok(Vec::new()) };
    let parts: Vec<&str> = value.split(',').collect();
    if parts.len() > EVENTS_FILTER_VALUES_MAX {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("{name} lists {} values; at most {EVENTS_FILTER_VALUES_MAX}", parts.len()),
        ));
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ApiError::bad_request("bad_query", format!("{name} has an empty value between commas")));
    }
    parts.into_iter().map(item).collect()
}

/// The pattern of a list of `item`s, as [`list`] accepts it.
fn list_pattern(item: &str) -> String {
    format!("^(({item})(,({item})){{0,{}}})?$", EVENTS_FILTER_VALUES_MAX - 1)
}

/// The schemas of the list parameters, by name, for the OpenAPI document.
pub(crate) fn list_schemas() -> [(&'static str, serde_json::Value); 3] {
    let schema = |item: &str| serde_json::json!({"type": "string", "pattern": list_pattern(item)});
    [
        ("kinds", schema(&Action::KINDS.join("|"))),
        ("regions", schema(REGION_PATTERN)),
        ("subjects", schema(SUBJECT_PATTERN)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(kinds: &str, regions: &str, subjects: &str) -> EventsQuery {
        let some = |v: &str| Some(v.to_owned());
        EventsQuery { kinds: some(kinds), regions: some(regions), subjects: some(subjects), from_height: None }
    }

    fn refusal(q: EventsQuery) -> String {
        match Filter::parse(&q) {
            Ok(_) => panic!("{q:?} was accepted"),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn lists_parse_and_empty_means_any() {
        let f = Filter::parse(&query("anchor_document,list_on_blacklist", "330100,110000", "91330100MB0500000B"))
            .expect("a valid filter");
        assert_eq!(f.kinds, ["anchor_document", "list_on_blacklist"]);
        assert_eq!(f.regions.len(), 2);
        assert_eq!(f.subjects.len(), 1);
        let any = Filter::parse(&query("", "", "")).expect("empty lists");
        assert!(any.kinds.is_empty() && any.regions.is_empty() && any.subjects.is_empty());
    }

    /// Before, a misspelt kind matched nothing and the stream stayed silent.
    #[test]
    fn an_unknown_kind_is_refused_by_name() {
        assert!(refusal(query("anchor_documnet", "", "")).contains("anchor_documnet"));
    }

    #[test]
    fn empty_values_and_long_lists_are_refused() {
        assert!(refusal(query("anchor_document,", "", "")).contains("empty value"));
        assert!(refusal(query("", ",330100", "")).contains("empty value"));
        let many = vec!["330100"; EVENTS_FILTER_VALUES_MAX + 1].join(",");
        assert!(refusal(query("", &many, "")).contains("at most 64"));
        let most = vec!["330100"; EVENTS_FILTER_VALUES_MAX].join(",");
        assert!(Filter::parse(&query("", &most, "")).is_ok());
    }

    /// The documented pattern accepts what the parser accepts, and refuses what it refuses (but
    /// the USCC check character, which no pattern states).
    #[test]
    fn the_patterns_match_the_parser() {
        let schemas = list_schemas();
        let pattern = |name: &str| {
            let p = schemas.iter().find(|(n, _)| *n == name).map(|(_, s)| s["pattern"].as_str().unwrap().to_owned());
            regex::Regex::new(&p.unwrap()).unwrap()
        };
        let cases: &[(&str, &str, bool)] = &[
            ("kinds", "", true),
            ("kinds", "anchor_document", true),
            ("kinds", "anchor_document,issue_guarantee", true),
            ("kinds", "anchor_documnet", false),
            ("kinds", "anchor_document,", false),
            ("regions", "330100,820000", true),
            ("regions", "830000", false),
            ("regions", "undefined", false),
            ("subjects", "91330100MB0500000B,legacy:ABCDEFGHIJKLMNO", true),
            ("subjects", "ïsº'", false),
        ];
        for (name, value, ok) in cases {
            assert_eq!(pattern(name).is_match(value), *ok, "pattern of {name} on {value:?}");
            let mut q = EventsQuery::default();
            let field = match *name {
                "kinds" => &mut q.kinds,
                "regions" => &mut q.regions,
                _ => &mut q.subjects,
            };
            *field = Some((*value).to_owned());
            assert_eq!(Filter::parse(&q).is_ok(), *ok, "parser on {name}={value:?}");
        }
        let most = vec!["330100"; EVENTS_FILTER_VALUES_MAX].join(",");
        assert!(pattern("regions").is_match(&most));
        assert!(!pattern("regions").is_match(&format!("{most},330100")));
    }
}
