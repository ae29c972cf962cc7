-- Native Stripe: payments authorized at checkout and captured later (an
-- attempt `authorized`; capture manual or on fulfilment), the provider's
-- events each processed once, and disputes flagged on their order.
alter table payment_attempt drop constraint payment_attempt_status_check;
alter table payment_attempt add constraint payment_attempt_status_check check (status in ('started', 'succeeded',
    'requires_action', 'pending', 'authorized', 'failed', 'unknown', 'voided'));

alter table payment_provider drop constraint payment_provider_capture_check;
alter table payment_provider add constraint payment_provider_capture_check
    check (capture in ('automatic', 'manual', 'on_fulfillment'));

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
