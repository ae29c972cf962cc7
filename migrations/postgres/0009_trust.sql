-- Secrets of the deployment, created once by the first host that needs one
-- and shared by every host on this database (e.g. the key that fingerprints
-- idempotent request bodies).
create table host_secret (
    name text primary key,
    value text not null,
    created_at bigint not null
);

-- An idempotency key whose request is still running is leased: the host
-- running it renews the lease, and a claim whose lease ran out (its host
-- died) is taken over by the next retry.
alter table idempotency_key add column lease_until bigint;

-- An order is numbered when it is confirmed (paid, payment pending or
-- waiting for the buyer's authentication), so a checkout whose payment is
-- declined uses no order number and never shows in the merchant's orders.
-- Until then it holds a placeholder number below zero from this counter.
alter table merchant add column checkout_seq bigint not null default 0;

-- Origins a merchant's storefront is served from (JSON array of
-- "scheme://host[:port]"): browsers there may call the store API (CORS).
alter table merchant add column allowed_origins text not null default '[]';
