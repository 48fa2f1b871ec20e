/*  orgtree.h: the org-unit tree as the registry's clients see it.

    The registry owns the org units (enterprise, divisions, departments)
    with their paths, divisions and PMO types. Every other part needs them:
    to turn a unit into the path an access rule checks, to know which
    division streams exist, to apply a unit's effective PMO type. This is
    the one client for that, used by every service, the gateway and the hub.

    It keeps what it has read and asks again only when it must:
    - a unit it does not know is asked of the registry at once, so a unit
      is usable everywhere as soon as it is created (a miss is never a
      cached "no");
    - a unit read longer than max_age_ms ago, or since an org-unit event was
      seen (orgtree_invalidate), is read again on its next use;
    - if the registry does not answer, the tree backs off (100 ms doubling to
      5 s) and answers -1 at once until then, so a dead registry costs a
      caller nothing; what was read before stays usable for paths.

    A caller that must never wait (a reactor serving many clients, such as
    the gateway's) reads the tree itself over its own non-blocking socket
    and feeds the replies in (orgtree_list_page, orgtree_feed). Made with
    no registry, the tree then never asks on its own: a unit it does not
    hold is answered as if the registry had not answered.

    The whole tree (orgtree_refresh) is read page by page. A single unit
    (orgtree_unit) is read with a get, which also fills in its effective
    policy and PMO type, computed by the registry on read.

    An orgtree belongs to one thread (the actor that made it).
*/
#ifndef ORGTREE_H_INCLUDED
#define ORGTREE_H_INCLUDED

#include "pmo_request.h"
#include "pmo_util.h"
#include "registry.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _orgtree_t orgtree_t;

typedef struct {
    const char *registry;          //  the registry's endpoint(s), comma-separated;
                                   //  NULL: never ask, the caller feeds the tree
    const Pmo__Identity *identity; //  who asks (the service); must outlive the tree
    int timeout_ms;                //  one request to the registry; 0 = 1000
    int max_age_ms;                //  read a unit again after this long; 0 = 5000
} orgtree_config_t;

//  A tree that has read nothing yet. NULL if the endpoint is not valid.
orgtree_t *orgtree_new (const orgtree_config_t *config);
void orgtree_destroy (orgtree_t **self_p);

//  The unit with id, with its effective policy and PMO type, copied into
//  arena (*unit). 1 found, 0 the registry has no such unit (archived units
//  are found: look at unit->archived), -1 the registry did not answer or
//  is backed off from.
int orgtree_unit (orgtree_t *self, const char *id, pmo_arena_t *arena, Pmo__OrgUnit **unit);

//  orgtree_unit for a request that may be answered from what the tree
//  holds while the registry is away: as orgtree_unit (*stale false), but
//  when the registry does not answer, or is backed off from (so one
//  timeout at most, then none until the back-off ends), the unit the tree
//  holds for id is the answer, marked *stale true: as it was last read, its
//  effective policy and PMO type set only if that read was a get (a whole
//  tree read leaves them unset). -1 only if the registry did not answer and
//  the tree holds nothing for id.
int orgtree_unit_or_held (orgtree_t *self, const char *id, pmo_arena_t *arena, Pmo__OrgUnit **unit,
                          bool *stale);

//  A project as the registry has it now (never kept: its status and
//  priority must be fresh), read with the tree's identity, client and
//  back-off, copied into arena (*project). 1 found, 0 no such project (a
//  malformed id names none either), -1 the registry did not answer, is
//  backed off from, or refused otherwise.
int orgtree_project (orgtree_t *self, const char *id, pmo_arena_t *arena, Pmo__Project **project);

//  What a person gave for a project: its id or its code (codes are unique
//  within a division). An id ("pr_<division>_<n>", pmo_id_division) is
//  given back as it is without asking; a code is asked of the registry (a
//  get resolves codes) with the tree's identity. 1 with the id in *id (in
//  arena) and, if project is not NULL, the project read for it (NULL for an
//  id passed through); 0 no project has that code; -2 the code names
//  projects in several divisions; -3 text is neither an id nor a code
//  (pmo_code_valid), nothing asked; -1 the registry did not answer.
int orgtree_project_id (orgtree_t *self, const char *text, pmo_arena_t *arena, const char **id,
                        Pmo__Project **project);

//  May who see a project at path (its org unit's path)? The service's own
//  rule for reading what belongs to a project.
typedef bool (orgtree_may_see_fn) (const Pmo__Identity *who, const char *path);

//  Codes accepted wherever a request names a project by id: every project
//  reference in req's request (string fields project_id and
//  depends_on_project, and the lists project_ids, at any depth) that is a
//  code is replaced by the project's id, so the handlers see ids only.
//  Ambiguity is judged with the caller's view, not the service's: a code
//  that several divisions use is narrowed to the divisions of the caller's
//  grants (a get per division), and to what may_see lets the caller read
//  (NULL: every project of those divisions), so a person of one division
//  gets their division's project and learns nothing of the others. A code
//  naming no project the caller may see fails req with NOT_FOUND naming
//  the code and the field; one naming projects the caller sees in several
//  divisions, or text that is neither an id nor a code, INVALID; a
//  registry that does not answer, UNAVAILABLE ("<registry_name> is
//  unavailable"). 0, or -1 after failing req. Ids cost nothing.
int orgtree_resolve_projects (orgtree_t *self, pmo_request_t *req, orgtree_may_see_fn *may_see,
                              const char *registry_name);

//  The same walk over a request for a resolver that is not a tree (the
//  registry resolves codes in its own store with the caller's identity).
//  lookup gives for text, as orgtree_project_id does: 1 with *id (and
//  *path, the project's org unit path, or NULL when the id was given),
//  0 no such project, -2 several divisions, -3 neither id nor code, -1
//  unavailable.
typedef struct orgtree_resolver_s orgtree_resolver_t;
typedef int (orgtree_lookup_fn) (const orgtree_resolver_t *resolver, pmo_request_t *req,
                                 const char *text, const char **id, const char **path);
struct orgtree_resolver_s {
    orgtree_lookup_fn *lookup;
    void *state;                 //  the lookup's
    orgtree_may_see_fn *may_see; //  NULL: the lookup judged it
    const char *registry_name;   //  for UNAVAILABLE
};
int orgtree_resolve_request (const orgtree_resolver_t *resolver, pmo_request_t *req);

//  One reference (*slot, at field path) resolved in place: 0, or -1 after
//  failing req with the errors above. For a field the walk does not see
//  (the registry's update_project.id, archive.id).
int orgtree_resolve_reference (const orgtree_resolver_t *resolver, pmo_request_t *req, char **slot,
                               const char *path);

//  Read every unit (archived ones too) if the tree is older than
//  max_age_ms or was invalidated; force reads it regardless. 0, or -1 if
//  the registry did not answer (what was read before stays).
int orgtree_refresh (orgtree_t *self, bool force);

//  An org-unit event was seen: every unit is read again on its next use.
void orgtree_invalidate (orgtree_t *self);

//  The whole tree read by the caller, page by page, for a caller that must
//  not wait. orgtree_list_page fills list (kind, archived too, page size,
//  cursor) for the page after cursor; cursor NULL asks for the first page
//  and drops what an earlier, unfinished read gathered. The caller sends
//  it in a RegistryRequest and feeds the reply to orgtree_feed, which
//  returns 1 when that was the last page (the tree then holds what the
//  pages said, all at once, as after orgtree_refresh), 0 when another page
//  is wanted (*cursor: the one to ask after; owned by reply), or -1 if the
//  reply is an error (what was gathered is dropped; the tree is unchanged).
void orgtree_list_page (orgtree_t *self, Pmo__ListRequest *list, const char *cursor);
int orgtree_feed (orgtree_t *self, const Pmo__RegistryReply *reply, const char **cursor);

//  The path ("hub/dft/dft-rail") or division of a unit, asking the
//  registry if the tree does not know the unit. NULL if there is no such
//  unit or the registry did not answer. Owned by the tree: valid until the
//  next call on it.
const char *orgtree_path (orgtree_t *self, const char *id);
const char *orgtree_division (orgtree_t *self, const char *id);

//  The unit the tree holds for id as it was last read (perhaps stale),
//  without asking the registry: for a hot path that must not wait on it.
//  NULL if the tree holds no such unit. Owned by the tree: valid until the
//  next call that reads.
const Pmo__OrgUnit *orgtree_held (const orgtree_t *self, const char *id);

//  The units the tree holds, i from 0 until NULL (after orgtree_refresh:
//  all of them). Owned by the tree: valid until the next call that reads.
const Pmo__OrgUnit *orgtree_at (orgtree_t *self, size_t i);

//  The distinct divisions (the hub's included), i from 0 until NULL.
//  Owned by the tree: valid until the next call that reads.
const char *orgtree_division_at (orgtree_t *self, size_t i);

//  Counts every change to what the tree holds, so a caller can tell that
//  something it derived from the tree must be derived again.
uint64_t orgtree_generation (const orgtree_t *self);

//  True while the tree is backing off from a registry that did not answer.
bool orgtree_backing_off (const orgtree_t *self);

#endif
