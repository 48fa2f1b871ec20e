/*  gateway_model.h: the gateway's rules, without I/O.

    API tokens (their format, generation and hashing), who may issue,
    see and revoke which tokens, and which live events a caller may see.
    Everything here is pure (apart from reading random bytes for a new
    token) and is tested directly by tests/gateway/test_gateway_model.c.

    A token reads "pmo_<id>_<secret>": <id> is 16 lowercase hex characters
    (public: the lookup key, shown in lists and logs), <secret> 64 hex
    characters (256 random bits). The gateway stores only the SHA-256 of
    the whole token, so a leak of the store does not leak usable tokens.
*/
#ifndef GATEWAY_MODEL_H_INCLUDED
#define GATEWAY_MODEL_H_INCLUDED

#include "events.pb-c.h"
#include "gateway.pb-c.h"
#include "pmo_request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GATEWAY_TOKEN_ID_LEN   16
#define GATEWAY_TOKEN_LEN      (4 + GATEWAY_TOKEN_ID_LEN + 1 + 64)
#define GATEWAY_HASH_HEX       65 //  64 hex characters and the terminator
#define GATEWAY_TOKEN_NAME_MAX 80

//  Make a new token: its id (17 bytes) and the whole token text
//  (GATEWAY_TOKEN_LEN + 1 bytes). Returns 0, or -1 if the system has no
//  randomness to give.
int gateway_token_generate (char *id, char *token);
//  Check the shape of a presented token and copy its id (17 bytes).
//  Returns 0, or -1 if it is not a pmo token.
int gateway_token_parse (const char *token, char *id);
//  Hex SHA-256 of the text (GATEWAY_HASH_HEX bytes).
void gateway_sha256_hex (const char *text, size_t size, char *hex);
//  Compare two hex digests in constant time.
bool gateway_hash_equal (const char *a, const char *b);
//  True if id looks like a token id (16 lowercase hex characters).
bool gateway_token_id_valid (const char *id);

//  An If-Match header of a write: a strong ETag, one version in quotes
//  ("3"; RFC 9110 8.8.3). Returns 0 with *version, -1 if malformed (no
//  quotes, not a positive decimal number, "-1", too big, a list, "*"), -2
//  for a weak validator (W/"3": a write needs the exact version).
int gateway_if_match_parse (const char *value, uint64_t *version);

//  Where org units are: the path of a unit id, NULL if unknown.
typedef const char *(gateway_path_fn)(void *ctx, const char *unit);

//  May who issue a token carrying grant? An admin may grant any role in
//  its subtree; a PMO director or manager may grant the roles below them
//  in theirs; nobody else issues tokens. Returns true, or false with the
//  problem (may be NULL): NOT_FOUND for an unknown unit, else FORBIDDEN,
//  its field "" (the caller knows which grant it asked about).
bool gateway_may_grant (const Pmo__Identity *who, const Pmo__Grant *grant, gateway_path_fn *path_of,
                        void *ctx, pmo_problem_t *problem);
//  May who make a token speaking for subject? For themselves; for a service
//  account "svc-<name>@<unit>" in a unit where they may issue tokens; for
//  anyone, an admin of the whole enterprise (hub). Returns true, or false
//  with the problem (FORBIDDEN, field "").
bool gateway_may_name (const Pmo__Identity *who, const char *subject, const char *hub,
                       gateway_path_fn *path_of, void *ctx, pmo_problem_t *problem);
//  May who see (and revoke) token? Its creator may; so may whoever could
//  have issued every one of its grants.
bool gateway_may_see_token (const Pmo__Identity *who, const Pmo__ApiToken *token,
                            gateway_path_fn *path_of, void *ctx);
//  May who use an import mapping kept on the gateway that belongs to
//  org_unit (the mapping's "org_unit"; NULL or "" = everyone's)? Everyone
//  with a grant may use one that belongs to nobody; one of a unit, those
//  whose grants are held in it, below it (a division's mapping serves its
//  departments) or above it (the hub's people see every division's). An
//  unknown unit's mapping is nobody's.
bool gateway_may_use_mapping (const Pmo__Identity *who, const char *org_unit,
                              gateway_path_fn *path_of, void *ctx);
//  Check a token request's own fields (name, subject, grants present).
//  Returns 0, or -1 with the problem (INVALID, the field named in full).
int gateway_check_create (const Pmo__CreateTokenRequest *create, pmo_problem_t *problem);

//  May who read /metrics? A grant of the metrics role (or admin), anywhere:
//  the counters say nothing of any division's data, and the stream figures
//  shown are of the divisions the grants reach.
bool gateway_may_read_metrics (const Pmo__Identity *who);

//  May who read the audit trail at path (NULL: anywhere)? Admins, PMO
//  directors and managers, and auditors, in their subtrees.
bool gateway_may_audit (const Pmo__Identity *who, const char *path);
//  Does grant's role read the audit trail?
bool gateway_grant_audits (const Pmo__Grant *grant);
//  Does who audit some unit within unit's subtree (a grant held below it)?
bool gateway_may_audit_within (const Pmo__Identity *who, const char *unit, gateway_path_fn *path_of,
                               void *ctx);

//  May who see this event? The org structure is visible to everyone
//  signed in; everything else only within the subtrees of who's grants,
//  and a booking also to the stewards of its person (pmo_access_steward).
bool gateway_event_visible (const Pmo__Identity *who, const Pmo__Event *event);
//  Clears what a resource event shows only to the resource's stewards (its
//  cost rate, the reasons of its leave) unless who is one; event is the
//  caller's own decoded copy.
void gateway_event_redact (const Pmo__Identity *who, Pmo__Event *event);
//  True if gateway_event_redact would clear something of event for who.
//  The cleared form is the same for everyone it is cleared for, so live
//  events encode an event at most twice, whatever the number of clients.
bool gateway_event_redacted (const Pmo__Identity *who, const Pmo__Event *event);

//  What a live-event client asked for; NULL or "" fields match anything.
typedef struct {
    const char *org_unit;  //  events in this unit's subtree
    const char *project;   //  events of this project (or its milestones, reports, ...)
    const char *types;     //  comma-separated types; "project.*" matches a prefix
    const char *actor;     //  events by this subject
    const char *entity_id; //  events of this one entity
} gateway_event_filter_t;

bool gateway_event_matches (const gateway_event_filter_t *filter, const Pmo__Event *event);

#endif
