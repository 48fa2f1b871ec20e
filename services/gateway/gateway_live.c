/*  gateway_live.c: live events (GET /api/v1/events) and /metrics. Both
    show only the division streams the caller's grants cover, which the
    org-unit tree decides.
*/
#include "gateway_internal.h"
#include "gateway_sse.h"

#include "pmo_log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

//  The divisions who may read live events of (NULL-terminated, caller
//  frees each and the list), and whether that is all of them. -1 if the
//  org units are not known yet.
static int s_visible_divisions (self_t *self, const Pmo__Identity *who, char ***out, bool *all)
{
    if (!self->orgs_reader || !orgtree_reader_read_once (self->orgs_reader))
        return -1;
    size_t cap = 2;
    for (size_t i = 0; orgtree_division_at (self->orgs, i); i++)
        cap++;
    char **list = calloc (cap, sizeof (char *));
    assert (list);
    size_t n = 0;
    list[n++] = strdup (self->config.hub); //  the org structure is everyone's
    *all = false;
    for (size_t g = 0; g < who->n_grants; g++) {
        const char *path = orgtree_path (self->orgs, who->grants[g]->org_unit);
        if (path && !strchr (path, '/'))
            *all = true;
    }
    for (size_t i = 0; orgtree_division_at (self->orgs, i); i++) {
        const char *division = orgtree_division_at (self->orgs, i);
        bool take = *all;
        for (size_t g = 0; g < who->n_grants && !take; g++) {
            const char *of = orgtree_division (self->orgs, who->grants[g]->org_unit);
            take = of && strcmp (of, division) == 0;
        }
        bool known = false;
        for (size_t k = 0; k < n; k++)
            known = known || strcmp (list[k], division) == 0;
        if (take && !known)
            list[n++] = strdup (division);
    }
    *out = list;
    return 0;
}

static void s_strv_free (char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free (list[i]);
    free (list);
}

enum MHD_Result gateway_live_events (self_t *self, request_t *req)
{
    struct MHD_Connection *connection = req->connection;
    char **divisions = NULL;
    bool all = false;
    if (s_visible_divisions (self, &req->caller.identity, &divisions, &all))
        return gateway_http_problem (
            req, 503, "unavailable", "",
            "the org units are not known yet (the registry decides which streams "
            "you may read); retry shortly",
            NULL, "Retry-After", "1");
    const char *last = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Last-Event-ID");
    const char *since = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "since");
    gateway_sse_config_t config = {
        .connection = connection,
        .divisions = (const char *const *)divisions,
        .all_divisions = all,
        .token = req->caller.token,
        .filter =
            {
                .org_unit =
                    MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "org_unit"),
                .project =
                    MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "project"),
                .types = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "type"),
            },
        //  An EventSource cannot set headers on its first connection: ?since=
        //  does what Last-Event-ID does
        .last_event_id = last ? last : since,
        .heartbeat_ms = self->config.heartbeat_ms,
        .metrics = self->metrics,
        .clients = self->sse,
        .wake = &self->sse_woken,
        .queue_max = self->config.sse_queue,
    };
    //  No client: the shared reader's places are stale, start from now
    if (zlistx_size (self->sse) == 0)
        gateway_feed_reset (self->feed);
    bool bad_id;
    gateway_sse_t *sse = gateway_sse_new (&config, self->feed, self->store, &bad_id);
    s_strv_free (divisions);
    if (!sse)
        return bad_id
                   ? gateway_http_problem (req, 400, "invalid", "Last-Event-ID",
                                           "Last-Event-ID is an id this stream sent "
                                           "(<stream id>/<division>)",
                                           NULL, NULL, NULL)
                   : gateway_http_problem (req, 503, "unavailable", "",
                                           "the event store (Redis) is unavailable; retry shortly",
                                           NULL, "Retry-After", "1");
    //  A resume has history to send: read it now
    self->sse_woken = true;
    //  The kernel's send buffer is bounded too (it would otherwise grow to
    //  megabytes for a client that stops reading): a slow client shows in
    //  its queue, where it is dropped, not in unbounded socket memory
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    int sndbuf = (int)(self->config.sse_queue ? self->config.sse_queue : GATEWAY_SSE_QUEUE_DEFAULT);
    if (info && setsockopt (info->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf))
        pmo_debug ("gateway: SO_SNDBUF not set on a live-event connection");
    struct MHD_Response *response = MHD_create_response_from_callback (
        MHD_SIZE_UNKNOWN, 8192, gateway_sse_read, sse, gateway_sse_free);
    MHD_add_response_header (response, "Content-Type", "text/event-stream");
    MHD_add_response_header (response, "Cache-Control", "no-store");
    MHD_add_response_header (response, "X-Accel-Buffering", "no");
    req->status = 200;
    req->stage = STAGE_DONE;
    return gateway_http_queue (req, response);
}

enum MHD_Result gateway_live_metrics (self_t *self, request_t *req)
{
    if (!gateway_may_read_metrics (&req->caller.identity))
        return gateway_http_problem (req, 403, "forbidden", "",
                                     "/metrics needs a grant of the metrics role (or admin)", NULL,
                                     NULL, NULL);
    char *text = NULL;
    size_t size = 0;
    gateway_metrics_render (self->metrics, &text, &size);
    //  Queue depths and consumer lag of the division streams the caller may see
    char **divisions = NULL;
    bool all;
    if (s_visible_divisions (self, &req->caller.identity, &divisions, &all) == 0) {
        gateway_metrics_printf (&text, &size,
                                "# HELP pmo_stream_length Entries in a division's event "
                                "stream.\n# TYPE pmo_stream_length gauge\n");
        char *groups = NULL;
        size_t groups_size = 0;
        gateway_metrics_printf (&groups, &groups_size,
                                "# HELP pmo_stream_group_pending Entries delivered to a consumer "
                                "group and not yet acknowledged.\n# TYPE pmo_stream_group_pending "
                                "gauge\n# HELP pmo_stream_group_lag Entries not yet delivered to "
                                "a consumer group.\n# TYPE pmo_stream_group_lag gauge\n");
        for (size_t i = 0; divisions[i]; i++) {
            long long length;
            gateway_group_figures_t figures[16];
            size_t n;
            gateway_store_stream_figures (self->store, divisions[i], &length, figures, 16, &n);
            if (length >= 0)
                gateway_metrics_printf (&text, &size, "pmo_stream_length{division=\"%s\"} %lld\n",
                                        divisions[i], length);
            for (size_t g = 0; g < n; g++) {
                if (figures[g].pending >= 0)
                    gateway_metrics_printf (
                        &groups, &groups_size,
                        "pmo_stream_group_pending{division=\"%s\",group=\"%s\"} %lld\n",
                        divisions[i], figures[g].name, figures[g].pending);
                if (figures[g].lag >= 0)
                    gateway_metrics_printf (
                        &groups, &groups_size,
                        "pmo_stream_group_lag{division=\"%s\",group=\"%s\"} %lld\n", divisions[i],
                        figures[g].name, figures[g].lag);
            }
        }
        gateway_metrics_printf (&text, &size, "%s", groups);
        free (groups);
        s_strv_free (divisions);
    }
    struct MHD_Response *response;
    gateway_http_send (req, 200, "text/plain; version=0.0.4; charset=utf-8", text, size, &response);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    return gateway_http_queue (req, response);
}
