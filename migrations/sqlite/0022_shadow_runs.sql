-- Shadow runs: a binding may run a candidate plugin beside a live binding
-- on a sample of its calls, off the request path, and record how their
-- answers compare. A shadow binding names the live plugin it shadows
-- (null for live bindings) and samples that share of its calls, in
-- millionths.
alter table plugin_binding add column shadow_of text;
alter table plugin_binding add column sample_ppm bigint;

-- One compared call: the same input given to the live binding and to its
-- shadow. Outputs and where they differ are kept only for differing
-- calls; a failed shadow keeps its error.
create table plugin_shadow_call (
    shadow_call_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    extension_point text not null,
    live_plugin_id text not null,
    shadow_plugin_id text not null,
    -- SHA-256 of the shadow's configuration: a new configuration starts a
    -- new comparison.
    shadow_config_sha256 text not null,
    input_sha256 text not null,
    outcome text not null check (outcome in ('identical', 'different', 'failed')),
    live_us bigint not null,
    shadow_us bigint not null,
    live_output text,
    shadow_output text,
    differences text,
    error text,
    created_at bigint not null
);
create index plugin_shadow_call_by_shadow
    on plugin_shadow_call (merchant_id, extension_point, shadow_plugin_id, shadow_config_sha256, shadow_call_id);
