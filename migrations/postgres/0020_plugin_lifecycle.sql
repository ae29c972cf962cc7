-- A plugin the operator disabled platform-wide: its bindings answer as
-- their on_error says until it is enabled again. Null: enabled.
alter table plugin add column disabled_at bigint;
