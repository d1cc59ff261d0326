//! Trigger conditions: expr expressions over `app` (the Application as
//! JSON), as Argo CD's triggers are written. An expression that fails
//! (reads past a missing field, say) counts as false and is reported.

use expr::{Context, Value as X};
use serde_json::Value;

use crate::config::Condition;

/// A condition that holds for an app.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// Its index in the trigger's list.
    pub index: usize,
    /// Templates to send.
    pub send: Vec<String>,
    /// The `oncePer` value, when the condition has one.
    pub once_per: Option<String>,
}

/// What each condition of a trigger says about `app`: the ones that hold,
/// and the indexes of those that do not (which re-arm), plus errors.
pub struct Verdict {
    /// Conditions that hold.
    pub fired: Vec<Fired>,
    /// Conditions that do not.
    pub quiet: Vec<usize>,
    /// Expressions that could not be evaluated.
    pub errors: Vec<String>,
}

fn to_x(v: &Value) -> X {
    match v {
        Value::Null => X::Nil,
        Value::Bool(b) => X::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(X::Integer)
            .or_else(|| n.as_f64().map(X::Float))
            .unwrap_or(X::Nil),
        Value::String(s) => X::String(s.clone()),
        Value::Array(a) => X::Array(a.iter().map(to_x).collect()),
        Value::Object(m) => X::Map(m.iter().map(|(k, v)| (k.clone(), to_x(v))).collect()),
    }
}

fn show(x: &X) -> String {
    match x {
        X::String(s) => s.clone(),
        X::Nil => String::new(),
        other => other.to_string(),
    }
}

/// Evaluate `conditions` for `app`.
pub fn evaluate(conditions: &[Condition], app: &Value) -> Verdict {
    let mut ctx = Context::default();
    ctx.insert("app".to_owned(), to_x(app));
    let mut verdict = Verdict {
        fired: Vec::new(),
        quiet: Vec::new(),
        errors: Vec::new(),
    };
    for (index, c) in conditions.iter().enumerate() {
        match expr::eval(&c.when, &ctx) {
            Ok(X::Bool(true)) => {
                let once_per = match &c.once_per {
                    None => None,
                    Some(e) => match expr::eval(e, &ctx) {
                        Ok(v) => Some(show(&v)),
                        Err(err) => {
                            verdict.errors.push(format!("oncePer `{e}`: {err}"));
                            Some(String::new())
                        }
                    },
                };
                verdict.fired.push(Fired {
                    index,
                    send: c.send.clone(),
                    once_per,
                });
            }
            Ok(X::Bool(false)) => verdict.quiet.push(index),
            Ok(other) => {
                verdict.quiet.push(index);
                verdict
                    .errors
                    .push(format!("`{}` gave {other}, not true or false", c.when));
            }
            Err(e) => {
                verdict.quiet.push(index);
                verdict.errors.push(format!("`{}`: {e}", c.when));
            }
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(when: &str, once_per: Option<&str>) -> Condition {
        Condition {
            when: when.into(),
            send: vec!["t".into()],
            once_per: once_per.map(Into::into),
            description: None,
        }
    }

    #[test]
    fn argo_cd_conditions_evaluate_over_the_app() {
        let app = json!({"metadata": {"name": "web"}, "status": {
            "sync": {"status": "Synced", "revision": "abc"},
            "health": {"status": "Healthy"},
            "operationState": {"phase": "Succeeded", "startedAt": "t1"}}});
        let builtin = crate::config::Config::parse(&Default::default(), &Default::default());
        for (trigger, fires) in [
            ("on-sync-succeeded", true),
            ("on-deployed", true),
            ("on-sync-failed", false),
            ("on-health-degraded", false),
            ("on-created", true),
            ("on-deleted", false),
        ] {
            let v = evaluate(&builtin.triggers[trigger], &app);
            assert!(v.errors.is_empty(), "{trigger}: {:?}", v.errors);
            assert_eq!(!v.fired.is_empty(), fires, "{trigger}");
        }
        let v = evaluate(&builtin.triggers["on-deployed"], &app);
        assert_eq!(v.fired[0].once_per.as_deref(), Some("abc"));
        // No operation yet: the guard keeps the condition false, no error.
        let fresh =
            json!({"metadata": {"name": "web"}, "status": {"sync": {"status": "OutOfSync"}}});
        let v = evaluate(&builtin.triggers["on-sync-succeeded"], &fresh);
        assert!(v.fired.is_empty() && v.errors.is_empty(), "{:?}", v.errors);
    }

    #[test]
    fn a_broken_expression_is_false_and_reported() {
        let v = evaluate(&[cond("app.status ==", None)], &json!({}));
        assert!(v.fired.is_empty());
        assert_eq!(v.errors.len(), 1);
        let v = evaluate(&[cond("'x'", None)], &json!({}));
        assert!(v.errors[0].contains("not true or false"), "{:?}", v.errors);
    }
}
