-- Webhooks: each merchant's endpoints, one delivery per event and endpoint
-- (fanned out from the outbox, whose `delivered_at` now says the event was
-- fanned out), and every attempt to send one.
drop index outbox_pending;
create index outbox_undispatched on outbox (outbox_id) where delivered_at is null;

create table webhook_endpoint (
    webhook_endpoint_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    url text not null,
    -- JSON array of event types; ["*"] is every type.
    event_types text not null,
    enabled integer not null,
    description text,
    secret_sealed text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index webhook_endpoint_merchant on webhook_endpoint (merchant_id, webhook_endpoint_id);

create table webhook_delivery (
    webhook_delivery_id text primary key,
    merchant_id text not null,
    webhook_endpoint_id text not null references webhook_endpoint (webhook_endpoint_id) on delete cascade,
    -- The event (an outbox id), or a ping's own id.
    event_id text not null,
    event_type text not null,
    resource_id text not null,
    status text not null check (status in ('pending', 'succeeded', 'failed')),
    attempts integer not null default 0,
    next_attempt_at bigint not null,
    -- Retries stop after this time (72 hours after the event, or after a redelivery).
    give_up_at bigint not null,
    -- A worker's claim: nobody else sends this delivery before it ends.
    lease_until bigint not null default 0,
    last_status_code integer,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null,
    unique (webhook_endpoint_id, event_id)
);
create index webhook_delivery_due on webhook_delivery (next_attempt_at) where status = 'pending';
create index webhook_delivery_resource on webhook_delivery (webhook_endpoint_id, resource_id, event_id);
create index webhook_delivery_log on webhook_delivery (merchant_id, webhook_endpoint_id, webhook_delivery_id);

create table webhook_attempt (
    webhook_attempt_id text primary key,
    webhook_delivery_id text not null references webhook_delivery (webhook_delivery_id) on delete cascade,
    attempt integer not null,
    status_code integer,
    latency_ms bigint not null,
    response_snippet text,
    error text,
    created_at bigint not null
);
create index webhook_attempt_delivery on webhook_attempt (webhook_delivery_id, attempt);
