/*  pmo_stream.h: reading the division event streams.

    Consumers (risk monitor, notifier, hub) read with a consumer group:
    pmo_stream_group_read returns new entries and, first, entries another
    consumer of the group left pending for longer than min_idle_ms (it died
    between reading and acknowledging), reclaimed with XAUTOCLAIM. The caller
    acts, then acknowledges. Delivery is at least once: handlers dedupe by
    entry id.

    pmo_stream_range reads without a group, for replays (pmoctl watch
    --since, a subscriber that saw a gap on PUB/SUB).
*/
#ifndef PMO_STREAM_H_INCLUDED
#define PMO_STREAM_H_INCLUDED

#include "pmo_redis.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A division's event stream is "pmo:{<division>}:events": the braces put
//  every key of a division in one Redis Cluster hash slot, so a commit's
//  script may touch them all. These are the only spellings of that key.
//  The key in arena.
char *pmo_stream_key (pmo_arena_t *arena, const char *division);
//  The key in buf; -1 if it does not fit.
int pmo_stream_key_buf (char *buf, size_t size, const char *division);
//  The division a stream key names, copied into buf; NULL if key is not a
//  division stream or the division does not fit.
const char *pmo_stream_key_division (const char *key, char *buf, size_t size);
//  The stream ids of the last n entries of division's stream up to and
//  including last_id, oldest first (a commit's events are contiguous in the
//  stream), into ids[0..n) in arena; NULL where not read. 0, or -1 if Redis
//  failed.
int pmo_stream_last_ids (pmo_redis_t *redis, pmo_arena_t *arena, const char *division,
                         const char *last_id, size_t n, char **ids);

typedef struct {
    char *stream; //  the stream key
    char *id;     //  the entry id, e.g. "1700000000000-0"
    char *type;   //  the event type field
    char *data;   //  the event blob (pmo.Event)
    size_t size;
} pmo_stream_entry_t;

typedef struct {
    pmo_stream_entry_t *entries;
    size_t count;
    size_t reclaimed; //  pmo_stream_group_read: entries [0, reclaimed) were
                      //  taken over pending, the rest are new
} pmo_stream_batch_t;

void pmo_stream_batch_clear (pmo_stream_batch_t *batch);

//  Create the group on the stream (and the stream) if missing; the group
//  starts at the beginning of the stream ("0"). 0 or -1.
int pmo_stream_group_ensure (pmo_redis_t *redis, const char *stream, const char *group);

//  Reclaimed pending entries first (up to count in all), then, if fewer
//  than count were reclaimed, new ones: up to count from each stream (Redis
//  applies COUNT per stream). block_ms > 0 waits for new entries that
//  long (it must stay under the connection's timeout). Returns 0 (batch may
//  be empty) or -1 if Redis failed.
int pmo_stream_group_read (pmo_redis_t *redis, const char *group, const char *consumer,
                           const char **streams, size_t nstreams, size_t count, int block_ms,
                           int min_idle_ms, pmo_stream_batch_t *batch);

//  Reclaiming on a timer, a few streams at a time: XAUTOCLAIM on up to
//  max_streams of the streams, starting at *cursor (advanced, wrapping
//  around), for entries pending longer than min_idle_ms, up to count in
//  all. A consumer of many streams calls it now and then instead of
//  reclaiming on every read, so being idle costs next to nothing. Returns
//  0 (batch may be empty) or -1 if Redis failed.
int pmo_stream_group_reclaim (pmo_redis_t *redis, const char *group, const char *consumer,
                              const char *const *streams, size_t nstreams, size_t *cursor,
                              size_t max_streams, size_t count, int min_idle_ms,
                              pmo_stream_batch_t *batch);

//  A consumer group's reader that waits for new entries inside Redis
//  (XREADGROUP ... BLOCK) on a connection of its own, driven by the
//  caller's poll loop: an idle consumer sends one command per block_ms
//  whatever the number of streams, and new entries wake it at once.
//
//      int fd = pmo_stream_reader_arm (reader);      // poll fd for input
//      ...
//      if (pmo_stream_reader_take (reader, &batch) == 1) { handle, ack }
typedef struct _pmo_stream_reader_t pmo_stream_reader_t;

//  redis_url and timeout_ms as pmo_redis_new; count entries per stream and
//  read at most; block_ms how long one read waits in Redis. NULL if the URL
//  is malformed.
pmo_stream_reader_t *pmo_stream_reader_new (const char *redis_url, int timeout_ms,
                                            const char *group, const char *consumer, size_t count,
                                            int block_ms);
void pmo_stream_reader_destroy (pmo_stream_reader_t **self_p);

//  The streams to read (copied). A read already waiting finishes with the
//  old set (at the latest after block_ms); the next one uses the new set.
void pmo_stream_reader_set_streams (pmo_stream_reader_t *self, const char *const *streams,
                                    size_t n);

//  Make sure a read waits in Redis. Returns the descriptor to poll for
//  input, or -1 if there is nothing to read or Redis cannot be reached now
//  (call again at the latest after pmo_stream_reader_wait_ms).
int pmo_stream_reader_arm (pmo_stream_reader_t *self);

//  How long the caller may sleep before calling arm or take again, ms.
int pmo_stream_reader_wait_ms (pmo_stream_reader_t *self);

//  New entries, if the waiting read has returned some: 1 (batch filled,
//  the caller handles and acknowledges them), 0 (nothing yet, or the read
//  timed out empty), -1 (Redis failed; the next arm reconnects).
int pmo_stream_reader_take (pmo_stream_reader_t *self, pmo_stream_batch_t *batch);

int pmo_stream_ack (pmo_redis_t *redis, const char *stream, const char *group, const char *id);

//  Trim stream of what every consumer group is done with: entries older
//  than each group's oldest pending entry and than what it has been given,
//  and older than keep_ms ago (a window kept for replays, e.g. SSE clients
//  resuming and the hub catching up). A stream without groups is left as
//  it is: nobody has said what it may lose. Returns the number of entries
//  removed, or -1 if Redis failed. (Redis 7.0's MAXLEN and MINID ignore
//  pending entries, hence this.)
long long pmo_stream_trim_acknowledged (pmo_redis_t *redis, const char *stream, int64_t keep_ms);

//  Entries after id (exclusive; "0" for everything), up to count.
int pmo_stream_range (pmo_redis_t *redis, const char *stream, const char *after_id, size_t count,
                      pmo_stream_batch_t *batch);

//  Entries newest first (XREVRANGE), from upper down to floor, up to count.
//  upper is "+" (the newest) or an id, read itself only if inclusive (an id
//  without "-<seq>" stands for that millisecond's last); floor is "-" (the
//  oldest) or an id (a bare millisecond: its first). 0 or -1.
int pmo_stream_range_back (pmo_redis_t *redis, const char *stream, const char *upper,
                           bool inclusive, const char *floor, size_t count,
                           pmo_stream_batch_t *batch);

//  A stream id "<ms>-<seq>" as numbers; false if id is not one.
bool pmo_stream_id_parse (const char *id, uint64_t *ms, uint64_t *seq);

#endif
