//! The table-driven decoder: walks a message's wire fields against its
//! [`Field`] table and builds the Kubernetes JSON object.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::ProtobufError;
use super::types::{Field, Kind};
use super::wire::{Reader, Wire};

/// Decode one message into a JSON object.
pub(crate) fn message(
    buf: &[u8],
    fields: &'static [Field],
) -> Result<Map<String, Value>, ProtobufError> {
    let mut out = Map::new();
    decode_into(buf, fields, &mut out)?;
    Ok(out)
}

fn decode_into(
    buf: &[u8],
    fields: &'static [Field],
    out: &mut Map<String, Value>,
) -> Result<(), ProtobufError> {
    let mut reader = Reader::new(buf);
    while let Some((tag, wire)) = reader.next_field()? {
        // A tag missing from the table is a field newer than our tables (or
        // one Kubernetes dropped): skip it and keep decoding, as protobuf
        // decoders do. The rest of the object is still faithful; only that
        // field is lost.
        let Some(field) = fields.iter().find(|field| field.tag == tag) else {
            continue;
        };
        decode_field(field, wire, out).map_err(|err| err.within(field.name))?;
    }
    Ok(())
}

fn decode_field(
    field: &Field,
    wire: Wire<'_>,
    out: &mut Map<String, Value>,
) -> Result<(), ProtobufError> {
    let value = match field.kind {
        Kind::Str => Value::String(string(wire)?),
        Kind::Bytes => Value::String(BASE64.encode(bytes(wire)?)),
        // Truncation is the protobuf rule for int32 sent as a 64-bit varint.
        Kind::I32 => Value::from(varint(wire)? as i32),
        Kind::I64 => Value::from(varint(wire)? as i64),
        Kind::Bool => Value::Bool(varint(wire)? != 0),
        Kind::Time => time(bytes(wire)?)?,
        Kind::Quantity => quantity(bytes(wire)?)?,
        Kind::IntOrString => int_or_string(bytes(wire)?)?,
        Kind::RawJson => raw_json(bytes(wire)?)?,
        Kind::Msg(def) => {
            // A repeated occurrence of a message field merges into the
            // first, per protobuf rules.
            let slot = out
                .entry(field.name)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(obj) = slot {
                decode_into(bytes(wire)?, def, obj)?;
            }
            return Ok(());
        }
        Kind::Inline(def) => return decode_into(bytes(wire)?, def, out),
        Kind::ListStr => return push(out, field.name, [Value::String(string(wire)?)]),
        Kind::ListI32 => {
            let items = varints(wire)?.into_iter().map(|v| Value::from(v as i32));
            return push(out, field.name, items);
        }
        Kind::ListI64 => {
            let items = varints(wire)?.into_iter().map(|v| Value::from(v as i64));
            return push(out, field.name, items);
        }
        Kind::ListMsg(def) => {
            let index = match out.get(field.name) {
                Some(Value::Array(items)) => items.len(),
                _ => 0,
            };
            let item =
                message(bytes(wire)?, def).map_err(|err| err.within(&format!("[{index}]")))?;
            return push(out, field.name, [Value::Object(item)]);
        }
        Kind::MapStr | Kind::MapBytes | Kind::MapQuantity | Kind::MapTime | Kind::MapStrList => {
            let (key, value) = map_entry(bytes(wire)?, field.kind)?;
            let slot = out
                .entry(field.name)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(obj) = slot {
                obj.insert(key, value);
            }
            return Ok(());
        }
    };
    // Scalars: the last occurrence wins; zero values are dropped unless the
    // table says the JSON keeps them.
    if field.keep_zero || !is_zero(&value) {
        out.insert(field.name.to_owned(), value);
    } else {
        out.remove(field.name);
    }
    Ok(())
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    }
}

fn push(
    out: &mut Map<String, Value>,
    name: &str,
    items: impl IntoIterator<Item = Value>,
) -> Result<(), ProtobufError> {
    let slot = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    if let Value::Array(list) = slot {
        list.extend(items);
    }
    Ok(())
}

fn wrong_wire(expected: &str, wire: Wire<'_>) -> ProtobufError {
    ProtobufError::malformed(format!(
        "expected {expected}, found wire type {}",
        wire.type_number()
    ))
}

fn varint(wire: Wire<'_>) -> Result<u64, ProtobufError> {
    match wire {
        Wire::Varint(v) => Ok(v),
        other => Err(wrong_wire("a varint", other)),
    }
}

fn bytes(wire: Wire<'_>) -> Result<&[u8], ProtobufError> {
    match wire {
        Wire::Bytes(b) => Ok(b),
        other => Err(wrong_wire("a length-delimited field", other)),
    }
}

/// Go marshals invalid UTF-8 in strings as U+FFFD; do the same.
fn string(wire: Wire<'_>) -> Result<String, ProtobufError> {
    Ok(String::from_utf8_lossy(bytes(wire)?).into_owned())
}

/// A repeated varint field occurrence: one value, or a packed run.
fn varints(wire: Wire<'_>) -> Result<Vec<u64>, ProtobufError> {
    match wire {
        Wire::Varint(v) => Ok(vec![v]),
        Wire::Bytes(packed) => {
            let mut reader = Reader::new(packed);
            let mut values = Vec::new();
            while !reader.is_empty() {
                values.push(reader.varint()?);
            }
            Ok(values)
        }
        other => Err(wrong_wire("a varint or packed varints", other)),
    }
}

/// `meta.v1.Time{seconds=1, nanos=2}`: `null` for the zero time (as Go's
/// JSON), else RFC 3339 at seconds precision, `2006-01-02T15:04:05Z`.
fn time(buf: &[u8]) -> Result<Value, ProtobufError> {
    let (mut seconds, mut nanos) = (0i64, 0i64);
    let mut reader = Reader::new(buf);
    while let Some((tag, wire)) = reader.next_field()? {
        match tag {
            1 => seconds = varint(wire)? as i64,
            2 => nanos = i64::from(varint(wire)? as i32),
            _ => {}
        }
    }
    if seconds == 0 && nanos == 0 {
        return Ok(Value::Null);
    }
    if !(0..1_000_000_000).contains(&nanos) {
        return Err(ProtobufError::malformed(format!(
            "time nanos {nanos} out of range"
        )));
    }
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return Err(ProtobufError::malformed(format!(
            "time year {year} outside 0..=9999"
        )));
    }
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    Ok(Value::String(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"
    )))
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), after
/// Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // March-based month, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `resource.Quantity{string=1}`; an empty quantity is Go's zero, `"0"`.
fn quantity(buf: &[u8]) -> Result<Value, ProtobufError> {
    let mut text = String::new();
    let mut reader = Reader::new(buf);
    while let Some((tag, wire)) = reader.next_field()? {
        if tag == 1 {
            text = string(wire)?;
        }
    }
    if text.is_empty() {
        text.push('0');
    }
    Ok(Value::String(text))
}

/// `intstr.IntOrString{type=1 (0 int, 1 string), intVal=2, strVal=3}`.
fn int_or_string(buf: &[u8]) -> Result<Value, ProtobufError> {
    let (mut kind, mut int_val, mut str_val) = (0u64, 0i32, String::new());
    let mut reader = Reader::new(buf);
    while let Some((tag, wire)) = reader.next_field()? {
        match tag {
            1 => kind = varint(wire)?,
            2 => int_val = varint(wire)? as i32,
            3 => str_val = string(wire)?,
            _ => {}
        }
    }
    match kind {
        0 => Ok(Value::from(int_val)),
        1 => Ok(Value::String(str_val)),
        other => Err(ProtobufError::malformed(format!(
            "IntOrString type {other} is neither 0 (int) nor 1 (string)"
        ))),
    }
}

/// `runtime.RawExtension` / `meta.v1.FieldsV1`: `{raw=1}` holding JSON.
fn raw_json(buf: &[u8]) -> Result<Value, ProtobufError> {
    let mut raw: &[u8] = &[];
    let mut reader = Reader::new(buf);
    while let Some((tag, wire)) = reader.next_field()? {
        if tag == 1 {
            raw = bytes(wire)?;
        }
    }
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(raw)
        .map_err(|err| ProtobufError::malformed(format!("embedded raw object is not JSON: {err}")))
}

/// `ExtraValue{items=1 repeated string}`: a JSON array in Kubernetes JSON.
fn str_list(buf: &[u8]) -> Result<Value, ProtobufError> {
    let mut items = Vec::new();
    let mut reader = Reader::new(buf);
    while let Some((tag, wire)) = reader.next_field()? {
        if tag == 1 {
            items.push(Value::String(string(wire)?));
        }
    }
    Ok(Value::Array(items))
}

/// One `map<string, V>` entry message `{key=1, value=2}`. A missing value is
/// the value type's zero.
fn map_entry(buf: &[u8], kind: Kind) -> Result<(String, Value), ProtobufError> {
    let mut key = String::new();
    let mut value = None;
    let mut reader = Reader::new(buf);
    while let Some((tag, wire)) = reader.next_field()? {
        match tag {
            1 => key = string(wire)?,
            2 => {
                value = Some(match kind {
                    Kind::MapBytes => Value::String(BASE64.encode(bytes(wire)?)),
                    Kind::MapQuantity => quantity(bytes(wire)?)?,
                    Kind::MapTime => time(bytes(wire)?)?,
                    Kind::MapStrList => str_list(bytes(wire)?)?,
                    _ => Value::String(string(wire)?),
                });
            }
            _ => {}
        }
    }
    let value = match (value, kind) {
        (Some(value), _) => value,
        (None, Kind::MapQuantity) => Value::String("0".to_owned()),
        (None, Kind::MapTime) => Value::Null,
        (None, Kind::MapStrList) => Value::Array(Vec::new()),
        (None, _) => Value::String(String::new()),
    };
    Ok((key, value))
}
