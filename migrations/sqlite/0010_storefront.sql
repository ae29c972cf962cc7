-- Products carry their pictures, in display order: [{url, alt, variant_id}].
alter table product add column images text not null default '[]';

-- An order waiting for its payment holds a random placeholder number below
-- zero, so placing it takes no lock on the merchant's row; the counter of
-- placeholders goes.
alter table merchant drop column checkout_seq;

-- Money on the wire is `{"amount", "currency"}` everywhere; what orders
-- stored as bare minor units (the amounts of adjustments and tax lines, and
-- of the events that pay or pay back money) takes the same shape.
update sales_order set
    adjustments = (
        select json_group_array(case when json_type(value, '$.amount') = 'integer'
            then json_set(value, '$.amount', json_object('amount', json_extract(value, '$.amount'), 'currency', sales_order.currency))
            else json(value) end)
        from json_each(sales_order.adjustments)),
    shipping_tax_lines = (
        select json_group_array(case when json_type(value, '$.amount') = 'integer'
            then json_set(value, '$.amount', json_object('amount', json_extract(value, '$.amount'), 'currency', sales_order.currency))
            else json(value) end)
        from json_each(sales_order.shipping_tax_lines));

update order_line set
    adjustments = (
        select json_group_array(case when json_type(value, '$.amount') = 'integer'
            then json_set(value, '$.amount', json_object('amount', json_extract(value, '$.amount'), 'currency', o.currency))
            else json(value) end)
        from json_each(order_line.adjustments), sales_order o where o.order_id = order_line.order_id),
    tax_lines = (
        select json_group_array(case when json_type(value, '$.amount') = 'integer'
            then json_set(value, '$.amount', json_object('amount', json_extract(value, '$.amount'), 'currency', o.currency))
            else json(value) end)
        from json_each(order_line.tax_lines), sales_order o where o.order_id = order_line.order_id);

update order_event set data = json_set(data, '$.amount', json_object(
        'amount', json_extract(data, '$.amount'),
        'currency', (select currency from sales_order o where o.order_id = order_event.order_id)))
    where json_type(data, '$.amount') = 'integer';
update order_event set data = json_set(data, '$.refunded', json_object(
        'amount', json_extract(data, '$.refunded'),
        'currency', (select currency from sales_order o where o.order_id = order_event.order_id)))
    where json_type(data, '$.refunded') = 'integer';

update outbox set payload = json_set(payload, '$.data.amount', json_object(
        'amount', json_extract(payload, '$.data.amount'),
        'currency', (select currency from sales_order o where o.order_id = outbox.aggregate_id)))
    where topic like 'order.%' and json_type(payload, '$.data.amount') = 'integer';
update outbox set payload = json_set(payload, '$.data.refunded', json_object(
        'amount', json_extract(payload, '$.data.refunded'),
        'currency', (select currency from sales_order o where o.order_id = outbox.aggregate_id)))
    where topic like 'order.%' and json_type(payload, '$.data.refunded') = 'integer';
