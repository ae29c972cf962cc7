-- Native Stripe: payments authorized at checkout and captured later (an
-- attempt `authorized`; capture manual or on fulfilment), the provider's
-- events each processed once, and disputes flagged on their order.
-- SQLite cannot change a check constraint: the two tables are rebuilt.
create table payment_attempt_new (
    payment_attempt_id text primary key,
    merchant_id text not null,
    order_id text not null references sales_order (order_id),
    plugin_id text not null,
    provider text not null,
    amount bigint not null,
    currency text not null,
    token text,
    status text not null check (status in ('started', 'succeeded', 'requires_action', 'pending', 'authorized',
        'failed', 'unknown', 'voided')),
    provider_reference text,
    next_action text,
    message text,
    failure_reason text,
    created_at bigint not null,
    updated_at bigint not null
);
insert into payment_attempt_new (payment_attempt_id, merchant_id, order_id, plugin_id, provider, amount, currency,
    token, status, provider_reference, next_action, message, failure_reason, created_at, updated_at)
select payment_attempt_id, merchant_id, order_id, plugin_id, provider, amount, currency, token, status,
    provider_reference, next_action, message, failure_reason, created_at, updated_at from payment_attempt;
drop table payment_attempt;
alter table payment_attempt_new rename to payment_attempt;
create index payment_attempt_order on payment_attempt (merchant_id, order_id);
create index payment_attempt_status on payment_attempt (status, updated_at);
create index payment_attempt_reference on payment_attempt (merchant_id, provider_reference);

create table payment_provider_new (
    merchant_id text not null references merchant (merchant_id),
    provider text not null check (provider in ('stripe')),
    publishable_key text not null,
    secret_key_sealed text not null,
    secret_key_last4 text not null,
    webhook_secret_sealed text not null,
    webhook_secret_last4 text not null,
    capture text not null check (capture in ('automatic', 'manual', 'on_fulfillment')),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (merchant_id, provider)
);
insert into payment_provider_new select merchant_id, provider, publishable_key, secret_key_sealed,
    secret_key_last4, webhook_secret_sealed, webhook_secret_last4, capture, created_at, updated_at
    from payment_provider;
drop table payment_provider;
alter table payment_provider_new rename to payment_provider;

alter table sales_order add column disputed_at bigint;

-- Every provider event processed, by its id: a delivery seen before is
-- acknowledged and changes nothing.
create table provider_event (
    merchant_id text not null references merchant (merchant_id),
    provider text not null,
    event_id text not null,
    type text not null,
    order_id text,
    received_at bigint not null,
    primary key (merchant_id, provider, event_id)
);
