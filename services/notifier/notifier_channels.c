/*  notifier_channels.c: channel and subscription requests.

    A channel is where messages go (a chat tool's webhook or an SMTP
    server), owned by an org unit; a subscription says which events of
    which part of the tree reach it. Both are versioned entities changed
    through one commit with their event; secrets are never shown back.
*/
#include "notifier_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"
#include "registry.pb-c.h"

#include <ctype.h>
#include <string.h>

//  A project as the registry knows it (its path and a label), read with
//  the notifier's own identity. 1 found, 0 absent, -1 unavailable.
static int s_project (notifier_t *self, pmo_arena_t *arena, const char *id, char **path,
                      char **label)
{
    Pmo__Project *project;
    int rc = orgtree_project (self->tree, id, arena, &project);
    if (rc == 1) {
        *path = project->org_unit_path;
        *label = pmo_arena_printf (arena, "%s %s", project->code, project->name);
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  Channels

//  "pmo_manager" for ROLE_PMO_MANAGER (in arena)
static const char *s_role_name (Pmo__Role role, pmo_arena_t *arena)
{
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value (&pmo__role__descriptor, (int)role);
    if (!value)
        return "?";
    char *name = pmo_arena_strdup (arena, value->name + 5); //  past "ROLE_"
    for (char *p = name; *p; p++)
        *p = (char)tolower ((unsigned char)*p);
    return name;
}

//  The same mapping as before (so whoever changes something else of the
//  channel need not hold the roles someone else mapped).
static bool s_chat_user_same (const Pmo__ChatUser *a, const Pmo__Channel *stored)
{
    for (size_t i = 0; stored && i < stored->n_chat_users; i++) {
        const Pmo__ChatUser *b = stored->chat_users[i];
        if (!streq (a->chat_user_id, b->chat_user_id))
            continue;
        if (!streq (a->subject, b->subject) || a->n_grants != b->n_grants)
            return false;
        for (size_t g = 0; g < a->n_grants; g++)
            if (a->grants[g]->role != b->grants[g]->role ||
                !streq (a->grants[g]->org_unit, b->grants[g]->org_unit))
                return false;
        return true;
    }
    return false;
}

//  Each new or changed chat user's grants lie in the channel's subtree and
//  are held by the caller there (as the same role, or as admin): mapping a
//  person hands out no more than the mapper has. False after failing req.
static bool s_chat_users_allowed (notifier_t *self, pmo_request_t *req, const Pmo__Channel *ch,
                                  const Pmo__Channel *stored, const char *member)
{
    const Pmo__Identity *who = pmo_request_who (req);
    for (size_t i = 0; i < ch->n_chat_users; i++) {
        const Pmo__ChatUser *user = ch->chat_users[i];
        if (s_chat_user_same (user, stored))
            continue;
        for (size_t g = 0; g < user->n_grants; g++) {
            const Pmo__Grant *grant = user->grants[g];
            char field[96];
            snprintf (field, sizeof field, "%s.chat_users[%zu].grants[%zu]", member, i, g);
            Pmo__OrgUnit *unit;
            int found = notifier_unit (self, req->arena, grant->org_unit, &unit);
            if (found < 0)
                return pmo_request_unavailable (req, "the registry (org units)"), false;
            if (found == 0 || !pmo_path_contains (unit->path, ch->org_unit))
                return FAIL (req, INVALID, field, "'%.64s' is not in the channel's subtree (%s)",
                             grant->org_unit, ch->org_unit),
                       false;
            bool held = false;
            for (size_t h = 0; !held && h < who->n_grants; h++)
                held = (who->grants[h]->role == grant->role ||
                        who->grants[h]->role == PMO__ROLE__ROLE_ADMIN) &&
                       pmo_path_contains (unit->path, who->grants[h]->org_unit);
            if (!held)
                return FAIL (req, FORBIDDEN, field,
                             "you cannot map a person to a role you do not hold there "
                             "(%s at %.64s)",
                             s_role_name (grant->role, req->arena), grant->org_unit),
                       false;
        }
    }
    return true;
}

void notifier_handle_create_channel (notifier_t *self, pmo_request_t *req, Pmo__Channel *ch)
{
    pmo_problem_t problem;
    if (notifier_check_channel (ch, self->config.allow_http, &problem))
        return pmo_request_fail_problem (req, &problem, "create_channel");
    if (notifier_is_masked (ch->url) || notifier_is_masked (ch->smtp_password))
        return (void)FAIL (req, INVALID, "create_channel.url",
                           "a new channel needs its real secrets, not masked ones");
    if (ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK && ch->n_signing_secrets != 1)
        return (void)FAIL (req, INVALID, "create_channel.signing_secrets",
                           "a generic webhook needs one signing secret (\"whsec_\" + base64 of "
                           "24..64 random bytes); rotate it later with rotate_secret");
    Pmo__OrgUnit *unit;
    int found = notifier_unit (self, req->arena, ch->org_unit, &unit);
    if (found < 0)
        return pmo_request_unavailable (req, "the registry (org units)");
    if (found == 0 || unit->archived)
        return (void)FAIL (req, NOT_FOUND, "create_channel.org_unit", "no org unit '%.64s'",
                           ch->org_unit);
    if (!pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, unit->path, "manage channels"))
        return;
    if (notifier_is_masked (ch->interact_secret) || notifier_is_masked (ch->bot_token))
        return (void)FAIL (req, INVALID, "create_channel.interact_secret",
                           "a new channel needs its real secrets, not masked ones");
    if (!s_chat_users_allowed (self, req, ch, NULL, "create_channel"))
        return;
    if (notifier_store_replayed (self->store, req, unit->division))
        return;
    char *id;
    if (notifier_store_next_id (self->store, req->arena, NOTIFIER_CHANNEL, unit->division, &id))
        return pmo_request_unavailable (req, "the notifier's store (Redis)");
    int64_t now = pmo_now_ms ();
    ch->id = id;
    ch->org_unit_path = unit->path;
    ch->division = unit->division;
    ch->version = 1;
    ch->created_ms = ch->updated_ms = now;
    ch->archived = false;
    ch->created_by = pmo_request_who (req)->subject;
    if (!ch->disabled)
        ch->disabled_reason = "";
    for (size_t i = 0; i < ch->n_signing_secrets; i++) {
        ch->signing_secrets[i]->created_ms = now;
        ch->signing_secrets[i]->expires_ms = 0;
    }
    pmo_commit_t *commit = pmo_commit_new (unit->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_CHANNEL, unit->division,
                        &ch->base, 0);
    Pmo__Channel *masked = notifier_masked (req->arena, ch);
    Pmo__Event *event =
        notifier_event (req->arena, "channel.created", unit->division, unit->id, unit->path, id, 1,
                        pmo_request_who (req), req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
    pmo_reflect_set_oneof (req->reply, "channel", &masked->base);
    notifier_commit (self, req, commit, unit->division, event);
    pmo_info ("notifier: channel created id=%s kind=%d unit=%s", id, ch->kind, unit->id);
}

void notifier_handle_update_channel (notifier_t *self, pmo_request_t *req, Pmo__Channel *next)
{
    uint64_t version;
    Pmo__Channel *stored = (Pmo__Channel *)notifier_fetch (self, req, NOTIFIER_CHANNEL, next->id,
                                                           "update_channel.id", &version);
    if (!stored || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, stored->org_unit_path,
                                     "manage channels"))
        return;
    if (notifier_store_replayed (self->store, req, stored->division))
        return;
    if (next->kind != stored->kind ||
        !streq (next->org_unit ? next->org_unit : "", stored->org_unit))
        return (void)FAIL (req, INVALID, "update_channel.kind",
                           "a channel's kind and org unit do not change");
    //  Secrets: empty or masked means "keep"; signing secrets change only
    //  through rotate_secret
    if (pmo_str_empty (next->url) || notifier_is_masked (next->url))
        next->url = stored->url;
    if (pmo_str_empty (next->smtp_password) || notifier_is_masked (next->smtp_password))
        next->smtp_password = stored->smtp_password;
    if (pmo_str_empty (next->smtp_url) || notifier_is_masked (next->smtp_url))
        next->smtp_url = stored->smtp_url;
    if (notifier_is_masked (next->interact_secret))
        next->interact_secret = stored->interact_secret;
    if (pmo_str_empty (next->bot_token) || notifier_is_masked (next->bot_token))
        next->bot_token = stored->bot_token;
    for (size_t i = 0; i < next->n_signing_secrets; i++)
        if (!notifier_is_masked (next->signing_secrets[i]->secret))
            return (void)FAIL (req, INVALID, "update_channel.signing_secrets",
                               "signing secrets change through rotate_secret");
    next->signing_secrets = stored->signing_secrets;
    next->n_signing_secrets = stored->n_signing_secrets;
    pmo_problem_t problem;
    if (notifier_check_channel (next, self->config.allow_http, &problem))
        return pmo_request_fail_problem (req, &problem, "update_channel");
    if (!pmo_request_version_matches (req, "version", "channel", next->version, version))
        return;
    if (!s_chat_users_allowed (self, req, next, stored, "update_channel"))
        return;
    next->org_unit_path = stored->org_unit_path;
    next->division = stored->division;
    next->created_ms = stored->created_ms;
    next->created_by = stored->created_by;
    next->archived = stored->archived;
    next->updated_ms = pmo_now_ms ();
    next->version = version + 1;
    if (!next->disabled)
        next->disabled_reason = "";
    else if (pmo_str_empty (next->disabled_reason))
        next->disabled_reason =
            pmo_arena_printf (req->arena, "disabled by %s", pmo_request_who (req)->subject);
    pmo_commit_t *commit = pmo_commit_new (stored->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_CHANNEL, stored->division,
                        &next->base, version);
    Pmo__Channel *masked = notifier_masked (req->arena, next);
    Pmo__Event *event = notifier_event (
        req->arena, "channel.updated", stored->division, stored->org_unit, stored->org_unit_path,
        next->id, next->version, pmo_request_who (req), req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
    pmo_reflect_set_oneof (req->reply, "channel", &masked->base);
    notifier_commit (self, req, commit, stored->division, event);
}

void notifier_handle_get_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref)
{
    Pmo__Channel *ch = (Pmo__Channel *)notifier_fetch (self, req, NOTIFIER_CHANNEL, ref->id,
                                                       "get_channel.id", NULL);
    if (ch)
        pmo_reflect_set_oneof (req->reply, "channel", &notifier_masked (req->arena, ch)->base);
}

//  Every division whose keys may hold channels: the ones we follow.
void notifier_handle_list_channels (notifier_t *self, pmo_request_t *req,
                                    Pmo__ListChannelsRequest *list)
{
    if (!self->org_loaded && notifier_org_refresh (self))
        return pmo_request_unavailable (req, "the registry (org units)");
    Pmo__ChannelPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__ChannelPage));
    pmo__channel_page__init (page);
    pmo_reflect_set_oneof (req->reply, "channels", &page->base);
    for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions)) {
        ProtobufCMessage **msgs;
        size_t n;
        if (notifier_store_list (self->store, req->arena, NOTIFIER_CHANNEL, d, &msgs, &n))
            return pmo_request_unavailable (req, "the notifier's store (Redis)");
        for (size_t i = 0; i < n; i++) {
            Pmo__Channel *ch = (Pmo__Channel *)msgs[i];
            if ((ch->archived && !list->include_archived) ||
                !pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                                     ch->org_unit_path) ||
                (!pmo_str_empty (list->org_unit) &&
                 !pmo_path_contains (ch->org_unit_path, list->org_unit)))
                continue;
            pmo_reflect_append (&page->base, "channels", &notifier_masked (req->arena, ch)->base,
                                req->arena);
        }
    }
}

void notifier_handle_archive_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref)
{
    uint64_t version;
    Pmo__Channel *ch = (Pmo__Channel *)notifier_fetch (self, req, NOTIFIER_CHANNEL, ref->id,
                                                       "archive_channel.id", &version);
    if (!ch || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                 "manage channels"))
        return;
    if (notifier_store_replayed (self->store, req, ch->division))
        return;
    if (!pmo_request_version_matches (req, "version", "channel", ref->version, version))
        return;
    if (ch->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "archive_channel.id",
                           "channel '%s' is already archived", ch->id);
    ch->archived = true;
    ch->version = version + 1;
    ch->updated_ms = pmo_now_ms ();
    pmo_commit_t *commit = pmo_commit_new (ch->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_CHANNEL, ch->division, &ch->base,
                        version);
    Pmo__Channel *masked = notifier_masked (req->arena, ch);
    Pmo__Event *event = notifier_event (req->arena, "channel.archived", ch->division, ch->org_unit,
                                        ch->org_unit_path, ch->id, ch->version,
                                        pmo_request_who (req), req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
    pmo_reflect_set_oneof (req->reply, "channel", &masked->base);
    notifier_commit (self, req, commit, ch->division, event);
}

void notifier_handle_rotate_secret (notifier_t *self, pmo_request_t *req,
                                    Pmo__RotateSecretRequest *rotate)
{
    uint64_t version;
    Pmo__Channel *ch = (Pmo__Channel *)notifier_fetch (
        self, req, NOTIFIER_CHANNEL, rotate->channel_id, "rotate_secret.channel_id", &version);
    if (!ch || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                 "manage channels"))
        return;
    if (ch->kind != PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK)
        return (void)FAIL (req, FAILED_PRECONDITION, "rotate_secret.channel_id",
                           "only generic webhook channels are signed");
    if (!notifier_secret_valid (rotate->secret))
        return (void)FAIL (req, INVALID, "rotate_secret.secret",
                           "a signing secret is \"whsec_\" and the base64 of 24 to 64 random "
                           "bytes");
    if (rotate->previous_valid_s > 30 * 86400)
        return (void)FAIL (req, INVALID, "rotate_secret.previous_valid_s",
                           "the old secret may sign for at most 30 days");
    if (notifier_store_replayed (self->store, req, ch->division))
        return;
    if (!pmo_request_version_matches (req, "version", "channel", rotate->version, version))
        return;
    for (size_t i = 0; i < ch->n_signing_secrets; i++)
        if (streq (ch->signing_secrets[i]->secret, rotate->secret))
            return (void)FAIL (req, INVALID, "rotate_secret.secret",
                               "that secret is already in use: generate a new one");
    int64_t now = pmo_now_ms ();
    int64_t until = now + (rotate->previous_valid_s ? rotate->previous_valid_s : 86400) * 1000LL;
    //  The new secret signs first; the current one keeps signing until the
    //  receivers have switched (two signatures meanwhile); expired ones go
    Pmo__SigningSecret **secrets =
        pmo_arena_alloc (req->arena, (ch->n_signing_secrets + 1) * sizeof (void *));
    size_t n = 0;
    Pmo__SigningSecret *fresh = pmo_arena_alloc (req->arena, sizeof (Pmo__SigningSecret));
    pmo__signing_secret__init (fresh);
    fresh->secret = rotate->secret;
    fresh->created_ms = now;
    secrets[n++] = fresh;
    for (size_t i = 0; i < ch->n_signing_secrets; i++) {
        Pmo__SigningSecret *old = ch->signing_secrets[i];
        if (old->expires_ms && old->expires_ms <= now)
            continue;
        if (!old->expires_ms || old->expires_ms > until)
            old->expires_ms = until;
        secrets[n++] = old;
    }
    ch->signing_secrets = secrets;
    ch->n_signing_secrets = n;
    ch->version = version + 1;
    ch->updated_ms = now;
    pmo_commit_t *commit = pmo_commit_new (ch->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_CHANNEL, ch->division, &ch->base,
                        version);
    Pmo__Channel *masked = notifier_masked (req->arena, ch);
    Pmo__Event *event = notifier_event (req->arena, "channel.secret_rotated", ch->division,
                                        ch->org_unit, ch->org_unit_path, ch->id, ch->version,
                                        pmo_request_who (req), req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
    pmo_reflect_set_oneof (req->reply, "channel", &masked->base);
    notifier_commit (self, req, commit, ch->division, event);
}

void notifier_handle_test_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref)
{
    Pmo__Channel *ch = (Pmo__Channel *)notifier_fetch (self, req, NOTIFIER_CHANNEL, ref->id,
                                                       "test_channel.id", NULL);
    if (!ch || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                 "test channels"))
        return;
    if (ch->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "test_channel.id", "channel '%s' is archived",
                           ch->id);
    int64_t now = pmo_now_ms ();
    //  The request id names the test delivery: a retried request finds the
    //  one it queued instead of queueing another
    const char *key = pmo_arena_printf (req->arena, "test/%s", req->header->request_id);
    Pmo__Delivery *d = pmo_arena_alloc (req->arena, sizeof (Pmo__Delivery));
    pmo__delivery__init (d);
    d->id = notifier_store_delivery_id (req->arena, ch->division, key);
    d->channel_id = ch->id;
    d->division = ch->division;
    d->kind = PMO__DELIVERY_KIND__DELIVERY_KIND_TEST;
    d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
    d->created_ms = now;
    d->due_ms = now;
    d->channel_kind = ch->kind;
    Pmo__Notice *n = pmo_arena_alloc (req->arena, sizeof (Pmo__Notice));
    pmo__notice__init (n);
    n->event_id = (char *)key;
    n->type = "notifier.test";
    n->severity = PMO__SEVERITY__SEVERITY_INFO;
    n->title = pmo_arena_printf (req->arena, "Test message for channel %s", ch->name);
    n->summary = pmo_arena_printf (req->arena, "%s asked pmo to test this channel (%s).",
                                   pmo_request_who (req)->subject, ch->id);
    n->division = ch->division;
    n->org_unit_path = ch->org_unit_path;
    n->entity_id = ch->id;
    n->actor = pmo_request_who (req)->subject;
    n->time_ms = now;
    n->source = "notifier";
    n->link = pmo_arena_printf (
        req->arena, "%s%s#/", self->config.dashboard_url,
        self->config.dashboard_url[0] &&
                self->config.dashboard_url[strlen (self->config.dashboard_url) - 1] == '/'
            ? ""
            : "/");
    notifier_route_args_t args = {
        .division = ch->division,
        .channel_id = ch->id,
        .mode = NOTIFIER_ROUTE_SINGLE,
        .seen = key,
        .delivery_id = d->id,
        .delivery = d,
        .notice = n,
        .now_ms = now,
        .due_ms = now,
    };
    const notifier_route_args_t *routes[] = {&args};
    int routed;
    notifier_store_route (self->store, req->arena, routes, 1, &routed);
    if (routed)
        return pmo_request_unavailable (req, "the notifier's store (Redis)");
    d->notice_count = 1;
    pmo_reflect_set_oneof (req->reply, "delivery", &d->base);
    self->tick_now = true;
    pmo_info ("notifier: test queued channel=%s delivery=%s", ch->id, d->id);
}

//  ---------------------------------------------------------------------
//  Subscriptions

//  Check a subscription's scope against its channel; fills path/division.
static int s_scope (notifier_t *self, pmo_request_t *req, Pmo__Subscription *sub,
                    const Pmo__Channel *ch, const char *field)
{
    if (pmo_str_empty (sub->org_unit))
        sub->org_unit = ch->org_unit;
    Pmo__OrgUnit *unit;
    int found = notifier_unit (self, req->arena, sub->org_unit, &unit);
    if (found < 0) {
        pmo_request_unavailable (req, "the registry (org units)");
        return -1;
    }
    if (found == 0) {
        FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.org_unit", field),
              "no org unit '%.64s'", sub->org_unit);
        return -1;
    }
    //  A channel of a division hears only that division's subtree: nothing
    //  of another division reaches its people
    if (!pmo_path_contains (unit->path, ch->org_unit)) {
        FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.org_unit", field),
              "'%s' is not at or below the channel's unit '%s'", unit->id, ch->org_unit);
        return -1;
    }
    if (!pmo_str_empty (sub->project_id)) {
        char *path = NULL, *label = NULL;
        int rc = s_project (self, req->arena, sub->project_id, &path, &label);
        if (rc < 0) {
            pmo_request_unavailable (req, "the registry (projects)");
            return -1;
        }
        if (rc == 0 || !pmo_path_contains (path, unit->id)) {
            FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.project_id", field),
                  "no project '%.64s' in '%s'", sub->project_id, unit->path);
            return -1;
        }
    }
    sub->org_unit_path = unit->path;
    sub->division = ch->division;
    return 0;
}

void notifier_handle_create_subscription (notifier_t *self, pmo_request_t *req,
                                          Pmo__Subscription *sub)
{
    pmo_problem_t problem;
    if (notifier_check_subscription (sub, &problem))
        return pmo_request_fail_problem (req, &problem, "create_subscription");
    Pmo__Channel *ch = (Pmo__Channel *)notifier_fetch (self, req, NOTIFIER_CHANNEL, sub->channel_id,
                                                       "create_subscription.channel_id", NULL);
    if (!ch || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                 "manage subscriptions"))
        return;
    if (ch->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "create_subscription.channel_id",
                           "channel '%s' is archived", ch->id);
    if (notifier_store_replayed (self->store, req, ch->division))
        return;
    if (s_scope (self, req, sub, ch, "create_subscription"))
        return;
    char *id;
    if (notifier_store_next_id (self->store, req->arena, NOTIFIER_SUBSCRIPTION, ch->division, &id))
        return pmo_request_unavailable (req, "the notifier's store (Redis)");
    sub->id = id;
    sub->version = 1;
    sub->created_ms = sub->updated_ms = pmo_now_ms ();
    sub->archived = false;
    pmo_commit_t *commit = pmo_commit_new (ch->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_SUBSCRIPTION, ch->division,
                        &sub->base, 0);
    Pmo__Event *event =
        notifier_event (req->arena, "subscription.created", ch->division, sub->org_unit,
                        sub->org_unit_path, id, 1, pmo_request_who (req), req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "subscription", &sub->base);
    pmo_reflect_set_oneof (req->reply, "subscription", &sub->base);
    notifier_commit (self, req, commit, ch->division, event);
}

void notifier_handle_update_subscription (notifier_t *self, pmo_request_t *req,
                                          Pmo__Subscription *next)
{
    uint64_t version;
    Pmo__Subscription *stored = (Pmo__Subscription *)notifier_fetch (
        self, req, NOTIFIER_SUBSCRIPTION, next->id, "update_subscription.id", &version);
    if (!stored || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, stored->org_unit_path,
                                     "manage subscriptions"))
        return;
    if (notifier_store_replayed (self->store, req, stored->division))
        return;
    if (!streq (next->channel_id ? next->channel_id : "", stored->channel_id))
        return (void)FAIL (req, INVALID, "update_subscription.channel_id",
                           "a subscription stays with its channel");
    pmo_problem_t problem;
    if (notifier_check_subscription (next, &problem))
        return pmo_request_fail_problem (req, &problem, "update_subscription");
    if (!pmo_request_version_matches (req, "version", "subscription", next->version, version))
        return;
    Pmo__Channel *ch = (Pmo__Channel *)notifier_fetch (
        self, req, NOTIFIER_CHANNEL, stored->channel_id, "update_subscription.channel_id", NULL);
    if (!ch || s_scope (self, req, next, ch, "update_subscription"))
        return;
    next->version = version + 1;
    next->created_ms = stored->created_ms;
    next->updated_ms = pmo_now_ms ();
    next->archived = stored->archived;
    pmo_commit_t *commit = pmo_commit_new (stored->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_SUBSCRIPTION, stored->division,
                        &next->base, version);
    Pmo__Event *event = notifier_event (
        req->arena, "subscription.updated", stored->division, next->org_unit, next->org_unit_path,
        next->id, next->version, pmo_request_who (req), req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "subscription", &next->base);
    pmo_reflect_set_oneof (req->reply, "subscription", &next->base);
    notifier_commit (self, req, commit, stored->division, event);
}

void notifier_handle_get_subscription (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref)
{
    ProtobufCMessage *sub =
        notifier_fetch (self, req, NOTIFIER_SUBSCRIPTION, ref->id, "get_subscription.id", NULL);
    if (sub)
        pmo_reflect_set_oneof (req->reply, "subscription", sub);
}

void notifier_handle_list_subscriptions (notifier_t *self, pmo_request_t *req,
                                         Pmo__ListSubscriptionsRequest *list)
{
    Pmo__SubscriptionPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__SubscriptionPage));
    pmo__subscription_page__init (page);
    pmo_reflect_set_oneof (req->reply, "subscriptions", &page->base);
    if (!pmo_str_empty (list->channel_id)) {
        Pmo__Channel *ch = (Pmo__Channel *)notifier_fetch (
            self, req, NOTIFIER_CHANNEL, list->channel_id, "list_subscriptions.channel_id", NULL);
        if (!ch)
            return;
    }
    if (!self->org_loaded && notifier_org_refresh (self))
        return pmo_request_unavailable (req, "the registry (org units)");
    for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions)) {
        ProtobufCMessage **msgs;
        size_t n;
        if (notifier_store_list (self->store, req->arena, NOTIFIER_SUBSCRIPTION, d, &msgs, &n))
            return pmo_request_unavailable (req, "the notifier's store (Redis)");
        for (size_t i = 0; i < n; i++) {
            Pmo__Subscription *sub = (Pmo__Subscription *)msgs[i];
            if ((sub->archived && !list->include_archived) ||
                !pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                                     sub->org_unit_path) ||
                (!pmo_str_empty (list->channel_id) && !streq (sub->channel_id, list->channel_id)) ||
                (!pmo_str_empty (list->org_unit) &&
                 !pmo_path_contains (sub->org_unit_path, list->org_unit)))
                continue;
            pmo_reflect_append (&page->base, "subscriptions", &sub->base, req->arena);
        }
    }
}

void notifier_handle_archive_subscription (notifier_t *self, pmo_request_t *req,
                                           Pmo__ChannelRef *ref)
{
    uint64_t version;
    Pmo__Subscription *sub = (Pmo__Subscription *)notifier_fetch (
        self, req, NOTIFIER_SUBSCRIPTION, ref->id, "archive_subscription.id", &version);
    if (!sub || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, sub->org_unit_path,
                                  "manage subscriptions"))
        return;
    if (notifier_store_replayed (self->store, req, sub->division))
        return;
    if (!pmo_request_version_matches (req, "version", "subscription", ref->version, version))
        return;
    if (sub->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "archive_subscription.id",
                           "subscription '%s' is already archived", sub->id);
    sub->archived = true;
    sub->version = version + 1;
    sub->updated_ms = pmo_now_ms ();
    pmo_commit_t *commit = pmo_commit_new (sub->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_SUBSCRIPTION, sub->division,
                        &sub->base, version);
    Pmo__Event *event = notifier_event (req->arena, "subscription.archived", sub->division,
                                        sub->org_unit, sub->org_unit_path, sub->id, sub->version,
                                        pmo_request_who (req), req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "subscription", &sub->base);
    pmo_reflect_set_oneof (req->reply, "subscription", &sub->base);
    notifier_commit (self, req, commit, sub->division, event);
}
