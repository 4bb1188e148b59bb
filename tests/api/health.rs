use crate::helpers::*;

#[tokio::test]
async fn healthz_and_readyz_answer_200() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    let r = app.get("/readyz").await;
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["generation"], 1);
    assert_eq!(body["apps"][0]["name"], "default");
    assert_eq!(body["apps"][0]["secrets"], 2);
}

#[tokio::test]
async fn metrics_count_bounces_by_outcome_reason_provider_and_format() {
    let app = spawn_app().await;
    let state = native_state(PREVIEW_CALLBACK);
    app.get_callback("github", &format!("code=x&state={state}"))
        .await;
    app.get_callback("github", "code=x&state=garbage").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(r#"authrelay_bounces_total{app="default",outcome="redirect",reason="ok",provider="github",format="native"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"authrelay_bounces_total{app="default",outcome="refused",reason="state_malformed",provider="unknown",format="native"} 1"#),
        "{text}"
    );
    assert!(text.contains("authrelay_callback_duration_seconds_bucket"));
    assert!(text.contains("authrelay_build_info{version="));
    assert!(
        text.contains(r#"authrelay_config_reloads_total{result="ok"} 1"#),
        "{text}"
    );
    assert!(text.contains("authrelay_config_generation 1"), "{text}");
}

#[tokio::test]
async fn with_a_metrics_port_metrics_are_served_there_and_only_there() {
    let app = spawn_app_with(env_with(&[("METRICS_PORT", "0")])).await;
    let metrics_port = app.metrics_port.expect("a metrics listener");
    assert_ne!(metrics_port, app.port);
    assert_eq!(app.get("/metrics").await.status().as_u16(), 404);
    let on_metrics = |path: &str| {
        app.client
            .get(format!("http://127.0.0.1:{metrics_port}{path}"))
            .send()
    };
    let r = on_metrics("/metrics").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("authrelay_callback_duration_seconds_count"));
    let state = native_state(PREVIEW_CALLBACK);
    let r = on_metrics(&format!("/api/auth/callback/github?code=x&state={state}"))
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        404,
        "callbacks are not served on the metrics port"
    );
}
