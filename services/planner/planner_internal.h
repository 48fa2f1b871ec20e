/*  planner_internal.h: what the planner's own files share (the actor's
    state and the functions one file offers the others). Used only inside
    services/planner.
*/
#ifndef PLANNER_INTERNAL_H_INCLUDED
#define PLANNER_INTERNAL_H_INCLUDED

#include "planner_model.h"
#include "planner_server.h"
#include "planner_store.h"

#include "events.pb-c.h"
#include "orgtree.h"
#include "orgtree_reader.h"
#include "pmo_client.h"
#include "pmo_request.h"
#include "pmo_server.h"
#include "registry.pb-c.h"

#define STORE_NAME "the planner's store (Redis)" //  what is unavailable

//  The planner's actions (its role table is in planner_server.c)
#define PLANNER_READ     (1u << 0) //  benefits, scores, rankings, scenarios
#define PLANNER_BENEFITS (1u << 1) //  create and change benefits, record measurements
#define PLANNER_POLICY   (1u << 2) //  set a unit's scoring model and lag threshold
#define PLANNER_SCORE    (1u << 3) //  score projects
#define PLANNER_PLAN     (1u << 4) //  solve scenarios and frontiers
#define PLANNER_COMMIT   (1u << 5) //  commit a scenario (propose its gate decisions)

extern const pmo_role_table_t planner_roles;

//  The actor's state: one thread (the actor's) owns all of it.
typedef struct {
    planner_config_t config;
    pmo_redis_t *redis;
    pmo_server_t *server;
    zsock_t *pub;            //  live events (a convenience: the streams are what must arrive)
    pmo_client_t *registry;  //  project lists
    pmo_client_t *allocator; //  capacity views (NULL: none configured)
    orgtree_t *tree;         //  the org units, as the registry has them
    orgtree_reader_t *units; //  reads the tree again in the loop, never waiting
    Pmo__Identity identity;  //  the planner's own, for calls to the registry
    Pmo__Grant grant;        //  viewer at the hub
    Pmo__Grant *grants[1];
    int64_t started_ms;
    int64_t next_sweep_ms; //  monotonic: when the lag sweep runs next
} planner_t;

//  ---------------------------------------------------------------------
//  planner_server.c: request helpers

Pmo__PlannerReply *planner_reply (pmo_request_t *req);

//  The unit with id (in arena); fails req (NOT_FOUND / UNAVAILABLE on
//  field) and returns NULL if there is none or the registry is away.
const Pmo__OrgUnit *planner_unit (planner_t *self, pmo_request_t *req, const char *id,
                                  const char *field);

//  The policy in force at path (the default threshold, then each unit's
//  own from the root down; depth < 0: all of path's units, else the first
//  depth). NULL (req failed) if Redis is down.
Pmo__EffectivePolicy *planner_effective (planner_t *self, pmo_request_t *req, const char *path,
                                         int depth);

//  The current month as a period index (config.month in tests, else the
//  clock).
int planner_month_now (planner_t *self);

//  An event from the planner, body set as body_field, in arena.
Pmo__Event *planner_event (planner_t *self, pmo_request_t *req, const char *type,
                           const char *division, const char *org_unit, const char *path,
                           const char *entity_id, uint64_t version, const char *body_field,
                           ProtobufCMessage *body);

//  Add an event to a commit (and to the list published after it).
void planner_commit_event (pmo_request_t *req, pmo_commit_t *commit, const char *division,
                           Pmo__Event *event, Pmo__Event ***events, size_t *n);

//  Finish a change: store the reply with the commit, run it, publish the
//  events on success; a stale version, a retry or Redis down fail req.
void planner_commit (planner_t *self, pmo_request_t *req, pmo_commit_t *commit, Pmo__Event **events,
                     size_t n);

//  The projects in the subtree of org_unit as the registry has them (not
//  archived), in arena. 0, or -1 with req failed (registry away).
int planner_projects (planner_t *self, pmo_request_t *req, const char *org_unit,
                      Pmo__Project ***projects, size_t *n);

//  Every stored entity of a kind (prefix, decoded as desc) in org_unit's
//  subtree (every unit when empty) that the caller may read, in arena,
//  oldest first per division; at most max per division. The entity's
//  org_unit_path is field 5 of Benefit and Scenario alike (read by name).
//  0, or -1 with req failed (unknown unit, no read grant, Redis away).
int planner_read_scope (planner_t *self, pmo_request_t *req, const char *org_unit,
                        const char *prefix, const ProtobufCMessageDescriptor *desc, size_t max,
                        ProtobufCMessage ***out, size_t *n_out);

//  ---------------------------------------------------------------------
//  planner_benefits.c

void planner_handle_create_benefit (planner_t *self, pmo_request_t *req, Pmo__Benefit *benefit);
void planner_handle_update_benefit (planner_t *self, pmo_request_t *req, Pmo__Benefit *benefit);
//  create_benefit (no id) or update_benefit (id) checked, nothing written
void planner_handle_check_benefit (planner_t *self, pmo_request_t *req, Pmo__Benefit *benefit);
void planner_handle_record_measurement (planner_t *self, pmo_request_t *req,
                                        Pmo__RecordMeasurementRequest *record);
void planner_handle_get_benefit (planner_t *self, pmo_request_t *req, Pmo__BenefitGetRequest *get);
void planner_handle_list_benefits (planner_t *self, pmo_request_t *req,
                                   Pmo__BenefitListRequest *list);
void planner_handle_rollup (planner_t *self, pmo_request_t *req, Pmo__BenefitRollupRequest *rollup);
//  Raise (or clear) the lag alert of every benefit whose state time has
//  moved (a profile period passed with no measurement). The number of
//  benefits changed.
int planner_sweep_lag (planner_t *self);

//  ---------------------------------------------------------------------
//  planner_scores.c

void planner_handle_set_policy (planner_t *self, pmo_request_t *req, Pmo__PlannerPolicy *policy);
void planner_handle_get_policy (planner_t *self, pmo_request_t *req, Pmo__PolicyRequest *get);
void planner_handle_score_project (planner_t *self, pmo_request_t *req,
                                   Pmo__ScoreProjectRequest *score);
void planner_handle_ranking (planner_t *self, pmo_request_t *req, Pmo__RankingRequest *ranking);

//  The scores of projects (in arena; NULL where none), totals under the
//  model in force at path. -1 with req failed if Redis is down.
int planner_scores_of (planner_t *self, pmo_request_t *req, Pmo__Project **projects, size_t n,
                       const Pmo__EffectivePolicy *policy, Pmo__ProjectScore ***scores);

//  ---------------------------------------------------------------------
//  planner_scenarios.c

void planner_handle_solve (planner_t *self, pmo_request_t *req, Pmo__ScenarioSpec *spec);
void planner_handle_frontier (planner_t *self, pmo_request_t *req, Pmo__FrontierRequest *frontier);
void planner_handle_get_scenario (planner_t *self, pmo_request_t *req,
                                  Pmo__ScenarioGetRequest *get);
void planner_handle_compare (planner_t *self, pmo_request_t *req, Pmo__CompareRequest *compare);
void planner_handle_commit_scenario (planner_t *self, pmo_request_t *req,
                                     Pmo__CommitScenarioRequest *commit);
void planner_handle_list_scenarios (planner_t *self, pmo_request_t *req,
                                    Pmo__ScenarioListRequest *list);

//  ---------------------------------------------------------------------
//  planner_capacity.c

//  With spec->capacity_from_allocator: fill spec->capacity from the
//  allocator's capacity view of unit (free hours of each skill the
//  candidates need, per week from the start). 0, or -1 with req failed
//  (fields named under prefix).
int planner_capacity_from_allocator (planner_t *self, pmo_request_t *req, Pmo__ScenarioSpec *spec,
                                     const Pmo__OrgUnit *unit, const char *prefix);

#endif
