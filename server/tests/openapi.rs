//! `/api/v1/openapi.json` describes the API that is really served: every documented
//! operation is routed and asks for credentials (the unit test in the document's module
//! checks that every routed path is documented).

mod common;

use common::TestServer;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn every_documented_operation_is_routed(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let _owner = s.owner().await;
    let c = s.client();
    let doc: serde_json::Value = c
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, methods) in paths {
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    seg.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, op) in methods.as_object().unwrap() {
            operations += 1;
            assert!(
                ["viewer", "developer", "admin", "owner"]
                    .contains(&op["x-berth-min-role"].as_str().unwrap()),
                "{method} {path}"
            );
            // While the database is away, every route answers 503 (`db_gate`).
            assert_eq!(
                op["responses"]["503"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{method} {path}"
            );
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = c
                .request(m, s.url(&concrete))
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            // Routed and guarded: an unknown route would be 404, a wrong method 405.
            assert_eq!(r.status(), 401, "{method} {path}");
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"], "unauthorized", "{method} {path}");
        }
    }
    assert!(operations >= 36, "only {operations} operations documented");
}
