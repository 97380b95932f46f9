//! The idempotency claim's fence, on the stores themselves: a run whose claim
//! was taken over can neither move money nor answer for the key.

use std::sync::Arc;

use adapters_db::{DbIdempotencyStore, DbPointStore};
use chrono::{Duration, Utc};
use domain::idempotency::{
    IdempotencyKey, IdempotencyReceipt, IdempotencyScope, IdempotencyStart, StoredAnswer,
};
use domain::points::{Balance, BalanceChange, PointEntryKind};
use domain::ports::{IdempotencyStore, PointStore};
use domain::{DomainError, PointChange, StoreError, UserId, Won};

use crate::helpers::{e2e, spawn_app, Backend};

e2e!(a_claim_taken_over_can_neither_move_money_nor_answer);

async fn a_claim_taken_over_can_neither_move_money_nor_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let db = app.db().await;
    let keys = DbIdempotencyStore::new(db.clone());
    let points = DbPointStore { db };
    let user_id = UserId(alice.id);
    let scope = IdempotencyScope {
        user_id,
        endpoint: "charge",
        key: IdempotencyKey::parse("crash-1").unwrap(),
    };
    let t0 = Utc::now();
    let IdempotencyStart::Started(first) = keys.start(&scope, "h", t0).await.unwrap() else {
        panic!("a fresh key is claimed");
    };
    assert_eq!(
        keys.start(&scope, "h", t0 + Duration::seconds(10)).await,
        Ok(IdempotencyStart::InFlight)
    );
    // The first run looks dead after 60 s: a retry takes the claim over.
    let IdempotencyStart::Started(second) = keys
        .start(&scope, "h", t0 + Duration::seconds(61))
        .await
        .unwrap()
    else {
        panic!("an abandoned claim is taken over");
    };
    assert_ne!(first.fence, second.fence);

    let render: Arc<dyn Fn(&Balance) -> StoredAnswer + Send + Sync> =
        Arc::new(|b: &Balance| StoredAnswer {
            outcome: 200,
            body: b.amount.value().to_string(),
        });
    let before = points.balance(user_id).await.unwrap();
    let change = BalanceChange {
        user_id,
        expected_version: before.version,
        kind: PointEntryKind::Charge,
        delta: PointChange::new(500),
        new_amount: Won::new(500).unwrap(),
        at: t0,
    };
    // The first run was only slow: its charge must not land beside the retry's.
    let late = IdempotencyReceipt::new(&first, render.clone());
    assert_eq!(
        points.apply(&change, Some(&late)).await,
        Err(DomainError::Store(StoreError::ClaimTakenOver))
    );
    assert_eq!(points.balance(user_id).await.unwrap(), before);
    // Nor may it keep a refusal or give the key up under the retry's feet.
    let refusal = StoredAnswer {
        outcome: 409,
        body: "{}".into(),
    };
    keys.complete(&first, &refusal).await.unwrap();
    keys.release(&first).await.unwrap();

    let owner = IdempotencyReceipt::new(&second, render);
    let after = points.apply(&change, Some(&owner)).await.unwrap();
    assert_eq!(after.amount, Won::new(500).unwrap());
    // The answer was kept with the money: a repeat replays it, even later.
    assert_eq!(
        keys.start(&scope, "h", t0 + Duration::seconds(200)).await,
        Ok(IdempotencyStart::Replay(StoredAnswer {
            outcome: 200,
            body: "500".into(),
        }))
    );
    // And once answered, nothing overwrites or releases it.
    keys.complete(&second, &refusal).await.unwrap();
    keys.release(&second).await.unwrap();
    assert!(matches!(
        keys.start(&scope, "h", t0 + Duration::seconds(300)).await,
        Ok(IdempotencyStart::Replay(StoredAnswer { outcome: 200, .. }))
    ));
    assert_eq!(app.history(&alice).await.len(), 1);
}
