//! Lenient deserializers for the generated response types.
//!
//! The API sends some numbers and booleans as strings (`"Total": "10"`, `"Success": "True"`).
//! Each helper accepts the JSON value itself or a string holding it. The `opt_` variants also
//! accept `null` and the empty string (as `None`); use them with `#[serde(default)]` so a missing
//! field is `None` too.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, Unexpected, Visitor};

/// A type the lenient visitors can produce.
trait Lenient: Sized {
    const EXPECTING: &'static str;
    fn from_i64(v: i64) -> Option<Self>;
    fn from_u64(v: u64) -> Option<Self>;
    fn from_f64(v: f64) -> Option<Self>;
    fn from_bool(v: bool) -> Option<Self>;
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

/// Visits one value; `optional` turns null and `""` into `None` instead of an error.
struct LenientVisitor<T> {
    optional: bool,
    _t: PhantomData<T>,
}

impl<T> LenientVisitor<T> {
    fn new(optional: bool) -> Self {
        Self { optional, _t: PhantomData }
    }
}

impl<'de, T: Lenient> Visitor<'de> for LenientVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        T::from_bool(v).map(Some).ok_or_else(|| E::invalid_type(Unexpected::Bool(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::from_i64(v).map(Some).ok_or_else(|| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::from_u64(v).map(Some).ok_or_else(|| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        T::from_f64(v).map(Some).ok_or_else(|| E::invalid_value(Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if self.optional && v.trim().is_empty() {
            return Ok(None);
        }
        T::from_text(v).map(Some).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        if self.optional { Ok(None) } else { Err(E::invalid_type(Unexpected::Unit, &self)) }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn required<'de, D: Deserializer<'de>, T: Lenient>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(LenientVisitor::<T>::new(false))?.ok_or_else(|| de::Error::custom(T::EXPECTING))
}

fn optional<'de, D: Deserializer<'de>, T: Lenient>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(LenientVisitor::<T>::new(true))
}

/// An `i32` given as a number or a string.
pub fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    required(d)
}

/// An `i64` given as a number or a string.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    required(d)
}

/// A `bool` given as a boolean, `"true"`/`"false"` in any case, or `0`/`1`.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    required(d)
}

/// Like [`i32`], also accepting `null` and `""` as `None`.
pub fn opt_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    optional(d)
}

/// Like [`i64`], also accepting `null` and `""` as `None`.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    optional(d)
}

/// Like [`bool`], also accepting `null` and `""` as `None`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    optional(d)
}

/// A list that may be absent or `null`: both read as empty.
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Ok(<Option<Vec<T>> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Out {
        #[serde(rename = "Total", deserialize_with = "super::i32")]
        total: i32,
        #[serde(rename = "Big", deserialize_with = "super::i64")]
        big: i64,
        #[serde(rename = "Success", deserialize_with = "super::bool")]
        success: bool,
        #[serde(rename = "PageNo", default, deserialize_with = "super::opt_i32")]
        page_no: Option<i32>,
        #[serde(rename = "Time", default, deserialize_with = "super::opt_i64")]
        time: Option<i64>,
        #[serde(rename = "Online", default, deserialize_with = "super::opt_bool")]
        online: Option<bool>,
    }

    fn parse(s: &str) -> Result<Out, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn numbers_and_strings() {
        let a = parse(r#"{"Total": 10, "Big": 1600000000000, "Success": true}"#).unwrap();
        let b = parse(r#"{"Total": "10", "Big": "1600000000000", "Success": "True"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.total, 10);
        assert_eq!(a.big, 1_600_000_000_000);
        assert!(a.success);
        assert_eq!((a.page_no, a.time, a.online), (None, None, None));
        let c = parse(
            r#"{"Total": " 7 ", "Big": -3, "Success": "false", "PageNo": "2", "Time": 5, "Online": "TRUE"}"#,
        )
        .unwrap();
        assert_eq!((c.total, c.big, c.success), (7, -3, false));
        assert_eq!((c.page_no, c.time, c.online), (Some(2), Some(5), Some(true)));
        let d = parse(r#"{"Total": 10.0, "Big": "2.0", "Success": 1}"#).unwrap();
        assert_eq!((d.total, d.big, d.success), (10, 2, true));
    }

    #[test]
    fn null_and_empty_are_none_for_optional() {
        let a = parse(
            r#"{"Total": 1, "Big": 1, "Success": "FALSE", "PageNo": null, "Time": "", "Online": null}"#,
        )
        .unwrap();
        assert_eq!((a.page_no, a.time, a.online), (None, None, None));
        assert!(!a.success);
    }

    #[test]
    fn bad_values_are_errors_with_position() {
        for bad in [
            r#"{"Total": "ten", "Big": 1, "Success": true}"#,
            r#"{"Total": 1, "Big": 1, "Success": "yes"}"#,
            r#"{"Total": 4294967296, "Big": 1, "Success": true}"#,
            r#"{"Total": 1.5, "Big": 1, "Success": true}"#,
            r#"{"Total": null, "Big": 1, "Success": true}"#,
            r#"{"Total": "", "Big": 1, "Success": true}"#,
            r#"{"Total": 1, "Big": 1, "Success": 2}"#,
            r#"{"Total": 1, "Big": 1, "Success": true, "PageNo": "x"}"#,
            r#"{"Total": [1], "Big": 1, "Success": true}"#,
            r#"{"Total": 1, "Big": 1e300, "Success": true}"#,
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.line() >= 1, "{bad}: {err}");
        }
        let err = parse(r#"{"Total": "ten", "Big": 1, "Success": true}"#).unwrap_err();
        assert!(err.to_string().contains("an integer (or a string holding one)"), "{err}");
    }
}
