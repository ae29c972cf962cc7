-- A merchant's connection to a payment provider the host speaks natively
-- (Stripe). Its secrets are sealed (XChaCha20-Poly1305 under the
-- deployment's secret key, bound to the merchant and the field); only their
-- last four characters are kept in clear, to show.
create table payment_provider (
    merchant_id text not null references merchant (merchant_id),
    provider text not null check (provider in ('stripe')),
    publishable_key text not null,
    secret_key_sealed text not null,
    secret_key_last4 text not null,
    webhook_secret_sealed text not null,
    webhook_secret_last4 text not null,
    capture text not null check (capture in ('automatic', 'manual')),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (merchant_id, provider)
);
