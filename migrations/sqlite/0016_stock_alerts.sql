-- Low-stock alerts: a per-variant threshold of available units, and the
-- alert state last seen ('ok', 'low' or 'out'), so each crossing downwards
-- writes one event (inventory.low_stock, inventory.out_of_stock) and a
-- variant stocked again is armed for the next.
alter table variant add column low_stock_threshold bigint;
alter table variant add column stock_alert text not null default 'ok';
