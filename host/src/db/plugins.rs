//! Installed plugins (with their component bytes, so every host can load
//! them back) and each merchant's ordered bindings per extension point.

use crate::db::Result;
use sqlx::Row;

use super::{Db, now_ms};
use crate::model::plugins::{OnError, ShadowCall, ShadowOf, StoredBinding, StoredPlugin, StoredPolicy};

const COLUMNS: &str = "plugin_id, name, version, extension_point, sha256, size_bytes, description, config_schema, \
     limits, allowed_hosts, disabled_at, created_at";

fn policy(row: &sqlx::any::AnyRow) -> Result<StoredPolicy> {
    Ok(StoredPolicy {
        limits: row.try_get("limits")?,
        allowed_hosts: row.try_get("allowed_hosts")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

fn plugin(row: &sqlx::any::AnyRow) -> Result<StoredPlugin> {
    Ok(StoredPlugin {
        id: row.try_get("plugin_id")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        extension_point: row.try_get("extension_point")?,
        sha256: row.try_get("sha256")?,
        size_bytes: row.try_get("size_bytes")?,
        description: row.try_get("description")?,
        config_schema: row.try_get("config_schema")?,
        policy: policy(row)?,
        created_at: row.try_get("created_at")?,
    })
}

/// Writes an installed plugin with its component bytes.
pub async fn insert(db: &Db, p: &StoredPlugin, component: &[u8]) -> Result<()> {
    db.write(
        sqlx::query(
            "insert into plugin (plugin_id, name, version, extension_point, sha256, size_bytes, description, \
             config_schema, component, limits, allowed_hosts, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.version)
        .bind(&p.extension_point)
        .bind(&p.sha256)
        .bind(p.size_bytes)
        .bind(&p.description)
        .bind(&p.config_schema)
        .bind(component)
        .bind(&p.policy.limits)
        .bind(&p.policy.allowed_hosts)
        .bind(p.created_at),
    )
    .await?;
    Ok(())
}

/// One installed plugin (without its bytes), if it exists.
pub async fn get(db: &Db, id: &str) -> Result<Option<StoredPlugin>> {
    let sql = format!("select {COLUMNS} from plugin where plugin_id = $1");
    sqlx::query(&sql).bind(id).fetch_optional(db.reads()).await?.as_ref().map(plugin).transpose()
}

/// A page of plugins in id order, optionally of one extension point.
pub async fn list(
    db: &Db,
    extension_point: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<StoredPlugin>> {
    let rows = match extension_point {
        Some(point) => {
            let sql = format!(
                "select {COLUMNS} from plugin where plugin_id > $1 and extension_point = $2 \
                 order by plugin_id limit $3"
            );
            sqlx::query(&sql)
                .bind(after.unwrap_or(""))
                .bind(point)
                .bind(i64::from(limit))
                .fetch_all(db.reads())
                .await?
        }
        None => {
            let sql =
                format!("select {COLUMNS} from plugin where plugin_id > $1 order by plugin_id limit $2");
            sqlx::query(&sql).bind(after.unwrap_or("")).bind(i64::from(limit)).fetch_all(db.reads()).await?
        }
    };
    rows.iter().map(plugin).collect()
}

/// Every plugin id, oldest install first.
pub async fn ids(db: &Db) -> Result<Vec<String>> {
    let rows = sqlx::query("select plugin_id from plugin order by created_at, plugin_id")
        .fetch_all(db.reads())
        .await?;
    rows.iter().map(|r| Ok(r.try_get("plugin_id")?)).collect()
}

/// A plugin's component bytes and the operator's settings.
pub async fn component(db: &Db, id: &str) -> Result<Option<(Vec<u8>, StoredPolicy)>> {
    let row =
        sqlx::query("select component, limits, allowed_hosts, disabled_at from plugin where plugin_id = $1")
            .bind(id)
            .fetch_optional(db.reads())
            .await?;
    row.map(|r| Ok((r.try_get("component")?, policy(&r)?))).transpose()
}

/// Replaces the hosts a plugin may reach (a JSON array); false if there is no such plugin.
pub async fn set_allowed_hosts(db: &Db, id: &str, hosts: &str) -> Result<bool> {
    let done = db
        .write(
            sqlx::query("update plugin set allowed_hosts = $1, updated_at = $2 where plugin_id = $3")
                .bind(hosts)
                .bind(now_ms())
                .bind(id),
        )
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces a plugin's limit overrides; false if there is no such plugin.
pub async fn set_limits(db: &Db, id: &str, limits: Option<&str>) -> Result<bool> {
    let done = db
        .write(
            sqlx::query("update plugin set limits = $1, updated_at = $2 where plugin_id = $3")
                .bind(limits)
                .bind(now_ms())
                .bind(id),
        )
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Disables a plugin platform-wide as of `at`, or enables it (`None`);
/// false if there is no such plugin.
pub async fn set_disabled(db: &Db, id: &str, at: Option<i64>) -> Result<bool> {
    let done = db
        .write(
            sqlx::query("update plugin set disabled_at = $1, updated_at = $2 where plugin_id = $3")
                .bind(at)
                .bind(now_ms())
                .bind(id),
        )
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Every binding of a plugin: (merchant, extension point), by merchant.
pub async fn binders(db: &Db, id: &str) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "select merchant_id, extension_point from plugin_binding where plugin_id = $1 \
         order by merchant_id, extension_point",
    )
    .bind(id)
    .fetch_all(db.reads())
    .await?;
    rows.iter().map(|r| Ok((r.try_get("merchant_id")?, r.try_get("extension_point")?))).collect()
}

/// Whether a payment plugin ever took a payment (its orders may still be
/// captured, voided or refunded through it).
pub async fn took_payments(db: &Db, id: &str) -> Result<bool> {
    let row = sqlx::query("select 1 as found from payment_attempt where plugin_id = $1 limit 1")
        .bind(id)
        .fetch_optional(db.reads())
        .await?;
    Ok(row.is_some())
}

/// Deletes a plugin and its component, unless a binding names it (checked
/// in the same statement, so a bind racing with it cannot be left dangling);
/// false if nothing was deleted.
pub async fn delete_unbound(db: &Db, id: &str) -> Result<bool> {
    let done = db
        .write(
            sqlx::query(
                "delete from plugin where plugin_id = $1 \
         and not exists (select 1 from plugin_binding where plugin_id = $1)",
            )
            .bind(id),
        )
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A merchant's bindings of one extension point in order, each with its
/// plugin's stored settings, so a host that reloads its bindings also picks
/// up limits and allowed hosts another host changed.
pub async fn bindings(db: &Db, merchant_id: &str, point: &str) -> Result<Vec<(StoredBinding, StoredPolicy)>> {
    let rows = sqlx::query(
        "select b.plugin_id, b.config, b.on_error, b.shadow_of, b.sample_ppm, p.limits, p.allowed_hosts, p.disabled_at \
         from plugin_binding b \
         join plugin p on p.plugin_id = b.plugin_id \
         where b.merchant_id = $1 and b.extension_point = $2 order by b.position",
    )
    .bind(merchant_id)
    .bind(point)
    .fetch_all(db.reads())
    .await?;
    rows.iter()
        .map(|r| {
            let on_error: String = r.try_get("on_error")?;
            let shadow_of: Option<String> = r.try_get("shadow_of")?;
            let sample_ppm: Option<i64> = r.try_get("sample_ppm")?;
            let binding = StoredBinding {
                plugin_id: r.try_get("plugin_id")?,
                config: r.try_get("config")?,
                on_error: OnError::parse(&on_error).ok_or_else(|| sqlx::Error::ColumnDecode {
                    index: "on_error".into(),
                    source: format!("unknown on_error {on_error:?}").into(),
                })?,
                shadow: shadow_of.map(|live_plugin_id| ShadowOf {
                    live_plugin_id,
                    sample_ppm: sample_ppm.unwrap_or(0).clamp(0, 1_000_000) as u32,
                }),
            };
            Ok((binding, policy(r)?))
        })
        .collect()
}

/// Replaces a merchant's bindings of one extension point in one transaction,
/// with the `plugin_bindings.changed` event describing the change; the
/// position of each is its index.
pub async fn replace_bindings(
    db: &Db,
    merchant_id: &str,
    point: &str,
    bindings: &[StoredBinding],
    change: &serde_json::Value,
) -> Result<()> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    super::events::record(&mut tx, merchant_id, "plugin_bindings.changed", point, change, now).await?;
    sqlx::query("delete from plugin_binding where merchant_id = $1 and extension_point = $2")
        .bind(merchant_id)
        .bind(point)
        .execute(&mut *tx)
        .await?;
    for (position, b) in bindings.iter().enumerate() {
        sqlx::query(
            "insert into plugin_binding (merchant_id, extension_point, position, plugin_id, config, on_error, \
             shadow_of, sample_ppm, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(merchant_id)
        .bind(point)
        .bind(position as i32)
        .bind(&b.plugin_id)
        .bind(&b.config)
        .bind(b.on_error.as_str())
        .bind(b.shadow.as_ref().map(|s| s.live_plugin_id.clone()))
        .bind(b.shadow.as_ref().map(|s| i64::from(s.sample_ppm)))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Records compared calls of shadow bindings, in one transaction.
pub async fn insert_shadow_calls(db: &Db, calls: &[ShadowCall]) -> Result<()> {
    let mut tx = db.begin_write().await?;
    for c in calls {
        sqlx::query(
            "insert into plugin_shadow_call (shadow_call_id, merchant_id, extension_point, live_plugin_id, \
             shadow_plugin_id, shadow_config_sha256, input_sha256, outcome, live_us, shadow_us, live_output, \
             shadow_output, differences, error, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&c.id)
        .bind(&c.merchant_id)
        .bind(&c.extension_point)
        .bind(&c.live_plugin_id)
        .bind(&c.shadow_plugin_id)
        .bind(&c.shadow_config_sha256)
        .bind(&c.input_sha256)
        .bind(&c.outcome)
        .bind(c.live_us)
        .bind(c.shadow_us)
        .bind(&c.live_output)
        .bind(&c.shadow_output)
        .bind(&c.differences)
        .bind(&c.error)
        .bind(c.created_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Which comparison a shadow call belongs to: a merchant's shadow binding
/// of one point, with one configuration.
pub struct ShadowKey<'a> {
    /// The merchant.
    pub merchant_id: &'a str,
    /// The extension point.
    pub point: &'a str,
    /// The candidate plugin (`plg_…`).
    pub shadow_plugin_id: &'a str,
    /// SHA-256 of its configuration.
    pub config_sha256: &'a str,
}

/// `plugin_shadow_call` rows of one comparison: [`ShadowKey::query`] binds it as `$1`–`$4`.
const OF_COMPARISON: &str =
    "merchant_id = $1 and extension_point = $2 and shadow_plugin_id = $3 and shadow_config_sha256 = $4";

impl<'a> ShadowKey<'a> {
    /// `sql` (whose conditions include [`OF_COMPARISON`]) with the key bound.
    fn query<'q>(&self, sql: &'q str) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>
    where
        'a: 'q,
    {
        sqlx::query(sql)
            .bind(self.merchant_id)
            .bind(self.point)
            .bind(self.shadow_plugin_id)
            .bind(self.config_sha256)
    }
}

/// How many calls of this comparison are recorded.
pub async fn count_shadow_calls(db: &Db, k: &ShadowKey<'_>) -> Result<u64> {
    let sql = format!("select count(*) as n from plugin_shadow_call where {OF_COMPARISON}");
    let row = k.query(&sql).fetch_one(db.reads()).await?;
    Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
}

/// The outcome and both durations (live, shadow) of every recorded call of
/// this comparison: what its report counts and takes percentiles of.
pub async fn shadow_timings(db: &Db, k: &ShadowKey<'_>) -> Result<Vec<(String, i64, i64)>> {
    let sql = format!("select outcome, live_us, shadow_us from plugin_shadow_call where {OF_COMPARISON}");
    let rows = k.query(&sql).fetch_all(db.reads()).await?;
    rows.iter().map(|r| Ok((r.try_get("outcome")?, r.try_get("live_us")?, r.try_get("shadow_us")?))).collect()
}

/// The first `limit` recorded calls of this comparison with `outcome`, oldest first.
pub async fn shadow_calls(db: &Db, k: &ShadowKey<'_>, outcome: &str, limit: u32) -> Result<Vec<ShadowCall>> {
    let sql = format!(
        "select shadow_call_id, merchant_id, extension_point, live_plugin_id, shadow_plugin_id, \
         shadow_config_sha256, input_sha256, outcome, live_us, shadow_us, live_output, shadow_output, \
         differences, error, created_at from plugin_shadow_call where {OF_COMPARISON} and outcome = $5 \
         order by shadow_call_id limit $6"
    );
    let rows = k.query(&sql).bind(outcome).bind(i64::from(limit)).fetch_all(db.reads()).await?;
    rows.iter()
        .map(|r| {
            Ok(ShadowCall {
                id: r.try_get("shadow_call_id")?,
                merchant_id: r.try_get("merchant_id")?,
                extension_point: r.try_get("extension_point")?,
                live_plugin_id: r.try_get("live_plugin_id")?,
                shadow_plugin_id: r.try_get("shadow_plugin_id")?,
                shadow_config_sha256: r.try_get("shadow_config_sha256")?,
                input_sha256: r.try_get("input_sha256")?,
                outcome: r.try_get("outcome")?,
                live_us: r.try_get("live_us")?,
                shadow_us: r.try_get("shadow_us")?,
                live_output: r.try_get("live_output")?,
                shadow_output: r.try_get("shadow_output")?,
                differences: r.try_get("differences")?,
                error: r.try_get("error")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
