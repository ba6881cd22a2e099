//! The Codat door's OpenAPI document (`/codat/openapi.json`) is its contract: the committed copy
//! is what the code generates and serves, every operation it declares is routed, and every
//! answer the Codat tests receive (through `codat::Codat::call`) has a status the operation
//! declares and a body its schema accepts.

use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::helpers::Hub;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(&bankfeeds_server::codat::openapi::document()).expect("JSON")
    })
}

/// The document's path template (`/codat/companies/{companyId}`) that `path` (`/companies/…`,
/// below `/codat`, query ignored) matches.
fn template_of(path: &str) -> Option<&'static str> {
    let path = format!("/codat{}", path.split('?').next().unwrap_or_default());
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    paths.keys().map(String::as_str).find(|template| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
    })
}

/// Asserts that an answer to `method path` is one the document declares, with a body its
/// schema accepts. Answers of routes the document does not have (the door's own 404 and 405
/// for unknown paths and methods) are not the contract's.
pub(crate) fn holds_to_the_document(method: String, path: &str, status: u16, body: &Value) {
    let Some(template) = template_of(path) else {
        assert_eq!(
            status, 404,
            "{method} {path} is not in the document but answered {status}"
        );
        return;
    };
    let Some(operation) = document()["paths"][template].get(&method) else {
        assert_eq!(
            status, 405,
            "{method} {template} is not in the document but answered {status}"
        );
        return;
    };
    let declared = &operation["responses"][status.to_string()];
    assert!(
        declared.is_object(),
        "{method} {template} answered {status}, which its operation does not declare: {body}"
    );
    let Some(schema) = declared.pointer("/content/application~1json/schema") else {
        assert!(
            body.is_null(),
            "{method} {template} {status} declares no body but sent {body}"
        );
        return;
    };
    // The schema, with the document's components beside it so that its `$ref`s resolve.
    let mut root = schema.clone();
    if !root.is_object() {
        root = json!({"allOf": [schema]});
    }
    root["components"] = document()["components"].clone();
    let validator = jsonschema::validator_for(&root).expect("the document's schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: the body does not match the document:\n{}\n{body:#}",
        errors.join("\n")
    );
}

#[tokio::test]
async fn served_codat_openapi_matches_the_committed_copy() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../codat-openapi.json"
    ))
    .expect("codat-openapi.json is committed at the repository root");
    let generated = bankfeeds_server::codat::openapi::document();
    assert!(
        committed == generated,
        "codat-openapi.json drifted from the code: regenerate it with \
         `cargo run -q -- openapi --codat > /tmp/c.json && cp /tmp/c.json codat-openapi.json`"
    );
    let hub = Hub::sqlite("codat_openapi").await;
    assert_eq!(hub.open_text("/codat/openapi.json").await, generated);
}

/// Every operation the document declares is routed: called for a company that does not exist,
/// each answers the Codat door's 404 for that company (or 400 for a body it cannot read; the
/// company list and create answer as they do), never the door's "no such operation" or "method
/// not allowed".
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let hub = Hub::sqlite("codat_routes").await;
    let creds = hub.org("Routes Bank").await;
    let nobody = uuid::Uuid::new_v4();
    let mut count = 0;
    for (template, item) in document()["paths"].as_object().unwrap() {
        let url = template
            .replace("{companyId}", &nobody.to_string())
            .replace("{connectionId}", &nobody.to_string())
            .replace("{pushOperationKey}", &nobody.to_string())
            .replace("{accountId}", "A1");
        for method in item.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let resp = hub
                .http
                .request(method.clone(), hub.url(&url))
                .basic_auth(&creds.client_id, Some(&creds.client_secret))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            let of_a_company = template.contains("{companyId}");
            assert!(
                status == 404 && body["errorCode"] == "COMPANY_NOT_FOUND"
                    || status == 400
                    || !of_a_company && status == 200,
                "{method} {template}: {status} {body}"
            );
            assert_ne!(body["errorCode"], "ROUTE_NOT_FOUND");
            count += 1;
        }
    }
    assert_eq!(count, 31, "every operation was called");
}
