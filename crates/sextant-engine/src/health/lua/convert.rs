//! Values across the Lua boundary: a JSON object into Lua tables the way
//! Argo CD's scripts expect it, and a script's returned table back into a
//! [`Health`].
//!
//! Numbers become Lua numbers (Lua 5.2 numbers are doubles, as in the Lua
//! Argo CD embeds), so a whole number prints as `3`, not `3.0`. JSON null
//! becomes nil: a null field reads as absent, and a null array element
//! leaves a hole. Arrays become sequences from index 1.

use mlua::{Lua, Table, Value as LuaValue};
use serde_json::Value;

use crate::health::{Health, HealthStatus};

/// How deep an object may nest before it is refused (Kubernetes objects
/// stay far below this; it bounds the recursion).
pub(super) const MAX_DEPTH: usize = 128;

/// What was wrong with a script's result, for
/// [`super::LuaError::BadResult`].
pub(super) type ResultProblem = String;

/// Build the Lua value for a JSON value.
pub(super) fn to_lua(lua: &Lua, value: &Value, depth: usize) -> mlua::Result<LuaValue> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime(format!(
            "the object nests deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(match value {
        Value::Null => LuaValue::Nil,
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Number(n) => LuaValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => LuaValue::String(lua.create_string(s)?),
        Value::Array(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                let item = to_lua(lua, item, depth + 1)?;
                if !item.is_nil() {
                    table.raw_set(i + 1, item)?;
                }
            }
            LuaValue::Table(table)
        }
        Value::Object(map) => {
            let table = lua.create_table_with_capacity(0, map.len())?;
            for (key, item) in map {
                let item = to_lua(lua, item, depth + 1)?;
                if !item.is_nil() {
                    table.raw_set(key.as_str(), item)?;
                }
            }
            LuaValue::Table(table)
        }
    })
}

/// Read a script's return value: nil means "no opinion" (`Ok(None)`), a
/// table needs a valid `status` and may have a `message` (a string or a
/// number). Reads fields raw, so a metatable cannot run code here.
pub(super) fn from_lua(value: &LuaValue) -> Result<Option<Health>, ResultProblem> {
    let table = match value {
        LuaValue::Nil => return Ok(None),
        LuaValue::Table(table) => table,
        other => {
            return Err(format!(
                "a {}, expected a table with status and message, or nil",
                other.type_name()
            ));
        }
    };
    let status = match field(table, "status")? {
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::Nil => return Err("a table without a status".to_owned()),
        other => {
            return Err(format!(
                "a {} as status, expected a string",
                other.type_name()
            ));
        }
    };
    let status: HealthStatus = status
        .parse()
        .map_err(|e| format!("an invalid status: {e}"))?;
    let message = match field(table, "message")? {
        LuaValue::Nil => String::new(),
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::Integer(i) => i.to_string(),
        LuaValue::Number(n) => number_text(n),
        other => {
            return Err(format!(
                "a {} as message, expected a string",
                other.type_name()
            ));
        }
    };
    Ok(Some(Health::new(status, message)))
}

/// Read a script's returned value as JSON (a resource action's object or
/// list of impacts). A table with the keys 1..n is an array; an empty
/// table is `[]` where `hint` (the value at the same place in the object
/// the script was given) is an array, `{}` otherwise; a whole number is an
/// integer. Functions and other Lua-only values are refused.
pub(super) fn to_json(
    value: &LuaValue,
    hint: Option<&Value>,
    depth: usize,
) -> Result<Value, ResultProblem> {
    if depth > MAX_DEPTH {
        return Err(format!("a value nested deeper than {MAX_DEPTH} levels"));
    }
    Ok(match value {
        LuaValue::Nil => Value::Null,
        LuaValue::Boolean(b) => Value::Bool(*b),
        LuaValue::Integer(i) => Value::from(*i),
        LuaValue::Number(n) => number_json(*n)?,
        LuaValue::String(s) => Value::String(s.to_string_lossy()),
        LuaValue::Table(table) => table_json(table, hint, depth)?,
        other => return Err(format!("a {} inside the result", other.type_name())),
    })
}

fn number_json(n: f64) -> Result<Value, ResultProblem> {
    if !n.is_finite() {
        return Err(format!("the number {n}, which JSON cannot hold"));
    }
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return Ok(Value::from(n as i64));
    }
    Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
}

fn table_json(table: &Table, hint: Option<&Value>, depth: usize) -> Result<Value, ResultProblem> {
    let mut entries: Vec<(LuaValue, LuaValue)> = Vec::new();
    for pair in table.clone().pairs::<LuaValue, LuaValue>() {
        entries.push(pair.map_err(|e| format!("a table that cannot be read ({e})"))?);
    }
    if entries.is_empty() {
        return Ok(match hint {
            Some(Value::Array(_)) => Value::Array(Vec::new()),
            _ => Value::Object(serde_json::Map::new()),
        });
    }
    let index = |k: &LuaValue| match k {
        LuaValue::Integer(i) if *i >= 1 => Some(*i as usize),
        LuaValue::Number(n) if n.fract() == 0.0 && *n >= 1.0 => Some(*n as usize),
        _ => None,
    };
    let n = entries.len();
    if entries
        .iter()
        .all(|(k, _)| index(k).is_some_and(|i| i <= n))
    {
        let mut items = vec![Value::Null; n];
        for (k, v) in &entries {
            let i = index(k).unwrap_or(1) - 1;
            let element_hint = hint.and_then(|h| h.get(i));
            items[i] = to_json(v, element_hint, depth + 1)?;
        }
        return Ok(Value::Array(items));
    }
    let mut map = serde_json::Map::new();
    for (k, v) in &entries {
        let key = match k {
            LuaValue::String(s) => s.to_string_lossy(),
            LuaValue::Integer(i) => i.to_string(),
            LuaValue::Number(n) => number_text(*n),
            other => return Err(format!("a table with a {} as a key", other.type_name())),
        };
        let field_hint = hint.and_then(|h| h.get(&key));
        map.insert(key, to_json(v, field_hint, depth + 1)?);
    }
    Ok(Value::Object(map))
}

fn field(table: &Table, name: &str) -> Result<LuaValue, ResultProblem> {
    table
        .raw_get::<LuaValue>(name)
        .map_err(|e| format!("a table whose {name} cannot be read ({e})"))
}

/// A number as Lua 5.1 prints it: whole numbers without a fraction.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(lua: &Lua, value: Value, expr: &str) -> String {
        let env = lua.create_table().unwrap();
        env.set("obj", to_lua(lua, &value, 0).unwrap()).unwrap();
        env.set(
            "tostring",
            lua.globals().get::<LuaValue>("tostring").unwrap(),
        )
        .unwrap();
        lua.load(format!("return tostring({expr})"))
            .set_environment(env)
            .eval::<String>()
            .unwrap()
    }

    #[test]
    fn whole_json_numbers_print_without_a_decimal_point() {
        let lua = Lua::new();
        let obj = json!({"replicas": 3, "big": 123456789012_i64, "half": 0.5});
        assert_eq!(round_trip(&lua, obj.clone(), "obj.replicas"), "3");
        assert_eq!(round_trip(&lua, obj.clone(), "obj.replicas / 3"), "1");
        assert_eq!(round_trip(&lua, obj.clone(), "obj.big"), "123456789012");
        assert_eq!(round_trip(&lua, obj, "obj.half"), "0.5");
    }

    #[test]
    fn arrays_start_at_one_and_nulls_read_as_nil() {
        let lua = Lua::new();
        let obj = json!({"items": ["a", "b"], "gone": null});
        assert_eq!(
            round_trip(&lua, obj.clone(), "obj.items[1] .. #obj.items"),
            "a2"
        );
        assert_eq!(round_trip(&lua, obj, "obj.gone == nil"), "true");
    }

    #[test]
    fn objects_nested_too_deep_are_refused() {
        let lua = Lua::new();
        let mut value = json!(1);
        for _ in 0..=MAX_DEPTH {
            value = json!([value]);
        }
        assert!(to_lua(&lua, &value, 0).is_err());
    }

    #[test]
    fn lua_values_come_back_as_json_with_empty_tables_shaped_like_the_original() {
        let lua = Lua::new();
        let original = json!({"items": ["a"], "labels": {"x": "y"}, "n": 1});
        let eval = |code: &str| {
            to_json(
                &lua.load(code).eval::<LuaValue>().unwrap(),
                Some(&original),
                0,
            )
        };
        assert_eq!(
            eval("return {items = {}, labels = {}, n = 2, half = 0.5, list = {'a', 'b'}}").unwrap(),
            json!({"items": [], "labels": {}, "n": 2, "half": 0.5, "list": ["a", "b"]})
        );
        assert_eq!(
            eval("return {[1] = 'a', [3] = 'c'}").unwrap(),
            json!({"1": "a", "3": "c"})
        );
        assert!(eval("return {f = function() end}").is_err());
        assert!(eval("return {n = 0/0}").is_err());
    }

    #[test]
    fn results_need_a_known_status() {
        let lua = Lua::new();
        let eval = |code: &str| from_lua(&lua.load(code).eval::<LuaValue>().unwrap());
        assert_eq!(eval("return nil"), Ok(None));
        assert_eq!(
            eval("return {status = 'Degraded', message = 2}"),
            Ok(Some(Health::degraded("2")))
        );
        assert!(eval("return {status = 'Fine'}").is_err());
        assert!(eval("return {message = 'x'}").is_err());
        assert!(eval("return 'Healthy'").is_err());
    }
}
