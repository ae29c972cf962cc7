-- Inventory and discount codes: tenant-first indexes for listing, and a
-- per-level sequence so an inventory history stays in order when two
-- changes land in the same millisecond.

create index location_merchant on location (merchant_id, location_id);
create index discount_code_merchant on discount_code (merchant_id, discount_code_id);

alter table inventory_level add column adjustment_seq bigint not null default 0;
alter table inventory_adjustment add column seq bigint not null default 0;
