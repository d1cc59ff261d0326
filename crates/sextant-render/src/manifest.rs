//! Parsing manifests: multi-document YAML and JSON into objects, `kind:
//! List` flattened, empty documents dropped, every error carrying the file
//! and line.

use serde::Deserialize;
use serde_json::Value;

/// A malformed file.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The YAML does not parse.
    #[error("could not parse `{file}` at line {line}")]
    Yaml {
        /// The file, relative to the repository root.
        file: String,
        /// 1-based line of the problem (0 when unknown).
        line: usize,
        /// The parser's message.
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// The JSON does not parse.
    #[error("could not parse `{file}` at line {line}")]
    Json {
        /// The file, relative to the repository root.
        file: String,
        /// 1-based line of the problem.
        line: usize,
        /// The parser's message.
        #[source]
        source: serde_json::Error,
    },
    /// A `kind: List` whose `items` is not a list of objects.
    #[error("`{file}` has a List whose items are not objects (document {document})")]
    BadList {
        /// The file.
        file: String,
        /// 1-based document number.
        document: usize,
    },
}

/// One document of a file, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 1-based document number within the file.
    pub index: usize,
    /// The parsed value (never `null`).
    pub value: Value,
}

/// Parse a YAML stream (which also covers JSON) into its non-empty
/// documents.
pub fn parse_yaml(file: &str, text: &str) -> Result<Vec<Document>, ParseError> {
    let mut docs = Vec::new();
    for (i, de) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(de).map_err(|source| ParseError::Yaml {
            file: file.to_owned(),
            line: source.location().map_or(0, |l| l.line()),
            source,
        })?;
        if !value.is_null() {
            docs.push(Document {
                index: i + 1,
                value,
            });
        }
    }
    Ok(docs)
}

/// Parse a JSON file: one value, or several concatenated.
pub fn parse_json(file: &str, text: &str) -> Result<Vec<Document>, ParseError> {
    let mut docs = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for (i, value) in stream.enumerate() {
        let value = value.map_err(|source| ParseError::Json {
            file: file.to_owned(),
            line: source.line(),
            source,
        })?;
        if !value.is_null() {
            docs.push(Document {
                index: i + 1,
                value,
            });
        }
    }
    Ok(docs)
}

/// Replace every `kind: List` (and `*List` with `items`) by its items.
pub fn flatten_lists(file: &str, docs: Vec<Document>) -> Result<Vec<Document>, ParseError> {
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        flatten_into(file, doc, &mut out, 0)?;
    }
    Ok(out)
}

fn flatten_into(
    file: &str,
    doc: Document,
    out: &mut Vec<Document>,
    depth: usize,
) -> Result<(), ParseError> {
    if !is_list(&doc.value) || depth > 8 {
        out.push(doc);
        return Ok(());
    }
    let bad = || ParseError::BadList {
        file: file.to_owned(),
        document: doc.index,
    };
    let Some(Value::Array(items)) = doc.value.get("items") else {
        return Err(bad());
    };
    for item in items {
        if !item.is_object() {
            return Err(bad());
        }
        let child = Document {
            index: doc.index,
            value: item.clone(),
        };
        flatten_into(file, child, out, depth + 1)?;
    }
    Ok(())
}

fn is_list(value: &Value) -> bool {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    kind == "List" || (kind.ends_with("List") && value.get("items").is_some_and(Value::is_array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_drops_empty_documents() {
        let text = "---\na: 1\n---\n# just a comment\n---\n---\nb: 2\n";
        let docs = parse_yaml("f.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value["b"], 2);
        assert_eq!(docs[1].index, 4);
    }

    #[test]
    fn a_yaml_error_names_the_file_and_the_line_of_the_problem() {
        let text = "a: 1\n---\nb: [1,\n  2\nc: 3\n";
        let err = parse_yaml("apps/web.yaml", text).unwrap_err();
        let ParseError::Yaml { file, line, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(file, "apps/web.yaml");
        assert_eq!(*line, 5);
        assert_eq!(err.to_string(), "could not parse `apps/web.yaml` at line 5");
    }

    #[test]
    fn concatenated_json_values_are_documents_and_errors_have_lines() {
        let docs = parse_json("x.json", "{\"a\":1}\n{\"b\":2}").unwrap();
        assert_eq!(docs.len(), 2);
        let err = parse_json("x.json", "{\n\"a\": 1,\n}").unwrap_err();
        assert!(matches!(err, ParseError::Json { line: 3, .. }), "{err:?}");
    }

    #[test]
    fn lists_are_flattened_recursively() {
        let text = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- apiVersion: v1
  kind: ConfigMapList
  items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
"#;
        let docs = flatten_lists("l.yaml", parse_yaml("l.yaml", text).unwrap()).unwrap();
        let names: Vec<_> = docs
            .iter()
            .map(|d| d.value["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        let bad = parse_yaml("l.yaml", "kind: List\nitems: [1]\n").unwrap();
        assert!(flatten_lists("l.yaml", bad).is_err());
    }
}
