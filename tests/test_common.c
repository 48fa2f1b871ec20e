/*  test_common.c: the shared machinery against a real redis-server and real
    ZeroMQ sockets: the Redis connection (deadlines, failing fast while Redis
    is down, reconnecting when it returns), the atomic commit (every outcome,
    and that a refused commit writes nothing), the stream reader (consumer
    groups, acknowledgement, reclaiming what a dead consumer left pending),
    and the client's retry under the same request id.
*/
#include "pmo_auth.h"
#include "pmo_client.h"
#include "pmo_commit.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_seq.h"
#include "pmo_reflect.h"
#include "pmo_stream.h"
#include "pmo_testkit.h"
#include "pmo_util.h"
#include "pmo_wire.h"
#include "events.pb-c.h"
#include "registry.pb-c.h"

#include <assert.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long s_int (pmo_test_redis_t *redis, const char *command, const char *key)
{
    redisReply *reply = pmo_test_redis_command (redis, command, key);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    long long value = reply->integer;
    freeReplyObject (reply);
    return value;
}

static void s_test_util (void)
{
    assert (pmo_date_valid ("2024-02-29"));
    assert (!pmo_date_valid ("2023-02-29"));
    assert (!pmo_date_valid ("2026-13-01"));
    assert (!pmo_date_valid ("26-01-01"));
    assert (!pmo_date_valid ("2026-1-01"));
    assert (pmo_date_valid ("1900-01-01") && pmo_date_valid ("2999-12-31"));
    assert (!pmo_date_valid ("1899-12-31") && !pmo_date_valid ("3000-01-01"));
    assert (pmo_date_valid ("2000-02-29") && !pmo_date_valid ("2100-02-29"));
    assert (!pmo_date_valid ("2026-04-31") && pmo_date_valid ("2026-10-31"));
    assert (!pmo_date_valid ("2026-00-10") && !pmo_date_valid ("2026-01-00"));
    assert (pmo_slug_valid ("dft-rail", 2, 32));
    assert (!pmo_slug_valid ("-dft", 2, 32));
    assert (!pmo_slug_valid ("DFT", 2, 32));
    assert (!pmo_slug_valid ("a", 2, 32));
    assert (pmo_text_valid ("Caf\xc3\xa9 \xe2\x82\xac 100\n"));
    assert (!pmo_text_valid ("bad \xc3"));
    assert (!pmo_text_valid ("bell \x07"));
    //  One line: no CR/LF, other controls (C0, DEL, C1) or bidi overrides
    assert (pmo_line_fault ("Caf\xc3\xa9 \xe2\x82\xac 100 \xe2\x80\x8f") == NULL);
    assert (strstr (pmo_line_fault ("a\rb"), "line break"));
    assert (strstr (pmo_line_fault ("a\nb"), "line break"));
    assert (strstr (pmo_line_fault ("a\tb"), "control"));
    assert (strstr (pmo_line_fault ("a\x7f"), "control"));
    assert (strstr (pmo_line_fault ("a\xc2\x85"), "control"));
    const char *bidi[] = {"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac",
                          "\xe2\x80\xad", "\xe2\x80\xae", "\xe2\x81\xa6",
                          "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9"};
    for (size_t i = 0; i < sizeof bidi / sizeof bidi[0]; i++)
        assert (strstr (pmo_line_fault (bidi[i]), "bidirectional"));
    assert (strstr (pmo_line_fault ("\xe2\x80\xa8"), "line break"));
    assert (strstr (pmo_line_fault ("bad \xc3"), "UTF-8"));
    char a[37], b[37];
    pmo_uuid (a);
    pmo_uuid (b);
    assert (strlen (a) == 36 && strcmp (a, b) != 0 && a[14] == '4');
    pmo_arena_t *arena = pmo_arena_new ();
    for (int i = 0; i < 10000; i++) {
        char *text = pmo_arena_printf (arena, "item-%d", i);
        assert (((uintptr_t)text & 15) == 0);
    }
    //  Strings joined up to the NULL: none, empty ones, one past a block
    assert (streq (pmo_arena_cat (arena, NULL), ""));
    assert (streq (pmo_arena_cat (arena, "pmo:{", "dft", "}:", "", "events", NULL),
                   "pmo:{dft}:events"));
    char *long_part = pmo_arena_alloc (arena, 70000);
    memset (long_part, 'x', 69999);
    char *joined = pmo_arena_cat (arena, "<", long_part, ">", NULL);
    assert (strlen (joined) == 70001 && joined[0] == '<' && joined[69999] == 'x' &&
            joined[70000] == '>');
    //  decimal digits without printf, at both ends of the ranges
    char digits[PMO_DIGITS_MAX + 1];
    char *end = digits + PMO_DIGITS_MAX;
    *end = 0;
    assert (streq (pmo_digits_u64 (end, 0), "0"));
    assert (streq (pmo_digits_u64 (end, 1234567890), "1234567890"));
    assert (streq (pmo_digits_u64 (end, UINT64_MAX), "18446744073709551615"));
    assert (streq (pmo_digits_i64 (end, -42), "-42"));
    assert (streq (pmo_digits_i64 (end, INT64_MIN), "-9223372036854775808"));
    assert (streq (pmo_digits_i64 (end, INT64_MAX), "9223372036854775807"));
    void *big = pmo_arena_alloc (arena, 1 << 20);
    memset (big, 1, 1 << 20);
    assert (pmo_arena_used (arena) > (1 << 20));
    pmo_arena_reset (arena);
    assert (pmo_arena_used (arena) == 0);
    //  A rewind forgets what came after the mark, across blocks, and the
    //  memory is handed out again from where the mark was
    char *kept = pmo_arena_strdup (arena, "kept");
    size_t used = pmo_arena_used (arena);
    pmo_arena_mark_t mark = pmo_arena_mark (arena);
    char *first = pmo_arena_alloc (arena, 100);
    memset (first, 7, 100);
    for (int i = 0; i < 100; i++)
        pmo_arena_alloc (arena, 1000); //  past the first block
    pmo_arena_alloc (arena, 1 << 20);
    assert (pmo_arena_used (arena) > used + (1 << 20));
    pmo_arena_rewind (arena, mark);
    assert (pmo_arena_used (arena) == used);
    char *again = pmo_arena_alloc (arena, 100);
    assert (again == first);
    assert (again[0] == 0 && again[99] == 0); //  zeroed again
    assert (streq (kept, "kept"));
    //  A mark in a later block: only what followed it goes
    for (int i = 0; i < 40; i++)
        pmo_arena_alloc (arena, 1000);
    mark = pmo_arena_mark (arena);
    used = pmo_arena_used (arena);
    pmo_arena_alloc (arena, 20000);
    pmo_arena_rewind (arena, mark);
    assert (pmo_arena_used (arena) == used);
    assert (streq (kept, "kept"));
    pmo_arena_destroy (&arena);
    assert (arena == NULL);
    printf ("util: ok\n");
}

static void s_test_redis (pmo_test_redis_t *server)
{
    assert (pmo_redis_new ("http://localhost", 100) == NULL);
    assert (pmo_redis_new ("redis://host:99999", 100) == NULL);
    pmo_redis_t *secret = pmo_redis_new ("redis://app:s3cret@127.0.0.1:1/2", 100);
    assert (secret && !strstr (pmo_redis_safe_url (secret), "s3cret"));
    pmo_redis_destroy (&secret);

    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 300);
    assert (redis && pmo_redis_ready (redis));
    redisReply *reply = pmo_redis_command (redis, "SET %s %b", "k", "v\0w", (size_t)3);
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    //  A pipeline answers in order
    for (int i = 0; i < 10; i++)
        assert (pmo_redis_pipe (redis, "INCR counter") == 0);
    for (int i = 0; i < 10; i++) {
        reply = pmo_redis_pipe_reply (redis);
        assert (reply && reply->integer == i + 1);
        freeReplyObject (reply);
    }
    //  Commands queued as arguments carry any bytes: a NUL, CR LF, an empty
    //  value, 100 kB; lengths given, or strlen'd when there are none
    size_t big_size = 100000;
    char *big = malloc (big_size);
    assert (big);
    for (size_t i = 0; i < big_size; i++)
        big[i] = (char)(i % 251);
    const char *values[] = {"a\0b\r\nc", "", big};
    size_t sizes[] = {7, 0, big_size};
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf (key, sizeof key, "bytes-%d", i);
        const char *set[] = {"SET", key, values[i]};
        size_t lens[] = {3, strlen (key), sizes[i]};
        assert (pmo_redis_pipev (redis, 3, set, lens) == 0);
        const char *get[] = {"GET", key};
        assert (pmo_redis_pipev (redis, 2, get, NULL) == 0);
    }
    const char *strlen_of[] = {"STRLEN", "bytes-2"};
    assert (pmo_redis_pipev (redis, 2, strlen_of, NULL) == 0);
    for (int i = 0; i < 3; i++) {
        reply = pmo_redis_pipe_reply (redis);
        assert (reply && reply->type == REDIS_REPLY_STATUS);
        freeReplyObject (reply);
        reply = pmo_redis_pipe_reply (redis);
        assert (reply && reply->type == REDIS_REPLY_STRING && reply->len == sizes[i]);
        assert (memcmp (reply->str, values[i], sizes[i]) == 0);
        freeReplyObject (reply);
    }
    reply = pmo_redis_pipe_reply (redis);
    assert (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == (long long)big_size);
    freeReplyObject (reply);
    free (big);
    //  A command that takes longer than the deadline fails instead of hanging
    int64_t started = pmo_mono_ms ();
    reply = pmo_redis_command (redis, "DEBUG SLEEP 1");
    assert (reply == NULL);
    assert (pmo_mono_ms () - started < 900);
    zclock_sleep (1100); //  let the sleep finish and the backoff pass
    assert (pmo_redis_ready (redis));

    //  Redis down: commands fail at once, then the connection comes back
    pmo_test_redis_kill (server);
    reply = pmo_redis_command (redis, "PING");
    assert (reply == NULL);
    started = pmo_mono_ms ();
    for (int i = 0; i < 100; i++)
        assert (pmo_redis_command (redis, "PING") == NULL);
    assert (pmo_mono_ms () - started < 500);
    uint64_t connects = pmo_redis_connects (redis);
    assert (pmo_test_redis_restart (server) == 0);
    for (int i = 0; i < 100 && !(reply = pmo_redis_command (redis, "PING")); i++)
        zclock_sleep (50);
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    assert (pmo_redis_connects (redis) == connects + 1);
    pmo_redis_destroy (&redis);
    printf ("redis: ok\n");
}

//  Numbers for ids: never one issued before, across a restart that may have
//  lost the last increments (the master's replication id changes)
static void s_test_seq (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 2000);
    assert (redis && pmo_redis_ready (redis));
    const char *key = "pmo:{seqt}:seq";
    long long first = 0;
    //  The first count ever starts at 1; the next follow on
    assert (pmo_seq_take (redis, key, "al", 1, &first) == 0 && first == 1);
    assert (pmo_seq_take (redis, key, "al", 3, &first) == 0 && first == 2);
    pmo_arena_t *arena = pmo_arena_new ();
    char *id = NULL;
    assert (pmo_seq_id (redis, arena, key, "al", "seqt", &id) == 0 && streq (id, "al_seqt_5"));
    //  Another connection to the same master: no gap
    redisReply *reply = pmo_test_redis_command (server, "CLIENT KILL TYPE normal");
    freeReplyObject (reply);
    for (int i = 0; i < 100 && pmo_seq_take (redis, key, "al", 1, &first); i++)
        zclock_sleep (50);
    assert (first == 6);
    //  A counter from before the fence (no replication id kept): no gap
    reply = pmo_test_redis_command (server, "HSET pmo:{seqt}:old rs 41");
    freeReplyObject (reply);
    assert (pmo_seq_take (redis, "pmo:{seqt}:old", "rs", 1, &first) == 0 && first == 42);
    //  Redis restarted from its file: a new replication id, so the numbers
    //  skip the fence (whatever the old master issued last and lost is
    //  behind them), once
    const char *before = pmo_redis_replid (redis);
    assert (before && strlen (before) == 40);
    char old_replid[48];
    snprintf (old_replid, sizeof old_replid, "%s", before);
    pmo_test_redis_kill (server);
    assert (pmo_test_redis_restart (server) == 0);
    int rc = -1;
    for (int i = 0; i < 100 && (rc = pmo_seq_take (redis, key, "al", 1, &first)); i++)
        zclock_sleep (50);
    assert (rc == 0);
    assert (!streq (pmo_redis_replid (redis), old_replid));
    assert (first == 7 + PMO_SEQ_FENCE);
    assert (pmo_seq_take (redis, key, "al", 1, &first) == 0 && first == 8 + PMO_SEQ_FENCE);
    //  Another prefix of the same hash counted on this master already
    assert (pmo_seq_take (redis, key, "rs", 2, &first) == 0 && first == 1);
    //  A master that counted before a failover lost it: the replica
    //  promoted holds the old master's id in the hash
    reply = pmo_test_redis_command (server, "HSET %s #replid %s", key, old_replid);
    freeReplyObject (reply);
    assert (pmo_seq_take (redis, key, "al", 1, &first) == 0 && first == 9 + 2 * PMO_SEQ_FENCE);
    pmo_arena_destroy (&arena);
    pmo_redis_destroy (&redis);
    printf ("seq: ok\n");
}

//  A server with no dataset to answer from (a replica cut off from its
//  master) is unavailable, never an empty answer: a read that came back as
//  "absent" there would be taken for the truth (a registry once answered
//  "no org_unit" and committed twice in a failover).
static void s_test_redis_no_dataset (void)
{
    pmo_test_redis_t *lost = pmo_test_redis_start (false);
    assert (lost);
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (lost), 500);
    redisReply *reply = pmo_redis_command (redis, "SET %s %s", "unit", "dft");
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    reply = pmo_test_redis_command (lost, "CONFIG SET replica-serve-stale-data no");
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    //  Its master: a port where nothing listens
    reply = pmo_test_redis_command (lost, "REPLICAOF 127.0.0.1 %d", pmo_test_free_port ());
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    reply = pmo_test_redis_command (lost, "GET unit");
    assert (reply && reply->type == REDIS_REPLY_ERROR && strstr (reply->str, "MASTERDOWN"));
    freeReplyObject (reply);
    assert (pmo_redis_command (redis, "GET %s", "unit") == NULL);
    //  Serving again, the next command connects again and reads the data
    reply = pmo_test_redis_command (lost, "REPLICAOF NO ONE");
    freeReplyObject (reply);
    for (int i = 0; i < 100 && !(reply = pmo_redis_command (redis, "GET %s", "unit")); i++)
        zclock_sleep (50);
    assert (reply && reply->type == REDIS_REPLY_STRING && streq (reply->str, "dft"));
    freeReplyObject (reply);
    pmo_redis_destroy (&redis);
    pmo_test_redis_destroy (&lost);
    printf ("redis without a dataset: ok\n");
}

//  A master with too few replicas (min-replicas-to-write, as behind
//  Sentinel during a failover) refuses writes with NOREPLICAS: a warning
//  once per episode, not an error each time a consumer retries its group.
static void s_test_redis_refused_writes (void)
{
    pmo_test_redis_t *alone = pmo_test_redis_start (false);
    assert (alone);
    redisReply *reply = pmo_test_redis_command (alone, "CONFIG SET min-replicas-to-write 1");
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (alone), 1000);
    //  What is logged meanwhile, at warn level and up
    char path[64];
    snprintf (path, sizeof path, "/tmp/pmo-test-refused-%d.log", getpid ());
    fflush (stderr);
    int saved = dup (2);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert (saved >= 0 && fd >= 0 && dup2 (fd, 2) == 2);
    close (fd);
    pmo_log_init ("test", "warn");
    for (int i = 0; i < 5; i++)
        assert (pmo_stream_group_ensure (redis, "pmo:{dft}:events", "g") == -1);
    reply = pmo_redis_command (redis, "SET %s %s", "unit", "dft");
    assert (reply && reply->type == REDIS_REPLY_ERROR);
    assert (pmo_redis_refused_write (redis, reply, "test: set") == 2); //  the same episode
    freeReplyObject (reply);
    //  A commit refused so is unavailable (retryable), not an error, and
    //  wrote nothing
    pmo_commit_t *commit = pmo_commit_new ("d9", "norep-1");
    pmo_commit_put (commit, "pmo:{d9}:x:norep", 0, 1, "blob", 4);
    pmo_commit_event (commit, "pmo:{d9}:events", "x.created", "event", 5);
    pmo_commit_reply (commit, "norep-1", 7, 60);
    pmo_commit_result_t result;
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_UNAVAILABLE);
    pmo_commit_result_clear (&result);
    pmo_commit_destroy (&commit);
    assert (s_int (alone, "EXISTS %s", "pmo:{d9}:x:norep") == 0);
    reply = pmo_redis_command (redis, "GET %s", "unit"); //  reads still answer
    assert (reply && reply->type == REDIS_REPLY_NIL);
    assert (pmo_redis_refused_write (redis, reply, "test: get") == 0);
    freeReplyObject (reply);
    fflush (stderr);
    assert (dup2 (saved, 2) == 2);
    close (saved);
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    FILE *f = fopen (path, "r");
    assert (f);
    char line[1024];
    int warned = 0, errors = 0;
    while (fgets (line, sizeof line, f)) {
        warned += strstr (line, " warn ") && strstr (line, "writes refused") &&
                  strstr (line, "stream: group create");
        errors += strstr (line, " error ") != NULL;
    }
    fclose (f);
    unlink (path);
    assert (warned == 1 && errors == 0);
    //  Replicas enough again: the group is made
    reply = pmo_test_redis_command (alone, "CONFIG SET min-replicas-to-write 0");
    freeReplyObject (reply);
    assert (pmo_stream_group_ensure (redis, "pmo:{dft}:events", "g") == 0);
    pmo_redis_destroy (&redis);
    pmo_test_redis_destroy (&alone);
    printf ("writes refused for want of replicas: one warning per episode: ok\n");
}

//  Writes text into a fresh file under /tmp; returns its path in path.
static void s_write_file (char *path, size_t size, const char *text)
{
    snprintf (path, size, "/tmp/pmo-test-auth-XXXXXX");
    int fd = mkstemp (path);
    assert (fd >= 0);
    assert (write (fd, text, strlen (text)) == (ssize_t)strlen (text));
    close (fd);
}

//  A password from a file (pmo_redis_url_auth): the ACL user it names
//  connects, and every malformed file or URL is refused
static void s_test_redis_auth (pmo_test_redis_t *server)
{
    redisReply *reply = pmo_test_redis_command (server, "ACL SETUSER app on >s3cret ~* +@all");
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    char path[64];
    s_write_file (path, sizeof path, "app:s3cret\n");
    char *url = pmo_redis_url_auth (pmo_test_redis_url (server), path);
    assert (url && strstr (url, "redis://app:s3cret@127.0.0.1:"));
    pmo_redis_t *redis = pmo_redis_new (url, 1000);
    assert (redis && pmo_redis_ready (redis));
    reply = pmo_redis_command (redis, "ACL WHOAMI");
    assert (reply && reply->type == REDIS_REPLY_STRING && streq (reply->str, "app"));
    freeReplyObject (reply);
    pmo_redis_destroy (&redis);
    free (url);
    url = pmo_redis_url_auth ("sentinel://s1:26379,s2:26379/pmo", path);
    assert (url && streq (url, "sentinel://app:s3cret@s1:26379,s2:26379/pmo"));
    free (url);
    //  No file: the URL as it is
    url = pmo_redis_url_auth ("redis://127.0.0.1:1", "");
    assert (url && streq (url, "redis://127.0.0.1:1"));
    free (url);
    //  Refused: credentials twice, a unix socket, a missing or malformed file
    assert (!pmo_redis_url_auth ("redis://a:b@127.0.0.1:1", path));
    assert (!pmo_redis_url_auth ("unix:///tmp/redis.sock", path));
    assert (!pmo_redis_url_auth ("redis://127.0.0.1:1", "/nonexistent/pmo-auth"));
    unlink (path);
    const char *bad[] = {"",           "nocolon\n",   ":pw\n",       "user:\n",
                         "us er:pw\n", "user:p@ss\n", "user:pa/ss\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_write_file (path, sizeof path, bad[i]);
        assert (!pmo_redis_url_auth ("redis://127.0.0.1:1", path));
        unlink (path);
    }
    printf ("redis auth file: ok\n");
}

static void s_test_commit (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 500);
    pmo_commit_result_t result;

    //  The reply's key is pmo:{<division>}:idem:<request id>, however long
    //  the request id (past the builder's 256-byte buffer too), and a
    //  fractional score is written as it is
    char long_id[301];
    memset (long_id, 'r', 300);
    long_id[300] = 0;
    const char *request_ids[] = {"short-id", long_id};
    for (int i = 0; i < 2; i++) {
        pmo_commit_t *keyed = pmo_commit_new ("d1", request_ids[i]);
        pmo_commit_zadd (keyed, "pmo:{d1}:scores", 2.5, "half");
        pmo_commit_reply (keyed, "r", 1, 60);
        assert (pmo_commit_exec (keyed, redis, &result) == 0);
        pmo_commit_result_clear (&result);
        pmo_commit_destroy (&keyed);
        char *key = pmo_commit_idem_key ("d1", request_ids[i]);
        assert (strlen (key) == 14 + strlen (request_ids[i]));
        assert (s_int (server, "EXISTS %s", key) == 1);
        free (key);
    }
    redisReply *score = pmo_test_redis_command (server, "ZSCORE pmo:{d1}:scores half");
    assert (score && score->type == REDIS_REPLY_STRING && streq (score->str, "2.5"));
    freeReplyObject (score);
    //  A commit writes the entity, its index, the event and the reply
    pmo_commit_t *commit = pmo_commit_new ("d1", "req-1");
    pmo_commit_put (commit, "pmo:{d1}:x:1", 0, 1, "blob-1", 6);
    pmo_commit_claim (commit, "pmo:{d1}:codes", "X-1", "x1");
    pmo_commit_zadd (commit, "pmo:{d1}:ix", 1, "x1");
    pmo_commit_event (commit, "pmo:{d1}:events", "x.created", "event", 5);
    pmo_commit_reply (commit, "reply-1", 7, 60);
    assert (pmo_commit_exec (commit, redis, &result) == 0);
    assert (result.status == PMO_COMMIT_OK && strchr (result.stream_id, '-'));
    pmo_commit_destroy (&commit);
    assert (s_int (server, "XLEN %s", "pmo:{d1}:events") == 1);
    assert (s_int (server, "ZCARD %s", "pmo:{d1}:ix") == 1);

    //  The same request id again: the first reply, nothing written
    commit = pmo_commit_new ("d1", "req-1");
    pmo_commit_put (commit, "pmo:{d1}:x:1", 1, 2, "blob-2", 6);
    pmo_commit_event (commit, "pmo:{d1}:events", "x.updated", "event", 5);
    pmo_commit_reply (commit, "reply-2", 7, 60);
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_DUPLICATE);
    assert (result.previous_size == 7 && memcmp (result.previous, "reply-1", 7) == 0);
    pmo_commit_result_clear (&result);
    pmo_commit_destroy (&commit);
    assert (s_int (server, "XLEN %s", "pmo:{d1}:events") == 1);

    //  A stale version: conflict, and nothing of the commit is written,
    //  including the operations listed before the failing check
    commit = pmo_commit_new ("d1", "req-2");
    pmo_commit_zadd (commit, "pmo:{d1}:ix", 2, "x2");
    pmo_commit_put (commit, "pmo:{d1}:x:2", 0, 1, "blob", 4);
    pmo_commit_put (commit, "pmo:{d1}:x:1", 7, 8, "blob", 4);
    pmo_commit_event (commit, "pmo:{d1}:events", "x.updated", "event", 5);
    pmo_commit_reply (commit, "reply", 5, 60);
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_CONFLICT && result.actual_version == 1);
    assert (strstr (result.key, "pmo:{d1}:x:1"));
    pmo_commit_destroy (&commit);
    assert (s_int (server, "ZCARD %s", "pmo:{d1}:ix") == 1);
    assert (s_int (server, "EXISTS %s", "pmo:{d1}:x:2") == 0);
    assert (s_int (server, "EXISTS %s", "pmo:{d1}:idem:req-2") == 0);
    assert (s_int (server, "XLEN %s", "pmo:{d1}:events") == 1);

    //  A taken code
    commit = pmo_commit_new ("d1", "req-3");
    pmo_commit_put (commit, "pmo:{d1}:x:3", 0, 1, "blob", 4);
    pmo_commit_claim (commit, "pmo:{d1}:codes", "X-1", "x3");
    pmo_commit_event (commit, "pmo:{d1}:events", "x.created", "event", 5);
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_TAKEN);
    pmo_commit_destroy (&commit);
    assert (s_int (server, "EXISTS %s", "pmo:{d1}:x:3") == 0);

    //  A claim is made as it is checked (HSETNX) and given up again when a
    //  later check of the same commit fails: a free code claimed before a
    //  taken one, and one claimed before a stale version, stay free
    commit = pmo_commit_new ("d1", "req-3b");
    pmo_commit_claim (commit, "pmo:{d1}:codes", "X-8", "x8");
    pmo_commit_claim (commit, "pmo:{d1}:codes", "X-1", "x8");
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_TAKEN && strstr (result.key, "X-1"));
    pmo_commit_destroy (&commit);
    commit = pmo_commit_new ("d1", "req-3c");
    pmo_commit_claim (commit, "pmo:{d1}:codes", "X-9", "x9");
    pmo_commit_put (commit, "pmo:{d1}:x:1", 7, 8, "blob", 4);
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_CONFLICT);
    pmo_commit_destroy (&commit);
    assert (s_int (server, "HEXISTS %s X-8", "pmo:{d1}:codes") == 0);
    assert (s_int (server, "HEXISTS %s X-9", "pmo:{d1}:codes") == 0);
    assert (s_int (server, "HLEN %s", "pmo:{d1}:codes") == 1);
    //  A code claimed again by its holder is no conflict
    commit = pmo_commit_new ("d1", "req-3d");
    pmo_commit_claim (commit, "pmo:{d1}:codes", "X-1", "x1");
    pmo_commit_claim (commit, "pmo:{d1}:codes", "X-7", "x1");
    assert (pmo_commit_exec (commit, redis, &result) == 0);
    pmo_commit_destroy (&commit);
    assert (s_int (server, "HLEN %s", "pmo:{d1}:codes") == 2);

    //  Redis gone: unavailable, quickly
    pmo_test_redis_kill (server);
    commit = pmo_commit_new ("d1", "req-4");
    pmo_commit_put (commit, "pmo:{d1}:x:4", 0, 1, "blob", 4);
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_UNAVAILABLE);
    pmo_commit_destroy (&commit);
    assert (pmo_test_redis_restart (server) == 0);
    zclock_sleep (300);
    //  After a restart the script cache is empty: NOSCRIPT is handled
    commit = pmo_commit_new ("d1", "req-5");
    pmo_commit_put (commit, "pmo:{d1}:x:5", 0, 1, "blob", 4);
    pmo_commit_event (commit, "pmo:{d1}:events", "x.created", "event", 5);
    int rc = -1;
    for (int i = 0; i < 50 && rc; i++) {
        rc = pmo_commit_exec (commit, redis, &result);
        if (rc)
            zclock_sleep (100);
    }
    assert (rc == 0 && result.status == PMO_COMMIT_OK);
    pmo_commit_destroy (&commit);
    pmo_redis_destroy (&redis);
    printf ("commit: ok\n");
}

extern const char pmo_lua_commit[]; //  common/lua/commit.lua, linked into pmo_common

//  Group commit: several commits of one division in one script call, each
//  decided as if it ran alone after the ones before it
static void s_test_commit_group (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 2000);
    pmo_commit_t *commits[4];
    pmo_commit_result_t results[4];
    //  A first commit, alone, that the group's third one repeats
    commits[0] = pmo_commit_new ("g1", "once");
    pmo_commit_put (commits[0], "pmo:{g1}:x:0", 0, 1, "zero", 4);
    pmo_commit_reply (commits[0], "first", 5, 60);
    assert (pmo_commit_exec (commits[0], redis, &results[0]) == 0);
    pmo_commit_destroy (&commits[0]);
    //  1: a create; 2: claims the code 1 just claimed (taken, sees 1's
    //  write); 3: the request id done above (dup); 4: a stale version
    const char *ids[] = {"g-a", "g-b", "once", "g-d"};
    for (int i = 0; i < 4; i++)
        commits[i] = pmo_commit_new ("g1", ids[i]);
    pmo_commit_put (commits[0], "pmo:{g1}:x:a", 0, 1, "a", 1);
    pmo_commit_claim (commits[0], "pmo:{g1}:codes", "CODE", "a");
    pmo_commit_event (commits[0], "pmo:{g1}:events", "x.created", "ea", 2);
    pmo_commit_reply (commits[0], "reply-a", 7, 60);
    pmo_commit_put (commits[1], "pmo:{g1}:x:b", 0, 1, "b", 1);
    pmo_commit_claim (commits[1], "pmo:{g1}:codes", "CODE", "b");
    pmo_commit_reply (commits[1], "reply-b", 7, 60);
    pmo_commit_put (commits[2], "pmo:{g1}:x:c", 0, 1, "c", 1);
    pmo_commit_put (commits[3], "pmo:{g1}:x:a", 0, 2, "a2", 2);
    pmo_commit_event (commits[3], "pmo:{g1}:events", "x.updated", "ed", 2);
    assert (pmo_commit_send_group (commits, 4, redis) == 0);
    assert (pmo_commit_recv_group (redis, results, 4) == -1);
    assert (results[0].status == PMO_COMMIT_OK && strchr (results[0].stream_id, '-'));
    assert (results[1].status == PMO_COMMIT_TAKEN && strstr (results[1].key, "CODE"));
    assert (results[2].status == PMO_COMMIT_DUPLICATE && results[2].previous_size == 5);
    assert (memcmp (results[2].previous, "first", 5) == 0);
    assert (results[3].status == PMO_COMMIT_CONFLICT && results[3].actual_version == 1);
    assert (pmo_commit_confirm (redis, results, 4) == 0); //  one node: nothing to wait for
    for (int i = 0; i < 4; i++)
        pmo_commit_result_clear (&results[i]);
    assert (s_int (server, "EXISTS %s", "pmo:{g1}:x:b") == 0);
    assert (s_int (server, "EXISTS %s", "pmo:{g1}:idem:g-b") == 0);
    assert (s_int (server, "EXISTS %s", "pmo:{g1}:x:c") == 0);
    assert (s_int (server, "XLEN %s", "pmo:{g1}:events") == 1);
    //  Two groups and a single commit pipelined: answered in order
    assert (pmo_commit_send_group (commits, 2, redis) == 0);
    assert (pmo_commit_send (commits[3], redis) == 0);
    assert (pmo_commit_send_group (commits + 2, 1, redis) == 0);
    assert (pmo_commit_recv_group (redis, results, 2) == -1);
    assert (results[0].status == PMO_COMMIT_DUPLICATE && results[1].status == PMO_COMMIT_TAKEN);
    assert (pmo_commit_recv (redis, &results[2]) == -1 && results[2].status == PMO_COMMIT_CONFLICT);
    assert (pmo_commit_recv_group (redis, &results[3], 1) == -1);
    assert (results[3].status == PMO_COMMIT_DUPLICATE);
    for (int i = 0; i < 4; i++) {
        pmo_commit_result_clear (&results[i]);
        pmo_commit_destroy (&commits[i]);
    }
    //  A malformed group (a bad op in its last commit) writes nothing of
    //  any commit and says why
    //  (a layout: the commit's base in 3 bytes, then per operation its
    //  code and its key's index in 3 bytes)
    const char reply_first[] = "\0\0\0R\0\0\1", bad_op[] = "\0\0\1Q\0\0\1";
    redisReply *reply = pmo_test_redis_command (
        server, "EVAL %s 2 pmo:{g1}:idem:m1 pmo:{g1}:idem:m2 2 %b r 60 %b x", pmo_lua_commit,
        reply_first, sizeof reply_first - 1, bad_op, sizeof bad_op - 1);
    assert (reply && reply->type == REDIS_REPLY_ERROR && strstr (reply->str, "bad op Q"));
    freeReplyObject (reply);
    reply = pmo_test_redis_command (server, "EVAL %s 1 pmo:{g1}:idem:m1 2 %b r 60", pmo_lua_commit,
                                    reply_first, sizeof reply_first - 1);
    assert (reply && reply->type == REDIS_REPLY_ERROR && strstr (reply->str, "bad commit header"));
    freeReplyObject (reply);
    //  A key index past the commit's keys, a layout cut short, an
    //  argument missing, one too many
    const char far_key[] = "\0\0\0V\0\0\2", cut[] = "\0\0\0V\0";
    const char *bad[][2] = {{far_key, "bad key"}, {cut, "bad commit header"}};
    size_t bad_size[] = {sizeof far_key - 1, sizeof cut - 1};
    for (int i = 0; i < 2; i++) {
        reply = pmo_test_redis_command (server, "EVAL %s 1 pmo:{g1}:idem:m1 1 %b 0", pmo_lua_commit,
                                        bad[i][0], bad_size[i]);
        assert (reply && reply->type == REDIS_REPLY_ERROR && strstr (reply->str, bad[i][1]));
        freeReplyObject (reply);
    }
    reply = pmo_test_redis_command (server, "EVAL %s 1 pmo:{g1}:idem:m1 1 %b r", pmo_lua_commit,
                                    reply_first, sizeof reply_first - 1);
    assert (reply && reply->type == REDIS_REPLY_ERROR && strstr (reply->str, "short op R"));
    freeReplyObject (reply);
    reply = pmo_test_redis_command (server, "EVAL %s 1 pmo:{g1}:idem:m1 1 %b r 60 extra",
                                    pmo_lua_commit, reply_first, sizeof reply_first - 1);
    assert (reply && reply->type == REDIS_REPLY_ERROR && strstr (reply->str, "after the last"));
    freeReplyObject (reply);
    //  A reply with no valid expiry is refused before anything is written
    //  (the reply is stored first, so a failing SET must never happen)
    reply = pmo_test_redis_command (server, "EVAL %s 1 pmo:{g1}:idem:m1 1 %b r soon",
                                    pmo_lua_commit, reply_first, sizeof reply_first - 1);
    assert (reply && reply->type == REDIS_REPLY_ERROR && strstr (reply->str, "bad reply"));
    freeReplyObject (reply);
    assert (s_int (server, "EXISTS %s", "pmo:{g1}:idem:m1") == 0);
    pmo_redis_destroy (&redis);
    printf ("commit group: ok\n");
}

//  The URL's replicas and wait bound: parsed, shown without the password,
//  and every malformed value refused
static void s_test_redis_url_replicas (void)
{
    pmo_redis_t *redis = pmo_redis_new ("redis://127.0.0.1:1", 1000);
    assert (redis && pmo_redis_replicas (redis) == 0);
    assert (pmo_redis_wait_replicas (redis) == 0); //  one node: nothing to wait for
    pmo_redis_destroy (&redis);
    redis = pmo_redis_new ("sentinel://u:pw@127.0.0.1:1,127.0.0.1:2/pmo", 1000);
    assert (redis && pmo_redis_replicas (redis) == 1);
    assert (strstr (pmo_redis_safe_url (redis), "?replicas=1&wait=500"));
    assert (!strstr (pmo_redis_safe_url (redis), "pw"));
    pmo_redis_destroy (&redis);
    redis = pmo_redis_new ("sentinel://127.0.0.1:1/pmo/2?replicas=0", 1000);
    assert (redis && pmo_redis_replicas (redis) == 0);
    pmo_redis_destroy (&redis);
    redis = pmo_redis_new ("redis://127.0.0.1:1/3?wait=200&replicas=2", 1000);
    assert (redis && pmo_redis_replicas (redis) == 2);
    assert (strstr (pmo_redis_safe_url (redis), "/3?replicas=2&wait=200"));
    pmo_redis_destroy (&redis);
    const char *bad[] = {"redis://127.0.0.1:1?",
                         "redis://127.0.0.1:1?replicas",
                         "redis://127.0.0.1:1?replicas=x",
                         "redis://127.0.0.1:1?replicas=-1",
                         "redis://127.0.0.1:1?replicas=17",
                         "redis://127.0.0.1:1?wait=0",
                         "redis://127.0.0.1:1?wait=1000",
                         "redis://127.0.0.1:1?replicas=1&",
                         "redis://127.0.0.1:1?fsync=1",
                         "sentinel://127.0.0.1:1/pmo?wait=5s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert (pmo_redis_new (bad[i], 1000) == NULL);
    printf ("redis URL replicas: ok\n");
}

static void s_commit_one (pmo_commit_t **commit_p, const char *request_id, const char *key)
{
    *commit_p = pmo_commit_new ("d9", request_id);
    pmo_commit_put (*commit_p, key, 0, 1, "blob", 4);
    pmo_commit_event (*commit_p, "pmo:{d9}:events", "x.created", "event", 5);
    pmo_commit_reply (*commit_p, request_id, strlen (request_id), 60);
}

//  A commit is acknowledged only once the replicas the URL names hold it.
//  Without one (a lone server told to wait for a replica) every commit, a
//  retry of it, a group of them and a stored reply are answered
//  unavailable, never OK; once a real replica follows the server, the same
//  retry is answered with its first reply and a new commit is on the
//  replica the moment it is acknowledged.
static void s_test_commit_replicas (void)
{
    pmo_test_redis_t *master = pmo_test_redis_start (false);
    assert (master);
    char url[128];
    snprintf (url, sizeof url, "%s?replicas=1&wait=100", pmo_test_redis_url (master));
    pmo_redis_t *redis = pmo_redis_new (url, 1000);
    assert (redis && pmo_redis_replicas (redis) == 1);
    pmo_commit_result_t result;
    pmo_commit_t *commit;
    s_commit_one (&commit, "rep-1", "pmo:{d9}:x:1");
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_UNAVAILABLE);
    //  Written on the master, but not claimed: a retry is not claimed either
    assert (s_int (master, "EXISTS %s", "pmo:{d9}:x:1") == 1);
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_UNAVAILABLE && !result.previous);
    pmo_arena_t *arena = pmo_arena_new ();
    uint8_t *blob;
    size_t size;
    assert (pmo_commit_replay (redis, arena, "d9", "rep-1", &blob, &size) == -1);
    assert (pmo_commit_confirm_replay (redis, "d9", "rep-1") == -1);
    //  A group: one WAIT, and none of them is claimed
    pmo_commit_t *group[3];
    pmo_commit_result_t results[4] = {{.status = PMO_COMMIT_CONFLICT}};
    for (int i = 0; i < 3; i++) {
        char id[16], key[32];
        snprintf (id, sizeof id, "grp-%d", i);
        snprintf (key, sizeof key, "pmo:{d9}:x:g%d", i);
        s_commit_one (&group[i], id, key);
        assert (pmo_commit_send (group[i], redis) == 0);
    }
    for (int i = 1; i < 4; i++) {
        assert (pmo_commit_recv (redis, &results[i]) == 0);
        assert (results[i].status == PMO_COMMIT_OK);
    }
    assert (pmo_commit_confirm (redis, results, 4) == -1);
    assert (results[0].status == PMO_COMMIT_CONFLICT); //  a refusal stays a refusal
    for (int i = 1; i < 4; i++)
        assert (results[i].status == PMO_COMMIT_UNAVAILABLE && !*results[i].stream_id);

    //  A real replica follows the master
    pmo_test_redis_t *replica = pmo_test_redis_start (false);
    assert (replica && pmo_test_redis_follow (replica, master) == 0);
    //  From here the replica must answer: a bound of 100 ms was too short on
    //  a loaded machine (the train's suite saw a retry answered unavailable
    //  with the replica linked), and WAIT returns as soon as it acknowledges
    pmo_redis_destroy (&redis);
    snprintf (url, sizeof url, "%s?replicas=1&wait=15000", pmo_test_redis_url (master));
    redis = pmo_redis_new (url, 20000);
    assert (redis && pmo_redis_replicas (redis) == 1);
    assert (pmo_commit_exec (commit, redis, &result) == -1);
    assert (result.status == PMO_COMMIT_DUPLICATE && result.previous_size == 5);
    assert (memcmp (result.previous, "rep-1", 5) == 0);
    pmo_commit_result_clear (&result);
    pmo_commit_destroy (&commit);
    assert (pmo_commit_replay (redis, arena, "d9", "rep-1", &blob, &size) == 1);
    assert (size == 5 && memcmp (blob, "rep-1", 5) == 0);
    s_commit_one (&commit, "rep-2", "pmo:{d9}:x:2");
    assert (pmo_commit_exec (commit, redis, &result) == 0);
    assert (s_int (replica, "EXISTS %s", "pmo:{d9}:x:2") == 1);
    assert (s_int (replica, "EXISTS %s", "pmo:{d9}:idem:rep-2") == 1);
    pmo_commit_destroy (&commit);
    for (int i = 0; i < 3; i++) {
        assert (pmo_commit_send (group[i], redis) == 0);
        pmo_commit_result_clear (&results[i + 1]);
    }
    for (int i = 1; i < 4; i++) {
        assert (pmo_commit_recv (redis, &results[i]) == -1);
        assert (results[i].status == PMO_COMMIT_DUPLICATE);
    }
    assert (pmo_commit_confirm (redis, results, 4) == 0);
    for (int i = 0; i < 3; i++) {
        assert (results[i + 1].status == PMO_COMMIT_DUPLICATE);
        pmo_commit_result_clear (&results[i + 1]);
        pmo_commit_destroy (&group[i]);
    }
    pmo_arena_destroy (&arena);
    pmo_redis_destroy (&redis);
    pmo_test_redis_destroy (&replica);
    pmo_test_redis_destroy (&master);
    printf ("commit confirmed by replicas: ok\n");
}

static void s_test_stream (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 2000);
    const char *streams[] = {"pmo:{s1}:events", "pmo:{s2}:events"};
    assert (pmo_stream_group_ensure (redis, streams[0], "riskmon") == 0);
    assert (pmo_stream_group_ensure (redis, streams[0], "riskmon") == 0); //  idempotent
    assert (pmo_stream_group_ensure (redis, streams[1], "riskmon") == 0);
    for (int i = 0; i < 5; i++) {
        redisReply *reply =
            pmo_test_redis_command (server, "XADD %s * type t%d data d%d", streams[i % 2], i, i);
        freeReplyObject (reply);
    }
    //  Consumer "a" takes one from each stream and dies without acknowledging
    pmo_stream_batch_t batch;
    assert (pmo_stream_group_read (redis, "riskmon", "a", streams, 2, 1, 0, 60000, &batch) == 0);
    assert (batch.count == 2);
    pmo_stream_batch_clear (&batch);
    //  Consumer "b" gets the rest, and not a's while they are fresh
    assert (pmo_stream_group_read (redis, "riskmon", "b", streams, 2, 10, 0, 60000, &batch) == 0);
    assert (batch.count == 3);
    for (size_t i = 0; i < batch.count; i++)
        assert (pmo_stream_ack (redis, batch.entries[i].stream, "riskmon", batch.entries[i].id) ==
                0);
    pmo_stream_batch_clear (&batch);
    //  Once idle long enough, a's entries are reclaimed by b
    zclock_sleep (60);
    assert (pmo_stream_group_read (redis, "riskmon", "b", streams, 2, 10, 0, 50, &batch) == 0);
    assert (batch.count == 2);
    for (size_t i = 0; i < batch.count; i++) {
        assert (strncmp (batch.entries[i].type, "t", 1) == 0);
        assert (batch.entries[i].size == 2 && batch.entries[i].data[0] == 'd');
        pmo_stream_ack (redis, batch.entries[i].stream, "riskmon", batch.entries[i].id);
    }
    pmo_stream_batch_clear (&batch);
    //  Nothing pending, nothing new; a blocking read waits then returns empty
    int64_t started = pmo_mono_ms ();
    assert (pmo_stream_group_read (redis, "riskmon", "b", streams, 2, 10, 200, 50, &batch) == 0);
    assert (batch.count == 0 && pmo_mono_ms () - started >= 150);
    //  Replays without a group
    assert (pmo_stream_range (redis, streams[0], "0", 100, &batch) == 0);
    assert (batch.count == 3);
    char second[64];
    snprintf (second, sizeof second, "%s", batch.entries[0].id);
    pmo_stream_batch_clear (&batch);
    assert (pmo_stream_range (redis, streams[0], second, 100, &batch) == 0);
    assert (batch.count == 2);
    pmo_stream_batch_clear (&batch);

    //  Trimming keeps what any group still needs: group "a" has everything
    //  up to entry 6 acknowledged, group "b" still has entry 4 pending
    const char *trim[] = {"pmo:{t1}:events"};
    char ids[10][64];
    for (int i = 0; i < 10; i++) {
        redisReply *reply = pmo_test_redis_command (server, "XADD %s * type t data d", trim[0]);
        snprintf (ids[i], sizeof ids[i], "%s", reply->str);
        freeReplyObject (reply);
    }
    assert (pmo_stream_trim_acknowledged (redis, trim[0], 0) == 0); //  no groups: kept
    assert (pmo_stream_group_ensure (redis, trim[0], "a") == 0);
    assert (pmo_stream_group_ensure (redis, trim[0], "b") == 0);
    assert (pmo_stream_trim_acknowledged (redis, trim[0], 0) == 0); //  nothing read yet
    assert (pmo_stream_group_read (redis, "a", "a1", trim, 1, 6, 0, 60000, &batch) == 0);
    for (size_t i = 0; i < batch.count; i++)
        pmo_stream_ack (redis, trim[0], "a", batch.entries[i].id);
    pmo_stream_batch_clear (&batch);
    assert (pmo_stream_group_read (redis, "b", "b1", trim, 1, 10, 0, 60000, &batch) == 0);
    for (size_t i = 0; i < batch.count; i++)
        if (i != 3)
            pmo_stream_ack (redis, trim[0], "b", batch.entries[i].id);
    pmo_stream_batch_clear (&batch);
    //  A replay window of a day keeps everything
    assert (pmo_stream_trim_acknowledged (redis, trim[0], 86400000) == 0);
    //  Without one, entries 1-3 go; entry 4 (pending in b) and later stay
    assert (pmo_stream_trim_acknowledged (redis, trim[0], 0) == 3);
    assert (pmo_stream_range (redis, trim[0], "0", 100, &batch) == 0);
    assert (batch.count == 7 && streq (batch.entries[0].id, ids[3]));
    pmo_stream_batch_clear (&batch);
    //  Once b acknowledges it and a reads on, trimming follows the slower group
    pmo_stream_ack (redis, trim[0], "b", ids[3]);
    assert (pmo_stream_trim_acknowledged (redis, trim[0], 0) == 2); //  up to a's last (6)
    pmo_redis_destroy (&redis);
    printf ("stream: ok\n");
}

//  A ROUTER that ignores the first request it sees and answers the second:
//  the client must retry with the same request id.
static void s_forgetful_server (zsock_t *pipe, void *args)
{
    //  The previous server on this endpoint may still be releasing the port
    //  (libzmq closes sockets asynchronously): try for a while
    zsock_t *router = NULL;
    for (int attempt = 0; attempt < 100 && !router; attempt++) {
        router = zsock_new (ZMQ_ROUTER);
        assert (router && pmo_auth_server (router) == 0);
        if (zsock_bind (router, "%s", (const char *)args) < 0) {
            zsock_destroy (&router);
            zclock_sleep (50);
        }
    }
    assert (router);
    zsock_signal (pipe, 0);
    char first_id[64] = "";
    int seen = 0;
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which != router)
            break;
        zmsg_t *msg = zmsg_recv (router);
        zframe_t *peer = zmsg_pop (msg);
        zframe_t *body = zmsg_pop (msg);
        Pmo__RegistryRequest *request =
            pmo__registry_request__unpack (NULL, zframe_size (body), zframe_data (body));
        assert (request);
        if (seen++ == 0)
            snprintf (first_id, sizeof first_id, "%s", request->header->request_id);
        else {
            //  The retry carries the same request id
            assert (streq (first_id, request->header->request_id));
            Pmo__Header header = PMO__HEADER__INIT;
            header.request_id = request->header->request_id;
            Pmo__RegistryReply reply = PMO__REGISTRY_REPLY__INIT;
            reply.header = &header;
            uint8_t buffer[256];
            size_t size = pmo__registry_reply__pack (&reply, buffer);
            //  A stale reply first: the client must skip it
            Pmo__Header stale_header = PMO__HEADER__INIT;
            stale_header.request_id = "someone-else";
            Pmo__RegistryReply stale = PMO__REGISTRY_REPLY__INIT;
            stale.header = &stale_header;
            uint8_t other[256];
            size_t other_size = pmo__registry_reply__pack (&stale, other);
            zframe_send (&peer, router, ZFRAME_MORE | ZFRAME_REUSE);
            zmq_send (zsock_resolve (router), other, other_size, 0);
            zframe_send (&peer, router, ZFRAME_MORE);
            zmq_send (zsock_resolve (router), buffer, size, 0);
        }
        pmo__registry_request__free_unpacked (request, NULL);
        zframe_destroy (&peer);
        zframe_destroy (&body);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&router);
}

//  The reader waits in Redis on its own connection and is driven by a poll
//  loop; reclaiming goes a few streams at a time.
//  Make every entry of stream that consumer holds in group look idle for
//  idle_ms (XCLAIM to the same consumer with IDLE), as if it had died then.
static void s_age_pending (pmo_test_redis_t *server, const char *stream, const char *group,
                           const char *consumer, int idle_ms)
{
    redisReply *pending =
        pmo_test_redis_command (server, "XPENDING %s %s - + 100 %s", stream, group, consumer);
    assert (pending && pending->type == REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < pending->elements; i++) {
        redisReply *claimed =
            pmo_test_redis_command (server, "XCLAIM %s %s %s 0 %s IDLE %d JUSTID", stream, group,
                                    consumer, pending->element[i]->element[0]->str, idle_ms);
        assert (claimed && claimed->type == REDIS_REPLY_ARRAY && claimed->elements == 1);
        freeReplyObject (claimed);
    }
    freeReplyObject (pending);
}

static void s_test_stream_reader (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 2000);
    const char *streams[] = {"pmo:{r1}:events", "pmo:{r2}:events", "pmo:{r3}:events"};
    for (int s = 0; s < 3; s++)
        assert (pmo_stream_group_ensure (redis, streams[s], "g") == 0);
    pmo_stream_reader_t *reader =
        pmo_stream_reader_new (pmo_test_redis_url (server), 2000, "g", "c1", 10, 300);
    assert (reader);
    //  Nothing to read before it has streams
    assert (pmo_stream_reader_arm (reader) == -1);
    pmo_stream_reader_set_streams (reader, streams, 3);
    int fd = pmo_stream_reader_arm (reader);
    assert (fd >= 0);
    assert (pmo_stream_reader_arm (reader) == fd); //  one read at a time
    pmo_stream_batch_t batch;
    //  Nothing has come: not readable, nothing taken, without waiting
    struct pollfd in = {.fd = fd, .events = POLLIN};
    assert (poll (&in, 1, 50) == 0);
    assert (pmo_stream_reader_take (reader, &batch) == 0 && batch.count == 0);
    //  An entry wakes it at once
    redisReply *reply = pmo_test_redis_command (server, "XADD %s * type t data d", streams[1]);
    freeReplyObject (reply);
    assert (poll (&in, 1, 2000) == 1);
    int rc;
    while ((rc = pmo_stream_reader_take (reader, &batch)) == 0)
        zclock_sleep (5);
    assert (rc == 1 && batch.count == 1 && streq (batch.entries[0].stream, streams[1]));
    pmo_stream_batch_clear (&batch);
    //  A read that waits its whole block time comes back empty, and the
    //  next one is armed again
    fd = pmo_stream_reader_arm (reader);
    in.fd = fd;
    int64_t started = pmo_mono_ms ();
    assert (poll (&in, 1, 2000) == 1);
    assert (pmo_mono_ms () - started >= 250);
    assert (pmo_stream_reader_take (reader, &batch) == 0 && batch.count == 0);
    assert (pmo_stream_reader_arm (reader) >= 0);
    //  A stream without the group is refused (and not asked again at once);
    //  the read waiting with the old streams finishes first, as a caller's
    //  loop sees it
    const char *missing[] = {"pmo:{r9}:events"};
    pmo_stream_reader_set_streams (reader, missing, 1);
    while ((rc = pmo_stream_reader_take (reader, &batch)) == 0) {
        in.fd = pmo_stream_reader_arm (reader);
        assert (in.fd >= 0);
        poll (&in, 1, 100);
    }
    assert (rc == -1 && batch.count == 0);
    assert (pmo_stream_reader_arm (reader) == -1 && pmo_stream_reader_wait_ms (reader) > 500);
    pmo_stream_reader_destroy (&reader);
    assert (!reader);

    //  Reclaiming: c1 read an entry of each stream and died; c2 takes them
    //  over two streams a step, the cursor going round
    for (int s = 0; s < 3; s++) {
        reply = pmo_test_redis_command (server, "XADD %s * type t data d", streams[s]);
        freeReplyObject (reply);
    }
    assert (pmo_stream_group_read (redis, "g", "c1", streams, 3, 10, 0, 60000, &batch) == 0);
    assert (batch.count == 3); //  r2 also holds the one c1 took above, unacknowledged
    pmo_stream_batch_clear (&batch);
    //  c1 died long ago: its entries idle for 100 s (XCLAIM's IDLE), so a
    //  reclaim of what idles a minute finds them, and never what c2 has
    //  just taken, however slow this run is (valgrind under load)
    for (int s = 0; s < 3; s++)
        s_age_pending (server, streams[s], "g", "c1", 100000);
    size_t cursor = 0;
    assert (pmo_stream_group_reclaim (redis, "g", "c2", streams, 3, &cursor, 2, 10, 60000,
                                      &batch) == 0);
    assert (batch.count == 3 && cursor == 2); //  r1's one, r2's two
    pmo_stream_batch_clear (&batch);
    assert (pmo_stream_group_reclaim (redis, "g", "c2", streams, 3, &cursor, 2, 10, 60000,
                                      &batch) == 0);
    assert (batch.count == 1 && cursor == 1); //  r3's, then r1 again (nothing: it is c2's now
    assert (streq (batch.entries[0].stream, streams[2])); //  and fresh)
    pmo_stream_batch_clear (&batch);
    pmo_redis_destroy (&redis);
    printf ("stream reader: ok\n");
}

static void s_test_client (void)
{
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    zactor_t *server = zactor_new (s_forgetful_server, endpoint);
    pmo_client_t *client = pmo_client_new (endpoint);
    assert (client);
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "tester";
    char request_id[37];
    Pmo__Header header;
    pmo_header_init (&header, request_id, 2000, &identity);
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.header = &header;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_PING;
    request.ping = &ping;
    ProtobufCMessage *reply = NULL;
    //  One attempt only: the forgetful server never answers it
    assert (pmo_client_call (client, &request.base, &pmo__registry_reply__descriptor, 200, 1,
                             &reply) == -1);
    //  With a second attempt it answers
    pmo_header_init (&header, request_id, 2000, &identity);
    zactor_destroy (&server);
    server = zactor_new (s_forgetful_server, endpoint);
    zclock_sleep (200); //  let the DEALER reconnect to the new server
    assert (pmo_client_call (client, &request.base, &pmo__registry_reply__descriptor, 300, 3,
                             &reply) == 0);
    Pmo__RegistryReply *answer = (Pmo__RegistryReply *)reply;
    assert (streq (answer->header->request_id, request_id));
    protobuf_c_message_free_unpacked (reply, NULL);
    pmo_client_destroy (&client);
    zactor_destroy (&server);
    //  Nobody there at all: times out, does not hang
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    client = pmo_client_new (endpoint);
    int64_t started = pmo_mono_ms ();
    assert (pmo_client_call (client, &request.base, &pmo__registry_reply__descriptor, 100, 2,
                             &reply) == -1);
    assert (pmo_mono_ms () - started < 1000);
    pmo_client_destroy (&client);
    assert (pmo_client_new ("nonsense://x") == NULL);
    printf ("client: ok\n");
}

//  An entity packed once and put into its event and reply as it is reads
//  back as the same message as one packed the usual way.
static void s_test_reflect_pack_with (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Money budget = PMO__MONEY__INIT;
    budget.currency = "GBP";
    budget.minor = 125000000;
    Pmo__Budget budgets = PMO__BUDGET__INIT;
    budgets.baseline = &budget;
    Pmo__Project project = PMO__PROJECT__INIT;
    project.id = "pr_dft_7";
    project.code = "HS2-7";
    project.name = "High Speed 2, phase 7";
    //  Over 127 bytes in all, so that its length takes two bytes
    project.description = pmo_arena_printf (arena, "%0300d", 7);
    project.version = 3;
    project.budget = &budgets;
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "project.updated";
    event.division = "dft";
    event.entity_version = 3;
    pmo_reflect_set_oneof (&event.base, "project", &project.base);
    Pmo__RegistryReply reply = PMO__REGISTRY_REPLY__INIT;
    Pmo__Header header = PMO__HEADER__INIT;
    header.request_id = "req-1";
    reply.header = &header;
    pmo_reflect_set_oneof (&reply.base, "project", &project.base);
    size_t entity_size, usual_size, with_size;
    uint8_t *entity = pmo_reflect_pack (&project.base, arena, &entity_size);
    assert (entity_size > 300);
    ProtobufCMessage *outers[] = {&event.base, &reply.base};
    for (size_t i = 0; i < 2; i++) {
        uint8_t *usual = pmo_reflect_pack (outers[i], arena, &usual_size);
        uint8_t *with =
            pmo_reflect_pack_with (outers[i], "project", entity, entity_size, arena, &with_size);
        assert (with_size == usual_size);
        //  Left as it was
        assert (*pmo_wire_message_slot (outers[i], "project") == &project.base);
        ProtobufCMessage *back =
            protobuf_c_message_unpack (outers[i]->descriptor, NULL, with_size, with);
        assert (back);
        size_t again_size;
        uint8_t *again = pmo_reflect_pack (back, arena, &again_size);
        assert (again_size == usual_size && memcmp (again, usual, usual_size) == 0);
        assert (pmo_wire_oneof_case (back) == 23 || i == 1);
        protobuf_c_message_free_unpacked (back, NULL);
    }
    //  Proof that the comparison can fail: another entity spliced in reads
    //  back as another message
    project.version = 4;
    uint8_t *usual = pmo_reflect_pack (&event.base, arena, &usual_size);
    uint8_t *with =
        pmo_reflect_pack_with (&event.base, "project", entity, entity_size, arena, &with_size);
    assert (with_size == usual_size && memcmp (with, usual, usual_size) != 0);
    //  A heap copy: the same bytes, its own memory (it outlives the arena
    //  and the original's strings)
    project.version = 3;
    size_t dup_size;
    ProtobufCMessage *dup = pmo_reflect_dup (&project.base);
    assert (dup && ((Pmo__Project *)dup)->name != project.name);
    uint8_t *dup_packed = pmo_reflect_pack (dup, arena, &dup_size);
    assert (dup_size == entity_size && memcmp (dup_packed, entity, entity_size) == 0);
    pmo_arena_destroy (&arena);
    assert (strcmp (((Pmo__Project *)dup)->description + 297, "007") == 0);
    protobuf_c_message_free_unpacked (dup, NULL);
    printf ("reflect pack_with: ok\n");
}

//  A request's bad enum value is named by its path, index included, and a
//  path longer than the buffer is cut, never overrun
static void s_test_wire_validate_path (void)
{
    Pmo__Project projects[3];
    Pmo__Project *list[3];
    for (int i = 0; i < 3; i++) {
        pmo__project__init (&projects[i]);
        list[i] = &projects[i];
    }
    projects[2].status = 99; //  no such ProjectStatus
    Pmo__Page page = PMO__PAGE__INIT;
    page.n_projects = 3;
    page.projects = list;
    char path[64], why[128];
    assert (pmo_wire_validate (&page.base, path, sizeof path, why, sizeof why) == -1);
    assert (streq (path, "projects[2].status"));
    assert (streq (why, "99 is not a valid ProjectStatus"));
    char cut[12] = "";
    assert (pmo_wire_validate (&page.base, cut, sizeof cut, why, sizeof why) == -1);
    assert (streq (cut, "projects[2]"));
    char tiny[6] = "";
    assert (pmo_wire_validate (&page.base, tiny, sizeof tiny, why, sizeof why) == -1);
    assert (streq (tiny, "proje"));
    projects[2].status = PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
    assert (pmo_wire_validate (&page.base, path, sizeof path, why, sizeof why) == 0);
    assert (streq (path, ""));
    printf ("wire validate path: ok\n");
}

//  Fields by name, through the per-thread cache: the same buffer holding
//  another name finds that one, an unknown name none, and the same name
//  in another message its own field
static void s_test_reflect_field (void)
{
    char name[32];
    for (int round = 0; round < 3; round++) {
        snprintf (name, sizeof name, "org_unit");
        const ProtobufCFieldDescriptor *unit = pmo_reflect_field (&pmo__project__descriptor, name);
        assert (unit && streq (unit->name, "org_unit") && unit->type == PROTOBUF_C_TYPE_STRING);
        snprintf (name, sizeof name, "code");
        const ProtobufCFieldDescriptor *code = pmo_reflect_field (&pmo__project__descriptor, name);
        assert (code && streq (code->name, "code") && code != unit);
        snprintf (name, sizeof name, "no_such_field");
        assert (pmo_reflect_field (&pmo__project__descriptor, name) == NULL);
        const ProtobufCFieldDescriptor *id = pmo_reflect_field (&pmo__project__descriptor, "id");
        const ProtobufCFieldDescriptor *unit_id =
            pmo_reflect_field (&pmo__org_unit__descriptor, "id");
        assert (id && unit_id && id != unit_id && streq (unit_id->name, "id"));
        assert (id ==
                protobuf_c_message_descriptor_get_field_by_name (&pmo__project__descriptor, "id"));
    }
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = "C-1";
    assert (streq (pmo_reflect_str (&project.base, "code"), "C-1"));
    assert (streq (pmo_reflect_str (&project.base, "name"), ""));
    printf ("reflect field: ok\n");
}

int main (void)
{
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    s_test_util ();
    s_test_reflect_pack_with ();
    s_test_reflect_field ();
    s_test_wire_validate_path ();
    pmo_test_redis_t *server = pmo_test_redis_start (false);
    assert (server);
    s_test_redis (server);
    s_test_seq (server);
    s_test_redis_no_dataset ();
    s_test_redis_refused_writes ();
    s_test_redis_auth (server);
    s_test_commit (server);
    s_test_commit_group (server);
    s_test_redis_url_replicas ();
    s_test_commit_replicas ();
    s_test_stream (server);
    s_test_stream_reader (server);
    pmo_test_redis_destroy (&server);
    s_test_client ();
    printf ("test_common: ok\n");
    return 0;
}
