//! Rules: first-match severity and noise rules from JSON (docs/SPEC.md section 7), over the built-in
//! table in [`builtin`].

pub mod builtin;
mod glob;

pub use glob::{Glob, GlobError};

use crate::event::{Event, ScanSeverity};
use crate::severity::Severity;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt;

/// The name reported for decisions made by the built-in rules.
pub const DEFAULT_RULE: &str = "default";

/// Validated rules, ready to evaluate.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    labels: BTreeMap<String, String>,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    when: When,
    action: Action,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// `severity` omitted: the built-in severity applies, with this rule's labels.
    Builtin,
    Set(Severity),
    Drop,
}

#[derive(Debug, Clone, Default)]
struct When {
    event: Option<Vec<Glob>>,
    project: Option<Vec<Glob>>,
    repository: Option<Vec<Glob>>,
    tag: Option<Vec<Glob>>,
    operator: Option<Vec<Glob>>,
    status: Option<Vec<Glob>>,
    scan_severity: Option<ScanSeverity>,
}

/// What the rules decided for one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'r> {
    /// `None`: send nothing.
    pub severity: Option<Severity>,
    /// The matching rule's name, or [`DEFAULT_RULE`]; becomes the `rule` label.
    pub rule: &'r str,
    /// Who dropped the event: the user rule whose `severity` is `drop`, else [`DEFAULT_RULE`].
    pub dropped_by: &'r str,
    /// The matching rule's labels.
    pub rule_labels: Option<&'r BTreeMap<String, String>>,
}

impl Rules {
    /// The built-in rules alone.
    pub fn builtin() -> Self {
        Self::default()
    }

    /// Parses and validates rules JSON, reporting every problem found.
    pub fn from_json(text: &str) -> Result<Self, RulesError> {
        parse(text)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Labels that go on every alert.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// First matching rule decides; no match leaves it to the built-in table.
    pub fn decide(&self, event: &Event) -> Decision<'_> {
        let Some(rule) = self.rules.iter().find(|r| r.when.matches(event)) else {
            return Decision {
                severity: builtin::severity(event),
                rule: DEFAULT_RULE,
                dropped_by: DEFAULT_RULE,
                rule_labels: None,
            };
        };
        let (severity, dropped_by) = match rule.action {
            Action::Set(severity) => (Some(severity), DEFAULT_RULE),
            Action::Drop => (None, rule.name.as_str()),
            Action::Builtin => (builtin::severity(event), DEFAULT_RULE),
        };
        Decision {
            severity,
            rule: &rule.name,
            dropped_by,
            rule_labels: Some(&rule.labels),
        }
    }
}

impl When {
    fn matches(&self, event: &Event) -> bool {
        let names = || {
            [event.type_name(), event.origin.wire_type.as_str()]
                .into_iter()
                .chain(event.event_type().aliases().map(|alias| -> &str { alias }))
        };
        let event_ok = self
            .event
            .as_ref()
            .is_none_or(|globs| globs.iter().any(|g| names().any(|n| g.matches(n))));
        let scan_ok = self.scan_severity.is_none_or(|min| {
            event
                .vulnerability_report()
                .and_then(|r| r.overall_severity())
                .is_some_and(|s| s >= min)
        });
        event_ok
            && scan_ok
            && field_matches(&self.project, event.project())
            && field_matches(&self.repository, event.repository().map(|r| r.as_str()))
            && field_matches(&self.tag, event.tag())
            && field_matches(&self.operator, event.origin.operator.as_deref())
            && field_matches(&self.status, event.status())
    }
}

/// No condition holds; a condition on a field the event lacks does not match.
fn field_matches(globs: &Option<Vec<Glob>>, value: Option<&str>) -> bool {
    match globs {
        None => true,
        Some(globs) => value.is_some_and(|v| globs.iter().any(|g| g.matches(v))),
    }
}

/// Every problem found in a rules document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct RulesError {
    pub problems: Vec<RuleProblem>,
}

/// One problem: where (the rule by index and name, or the top level), which key, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    /// Index in `rules`; `None` for top-level problems.
    pub index: Option<usize>,
    pub name: Option<String>,
    /// Dotted key path inside the rule (`when.project`) or the document (`labels`).
    pub key: String,
    pub message: String,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.index, &self.name) {
            (Some(i), Some(name)) => write!(
                f,
                "rules[{i}] ({name:?}), key `{}`: {}",
                self.key, self.message
            ),
            (Some(i), None) => write!(f, "rules[{i}], key `{}`: {}", self.key, self.message),
            (None, _) if self.key.is_empty() => write!(f, "{}", self.message),
            (None, _) => write!(f, "key `{}`: {}", self.key, self.message),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument<'a> {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default, borrow)]
    rules: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(default)]
    when: RawWhen,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    event: Option<Patterns>,
    project: Option<Patterns>,
    repository: Option<Patterns>,
    tag: Option<Patterns>,
    operator: Option<Patterns>,
    status: Option<Patterns>,
    scan_severity: Option<String>,
}

/// A pattern or a list of patterns (any of).
struct Patterns(Vec<String>);

impl<'de> Deserialize<'de> for Patterns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PatternsVisitor;
        impl<'de> Visitor<'de> for PatternsVisitor {
            type Value = Patterns;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a pattern string or a list of pattern strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Patterns, E> {
                Ok(Patterns(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Patterns, A::Error> {
                let mut patterns = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    patterns.push(p);
                }
                Ok(Patterns(patterns))
            }
        }
        deserializer.deserialize_any(PatternsVisitor)
    }
}

/// Flashduty requires Prometheus-style label names of at most 128 characters.
fn check_label_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !valid_start || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "label name {key:?} is not valid: use letters, digits and _ , not starting with a digit"
        ));
    }
    if key.len() > crate::alert::MAX_LABEL_KEY {
        return Err(format!(
            "label name {key:?} is longer than {} characters",
            crate::alert::MAX_LABEL_KEY
        ));
    }
    Ok(())
}

fn parse(text: &str) -> Result<Rules, RulesError> {
    let mut problems = Vec::new();
    // serde would read an array into the document's fields by position.
    if !text.trim_start().starts_with('{') {
        problems.push(RuleProblem {
            index: None,
            name: None,
            key: String::new(),
            message: "a rules document is a JSON object: {\"labels\": {...}, \"rules\": [...]}"
                .to_owned(),
        });
        return Err(RulesError { problems });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let document: RawDocument = match serde_path_to_error::deserialize(&mut de) {
        Ok(document) => document,
        Err(e) => {
            let path = e.path().to_string();
            problems.push(RuleProblem {
                index: None,
                name: None,
                key: if path == "." { String::new() } else { path },
                message: format!("rules JSON: {}", e.inner()),
            });
            return Err(RulesError { problems });
        }
    };
    for key in document.labels.keys() {
        if let Err(message) = check_label_key(key) {
            problems.push(RuleProblem {
                index: None,
                name: None,
                key: format!("labels.{key}"),
                message,
            });
        }
    }
    let mut rules = Vec::with_capacity(document.rules.len());
    for (index, raw) in document.rules.iter().enumerate() {
        match parse_rule(raw) {
            Ok(rule) => rules.push(rule),
            Err(mut found) => {
                let name = rule_name(raw);
                for problem in &mut found {
                    problem.index = Some(index);
                    problem.name.clone_from(&name);
                }
                problems.extend(found);
            }
        }
    }
    if problems.is_empty() {
        Ok(Rules {
            labels: document.labels,
            rules,
        })
    } else {
        Err(RulesError { problems })
    }
}

/// The rule's name for error messages, even when the rule itself does not parse.
fn rule_name(raw: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct Named {
        name: Option<String>,
    }
    serde_json::from_str::<Named>(raw.get())
        .ok()
        .and_then(|n| n.name)
}

fn parse_rule(raw: &RawValue) -> Result<Rule, Vec<RuleProblem>> {
    let problem = |key: &str, message: String| RuleProblem {
        index: None,
        name: None,
        key: key.to_owned(),
        message,
    };
    let rule: RawRule =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
            .map_err(|e| {
                // The path ends at the offending key, unknown keys included.
                let path = e.path().to_string();
                let key = if path == "." {
                    "(rule)".to_owned()
                } else {
                    path
                };
                vec![problem(&key, strip_position(&e.inner().to_string()))]
            })?;

    let mut problems = Vec::new();
    if rule.name.trim().is_empty() {
        problems.push(problem(
            "name",
            "is empty: every rule needs a name".to_owned(),
        ));
    }
    let action = match rule.severity.as_deref() {
        None => Action::Builtin,
        Some(s) if s.eq_ignore_ascii_case("drop") => Action::Drop,
        Some(s) => match Severity::parse(s) {
            Some(severity) => Action::Set(severity),
            None => {
                problems.push(problem(
                    "severity",
                    format!("unknown severity {s:?}; expected Critical, Warning, Info, Ok or drop"),
                ));
                Action::Builtin
            }
        },
    };
    let mut globs = |key: &str, patterns: Option<Patterns>| -> Option<Vec<Glob>> {
        let patterns = patterns?.0;
        if patterns.is_empty() {
            problems.push(problem(
                key,
                "is an empty list, which matches nothing".to_owned(),
            ));
            return None;
        }
        let mut compiled = Vec::with_capacity(patterns.len());
        for p in &patterns {
            match Glob::new(p) {
                Ok(g) => compiled.push(g),
                Err(e) => problems.push(problem(key, format!("pattern {p:?} {e}"))),
            }
        }
        Some(compiled)
    };
    let w = rule.when;
    let mut when = When {
        event: globs("when.event", w.event),
        project: globs("when.project", w.project),
        repository: globs("when.repository", w.repository),
        tag: globs("when.tag", w.tag),
        operator: globs("when.operator", w.operator),
        status: globs("when.status", w.status),
        scan_severity: None,
    };
    if let Some(s) = w.scan_severity {
        match ScanSeverity::parse(&s) {
            Some(min) => when.scan_severity = Some(min),
            None => problems.push(problem(
                "when.scan_severity",
                format!(
                    "unknown severity {s:?}; expected one of {}",
                    ScanSeverity::ALL.map(ScanSeverity::as_str).join(", ")
                ),
            )),
        }
    }
    for key in rule.labels.keys() {
        if let Err(message) = check_label_key(key) {
            problems.push(problem(&format!("labels.{key}"), message));
        }
    }
    if problems.is_empty() {
        Ok(Rule {
            name: rule.name,
            when,
            action,
            labels: rule.labels,
        })
    } else {
        Err(problems)
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
