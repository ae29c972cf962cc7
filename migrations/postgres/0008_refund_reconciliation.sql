-- Refunds whose provider call ended without an answer ('unknown') are
-- asked again by the reconciler; it finds them by status and age.
create index refund_unsettled on refund (status, updated_at);
