//! The queue's Lua scripts. Each runs atomically in Redis, so every
//! multi-key step (issue, admit, expire) is all or nothing: a crash of the
//! service between two calls can leave no half-admitted state behind.

use std::sync::LazyLock;

use redis::Script;

macro_rules! with_prelude {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("scripts/prelude.lua"),
                include_str!($file)
            ))
        })
    };
}

pub(crate) static ISSUE: LazyLock<Script> = with_prelude!("scripts/issue.lua");
pub(crate) static ADMIT: LazyLock<Script> = with_prelude!("scripts/admit.lua");
pub(crate) static OPEN: LazyLock<Script> = with_prelude!("scripts/open.lua");
pub(crate) static CONTROL: LazyLock<Script> = with_prelude!("scripts/control.lua");
pub(crate) static EXPIRE_ACTIVE: LazyLock<Script> = with_prelude!("scripts/expire_active.lua");
pub(crate) static FIND: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/find.lua")));
pub(crate) static LINES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/lines.lua")));
