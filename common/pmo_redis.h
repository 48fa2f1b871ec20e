/*  pmo_redis.h: one Redis connection with deadlines and reconnect.

    hiredis 0.14 has no async timeouts, so every command here is synchronous
    with a socket timeout: a command either answers within the deadline or
    fails. After any connection error the context is thrown away (hiredis
    contexts are not reusable after an error) and no new connection is tried
    until the backoff has passed; meanwhile commands fail at once, so callers
    answer "unavailable" instead of hanging. The next command after the backoff
    reconnects by itself.

    Not thread-safe: one connection belongs to one actor.
*/
#ifndef PMO_REDIS_H_INCLUDED
#define PMO_REDIS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

typedef struct _pmo_redis_t pmo_redis_t;

//  A Lua script, loaded once per connection and called by its SHA1.
typedef struct {
    const char *source;
    char sha[41]; //  filled on first use
} pmo_script_t;

//  url: "redis://[user:password@]host:port[/db]", "unix:///path/to.sock", or
//  "sentinel://[user:password@]host:port[,host:port...]/master[/db]" (pmo_sentinel.h),
//  each optionally followed by "?replicas=N&wait=MS" (pmo_redis_wait_replicas:
//  N defaults to 1 for sentinel:// and to 0, one node, otherwise; MS to half
//  of timeout_ms, and must be below it). timeout_ms bounds connect and every
//  command. Returns NULL if the URL is malformed (does not connect yet; see
//  pmo_redis_ready).
pmo_redis_t *pmo_redis_new (const char *url, int timeout_ms);
void pmo_redis_destroy (pmo_redis_t **self_p);

//  The URL with the credentials of auth_file put in, so that a password is
//  never on a command line: the file's first line is "USER:PASSWORD" (an ACL
//  user of Redis; no '@', '/' or blanks). auth_file NULL or "": a copy of url.
//  NULL after printing why (never the password) if the file cannot be read or
//  is malformed, or if url is unix:// or already carries credentials. Caller
//  frees.
char *pmo_redis_url_auth (const char *url, const char *auth_file);

//  Connect if not connected and the backoff allows. True if usable now.
bool pmo_redis_ready (pmo_redis_t *self);
//  The URL without its password, for logs.
const char *pmo_redis_safe_url (pmo_redis_t *self);
//  Times a connection was (re)established; for tests and metrics.
uint64_t pmo_redis_connects (pmo_redis_t *self);
//  The replication id of the master this connection is on (INFO
//  replication's master_replid, read once per connection). Redis gives a
//  master a new one when it restarts and when a replica is promoted, so a
//  change says writes seen before may have been lost (pmo_seq.h). NULL if
//  Redis did not answer.
const char *pmo_redis_replid (pmo_redis_t *self);

//  Run one command. Returns the reply (caller frees with freeReplyObject) or
//  NULL if Redis could not be reached in time; an error reply from Redis is
//  returned as a REDIS_REPLY_ERROR reply, not NULL.
redisReply *pmo_redis_command (pmo_redis_t *self, const char *format, ...);
redisReply *pmo_redis_commandv (pmo_redis_t *self, int argc, const char **argv,
                                const size_t *argvlen);

//  Pipelining: queue commands, then collect their replies in order. Any
//  failure drops the connection; the remaining pipelined replies are lost and
//  pmo_redis_pipe_reply returns NULL for them.
int pmo_redis_pipe (pmo_redis_t *self, const char *format, ...);
int pmo_redis_pipev (pmo_redis_t *self, int argc, const char **argv, const size_t *argvlen);
redisReply *pmo_redis_pipe_reply (pmo_redis_t *self);
//  Write the queued commands to Redis now, without waiting for replies, so
//  it works on them while the caller prepares more (hiredis otherwise
//  writes them when the first reply is read). Added for the risk
//  monitor's batches; 0, or -1 if the connection failed (dropped).
int pmo_redis_pipe_push (pmo_redis_t *self);

//  The lowest score of the sorted set key (ZRANGE key 0 0 WITHSCORES): 0 and
//  *score set (INT64_MAX if the set is empty), or -1 if Redis failed.
int pmo_redis_zfirst (pmo_redis_t *self, const char *key, int64_t *score);
//  The same for the lowest score above after (what is later than now).
int pmo_redis_zfirst_after (pmo_redis_t *self, const char *key, int64_t after, int64_t *score);

//  Waiting for a reply inside the caller's own poll loop, for a command that
//  blocks in Redis (XREADGROUP ... BLOCK): queue it with pmo_redis_pipev,
//  send it with pmo_redis_pipe_push, poll pmo_redis_fd for input, then
//  pmo_redis_pipe_poll. The file descriptor of the connection, or -1 when
//  there is none.
int pmo_redis_fd (pmo_redis_t *self);
//  The next pipelined reply if it has arrived in full, without waiting:
//  1 (*reply set; an error reply is a reply), 0 (not yet), or -1 (the
//  connection failed and was dropped; *reply NULL).
int pmo_redis_pipe_poll (pmo_redis_t *self, redisReply **reply);
//  Drop the connection (a reply waited for too long); the next command
//  reconnects after the backoff.
void pmo_redis_drop (pmo_redis_t *self, const char *why);

//  Durability: Redis replicates asynchronously, so a write the master has
//  answered is lost if the master dies before a replica has it. Before a
//  service acknowledges what it wrote on this connection, it calls this:
//  WAIT for the URL's replicas, at most its wait bound. 0 when that many
//  replicas hold every write of this connection so far (at once when the
//  URL names no replicas: one node, nothing to wait for); -1 when fewer
//  confirmed in time or Redis failed: the write may or may not survive a
//  failover, so the caller answers "unavailable" (retryable, with the same
//  request id) and never claims success. pmo_commit.h applies it to every
//  commit.
int pmo_redis_wait_replicas (pmo_redis_t *self);
//  The number of replicas writes wait for (0: one node).
int pmo_redis_replicas (pmo_redis_t *self);

//  Whether reply is the master refusing a write for want of replicas
//  (NOREPLICAS, under min-replicas-to-write: during a Sentinel failover, or
//  while its replicas are down). Nothing was written and a retry may
//  succeed, so it is a warning, not an error, and said once per episode:
//  returns 1 for the first refusal of an episode (logged at warn level,
//  naming what), 2 for the next ones (debug level) until 30 s pass without
//  one, 0 if reply is anything else.
int pmo_redis_refused_write (pmo_redis_t *self, const redisReply *reply, const char *what);

//  EVALSHA the script (loading it on NOSCRIPT). argv holds the keys then the
//  other arguments. Returns as pmo_redis_command.
redisReply *pmo_redis_eval (pmo_redis_t *self, pmo_script_t *script, int nkeys, int argc,
                            const char **argv, const size_t *argvlen);

#endif
