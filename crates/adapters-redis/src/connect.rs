//! One connection type for a single Redis and for a Redis Cluster.
//!
//! `redis.url` picks the kind: `redis://host:port[/db]` (or `rediss://`, a
//! unix socket: anything the `redis` crate opens) is one server;
//! `redis+cluster://[user:password@]host1:port1,host2:port2,...` is a
//! cluster, given by any of its nodes (the seeds; the client reads the slot
//! map from them and follows it as it changes).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use tokio::sync::OnceCell;

/// The scheme of a cluster URL.
pub const CLUSTER_SCHEME: &str = "redis+cluster://";

const CONNECTION_TIMEOUT: Duration = Duration::from_millis(500);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// A self-healing connection to one Redis or to a Redis Cluster: lazy (the
/// service starts with Redis down and answers 503 until it is back), with
/// short timeouts so that an outage answers within about two seconds instead
/// of hanging a request. Cheap to clone (the clones share the connection).
#[derive(Clone)]
pub struct RedisConnection(Inner);

#[derive(Clone)]
enum Inner {
    Single(ConnectionManager),
    Cluster(Arc<LazyCluster>),
}

/// The cluster client connects on first use and then keeps its connections
/// (reconnecting to a node that comes back, refreshing the slot map on
/// MOVED); until the first connection succeeds every request tries again.
struct LazyCluster {
    client: ClusterClient,
    connection: OnceCell<ClusterConnection>,
}

impl LazyCluster {
    async fn get(&self) -> RedisResult<ClusterConnection> {
        self.connection
            .get_or_try_init(|| async {
                tokio::time::timeout(CONNECTION_TIMEOUT * 4, self.client.get_async_connection())
                    .await
                    .map_err(|_| {
                        RedisError::from((ErrorKind::Io, "redis cluster: connecting timed out"))
                    })?
            })
            .await
            .cloned()
    }
}

/// Opens (lazily) the single server or the cluster `url` names.
pub fn connect(url: &str) -> RedisResult<RedisConnection> {
    match cluster_seeds(url)? {
        Some(seeds) => {
            let client = ClusterClientBuilder::new(seeds)
                .connection_timeout(CONNECTION_TIMEOUT)
                .response_timeout(RESPONSE_TIMEOUT)
                .overall_response_timeout(Some(RESPONSE_TIMEOUT * 2))
                .retries(2)
                .min_retry_wait(10)
                .max_retry_wait(200)
                .build()?;
            Ok(RedisConnection(Inner::Cluster(Arc::new(LazyCluster {
                client,
                connection: OnceCell::new(),
            }))))
        }
        None => {
            let client = redis::Client::open(url)?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(CONNECTION_TIMEOUT))
                .set_response_timeout(Some(RESPONSE_TIMEOUT))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_millis(200));
            Ok(RedisConnection(Inner::Single(
                ConnectionManager::new_lazy_with_config(client, config)?,
            )))
        }
    }
}

/// The seed nodes of a `redis+cluster://` URL as `redis://` URLs, or `None`
/// for any other URL.
fn cluster_seeds(url: &str) -> RedisResult<Option<Vec<String>>> {
    let Some(rest) = url.strip_prefix(CLUSTER_SCHEME) else {
        return Ok(None);
    };
    let rest = rest.trim_end_matches('/');
    let (auth, hosts) = match rest.rsplit_once('@') {
        Some((auth, hosts)) => (format!("{auth}@"), hosts),
        None => (String::new(), rest),
    };
    let seeds: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| format!("redis://{auth}{h}"))
        .collect();
    if seeds.is_empty() {
        return Err(RedisError::from((
            ErrorKind::InvalidClientConfig,
            "redis+cluster:// needs at least one host:port",
        )));
    }
    Ok(Some(seeds))
}

impl RedisConnection {
    /// Whether this is a cluster connection.
    pub fn is_cluster(&self) -> bool {
        matches!(self.0, Inner::Cluster(_))
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Inner::Single(connection) => connection.req_packed_command(cmd),
            Inner::Cluster(cluster) => Box::pin(async move {
                let mut connection = cluster.get().await?;
                connection.req_packed_command(cmd).await
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Inner::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Inner::Cluster(cluster) => Box::pin(async move {
                let mut connection = cluster.get().await?;
                connection
                    .req_packed_commands(pipeline, offset, count)
                    .await
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Inner::Single(connection) => connection.get_db(),
            Inner::Cluster(_) => 0,
        }
    }
}

/// A cheap round trip for the readiness probe. On a cluster every primary
/// must answer: the client's own `PING` fan-out skips nodes it has no
/// connection to, so each primary named by `CLUSTER SLOTS` is asked in turn.
pub async fn ping(connection: &RedisConnection) -> bool {
    match &connection.0 {
        Inner::Single(single) => redis::cmd("PING")
            .query_async::<String>(&mut single.clone())
            .await
            .is_ok(),
        Inner::Cluster(cluster) => {
            let Ok(mut connection) = cluster.get().await else {
                return false;
            };
            let Ok(slots) = redis::cmd("CLUSTER")
                .arg("SLOTS")
                .query_async::<Vec<Vec<Value>>>(&mut connection)
                .await
            else {
                return false;
            };
            let primaries = primaries(slots);
            if primaries.is_empty() {
                return false;
            }
            for (host, port) in primaries {
                let routing =
                    RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host, port });
                if connection
                    .route_command(redis::cmd("PING"), routing)
                    .await
                    .is_err()
                {
                    return false;
                }
            }
            true
        }
    }
}

/// The distinct primaries of a `CLUSTER SLOTS` reply: each range is
/// `[start, end, [host, port, id, ...], replicas...]`.
fn primaries(slots: Vec<Vec<Value>>) -> BTreeSet<(String, u16)> {
    slots
        .into_iter()
        .filter_map(|range| {
            let node: Vec<Value> = redis::from_redis_value(range.into_iter().nth(2)?).ok()?;
            let mut node = node.into_iter();
            let host: String = redis::from_redis_value(node.next()?).ok()?;
            let port: u16 = redis::from_redis_value(node.next()?).ok()?;
            Some((host, port))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_url_lists_its_seeds() {
        assert_eq!(cluster_seeds("redis://127.0.0.1:6379").unwrap(), None);
        assert_eq!(
            cluster_seeds("redis+cluster://10.0.0.1:7000,10.0.0.2:7001/").unwrap(),
            Some(vec![
                "redis://10.0.0.1:7000".to_owned(),
                "redis://10.0.0.2:7001".to_owned()
            ])
        );
        assert_eq!(
            cluster_seeds("redis+cluster://u:p@h1:1,h2:2").unwrap(),
            Some(vec![
                "redis://u:p@h1:1".to_owned(),
                "redis://u:p@h2:2".to_owned()
            ])
        );
        assert!(cluster_seeds("redis+cluster://").is_err());
    }

    #[test]
    fn the_primaries_of_a_slot_map() {
        let node = |host: &str, port: i64| {
            Value::Array(vec![
                Value::BulkString(host.as_bytes().to_vec()),
                Value::Int(port),
                Value::BulkString(b"id".to_vec()),
            ])
        };
        let slots = vec![
            vec![
                Value::Int(0),
                Value::Int(5460),
                node("10.0.0.1", 7000),
                node("10.0.0.9", 7009),
            ],
            vec![Value::Int(5461), Value::Int(10922), node("10.0.0.2", 7001)],
            vec![Value::Int(10923), Value::Int(16383), node("10.0.0.1", 7000)],
        ];
        assert_eq!(
            primaries(slots).into_iter().collect::<Vec<_>>(),
            vec![("10.0.0.1".to_owned(), 7000), ("10.0.0.2".to_owned(), 7001)]
        );
    }

    #[tokio::test]
    async fn connecting_is_lazy_for_both_kinds() {
        assert!(!connect("redis://127.0.0.1:1").unwrap().is_cluster());
        assert!(connect("redis+cluster://127.0.0.1:1,127.0.0.1:2")
            .unwrap()
            .is_cluster());
    }
}
