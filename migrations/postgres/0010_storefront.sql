-- Products carry their pictures, in display order: [{url, alt, variant_id}].
alter table product add column images text not null default '[]';

-- An order waiting for its payment holds a random placeholder number below
-- zero, so placing it takes no lock on the merchant's row; the counter of
-- placeholders goes.
alter table merchant drop column checkout_seq;

-- Money on the wire is `{"amount", "currency"}` everywhere; what orders
-- stored as bare minor units (the amounts of adjustments and tax lines, and
-- of the events that pay or pay back money) takes the same shape.
create or replace function pg_temp.money_amounts(items text, currency text) returns text language sql immutable as $$
    select coalesce(jsonb_agg(case when jsonb_typeof(e -> 'amount') = 'number'
        then jsonb_set(e, '{amount}', jsonb_build_object('amount', e -> 'amount', 'currency', currency))
        else e end order by i), '[]'::jsonb)::text
    from jsonb_array_elements(items::jsonb) with ordinality as t(e, i)
$$;
create or replace function pg_temp.money_at(doc text, path text[], currency text) returns text language sql immutable as $$
    select case when jsonb_typeof(doc::jsonb #> path) = 'number'
        then jsonb_set(doc::jsonb, path, jsonb_build_object('amount', doc::jsonb #> path, 'currency', currency))::text
        else doc end
$$;

update sales_order set
    adjustments = pg_temp.money_amounts(adjustments, currency),
    shipping_tax_lines = pg_temp.money_amounts(shipping_tax_lines, currency);
update order_line l set
    adjustments = pg_temp.money_amounts(l.adjustments, o.currency),
    tax_lines = pg_temp.money_amounts(l.tax_lines, o.currency)
    from sales_order o where o.order_id = l.order_id;
update order_event e set
    data = pg_temp.money_at(pg_temp.money_at(e.data, '{amount}', o.currency), '{refunded}', o.currency)
    from sales_order o where o.order_id = e.order_id;
update outbox x set
    payload = pg_temp.money_at(pg_temp.money_at(x.payload, '{data,amount}', o.currency), '{data,refunded}', o.currency)
    from sales_order o where o.order_id = x.aggregate_id and x.topic like 'order.%';
