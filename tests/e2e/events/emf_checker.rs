//! The EMF checker itself: it must reject what the specification rejects.

use super::emf::*;
use super::{FUNCTION_NAME, NAMESPACE};
use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn sample_emf() -> Map<String, Value> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let doc = json!({
        "_aws": {
            "Timestamp": now,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName", "EventType"], ["FunctionName"]],
                "Metrics": [
                    {"Name": "AlertsForwarded", "Unit": "Count"},
                    {"Name": "AlertsDropped", "Unit": "Count"},
                    {"Name": "AlertsFailed", "Unit": "Count"},
                    {"Name": "FlashdutyLatency", "Unit": "Milliseconds"}
                ]
            }]
        },
        "FunctionName": FUNCTION_NAME,
        "EventType": "PUSH_ARTIFACT",
        "AlertsForwarded": 1,
        "AlertsDropped": 0,
        "AlertsFailed": 0,
        "FlashdutyLatency": 12.5
    });
    doc.as_object().unwrap().clone()
}

#[test]
fn the_emf_checker_accepts_a_valid_document_and_rejects_each_violation() {
    let window = timestamp_window(SystemTime::now());
    let valid = sample_emf();
    assert_eq!(emf_problems(&valid, window), Vec::<String>::new());
    assert_eq!(
        function_emf_problems(&valid, "PUSH_ARTIFACT", Counted::Forwarded, window),
        Vec::<String>::new()
    );

    type Mutation = fn(&mut Value);
    let cases: [(&str, Mutation); 17] = [
        ("Timestamp in seconds", |d| {
            d["_aws"]["Timestamp"] = json!(d["_aws"]["Timestamp"].as_u64().unwrap() / 1000)
        }),
        ("Timestamp as a string", |d| {
            d["_aws"]["Timestamp"] = json!("1741948524000")
        }),
        ("Timestamp fractional", |d| {
            d["_aws"]["Timestamp"] = json!(d["_aws"]["Timestamp"].as_f64().unwrap() + 0.5)
        }),
        ("no CloudWatchMetrics", |d| {
            d["_aws"]
                .as_object_mut()
                .unwrap()
                .remove("CloudWatchMetrics");
        }),
        ("empty CloudWatchMetrics", |d| {
            d["_aws"]["CloudWatchMetrics"] = json!([])
        }),
        ("Namespace missing", |d| {
            d["_aws"]["CloudWatchMetrics"][0]
                .as_object_mut()
                .unwrap()
                .remove("Namespace");
        }),
        ("Namespace starting with ':'", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!(":Harbor")
        }),
        ("Namespace of 256 characters", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("N".repeat(256))
        }),
        ("a dimension that is not a member", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([["FunctionName", "Region"]])
        }),
        ("a dimension with a number value", |d| {
            d["EventType"] = json!(7)
        }),
        ("a dimension set of 31 names", |d| {
            let names: Vec<String> = (0..31).map(|i| format!("D{i}")).collect();
            for name in &names {
                d[name.as_str()] = json!("x");
            }
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([names]);
        }),
        ("Dimensions not an array of arrays", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!(["FunctionName"])
        }),
        ("a metric that is not a member", |d| {
            d.as_object_mut().unwrap().remove("AlertsFailed");
        }),
        ("a metric with a string value", |d| {
            d["AlertsDropped"] = json!("0")
        }),
        ("a metric with 101 values", |d| {
            d["AlertsDropped"] = json!(vec![0; 101])
        }),
        ("an unknown Unit", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Alerts")
        }),
        ("101 metrics", |d| {
            let metrics: Vec<Value> = (0..101)
                .map(|i| json!({"Name": format!("M{i}"), "Unit": "Count"}))
                .collect();
            for i in 0..101 {
                d[format!("M{i}")] = json!(1);
            }
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"] = json!(metrics);
        }),
    ];
    for (what, mutate) in cases {
        let mut doc = Value::Object(valid.clone());
        mutate(&mut doc);
        let problems = emf_problems(doc.as_object().unwrap(), window);
        assert!(!problems.is_empty(), "the checker accepted {what}: {doc}");
    }

    // The function-specific counts: wrong outcome, latency on a drop, missing latency.
    assert!(!function_emf_problems(&valid, "PUSH_ARTIFACT", Counted::Dropped, window).is_empty());
    assert!(!function_emf_problems(&valid, "PULL_ARTIFACT", Counted::Forwarded, window).is_empty());
    let mut no_latency = Value::Object(valid.clone());
    no_latency
        .as_object_mut()
        .unwrap()
        .remove("FlashdutyLatency");
    no_latency["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert!(emf_problems(no_latency.as_object().unwrap(), window).is_empty());
    assert!(
        !function_emf_problems(
            no_latency.as_object().unwrap(),
            "PUSH_ARTIFACT",
            Counted::Forwarded,
            window
        )
        .is_empty()
    );

    // A torn EMF line is an error; other log lines are not EMF.
    let lines = [
        r#"{"level":"INFO","fields":{"message":"harbor event"}}"#.to_owned(),
        "plain text".to_owned(),
        Value::Object(valid.clone()).to_string(),
    ];
    assert_eq!(emf_documents(&lines).unwrap().len(), 1);
    assert!(emf_documents(&[r#"{"_aws": {"Timestamp": 1"#.to_owned()]).is_err());
}
