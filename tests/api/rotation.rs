//! Zero-downtime secret rotation, step by step, as docs/operations.md describes it.

use crate::helpers::*;

const OLD: &str = "rotation-old-secret-0123456789abcdef";
const NEW: &str = "rotation-new-secret-0123456789abcdef";

async fn relay_with(secrets: &[(&str, &str)]) -> TestApp {
    let mut env = default_env();
    env.remove("AUTH_SECRET");
    env.remove("AUTH_SECRET_1");
    for (k, v) in secrets {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    spawn_app_with(env).await
}

async fn status(app: &TestApp, state: &str) -> u16 {
    app.get_callback_json("github", &format!("code=c&state={}", enc(state)))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_secret_is_rotated_without_refusing_a_single_sign_in() {
    let states = |secret: &str| {
        [
            native_state_by(secret, PREVIEW_CALLBACK),
            authjs_state_by(secret, PREVIEW_CALLBACK),
        ]
    };
    let (old, new) = (states(OLD), states(NEW));

    // 0. Before: everything is on the old secret.
    let before = relay_with(&[("AUTH_SECRET", OLD)]).await;
    for s in &old {
        assert_eq!(status(&before, s).await, 302);
    }

    // 1. Add the new secret to the relay first: it verifies both, so previews that are
    //    still on the old one and those already switched are all served.
    let both = relay_with(&[("AUTH_SECRET", OLD), ("AUTH_SECRET_1", NEW)]).await;
    for s in old.iter().chain(&new) {
        assert_eq!(status(&both, s).await, 302);
    }

    // 2. Switch the previews to the new secret (nothing to do at the relay), and wait at
    //    least AUTH_STATE_MAX_AGE so that no old-secret state is still in flight.
    // 3. Retire the old secret.
    let after = relay_with(&[("AUTH_SECRET", NEW)]).await;
    for s in &new {
        assert_eq!(status(&after, s).await, 302);
    }
    for s in &old {
        assert_eq!(status(&after, s).await, 403);
    }
}
