//! A list as a stream of its rows: each page is fetched when the rows before it are used up,
//! following `next_cursor` until the hub says there is no more.

use futures_util::{stream, Stream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::wire::pagination::Paged;
use crate::{Call, Client, Result};

/// The rows of the list at `path` (with `query`), page after page.
pub(crate) fn items<L>(
    client: Client,
    path: String,
    query: Vec<(&'static str, String)>,
) -> impl Stream<Item = Result<L::Item>> + Send + 'static
where
    L: Paged + DeserializeOwned + Send + 'static,
    L::Item: Send + 'static,
{
    // `None` once the last page has been fetched.
    let start = Some(None::<String>);
    stream::try_unfold(start, move |cursor| {
        let (client, path, query) = (client.clone(), path.clone(), query.clone());
        async move {
            let Some(cursor) = cursor else {
                return Ok::<_, crate::Error>(None);
            };
            let (rows, next) = page::<L>(&client, &path, query, cursor).await?;
            Ok(Some((rows, next.map(Some))))
        }
    })
    .map_ok(|rows| stream::iter(rows.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
}

/// One page: its rows and the cursor of the next, if any.
async fn page<L: Paged + DeserializeOwned>(
    client: &Client,
    path: &str,
    query: Vec<(&'static str, String)>,
    cursor: Option<String>,
) -> Result<(Vec<L::Item>, Option<String>)> {
    let mut call = Call::new(Method::GET, path);
    for (name, value) in query {
        call = call.query(name, value);
    }
    if let Some(cursor) = cursor {
        call = call.query("cursor", cursor);
    }
    let page: L = client.call(call).await?;
    Ok(page.into_page())
}
