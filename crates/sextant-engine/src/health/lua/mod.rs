//! The Lua runtime for custom health scripts: one sandboxed Lua state per
//! thread, reused across objects, with each script compiled once and run in
//! a fresh environment per object under a time and a memory limit.
//!
//! Why Lua 5.2 (vendored, built from C by mlua): Argo CD's scripts are
//! written for gopher-lua, which is Lua 5.1 plus `goto` with every number a
//! double. Lua 5.2 has `goto`, the same number model (whole numbers print
//! as `1`, even `4/2`; 5.3+ would print `2.0`), and `_ENV`, which lets a
//! compiled script run against a new environment per object without
//! recompiling; the few 5.1 names it dropped are shimmed in `sandbox.lua`.
//! LuaJIT was ruled out: mlua cannot cap its memory (64-bit LuaJIT keeps its
//! own allocator), and JIT-compiled loops skip the instruction hook that
//! enforces the time limit.
//!
//! Limits: the time limit is checked every [`CHECK_EVERY`] VM instructions,
//! so it cannot interrupt a single long C call (a pathological string
//! pattern over a huge string); the memory limit bounds what such calls can
//! allocate.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlua::chunk::ChunkMode;

use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Value as LuaValue, VmState};
use serde_json::Value;

use super::{Health, Script};

mod convert;

/// VM instructions between two checks of the time limit.
pub const CHECK_EVERY: u32 = 1000;

/// Compiled scripts kept per runtime before the cache is cleared.
const MAX_CACHED_SCRIPTS: usize = 512;

/// The sandbox's environment builder, run once per state.
const SANDBOX: &str = include_str!("sandbox.lua");

/// How long and how much memory one script evaluation may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LuaLimits {
    /// Wall time for one evaluation (compiling, building `obj`, running).
    pub timeout: Duration,
    /// Bytes one evaluation may allocate beyond what the state holds.
    pub memory_bytes: usize,
}

impl Default for LuaLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(500),
            memory_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Why a script gave no health. [`super::assess`] turns every one of these
/// into `Unknown` with [`describe_error`] as the message.
#[derive(Debug, thiserror::Error)]
pub enum LuaError {
    /// The Lua state could not be created or prepared.
    #[error("could not start the Lua runtime")]
    Start(#[source] mlua::Error),
    /// The script is not valid Lua.
    #[error("health script {script} does not compile")]
    Compile {
        /// The script's name.
        script: String,
        /// What the compiler said.
        #[source]
        cause: LuaMessage,
    },
    /// The script raised an error.
    #[error("health script {script} failed")]
    Run {
        /// The script's name.
        script: String,
        /// The error it raised.
        #[source]
        cause: LuaMessage,
    },
    /// The script ran past its time limit.
    #[error("health script {script} timed out after {} ms", limit.as_millis())]
    Timeout {
        /// The script's name.
        script: String,
        /// The limit it ran past.
        limit: Duration,
    },
    /// The script allocated past its memory limit.
    #[error("health script {script} ran out of memory (limit {limit} bytes)")]
    Memory {
        /// The script's name.
        script: String,
        /// The limit it ran past.
        limit: usize,
    },
    /// The script returned something that is not a health.
    #[error("health script {script} returned {problem}")]
    BadResult {
        /// The script's name.
        script: String,
        /// What was wrong with the result.
        problem: String,
    },
}

/// A message from Lua (an error it raised, a compile error), without the
/// stack traceback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LuaMessage(pub String);

/// The error and its causes as one line: `outer: inner: root`.
pub fn describe_error(error: &LuaError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

thread_local! {
    static RUNTIME: RefCell<Option<LuaRuntime>> = const { RefCell::new(None) };
}

/// Evaluate `script` against `obj` on this thread's shared runtime (created
/// on first use). `Ok(None)` means the script returned nil: fall back to the
/// built-in rule.
pub fn evaluate(
    script: &Script,
    obj: &Value,
    limits: &LuaLimits,
) -> Result<Option<Health>, LuaError> {
    RUNTIME.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            // Only reachable if evaluation re-entered itself; stay correct.
            return LuaRuntime::new()?.evaluate(script, obj, limits);
        };
        let runtime = match slot.as_mut() {
            Some(runtime) => runtime,
            None => slot.insert(LuaRuntime::new()?),
        };
        let result = runtime.evaluate(script, obj, limits);
        if matches!(
            result,
            Err(LuaError::Timeout { .. } | LuaError::Memory { .. })
        ) {
            // The state is consistent after either, but start the next
            // script from a clean slate all the same.
            *slot = None;
        }
        result
    })
}

/// Run `script` with `obj` (and `globals` beside it) on this thread's shared
/// runtime and read what it returns as JSON (a resource action's result).
/// An empty table becomes `[]` where `obj` had an array at that place,
/// `{}` otherwise.
pub fn evaluate_value(
    script: &Script,
    obj: &Value,
    globals: &[(&str, &Value)],
    limits: &LuaLimits,
) -> Result<Value, LuaError> {
    RUNTIME.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return LuaRuntime::new()?.evaluate_value(script, obj, globals, limits);
        };
        let runtime = match slot.as_mut() {
            Some(runtime) => runtime,
            None => slot.insert(LuaRuntime::new()?),
        };
        let result = runtime.evaluate_value(script, obj, globals, limits);
        if matches!(
            result,
            Err(LuaError::Timeout { .. } | LuaError::Memory { .. })
        ) {
            *slot = None;
        }
        result
    })
}

/// One sandboxed Lua state and the scripts compiled in it. Not `Send`:
/// keep one per thread ([`evaluate`] does).
pub struct LuaRuntime {
    lua: Lua,
    new_env: Function,
    compiled: HashMap<Arc<str>, Function>,
    deadline: Rc<Cell<Option<Instant>>>,
}

impl LuaRuntime {
    /// A fresh state with the sandbox installed.
    pub fn new() -> Result<Self, LuaError> {
        let libs = StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::OS;
        let lua = Lua::new_with(libs, LuaOptions::default()).map_err(LuaError::Start)?;
        let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
        let hook_deadline = Rc::clone(&deadline);
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(CHECK_EVERY),
            move |_lua, _debug| match hook_deadline.get() {
                Some(deadline) if Instant::now() >= deadline => {
                    Err(mlua::Error::runtime("time limit exceeded"))
                }
                _ => Ok(VmState::Continue),
            },
        )
        .map_err(LuaError::Start)?;
        let passed_deadline = Rc::clone(&deadline);
        let deadline_passed = lua
            .create_function(move |_, ()| {
                Ok(passed_deadline.get().is_some_and(|d| Instant::now() >= d))
            })
            .map_err(LuaError::Start)?;
        let new_env = lua
            .load(SANDBOX)
            .set_name("=sextant sandbox")
            .set_mode(ChunkMode::Text)
            .call::<Function>(deadline_passed)
            .map_err(LuaError::Start)?;
        Ok(Self {
            lua,
            new_env,
            compiled: HashMap::new(),
            deadline,
        })
    }

    /// Evaluate `script` against `obj`. `Ok(None)` means the script returned
    /// nil.
    pub fn evaluate(
        &mut self,
        script: &Script,
        obj: &Value,
        limits: &LuaLimits,
    ) -> Result<Option<Health>, LuaError> {
        self.limited(script, limits, |runtime| runtime.run(script, obj))
    }

    /// Run `script` with `obj` and `globals` and read its result as JSON
    /// (see [`evaluate_value`]).
    pub fn evaluate_value(
        &mut self,
        script: &Script,
        obj: &Value,
        globals: &[(&str, &Value)],
        limits: &LuaLimits,
    ) -> Result<Value, LuaError> {
        self.limited(script, limits, |runtime| {
            runtime.run_value(script, obj, globals)
        })
    }

    /// Run `f` under the time and memory limits, naming `script` in errors.
    fn limited<T>(
        &mut self,
        script: &Script,
        limits: &LuaLimits,
        f: impl FnOnce(&mut Self) -> Result<T, Failure>,
    ) -> Result<T, LuaError> {
        let limit = self.lua.used_memory().saturating_add(limits.memory_bytes);
        self.lua.set_memory_limit(limit).map_err(LuaError::Start)?;
        let deadline = Instant::now().checked_add(limits.timeout);
        self.deadline.set(deadline);
        let result = f(self);
        let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
        self.deadline.set(None);
        // Lifting the limit cannot fail: the state has the allocator that
        // set it a moment ago.
        let _unlimited = self.lua.set_memory_limit(0);
        result.map_err(|failure| match failure {
            Failure::Compile(e) => LuaError::Compile {
                script: script.name.clone(),
                cause: LuaMessage(lua_message(&e)),
            },
            Failure::Lua(_) if timed_out => LuaError::Timeout {
                script: script.name.clone(),
                limit: limits.timeout,
            },
            Failure::Lua(e) if is_memory_error(&e) => LuaError::Memory {
                script: script.name.clone(),
                limit: limits.memory_bytes,
            },
            Failure::Lua(e) => LuaError::Run {
                script: script.name.clone(),
                cause: LuaMessage(lua_message(&e)),
            },
            Failure::Result(problem) => LuaError::BadResult {
                script: script.name.clone(),
                problem,
            },
        })
    }

    fn run(&mut self, script: &Script, obj: &Value) -> Result<Option<Health>, Failure> {
        let body = self.compiled(script)?;
        let obj = convert::to_lua(&self.lua, obj, 0).map_err(Failure::Lua)?;
        let env = self.new_env.call::<LuaValue>(obj).map_err(Failure::Lua)?;
        let returned = body.call::<LuaValue>(env).map_err(Failure::Lua)?;
        convert::from_lua(&returned).map_err(Failure::Result)
    }

    fn run_value(
        &mut self,
        script: &Script,
        obj: &Value,
        globals: &[(&str, &Value)],
    ) -> Result<Value, Failure> {
        let body = self.compiled(script)?;
        let lua_obj = convert::to_lua(&self.lua, obj, 0).map_err(Failure::Lua)?;
        let env = self
            .new_env
            .call::<LuaValue>(lua_obj)
            .map_err(Failure::Lua)?;
        if let LuaValue::Table(table) = &env {
            for (name, value) in globals {
                let value = convert::to_lua(&self.lua, value, 0).map_err(Failure::Lua)?;
                table.raw_set(*name, value).map_err(Failure::Lua)?;
            }
        }
        let returned = body.call::<LuaValue>(env).map_err(Failure::Lua)?;
        convert::to_json(&returned, Some(obj), 0).map_err(Failure::Result)
    }

    /// The script compiled as `function(_ENV, ...) <script> end`, from the
    /// cache or compiled now.
    fn compiled(&mut self, script: &Script) -> Result<Function, Failure> {
        if let Some(body) = self.compiled.get(&script.source) {
            return Ok(body.clone());
        }
        let name = format!("={}", script.name);
        // Compile the script on its own first, so a syntax error reads as it
        // would in any Lua and not in terms of the wrapper.
        self.lua
            .load(&*script.source)
            .set_name(name.as_str())
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(Failure::Compile)?;
        // The wrapper keeps line numbers (it adds nothing before line 1) and
        // loads with an empty environment: code that closes the wrapper
        // early still reaches nothing.
        let wrapped = format!("return function(_ENV, ...) {}\nend", script.source);
        let empty = self.lua.create_table().map_err(Failure::Lua)?;
        let body = self
            .lua
            .load(wrapped)
            .set_name(name.as_str())
            .set_mode(ChunkMode::Text)
            .set_environment(empty)
            .call::<Function>(())
            .map_err(Failure::Compile)?;
        if self.compiled.len() >= MAX_CACHED_SCRIPTS {
            self.compiled.clear();
        }
        self.compiled
            .insert(Arc::clone(&script.source), body.clone());
        Ok(body)
    }
}

/// How one evaluation went wrong, before it is named in a [`LuaError`].
enum Failure {
    Compile(mlua::Error),
    Lua(mlua::Error),
    Result(String),
}

fn is_memory_error(error: &mlua::Error) -> bool {
    match error {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::CallbackError { cause, .. } => is_memory_error(cause),
        mlua::Error::WithContext { cause, .. } => is_memory_error(cause),
        _ => false,
    }
}

/// What Lua said, without mlua's tracebacks and prefixes.
fn lua_message(error: &mlua::Error) -> String {
    match error {
        mlua::Error::RuntimeError(message) | mlua::Error::MemoryError(message) => message.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        mlua::Error::WithContext { cause, .. } => lua_message(cause),
        other => other.to_string(),
    }
}
