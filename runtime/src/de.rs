//! Decoding answers into the generated response types.
//!
//! The generated types do not derive `serde::Deserialize`: every derived impl is a visitor, a
//! field enum and their instantiations per type, which made most of the generated crate's
//! compile time. Instead the runtime parses a body once into a [`Value`] (non-generic code,
//! compiled once here) and each generated type implements [`FromJson`] as one straight-line
//! function that takes its members out of an [`Object`] with the non-generic helpers below.
//! A member of the wrong type is reported with its path (`Items[2].ClientId: expected a string,
//! found a number`).
//!
//! The API sends some numbers and booleans as strings (`"Total": "10"`, `"Success": "True"`):
//! [`Object::req_lenient`] and [`Object::opt_lenient`] accept the JSON value itself or a string
//! holding it; the optional form also takes `null` and `""` as `None`.

use std::fmt;

use serde::Deserializer;
use serde::de;
pub use serde_json::Value;

/// A type the lenient readers can produce: `i32`, `i64` and `bool`.
pub trait Lenient: Sized {
    /// What the value should be, for messages.
    const EXPECTING: &'static str;
    /// From a JSON integer.
    fn from_i64(v: i64) -> Option<Self>;
    /// From a JSON integer above `i64::MAX`.
    fn from_u64(v: u64) -> Option<Self>;
    /// From a JSON number with a fraction or exponent.
    fn from_f64(v: f64) -> Option<Self>;
    /// From a JSON boolean.
    fn from_bool(v: bool) -> Option<Self>;
    /// From the text of a JSON string.
    fn from_text(s: &str) -> Option<Self>;
}

macro_rules! lenient_int {
    ($t:ty, $expecting:literal) => {
        impl Lenient for $t {
            const EXPECTING: &'static str = $expecting;
            fn from_i64(v: i64) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
            fn from_u64(v: u64) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
            fn from_f64(v: f64) -> Option<Self> {
                // Only integral values within range, e.g. `10.0`.
                if v.fract() == 0.0 && v >= <$t>::MIN as f64 && v <= <$t>::MAX as f64 {
                    Some(v as $t)
                } else {
                    None
                }
            }
            fn from_bool(_: bool) -> Option<Self> {
                None
            }
            fn from_text(s: &str) -> Option<Self> {
                let s = s.trim();
                s.parse::<$t>().ok().or_else(|| s.parse::<f64>().ok().and_then(Self::from_f64))
            }
        }
    };
}

lenient_int!(i32, "an integer (or a string holding one)");
lenient_int!(i64, "an integer (or a string holding one)");

impl Lenient for bool {
    const EXPECTING: &'static str = "a boolean (or a string holding one)";
    fn from_i64(v: i64) -> Option<Self> {
        match v {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok().and_then(Self::from_i64)
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
    fn from_text(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("true") || s == "1" {
            Some(true)
        } else if s.eq_ignore_ascii_case("false") || s == "0" {
            Some(false)
        } else {
            None
        }
    }
}

/// Why a JSON answer does not fit the generated type: where (a path of member names and list
/// indexes, outermost first) and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    path: String,
    problem: String,
}

impl Mismatch {
    /// A problem with the value at hand.
    pub fn new(problem: impl Into<String>) -> Mismatch {
        Mismatch { path: String::new(), problem: problem.into() }
    }

    fn expected(what: &str, found: &Value) -> Mismatch {
        let found = match found {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        };
        Mismatch::new(format!("expected {what}, found {found}"))
    }

    /// The same problem, one level further out: inside the member `name`.
    fn within(mut self, name: &str) -> Mismatch {
        self.path = match self.path.as_str() {
            "" => name.to_owned(),
            p if p.starts_with('[') => format!("{name}{p}"),
            p => format!("{name}.{p}"),
        };
        self
    }

    /// The same problem, inside element `index` of a list.
    fn at(mut self, index: usize) -> Mismatch {
        self.path = match self.path.as_str() {
            "" => format!("[{index}]"),
            p if p.starts_with('[') => format!("[{index}]{p}"),
            p => format!("[{index}].{p}"),
        };
        self
    }

    /// Where the problem is, e.g. `Items[2].ClientId` (empty for the answer itself).
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "`{}`: {}", self.path, self.problem)
        }
    }
}

impl std::error::Error for Mismatch {}

/// Parses `body` as JSON and reads a `T` from it; the error says which went wrong.
pub(crate) fn from_slice<T: FromJson>(body: &[u8]) -> Result<T, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    T::from_json(value).map_err(|m| m.to_string())
}

/// A type read from a parsed JSON value. Generated response types implement it, each as one
/// function over [`Object`]; the runtime implements it for `String`, `bool`, `i32` and `i64`
/// (strict: a number for the numbers, a boolean for `bool`).
pub trait FromJson: Sized {
    /// Reads `value`, which it owns (strings move out without a copy).
    fn from_json(value: Value) -> Result<Self, Mismatch>;
}

impl FromJson for String {
    fn from_json(value: Value) -> Result<Self, Mismatch> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(Mismatch::expected("a string", &other)),
        }
    }
}

impl FromJson for bool {
    fn from_json(value: Value) -> Result<Self, Mismatch> {
        match value {
            Value::Bool(b) => Ok(b),
            other => Err(Mismatch::expected("a boolean", &other)),
        }
    }
}

/// An integer that fits `T`, whose range is `min..=max` (for the message).
fn integer<T: TryFrom<i64>>(value: &Value, min: i64, max: i64) -> Result<T, Mismatch> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .and_then(|v| T::try_from(v).ok())
            .ok_or_else(|| Mismatch::new(format!("expected an integer from {min} to {max}, found {n}"))),
        other => Err(Mismatch::expected("an integer", other)),
    }
}

impl FromJson for i32 {
    fn from_json(value: Value) -> Result<Self, Mismatch> {
        integer(&value, i32::MIN.into(), i32::MAX.into())
    }
}

impl FromJson for i64 {
    fn from_json(value: Value) -> Result<Self, Mismatch> {
        integer(&value, i64::MIN, i64::MAX)
    }
}

fn lenient<T: Lenient>(value: &Value, optional: bool) -> Result<Option<T>, Mismatch> {
    let found = match value {
        Value::Null if optional => return Ok(None),
        Value::String(s) if optional && s.trim().is_empty() => return Ok(None),
        Value::Bool(b) => T::from_bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(v), _) => T::from_i64(v),
            (None, Some(v)) => T::from_u64(v),
            _ => n.as_f64().and_then(T::from_f64),
        },
        Value::String(s) => T::from_text(s),
        _ => None,
    };
    match found {
        Some(v) => Ok(Some(v)),
        None => match value {
            Value::Number(_) | Value::String(_) => {
                Err(Mismatch::new(format!("expected {}, found {value}", T::EXPECTING)))
            }
            other => Err(Mismatch::expected(T::EXPECTING, other)),
        },
    }
}

/// The members of one JSON object, taken out by name by a generated [`FromJson`] impl.
/// Members the type does not name are ignored (the API may add some).
#[derive(Debug)]
pub struct Object {
    members: serde_json::Map<String, Value>,
}

impl Object {
    /// The object `value` is, or a mismatch.
    pub fn new(value: Value) -> Result<Object, Mismatch> {
        match value {
            Value::Object(members) => Ok(Object { members }),
            other => Err(Mismatch::expected("an object", &other)),
        }
    }

    /// The member `name`, `None` when absent or `null`.
    fn take(&mut self, name: &str) -> Option<Value> {
        self.members.remove(name).filter(|v| !v.is_null())
    }

    fn required(&mut self, name: &str) -> Result<Value, Mismatch> {
        match self.members.remove(name) {
            Some(Value::Null) => Err(Mismatch::new("expected a value, found null").within(name)),
            Some(v) => Ok(v),
            None => Err(Mismatch::new(format!("the required member `{name}` is missing"))),
        }
    }

    /// A member the answer always has.
    pub fn req<T: FromJson>(&mut self, name: &str) -> Result<T, Mismatch> {
        let value = self.required(name)?;
        T::from_json(value).map_err(|e| e.within(name))
    }

    /// A member the answer may leave out (or send as `null`).
    pub fn opt<T: FromJson>(&mut self, name: &str) -> Result<Option<T>, Mismatch> {
        match self.take(name) {
            None => Ok(None),
            Some(value) => T::from_json(value).map(Some).map_err(|e| e.within(name)),
        }
    }

    /// A list member; absent or `null` reads as empty.
    pub fn list<T: FromJson>(&mut self, name: &str) -> Result<Vec<T>, Mismatch> {
        let items = self.take_list(name)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match T::from_json(item) {
                Ok(value) => out.push(value),
                Err(e) => return Err(e.at(i).within(name)),
            }
        }
        Ok(out)
    }

    /// The items of a list member (none when it is absent or `null`); the part of
    /// [`list`](Self::list) that is not generic.
    fn take_list(&mut self, name: &str) -> Result<Vec<Value>, Mismatch> {
        match self.take(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(Mismatch::expected("a list", &other).within(name)),
        }
    }

    /// A number or boolean the answer always has, given as itself or as a string.
    pub fn req_lenient<T: Lenient>(&mut self, name: &str) -> Result<T, Mismatch> {
        let value = self.required(name)?;
        match lenient(&value, false) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(Mismatch::new(format!("expected {}", T::EXPECTING)).within(name)),
            Err(e) => Err(e.within(name)),
        }
    }

    /// Like [`req_lenient`](Self::req_lenient) for a member the answer may leave out; `null`
    /// and `""` read as `None` too.
    pub fn opt_lenient<T: Lenient>(&mut self, name: &str) -> Result<Option<T>, Mismatch> {
        match self.members.remove(name) {
            None => Ok(None),
            Some(value) => lenient(&value, true).map_err(|e| e.within(name)),
        }
    }
}

/// `serde::Deserialize` for a [`FromJson`] type (through a [`Value`]), for code that decodes
/// the generated types with serde.
pub fn deserialize<'de, D: Deserializer<'de>, T: FromJson>(d: D) -> Result<T, D::Error> {
    let value = <Value as serde::Deserialize>::deserialize(d)?;
    T::from_json(value).map_err(de::Error::custom)
}

#[cfg(test)]
mod tests {
    mod from_json {
        use super::super::{FromJson, Mismatch, Object, Value};

        #[derive(Debug, PartialEq)]
        struct Inner {
            name: String,
            kind: Option<String>,
        }

        impl FromJson for Inner {
            fn from_json(value: Value) -> Result<Self, Mismatch> {
                let mut o = Object::new(value)?;
                Ok(Inner { name: o.req("Name")?, kind: o.opt("Kind")? })
            }
        }

        #[derive(Debug, PartialEq)]
        struct Out {
            total: i32,
            big: i64,
            success: bool,
            page_no: Option<i32>,
            online: Option<bool>,
            strict: i32,
            items: Vec<Inner>,
            first: Option<Inner>,
            tags: Vec<String>,
        }

        impl FromJson for Out {
            fn from_json(value: Value) -> Result<Self, Mismatch> {
                let mut o = Object::new(value)?;
                Ok(Out {
                    total: o.req_lenient("Total")?,
                    big: o.req_lenient("Big")?,
                    success: o.req_lenient("Success")?,
                    page_no: o.opt_lenient("PageNo")?,
                    online: o.opt_lenient("Online")?,
                    strict: o.req("Strict")?,
                    items: o.list("Items")?,
                    first: o.opt("First")?,
                    tags: o.list("Tags")?,
                })
            }
        }

        fn parse(s: &str) -> Result<Out, Mismatch> {
            Out::from_json(serde_json::from_str(s).unwrap())
        }

        #[test]
        fn members_by_name_unknown_ones_ignored() {
            let a = parse(
                r#"{"Total": "10", "Big": 1600000000000, "Success": "True", "Strict": -4,
                    "Items": [{"Name": "a"}, {"Name": "b", "Kind": "k", "New": [1]}],
                    "First": {"Name": "f", "Kind": null}, "Tags": ["x"], "Later": {"x": 1}}"#,
            )
            .unwrap();
            assert_eq!((a.total, a.big, a.success, a.strict), (10, 1_600_000_000_000, true, -4));
            assert_eq!((a.page_no, a.online), (None, None));
            assert_eq!(a.items[1], Inner { name: "b".into(), kind: Some("k".into()) });
            assert_eq!(a.first, Some(Inner { name: "f".into(), kind: None }));
            assert_eq!(a.tags, ["x"]);
            // Absent and null lists are empty; null and "" optional lenient values are None.
            let b = parse(
                r#"{"Total": 1, "Big": "2", "Success": 0, "Strict": 3, "Items": null, "PageNo": "",
                    "Online": null}"#,
            )
            .unwrap();
            assert!(b.items.is_empty() && b.tags.is_empty() && b.first.is_none());
            assert_eq!((b.page_no, b.online, b.success), (None, None, false));
        }

        #[test]
        fn mismatches_name_the_member() {
            let base = r#""Total": 1, "Big": 1, "Success": true, "Strict": 1"#;
            let cases = [
                (
                    format!("{{{base}, \"Items\": [{{\"Name\": 1}}]}}"),
                    "Items[0].Name",
                    "expected a string, found a number",
                ),
                (format!("{{{base}, \"Items\": {{}}}}"), "Items", "expected a list, found an object"),
                (
                    format!("{{{base}, \"First\": {{\"Kind\": \"k\"}}}}"),
                    "First",
                    "the required member `Name` is missing",
                ),
                (format!("{{{base}, \"Tags\": [\"a\", null]}}"), "Tags[1]", "expected a string, found null"),
                (
                    r#"{"Total": "ten", "Big": 1, "Success": true, "Strict": 1}"#.into(),
                    "Total",
                    "expected an integer (or a string holding one), found \"ten\"",
                ),
                (
                    r#"{"Total": 1, "Big": 1, "Success": "yes", "Strict": 1}"#.into(),
                    "Success",
                    "expected a boolean (or a string holding one), found \"yes\"",
                ),
                (
                    r#"{"Total": 4294967296, "Big": 1, "Success": true, "Strict": 1}"#.into(),
                    "Total",
                    "expected an integer (or a string holding one), found 4294967296",
                ),
                (
                    r#"{"Total": null, "Big": 1, "Success": true, "Strict": 1}"#.into(),
                    "Total",
                    "expected a value, found null",
                ),
                (
                    r#"{"Total": 1, "Big": 1, "Success": true, "Strict": "1"}"#.into(),
                    "Strict",
                    "expected an integer, found a string",
                ),
                (
                    r#"{"Total": 1, "Big": 1, "Success": true, "Strict": 1.5}"#.into(),
                    "Strict",
                    "expected an integer from -2147483648 to 2147483647, found 1.5",
                ),
                (
                    r#"{"Total": 1, "Big": 1, "Success": true, "Strict": 1, "PageNo": [2]}"#.into(),
                    "PageNo",
                    "expected an integer (or a string holding one), found a list",
                ),
            ];
            for (json, path, problem) in cases {
                let err = parse(&json).unwrap_err();
                assert_eq!((err.path(), err.to_string()), (path, format!("`{path}`: {problem}")), "{json}");
            }
            let err = parse(r#"{"Big": 1, "Success": true, "Strict": 1}"#).unwrap_err();
            assert_eq!(
                (err.path(), err.to_string().as_str()),
                ("", "the required member `Total` is missing")
            );
            let err = parse("[1]").unwrap_err();
            assert_eq!(err.to_string(), "expected an object, found a list");
        }

        /// The members the API may send as strings, read leniently.
        #[derive(Debug, PartialEq)]
        struct Numbers {
            total: i32,
            big: i64,
            success: bool,
            page_no: Option<i32>,
            time: Option<i64>,
            online: Option<bool>,
        }

        impl FromJson for Numbers {
            fn from_json(value: Value) -> Result<Self, Mismatch> {
                let mut o = Object::new(value)?;
                Ok(Numbers {
                    total: o.req_lenient("Total")?,
                    big: o.req_lenient("Big")?,
                    success: o.req_lenient("Success")?,
                    page_no: o.opt_lenient("PageNo")?,
                    time: o.opt_lenient("Time")?,
                    online: o.opt_lenient("Online")?,
                })
            }
        }

        fn numbers(s: &str) -> Result<Numbers, Mismatch> {
            Numbers::from_json(serde_json::from_str(s).unwrap())
        }

        #[test]
        fn numbers_and_strings() {
            let a = numbers(r#"{"Total": 10, "Big": 1600000000000, "Success": true}"#).unwrap();
            let b = numbers(r#"{"Total": "10", "Big": "1600000000000", "Success": "True"}"#).unwrap();
            assert_eq!(a, b);
            assert_eq!(a.total, 10);
            assert_eq!(a.big, 1_600_000_000_000);
            assert!(a.success);
            assert_eq!((a.page_no, a.time, a.online), (None, None, None));
            let c = numbers(
                r#"{"Total": " 7 ", "Big": -3, "Success": "false", "PageNo": "2", "Time": 5, "Online": "TRUE"}"#,
            )
            .unwrap();
            assert_eq!((c.total, c.big, c.success), (7, -3, false));
            assert_eq!((c.page_no, c.time, c.online), (Some(2), Some(5), Some(true)));
            let d = numbers(r#"{"Total": 10.0, "Big": "2.0", "Success": 1}"#).unwrap();
            assert_eq!((d.total, d.big, d.success), (10, 2, true));
        }

        #[test]
        fn null_and_empty_are_none_for_optional() {
            let a = numbers(
                r#"{"Total": 1, "Big": 1, "Success": "FALSE", "PageNo": null, "Time": "", "Online": null}"#,
            )
            .unwrap();
            assert_eq!((a.page_no, a.time, a.online), (None, None, None));
            assert!(!a.success);
        }

        #[test]
        fn bad_values_are_errors_naming_the_member() {
            for (bad, member) in [
                (r#"{"Total": "ten", "Big": 1, "Success": true}"#, "Total"),
                (r#"{"Total": 1, "Big": 1, "Success": "yes"}"#, "Success"),
                (r#"{"Total": 4294967296, "Big": 1, "Success": true}"#, "Total"),
                (r#"{"Total": 1.5, "Big": 1, "Success": true}"#, "Total"),
                (r#"{"Total": null, "Big": 1, "Success": true}"#, "Total"),
                (r#"{"Total": "", "Big": 1, "Success": true}"#, "Total"),
                (r#"{"Total": 1, "Big": 1, "Success": 2}"#, "Success"),
                (r#"{"Total": 1, "Big": 1, "Success": true, "PageNo": "x"}"#, "PageNo"),
                (r#"{"Total": [1], "Big": 1, "Success": true}"#, "Total"),
                (r#"{"Total": 1, "Big": 1e300, "Success": true}"#, "Big"),
            ] {
                let err = numbers(bad).unwrap_err();
                assert_eq!(err.path(), member, "{bad}: {err}");
            }
            let err = numbers(r#"{"Total": "ten", "Big": 1, "Success": true}"#).unwrap_err();
            assert!(err.to_string().contains("an integer (or a string holding one)"), "{err}");
        }

        #[test]
        fn serde_deserialize_goes_through_from_json() {
            #[derive(Debug)]
            struct Via(Inner);
            impl<'de> serde::Deserialize<'de> for Via {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    super::super::deserialize(d).map(Via)
                }
            }
            let v: Via = serde_json::from_str(r#"{"Name": "n"}"#).unwrap();
            assert_eq!(v.0.name, "n");
            let err = serde_json::from_str::<Via>(r#"{"Name": 2}"#).unwrap_err();
            assert!(err.to_string().contains("`Name`: expected a string"), "{err}");
        }
    }
}
