/* daemon/follow.h: vpcd --region-db, the follower of the region database.
 *
 * With --region-db=REMOTES, vpcd replicates its host's scope of the region
 * database (regiondb/scope.h: conditional monitoring, a few uuids per
 * table), builds the translator's region from the replica (a scoped region
 * document, regiondb's dump of the replica), compiles and installs it with
 * the agent's usual incremental path (one OpenFlow bundle, mapping-cache
 * add/del), and acknowledges the Region.cfg it has applied in its own
 * Host_Status row.  The watched file and PUT /v1/intents become imports
 * into the database (rdb_load), not a second way to drive the pipeline.
 * docs/regiondb.md, "The follower", says what is incremental.
 *
 * The event loop.  libevent owns vpcd's loop; the IDL runs on OVS's
 * per-thread poll loop.  A waiter thread, under the follower's mutex,
 * registers the IDL's waits (ovsdb_idl_wait) and a latch, unlocks and
 * blocks in poll_block(); when it wakes it signals the libevent loop
 * through a pipe and waits until the main thread has run the IDL
 * (ovsdb_idl_run) and processed the change.  All IDL access is on the
 * main thread under the mutex; whoever changes the IDL outside that
 * callback sets the latch so that the waiter re-arms.  No timer polls the
 * database.
 *
 * Threading: vpcd_follow_*() are called on vpcd's main thread. */

#ifndef VPCD_FOLLOW_H
#define VPCD_FOLLOW_H 1

struct json;
struct vpcd;
struct ds;

/* Starts following 'd->region_db' (connects asynchronously). */
void vpcd_follow_start(struct vpcd *d);
void vpcd_follow_stop(struct vpcd *d);

/* Before vpcd_follow_start(): the inactivity probe of the session to the
 * region database, in ms (0: none), instead of the IDL's default (none on
 * unix:, 5 s on tcp: and ssl:).  A lost server is noticed within twice
 * the interval (docs/regiondb.md, "Faults"). */
void vpcd_follow_set_probe_interval(int ms);

/* From vpcd's 100 ms tick: acknowledges a version that the audit has
 * installed since (ovs-vswitchd was away when it arrived). */
void vpcd_follow_tick(struct vpcd *d);

/* vpcd_follow_start() also sets d->follow_hooks (daemon/agent.h): a
 * document from the watched file or PUT /v1/intents is validated, then
 * imported with rdb_load() (HTTP 200 imported, 400 invalid, 503 database
 * unreachable); /v1/status gets a "region_db" object and /metrics the
 * follower's counters. */

#endif /* daemon/follow.h */
