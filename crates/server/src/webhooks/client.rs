//! The outbound client deliveries go through: `https` only, no redirects followed, 15 s for the
//! whole try, and never a loopback, private, link-local or metadata address. The check is on
//! the *resolved* address: the client's resolver drops every forbidden address a name resolves
//! to, and the connection is made to what it kept, so a name that resolves (or re-resolves) to
//! an internal address cannot be reached. Address literals are checked before sending. All of
//! it is off with `webhooks_allow_private` (development and tests).

use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::Arc;

use bankfeeds_domain::webhook::delivery::{ATTEMPT_TIMEOUT, RESPONSE_KEPT_BYTES};
use bankfeeds_domain::webhook::is_forbidden_ip;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves with the system resolver and keeps only addresses a webhook may reach.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| !is_forbidden_ip(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(format!(
                    "{host} resolves only to loopback, private, link-local or otherwise internal addresses"
                )
                .into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// What a receiver answered: its status, `Retry-After` and the start of its body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Clone)]
pub struct SafeClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl SafeClient {
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .user_agent(concat!("bankfeeds-webhooks/", env!("CARGO_PKG_VERSION")))
            .use_rustls_tls();
        if !allow_private {
            b = b.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(SafeClient {
            http: b.build()?,
            allow_private,
        })
    }

    /// POSTs `body` with `headers`; an error says why there was no answer.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, String> {
        let target = self.check(url)?;
        let mut req = self
            .http
            .post(target)
            .header("content-type", "application/json");
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let mut resp = req.body(body).send().await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut kept = Vec::new();
        // Only the start of the answer is kept; the rest is not read (nor waited for).
        while kept.len() < RESPONSE_KEPT_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(Answer {
            status,
            retry_after,
            body: kept,
        })
    }

    /// The URL if it may be sent to now: `https` (or `http` when private targets are allowed)
    /// and not an internal address literal. Names are checked when resolved.
    fn check(&self, raw: &str) -> Result<reqwest::Url, String> {
        let url = reqwest::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            other => return Err(format!("scheme {other} refused: https is required")),
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::V6(v6)),
            Some(url::Host::Domain(_)) => None,
            None => return Err("no host".into()),
        };
        if let Some(ip) = literal.filter(|ip| !self.allow_private && is_forbidden_ip(*ip)) {
            return Err(format!("{ip} is an internal address"));
        }
        Ok(url)
    }
}

/// An error with its causes, without the URL's query (it may carry a token).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_public_literals_are_sent_to() {
        let strict = SafeClient::new(false).unwrap();
        assert!(strict.check("https://hooks.example.com/x").is_ok());
        assert!(strict.check("http://hooks.example.com/x").is_err());
        assert!(strict.check("https://127.0.0.1/x").is_err());
        assert!(strict.check("https://169.254.169.254/latest").is_err());
        assert!(strict.check("https://[::1]/x").is_err());
        assert!(strict.check("https://[::ffff:10.0.0.1]/x").is_err());
        let dev = SafeClient::new(true).unwrap();
        assert!(dev.check("http://127.0.0.1:9/x").is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_after_resolution() {
        let strict = SafeClient::new(false).unwrap();
        let err = strict
            .post("https://localhost:1/hook", &[], b"{}".to_vec())
            .await
            .unwrap_err();
        assert!(err.contains("internal addresses"), "{err}");
    }
}
