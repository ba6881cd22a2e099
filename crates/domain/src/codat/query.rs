//! Codat's query language for list operations: `prop op value` clauses joined with `&&` and
//! `||`, grouped with `{ }`, e.g. `status=Success && {requestedOnUtc>2026-01-01 || statusCode=400}`.
//! Operators: `=`, `!=`, `~` (contains, strings), `>`, `<`, `>=`, `<=` (numbers and dates). Dots
//! reach sub-properties. `orderBy` is a property, or `-property` for descending.
//!
//! Queries are evaluated on a resource's JSON form, exactly as the API shows it, so every
//! property the caller can see can be queried. A malformed query is an error the API answers
//! with a 400.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use serde_json::Value;

/// Codat limits a query's length.
pub const MAX_QUERY_LEN: usize = 2048;

/// How deep `{ }` groups may nest. The parser recurses once per level, and a caller must not be
/// able to spend the server's stack with a query of nothing but `{`.
pub const MAX_GROUP_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Error parsing query - Malformed query: {0}")]
pub struct QueryError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Contains,
    Gt,
    Lt,
    Ge,
    Le,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Clause {
        path: Vec<String>,
        op: Op,
        value: String,
    },
    And(Vec<Query>),
    Or(Vec<Query>),
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        if text.len() >= MAX_QUERY_LEN {
            return Err(QueryError(format!(
                "longer than {} characters",
                MAX_QUERY_LEN - 1
            )));
        }
        let mut p = Parser {
            s: text,
            i: 0,
            depth: 0,
        };
        let q = p.or()?;
        p.space();
        if p.i != p.s.len() {
            return Err(QueryError(format!("unexpected {:?}", &p.s[p.i..])));
        }
        Ok(q)
    }

    /// Whether a resource (in its JSON form) matches.
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Query::And(qs) => qs.iter().all(|q| q.matches(resource)),
            Query::Or(qs) => qs.iter().any(|q| q.matches(resource)),
            Query::Clause { path, op, value } => {
                let Some(found) = lookup(resource, path) else {
                    // Absent or null properties match only "not equal".
                    return *op == Op::Ne;
                };
                compare(found, *op, value)
            }
        }
    }
}

impl Query {
    /// Every property path the query reads.
    pub fn paths(&self) -> Vec<&[String]> {
        match self {
            Query::Clause { path, .. } => vec![path.as_slice()],
            Query::And(qs) | Query::Or(qs) => qs.iter().flat_map(Query::paths).collect(),
        }
    }
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// Numbers compare as exact decimals, dates as instants, everything else as text ignoring case.
fn order(found: &Value, wanted: &str) -> Option<Ordering> {
    let text = match found {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    if let (Ok(a), Ok(b)) = (text.parse::<Decimal>(), wanted.parse::<Decimal>()) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (instant(&text), instant(wanted)) {
        return Some(a.cmp(&b));
    }
    Some(text.to_lowercase().cmp(&wanted.to_lowercase()))
}

fn instant(s: &str) -> Option<chrono::NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

fn compare(found: &Value, op: Op, wanted: &str) -> bool {
    match op {
        Op::Contains => match found {
            Value::String(s) => s.to_lowercase().contains(&wanted.to_lowercase()),
            _ => false,
        },
        _ => {
            let Some(o) = order(found, wanted) else {
                return op == Op::Ne;
            };
            match op {
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
                Op::Gt => o == Ordering::Greater,
                Op::Lt => o == Ordering::Less,
                Op::Ge => o != Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Contains => unreachable!(),
            }
        }
    }
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
    /// `{ }` groups open at this point.
    depth: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn space(&mut self) {
        while self.rest().starts_with(char::is_whitespace) {
            self.i += self.rest().chars().next().map_or(1, char::len_utf8);
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.space();
        if self.rest().starts_with(token) {
            self.i += token.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Query, QueryError> {
        self.joined("||", Self::and, Query::Or)
    }

    fn and(&mut self) -> Result<Query, QueryError> {
        self.joined("&&", Self::term, Query::And)
    }

    /// One `part`, then one more after each `separator`: a lone part is itself, several are
    /// `combine`d.
    fn joined(
        &mut self,
        separator: &str,
        part: fn(&mut Self) -> Result<Query, QueryError>,
        combine: fn(Vec<Query>) -> Query,
    ) -> Result<Query, QueryError> {
        let mut parts = vec![part(self)?];
        while self.eat(separator) {
            parts.push(part(self)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            combine(parts)
        })
    }

    fn term(&mut self) -> Result<Query, QueryError> {
        if self.eat("{") {
            if self.depth == MAX_GROUP_DEPTH {
                return Err(QueryError(format!(
                    "groups nested deeper than {MAX_GROUP_DEPTH}"
                )));
            }
            self.depth += 1;
            let q = self.or()?;
            self.depth -= 1;
            if !self.eat("}") {
                return Err(QueryError("a `{` is not closed".into()));
            }
            return Ok(q);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Query, QueryError> {
        self.space();
        let name_len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .unwrap_or(self.rest().len());
        let name = self.rest()[..name_len].to_owned();
        if name.is_empty() || name.starts_with('.') || name.ends_with('.') || name.contains("..") {
            return Err(QueryError(format!(
                "expected a property at {:?}",
                self.rest()
            )));
        }
        let path = name.split('.').map(str::to_owned).collect();
        self.i += name_len;
        self.space();
        let op = [
            ("!=", Op::Ne),
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("=", Op::Eq),
            ("~", Op::Contains),
            (">", Op::Gt),
            ("<", Op::Lt),
        ]
        .into_iter()
        .find(|(t, _)| self.rest().starts_with(t));
        let Some((token, op)) = op else {
            return Err(QueryError(format!("expected an operator after {name:?}")));
        };
        self.i += token.len();
        self.space();
        // The value runs to the next `&&`, `||` or `}`.
        let end = ["&&", "||", "}"]
            .iter()
            .filter_map(|t| self.rest().find(t))
            .min()
            .unwrap_or(self.rest().len());
        let value = self.rest()[..end].trim().to_owned();
        if value.is_empty() || value.starts_with(['=', '<', '>', '~', '!']) {
            return Err(QueryError(format!("expected a value after {name:?}")));
        }
        self.i += end;
        Ok(Query::Clause { path, op, value })
    }
}

/// `orderBy`: a property, ascending, or `-property`, descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub path: Vec<String>,
    pub descending: bool,
}

impl OrderBy {
    pub fn parse(text: &str) -> Result<OrderBy, QueryError> {
        let t = text.trim();
        let (descending, name) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let valid = !name.is_empty()
            && name.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !valid {
            return Err(QueryError(format!("cannot order by {text:?}")));
        }
        Ok(OrderBy {
            path: name.split('.').map(str::to_owned).collect(),
            descending,
        })
    }

    /// Sorts resources by the property (absent values last); stable, so equal keys keep
    /// their order.
    pub fn sort(&self, items: &mut [Value]) {
        items.sort_by(|a, b| {
            let o = match (lookup(a, &self.path), lookup(b, &self.path)) {
                (Some(x), Some(y)) => {
                    let ys = match y {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    order(x, &ys).unwrap_or(Ordering::Equal)
                }
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => return Ordering::Equal,
            };
            if self.descending {
                o.reverse()
            } else {
                o
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(status: &str, code: i64, at: &str) -> Value {
        json!({"status": status, "statusCode": code, "requestedOnUtc": at, "data": {"accountId": "CHK-1"}, "errorMessage": null})
    }

    /// Issue 12, item 7: 2,047 `{` used to recurse 2,047 levels deep (about 1.8 MB of stack).
    #[test]
    fn group_nesting_is_bounded() {
        let nested = |n: usize| format!("{}status=Success{}", "{".repeat(n), "}".repeat(n));
        let deepest = Query::parse(&nested(MAX_GROUP_DEPTH)).unwrap();
        assert!(deepest.matches(&op("Success", 200, "2026-01-01T00:00:00Z")));
        let err = Query::parse(&nested(MAX_GROUP_DEPTH + 1)).unwrap_err();
        assert!(err.0.contains("nested deeper than 16"), "{err}");
        let err = Query::parse(&"{".repeat(MAX_QUERY_LEN - 1)).unwrap_err();
        assert!(err.0.contains("nested deeper"), "{err}");
    }

    #[test]
    fn clauses_combine_with_and_or_and_groups() {
        let a = op("Success", 200, "2026-11-01T10:00:00Z");
        let b = op("Failed", 400, "2026-11-02T10:00:00Z");
        let q = Query::parse("status=Success").unwrap();
        assert!(q.matches(&a) && !q.matches(&b));
        let q = Query::parse("status != success").unwrap();
        assert!(
            !q.matches(&a) && q.matches(&b),
            "values compare ignoring case"
        );
        let q = Query::parse("statusCode>=400 && requestedOnUtc>2026-11-01").unwrap();
        assert!(!q.matches(&a) && q.matches(&b));
        let q = Query::parse("{status=Failed || statusCode=200} && data.accountId~chk").unwrap();
        assert!(q.matches(&a) && q.matches(&b));
        let q = Query::parse("requestedOnUtc<2026-11-02T00:00:00Z").unwrap();
        assert!(q.matches(&a) && !q.matches(&b));
        let q = Query::parse("errorMessage=anything").unwrap();
        assert!(!q.matches(&a), "null properties match nothing but !=");
    }

    #[test]
    fn numbers_compare_exactly() {
        let v = json!({"balance": 0.1});
        assert!(Query::parse("balance=0.10").unwrap().matches(&v));
        assert!(Query::parse("balance>0.09999999999").unwrap().matches(&v));
        assert!(!Query::parse("balance>0.1").unwrap().matches(&v));
    }

    #[test]
    fn malformed_queries_are_refused() {
        for bad in [
            "",
            "status",
            "status=",
            "=Success",
            "status==Success",
            "{status=Success",
            "status=Success &&",
            "a..b=1",
            "status=Success}",
        ] {
            assert!(Query::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Query::parse(&"a=1&&".repeat(500)).is_err());
    }

    #[test]
    fn order_by_sorts_either_way() {
        let mut items = vec![
            op("A", 1, "2026-11-02T00:00:00Z"),
            op("B", 2, "2026-11-01T00:00:00Z"),
            op("C", 10, "2026-11-03T00:00:00Z"),
        ];
        OrderBy::parse("-requestedOnUtc").unwrap().sort(&mut items);
        let s: Vec<_> = items
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        assert_eq!(s, ["C", "A", "B"]);
        OrderBy::parse("statusCode").unwrap().sort(&mut items);
        let s: Vec<_> = items
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        assert_eq!(s, ["A", "B", "C"], "numbers sort as numbers, not text");
        assert!(OrderBy::parse("-").is_err() && OrderBy::parse("a b").is_err());
    }
}
