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
