//! The test harness: `spawn_app` on a fresh database per test, for each
//! backend. `backend` chooses where the stores live (and holds the `e2e*`
//! macros), `app` starts the application and sends the scenarios' requests,
//! `assertions` checks the answers.

mod app;
mod assertions;
mod backend;

pub use app::{answer, spawn_app, spawn_app_with, TestApp, TestUser, ADMIN_KEY};
pub use assertions::{assert_code, assert_problem, eventually};
pub(crate) use backend::{e2e, e2e_module, e2e_on, e2e_postgres, e2e_queue};
pub use backend::{fresh_database_url, missing, Backend};
