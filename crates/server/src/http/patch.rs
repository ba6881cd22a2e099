//! PATCH semantics for one field: absent (leave it), `null` (clear it) or a value (set it).
//! `Option<T>` cannot tell absent from `null`; `#[serde(default)] field: Patch<T>` can.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not in the body: leave the field as it is.
    #[default]
    Absent,
    /// `null`: clear the field.
    Null,
    /// A value: set the field to it.
    Value(T),
}

impl<T> Patch<T> {
    /// The change as the domain's patches spell it: `None` leaves the field, `Some(None)`
    /// clears it, `Some(Some(v))` sets it.
    pub fn into_update(self) -> Option<Option<T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(v) => Some(Some(v)),
        }
    }

    /// Converts the value, if there is one, keeping absent and `null` as they are.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(v) => Patch::Value(f(v)?),
        })
    }
}

/// A present field is `null` or a value; absence is the `#[serde(default)]`.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Patch::Null,
            Some(v) => Patch::Value(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default)]
        limit: Patch<u32>,
    }

    fn body(json: &str) -> Result<Patch<u32>, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|b| b.limit)
    }

    #[test]
    fn absent_null_and_a_value_are_three_things() {
        assert_eq!(body("{}").unwrap(), Patch::Absent);
        assert_eq!(body(r#"{"limit": null}"#).unwrap(), Patch::Null);
        assert_eq!(body(r#"{"limit": 7}"#).unwrap(), Patch::Value(7));
        assert!(
            body(r#"{"limit": "seven"}"#).is_err(),
            "a value of the wrong type"
        );
    }

    #[test]
    fn the_domain_reads_them_as_nested_options() {
        assert_eq!(Patch::<u32>::Absent.into_update(), None);
        assert_eq!(Patch::<u32>::Null.into_update(), Some(None));
        assert_eq!(Patch::Value(7).into_update(), Some(Some(7)));
    }

    #[test]
    fn try_map_converts_only_a_value() {
        let parse = |s: &str| s.parse::<u32>().map_err(|_| "not a number");
        assert_eq!(Patch::Value("7").try_map(parse), Ok(Patch::Value(7)));
        assert_eq!(Patch::Value("x").try_map(parse), Err("not a number"));
        assert_eq!(Patch::<&str>::Null.try_map(parse), Ok(Patch::Null));
        assert_eq!(Patch::<&str>::Absent.try_map(parse), Ok(Patch::Absent));
    }
}
