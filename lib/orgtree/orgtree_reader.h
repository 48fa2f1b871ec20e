/*  orgtree_reader.h: keeping an org tree fresh without ever waiting.

    A service's loop must not stall while the registry is away or slow
    (a synchronous orgtree_refresh waits up to its timeout per try). The
    reader reads the whole tree page by page (orgtree_list_page,
    orgtree_feed) over a DEALER of its own, or over the caller's DEALER
    to the registry (the gateway's), and feeds the replies to the tree as
    they come. A registry that is down or slow costs staleness, never a
    wait: an ask that is not answered in time is given up and asked again
    later, and a late reply is dropped.

    The loop polls orgtree_reader_socket for input and calls
    orgtree_reader_take when it has some (or, on the caller's own socket,
    hands the reply whose request id orgtree_reader_awaits to
    orgtree_reader_feed), and calls orgtree_reader_due once the monotonic
    clock reaches orgtree_reader_next_ms. Both say when a whole read has
    completed: the tree then holds what the registry said (look at
    orgtree_generation to tell whether anything changed).

    One copy of this for every service that holds a tree: the gateway,
    the risk monitor, the notifier and the planner. A reader belongs to
    the thread of its tree.
*/
#ifndef ORGTREE_READER_H_INCLUDED
#define ORGTREE_READER_H_INCLUDED

#include "orgtree.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _orgtree_reader_t orgtree_reader_t;

typedef struct {
    const char *registry;          //  the registry's endpoint(s), comma-separated,
                                   //  for a DEALER of the reader's own; or NULL:
    zsock_t *socket;               //  ... the caller's DEALER to it (not owned)
    const Pmo__Identity *identity; //  who asks; must outlive the reader
    int timeout_ms;                //  a page's reply is awaited this long; 0 = 1000
    int refresh_ms;                //  the tree is read again this often; 0 = 30000
    int retry_ms;                  //  ... this soon after a failure; 0 = 1000
    int first_retry_ms;            //  ... this soon while it was never read; 0 = retry_ms
    const char *name;              //  who reads, for the log ("riskmon")
} orgtree_reader_config_t;

//  A reader of tree (not owned) that asks at once. NULL if an endpoint is
//  not valid.
orgtree_reader_t *orgtree_reader_new (orgtree_t *tree, const orgtree_reader_config_t *config);
void orgtree_reader_destroy (orgtree_reader_t **self_p);

//  The socket to poll for replies (the caller's if it gave one).
zsock_t *orgtree_reader_socket (orgtree_reader_t *self);
//  When orgtree_reader_due is next wanted (pmo_mono_ms clock).
int64_t orgtree_reader_next_ms (orgtree_reader_t *self);

//  Time has come: ask for the first page, or give up on a reply that did
//  not come in time (asking again after retry_ms).
void orgtree_reader_due (orgtree_reader_t *self);

//  Read every reply waiting on the reader's own socket, feeding the
//  awaited one to the tree and asking for the next page. True if a whole
//  read completed.
bool orgtree_reader_take (orgtree_reader_t *self);

//  On the caller's socket: the request id awaited ("" when none), and the
//  reply that carries it. True if a whole read completed.
const char *orgtree_reader_awaits (orgtree_reader_t *self);
bool orgtree_reader_feed (orgtree_reader_t *self, const Pmo__RegistryReply *reply);

//  Read again now (an org-unit event was seen): the tree is invalidated
//  and a read under way is let go.
void orgtree_reader_now (orgtree_reader_t *self);

//  The caller read the tree itself (orgtree_refresh, rc its result): a
//  read under way is let go, the next comes after refresh_ms (rc 0) or
//  retry_ms.
void orgtree_reader_done (orgtree_reader_t *self, int rc);

//  Whether a whole read has completed since the reader was made.
bool orgtree_reader_read_once (orgtree_reader_t *self);

#endif
