//! The HTTP API end to end: a real host on loopback, a real database
//! (SQLite always, PostgreSQL when MERCATO_TEST_POSTGRES_URL is set), real
//! plugins.

mod catalog;
mod customers;
mod discounts;
mod explain;
mod idempotency;
mod inventory;
mod languages;
mod lifecycle;
mod limits;
mod network;
mod pages;
mod payment_providers;
mod platform;
mod plugins;
mod shadow;
mod storefront;
mod tenancy;
