//! Customers of the FI (the Codat door's companies), their access tokens and their connections.

use crate::StoreResult;
use async_trait::async_trait;
use bankfeeds_domain::customer::{Customer, CustomerConnection, CustomerId, CustomerToken};
use bankfeeds_domain::{ConnectionId, NewConnection, OrgId, SecretHash, Timestamp};

#[async_trait]
pub trait CustomerStore: Send + Sync {
    async fn create_customer(&self, customer: &Customer) -> StoreResult<()>;

    /// A live customer of this organisation.
    async fn get_customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>>;

    /// The organisation's live customers, oldest first.
    async fn list_customers(&self, org: OrgId) -> StoreResult<Vec<Customer>>;

    /// Replaces a live customer's name, description, tags and `updated_at`. `NotFound` when
    /// there is none.
    async fn update_customer(&self, customer: &Customer) -> StoreResult<()>;

    /// Deletes a live customer and every live connection it has, in one transaction (their
    /// access tokens stop working). `NotFound` when there is none.
    async fn delete_customer(&self, org: OrgId, id: CustomerId, at: Timestamp) -> StoreResult<()>;

    async fn create_customer_token(&self, token: &CustomerToken) -> StoreResult<()>;

    async fn find_customer_token(&self, hash: &SecretHash) -> StoreResult<Option<CustomerToken>>;

    /// Stores a new connection belonging to a live customer of the connection's organisation.
    /// `NotFound` when there is no such customer.
    async fn create_customer_connection(
        &self,
        customer: CustomerId,
        new: &NewConnection,
    ) -> StoreResult<()>;

    /// The customer's live connections, oldest first (none for an unknown customer).
    async fn list_customer_connections(
        &self,
        org: OrgId,
        customer: CustomerId,
    ) -> StoreResult<Vec<CustomerConnection>>;

    /// One live connection of the customer.
    async fn get_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        connection: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>>;

    /// The live connection of the organisation as its customer holds it, whichever customer
    /// (the console's feed page); `None` for a connection made without a customer (the Rutter
    /// door) or not live.
    async fn find_customer_connection(
        &self,
        org: OrgId,
        connection: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>>;

    /// Unlinks a live connection of the customer: marks it unlinked and makes each of its
    /// active feeds `inactive` and not ready (with events), in one transaction. `NotFound`
    /// when the customer has no such live connection.
    async fn unlink_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<CustomerConnection>;
}
