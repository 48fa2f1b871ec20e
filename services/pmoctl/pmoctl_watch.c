/*  pmoctl_watch.c: follow the registry's live events.

    The registry publishes every committed change on its PUB socket as two
    frames: the topic "<division>.<type>" and the pmo.Event. watch
    subscribes to the division's prefix (or to everything) and filters the
    type prefix here, since the topic cannot express "any division".

    PUB/SUB drops what a slow or absent subscriber misses: this is a live
    view for people. What must not be missed is read from the division's
    Redis stream by the services that need it.
*/
#include "pmoctl.h"

#include "events.pb-c.h"
#include "pmo_auth.h"
#include "pmo_json.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

//  How often the loop looks at zsys_interrupted while no event comes
#define WATCH_POLL_MS 500

static void s_print_event (pmoctl_t *ctl, const Pmo__Event *event)
{
    if (ctl->json) {
        char *text = pmo_json_encode (&event->base);
        if (text)
            printf ("%s\n", text);
        else
            fprintf (stderr, "pmoctl: warning: event %s cannot be written as JSON\n", event->id);
        free (text);
    } else
        printf ("%s  %-15s  %-24s  %-12s v%-3llu  %-18s  %s %s\n",
                pmoctl_format_time (ctl->arena, event->time_ms, true), event->id, event->type,
                event->entity_id, (unsigned long long)event->entity_version, event->actor,
                event->division, event->org_unit_path);
    //  One line at a time, also into a pipe
    fflush (stdout);
}

int pmoctl_run_watch (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *division = pmoctl_args_get (args, "division");
    const char *type = pmoctl_args_get (args, "type");
    if (division && !pmo_slug_valid (division, 1, 32))
        return pmoctl_usage_error (cmd, "--division '%s' is not an org unit id", division);
    if (!type)
        type = "";
    if (pmoctl_keys (ctl))
        return ctl->status;
    //  Every registry replica's PUB (comma-separated): each publishes what
    //  it commits. With a division the topic prefix does all the filtering
    zsock_t *sub =
        pmo_auth_sub_new (ctl->endpoints[PMOCTL_REGISTRY_PUB],
                          division ? pmo_arena_printf (ctl->arena, "%s.%s", division, type) : "");
    if (!sub) {
        fprintf (
            stderr,
            "pmoctl: '%s' is not a ZeroMQ endpoint or a comma-separated list of them (e.g. %s)\n",
            ctl->endpoints[PMOCTL_REGISTRY_PUB], pmoctl_endpoints[PMOCTL_REGISTRY_PUB].fallback);
        return PMOCTL_USAGE;
    }
    fprintf (stderr, "pmoctl: watching %s%s%s%s (Ctrl-C to stop)\n",
             ctl->endpoints[PMOCTL_REGISTRY_PUB], division ? " division " : "",
             division ? division : "",
             *type ? pmo_arena_printf (ctl->arena, " types %s*", type) : "");

    zpoller_t *poller = zpoller_new (sub, NULL);
    assert (poller);
    while (!zsys_interrupted) {
        if (zpoller_wait (poller, WATCH_POLL_MS) != sub) {
            if (zpoller_terminated (poller))
                break;
            continue;
        }
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            break;
        char *topic = zmsg_popstr (msg);
        zframe_t *blob = zmsg_pop (msg);
        const char *dot = topic ? strchr (topic, '.') : NULL;
        if (!dot || !blob)
            fprintf (stderr, "pmoctl: warning: a message that is not an event (topic '%s')\n",
                     topic ? topic : "");
        else if (strncmp (dot + 1, type, strlen (type)) == 0) {
            Pmo__Event *event = pmo__event__unpack (NULL, zframe_size (blob), zframe_data (blob));
            if (event) {
                s_print_event (ctl, event);
                pmo__event__free_unpacked (event, NULL);
            } else
                fprintf (stderr, "pmoctl: warning: an undecodable event on topic '%s'\n", topic);
        }
        zstr_free (&topic);
        zframe_destroy (&blob);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    return PMOCTL_OK;
}

static const pmoctl_flag_t s_watch_flags[] = {
    F ("division", "ID", 0, "only this division's events"),
    F ("type", "PREFIX", 0, "only event types starting so, e.g. project. or project.gate"),
    END,
};

const pmoctl_command_t pmoctl_watch_commands[] = {
    PMOCTL_RUN ("watch", NULL, NULL, s_watch_flags, PMOCTL_MODE_OTHER, pmoctl_run_watch, NULL, NULL,
                "print the registry's events as they happen, until Ctrl-C"),
    PMOCTL_END,
};
