/*  pmoctl.h: what the parts of pmoctl share (private to services/pmoctl).

    pmoctl.c       global options, the caller's identity, the list of
                   command tables, dispatch
    pmoctl_call.c  the services pmoctl talks to (their default endpoints,
                   once), the one call path every request takes, and
                   pmoctl_run_call, the runner of the services' command rows
    pmoctl_args.c  a command's flags, driven by its flag table: parsing,
                   usage text, and setters that write a flag's value into a
                   field of the request (by its .proto path, or into a JSON
                   body)
    pmoctl_print.c replies for people (key: value blocks, aligned tables) or
                   as JSON for scripts
    pmoctl_registry.c the registry's commands: entity specs, flag tables,
                   column tables and the runners
    pmoctl_allocator.c, pmoctl_xdiv.c, pmoctl_riskmon.c, pmoctl_notifier.c,
    pmoctl_planner.c, pmoctl_gateway.c, pmoctl_federation.c: each service's command table,
                   its flag tables, request builders and reply printers
    pmoctl_import.c import, export and report, over the import library
    pmoctl_watch.c the live event feed

    Everything a command builds or reads lives in the arena of pmoctl_t and
    is freed once, when the command is done.
*/
#ifndef PMOCTL_H_INCLUDED
#define PMOCTL_H_INCLUDED

#include "pmo_client.h"
#include "pmo_util.h"
#include "registry.pb-c.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdio.h>

//  Exit status
#define PMOCTL_OK       0 //  done
#define PMOCTL_REFUSED  1 //  the service answered with an error
#define PMOCTL_USAGE    2 //  the command line is wrong
#define PMOCTL_NO_REPLY 3 //  no reply in time
#define PMOCTL_NO_KEY   4 //  no usable key (--keys, --key)

//  The services pmoctl talks to, and the registry's event feed
typedef enum {
    PMOCTL_REGISTRY,     //  org units, portfolios, projects, ...
    PMOCTL_REGISTRY_PUB, //  the registry's events (watch); not called
    PMOCTL_ALLOCATOR,    //  resources and allocations
    PMOCTL_RISKMON,      //  risks, issues, health, alerts
    PMOCTL_NOTIFIER,     //  channels, subscriptions, deliveries
    PMOCTL_GATEWAY,      //  the gateway's token service
    PMOCTL_HUB,          //  pmo-hub's admin endpoint
    PMOCTL_PLANNER,      //  benefits, scores, scenarios
    PMOCTL_SERVICES      //  how many
} pmoctl_service_t;

typedef struct {
    const char *endpoints[PMOCTL_SERVICES]; //  where each is reached (flag, env, default)
    pmo_client_t *clients[PMOCTL_SERVICES]; //  each connected on its first call
    int timeout_ms;                         //  per attempt
    int attempts;                           //  same request id each time
    bool json;                              //  replies as JSON documents
    Pmo__Identity identity;                 //  asserted in every request header
    const char *keys_dir;                   //  the keyring (--keys)
    const char *key_name;                   //  our key in it (--key)
    bool keys_loaded;                       //  set up (once, before the first socket)
    pmo_arena_t *arena;                     //  everything the command builds or reads
    const char *currency;                   //  the command's --currency, NULL if not given
    int status;                             //  exit status of the last call that failed
} pmoctl_t;

//  ---------------------------------------------------------------------
//  Entities of the registry, described once for the generic commands

typedef struct {
    const char *name;                       //  "project", for messages
    Pmo__EntityKind kind;                   //  for get, list and archive
    const ProtobufCMessageDescriptor *desc; //  the entity message
    const char *prefix;                     //  id prefix ("pr"); NULL for org units
    const char *create_field;               //  RegistryRequest member that creates
    const char *update_field;               //  ... that updates; NULL if none
    const char *page_field;                 //  Page member that lists them
    const void *columns;                    //  pmoctl_column_t[] for list tables
} pmoctl_entity_t;

//  ---------------------------------------------------------------------
//  Flags

typedef struct _pmoctl_flag_t pmoctl_flag_t;

//  Write a flag's value into msg. Returns 0, or the exit status after
//  printing why not.
typedef int (pmoctl_set_fn) (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                             const char *value);

#define PMOCTL_REQUIRED    1  //  must be given (except when updating)
#define PMOCTL_REPEAT      2  //  may be given more than once; each is applied
#define PMOCTL_CREATE_ONLY 4  //  not offered when updating
#define PMOCTL_UPDATE_ONLY 8  //  offered only when updating
#define PMOCTL_SWITCH      16 //  takes no value
//  How a flag with a field and no setter goes into a JSON body
//  (pmoctl_args_json): a string unless one of these says otherwise; a
//  switch is true.
#define PMOCTL_JSON_INT  32 //  a whole number in [min, max]
#define PMOCTL_JSON_LIST 64 //  "a,b,c" as an array of strings

struct _pmoctl_flag_t {
    const char *name;  //  without the dashes, e.g. "org-unit"
    const char *meta;  //  placeholder of the value; NULL: the enum's labels
    const char *field; //  .proto path in the message, e.g. "budget.baseline",
                       //  or without a setter the JSON body's field;
                       //  NULL: the runner reads the flag itself
    pmoctl_set_fn *set;
    unsigned flags;
    long min, max;                 //  range for pmoctl_set_int and PMOCTL_JSON_INT
    const pmoctl_entity_t *entity; //  what a reference names (codes resolve to ids)
    const char *help;
};

typedef enum {
    PMOCTL_MODE_OTHER = 0,
    PMOCTL_MODE_CREATE,
    PMOCTL_MODE_UPDATE,
} pmoctl_mode_t;

typedef struct _pmoctl_command_t pmoctl_command_t;

//  What a command line said, in order.
typedef struct {
    const pmoctl_command_t *command;
    const char *positional; //  the ID argument, NULL if none
    size_t count;
    const pmoctl_flag_t **flags;
    const char **values; //  "" for switches
} pmoctl_args_t;

typedef int (pmoctl_run_fn) (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);

//  What a service command sends, made by its builder from the flags.
typedef struct {
    const char *member;        //  the request's oneof member: the row's, unless changed
    json_t *body;              //  the member as JSON, owned by the runner (starts empty)
    ProtobufCMessage *message; //  or the member as a message (arena); used if set
    const char *notice;        //  said on stderr once the call succeeded, e.g. a new secret
} pmoctl_request_t;

//  Fill request from the command line; it may read from the service first
//  (an update sends the version it read). Returns 0, or the exit status
//  after saying why.
typedef int (pmoctl_build_fn) (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                               pmoctl_request_t *request);
//  Print a reply (in the arena) for people. Returns the exit status.
typedef int (pmoctl_show_fn) (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                              ProtobufCMessage *reply);

//  The json of a row whose printer prints --json documents as well
#define PMOCTL_JSON_BY_SHOW ""

struct _pmoctl_command_t {
    const char *group;                      //  "project"
    const char *verb;                       //  "create"; NULL for a one-word command
    const char *positional;                 //  "ID" if the command takes one
    const pmoctl_flag_t *flags;             //  ends with {NULL}; NULL = no flags
    pmoctl_mode_t mode;                     //  which flags apply and which are required
    pmoctl_run_fn *run;                     //  the runner
    const pmoctl_entity_t *entity;          //  for the registry's generic runners
    const ProtobufCMessageDescriptor *desc; //  the message the flags write
    const char *summary;                    //  one line for the command list
    //  For pmoctl_run_call, the generic runner of the services' commands:
    pmoctl_service_t service; //  who answers
    const char *member;       //  the request's oneof member
    pmoctl_build_fn *build;   //  the request from the flags; NULL: pmoctl_args_json
    pmoctl_show_fn *show;     //  the reply for people; NULL: nothing
    const char *json;         //  the reply member --json prints; NULL: the whole
                              //  reply; PMOCTL_JSON_BY_SHOW: show prints it
};

//  A row of a command table run by its own runner
#define PMOCTL_RUN(group, verb, positional, flags, mode, run, entity, desc, summary)               \
    {                                                                                              \
        group, verb, positional, flags, mode, run, entity, desc, summary, PMOCTL_REGISTRY, NULL,   \
            NULL, NULL, NULL                                                                       \
    }
//  A row of a command table run by pmoctl_run_call: one request to service,
//  built by build, its reply printed by show (json: see above)
#define PMOCTL_CALL(service, group, verb, positional, flags, member, build, show, json, summary)   \
    {                                                                                              \
        group, verb, positional, flags, PMOCTL_MODE_OTHER, pmoctl_run_call, NULL, NULL, summary,   \
            service, member, build, show, json                                                     \
    }
//  The end of a command table
#define PMOCTL_END PMOCTL_RUN (NULL, NULL, NULL, NULL, PMOCTL_MODE_OTHER, NULL, NULL, NULL, NULL)

//  The command tables, one per file, each ending with PMOCTL_END; pmoctl.c
//  lists them in the order --help shows them.
extern const pmoctl_command_t pmoctl_registry_ping_commands[]; //  ping
extern const pmoctl_command_t pmoctl_watch_commands[];         //  watch
extern const pmoctl_command_t pmoctl_keys_commands[];          //  key make
extern const pmoctl_command_t pmoctl_import_commands[];        //  import, export, report
extern const pmoctl_command_t pmoctl_allocator_commands[];
extern const pmoctl_command_t pmoctl_riskmon_commands[];
extern const pmoctl_command_t pmoctl_gateway_commands[];
extern const pmoctl_command_t pmoctl_hub_commands[];
extern const pmoctl_command_t pmoctl_xdiv_commands[];
extern const pmoctl_command_t pmoctl_notifier_commands[];
extern const pmoctl_command_t pmoctl_planner_commands[];
extern const pmoctl_command_t pmoctl_registry_commands[]; //  ou, portfolio, ..., report

//  Parse a command's arguments. Returns 0, 1 if --help was printed (exit
//  0), or PMOCTL_USAGE after printing why.
int pmoctl_args_parse (const pmoctl_command_t *cmd, int argc, char **argv, pmo_arena_t *arena,
                       pmoctl_args_t *args);
//  The last value given for a flag, "" for a switch, NULL if not given.
const char *pmoctl_args_get (const pmoctl_args_t *args, const char *name);
//  True if any flag with a setter was given.
bool pmoctl_args_any_field (const pmoctl_args_t *args);
//  Apply every flag that has a setter to msg, in command-line order.
//  Returns 0 or an exit status (usage errors print the usage).
int pmoctl_args_apply (pmoctl_t *ctl, const pmoctl_args_t *args, ProtobufCMessage *msg);

//  Print a command's usage.
void pmoctl_usage (const pmoctl_command_t *cmd, FILE *out);
//  Print "pmoctl: <why>" and the command's usage to stderr; returns
//  PMOCTL_USAGE.
int pmoctl_usage_error (const pmoctl_command_t *cmd, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  The field at a dotted path of desc, NULL if there is none.
const ProtobufCFieldDescriptor *pmoctl_field_find (const ProtobufCMessageDescriptor *desc,
                                                   const char *path);
//  The message holding the last part of path, creating the sub-messages on
//  the way in the arena; *field is that part's descriptor.
ProtobufCMessage *pmoctl_field_owner (pmo_arena_t *arena, ProtobufCMessage *msg, const char *path,
                                      const ProtobufCFieldDescriptor **field);
//  Append a string to a repeated string field (arena).
void pmoctl_strings_append (pmo_arena_t *arena, ProtobufCMessage *owner,
                            const ProtobufCFieldDescriptor *field, const char *value);

//  Money in major units with up to two decimals ("12343.96", "1,250.00")
//  to minor units, exactly. Returns 0, or -1 if text is not such an amount
//  or is above 2^53 minor units.
int pmoctl_parse_amount (const char *text, int64_t *minor);

//  Setters for flag tables
pmoctl_set_fn pmoctl_set_text;     //  a string field
pmoctl_set_fn pmoctl_set_int;      //  an integer field in [min, max]
pmoctl_set_fn pmoctl_set_enum;     //  an enum field by its JSON label
pmoctl_set_fn pmoctl_set_date;     //  YYYY-MM-DD ("" clears)
pmoctl_set_fn pmoctl_set_amount;   //  a Money field or an int64 of minor units
pmoctl_set_fn pmoctl_set_list;     //  a repeated string field from "a,b,c"
pmoctl_set_fn pmoctl_set_switch;   //  a bool field set to true
pmoctl_set_fn pmoctl_set_ref;      //  an id field; a code is resolved to the id
pmoctl_set_fn pmoctl_set_refs;     //  a repeated id field from "a,b"
pmoctl_set_fn pmoctl_set_currency; //  the currency of every amount given

//  ---------------------------------------------------------------------
//  Calls (pmoctl_call.c)

//  A service as pmoctl reaches it: where it listens unless told otherwise
//  and what it speaks.
typedef struct {
    const char *name;     //  for messages, e.g. "the allocator"
    const char *env;      //  the variable naming its endpoint(s)
    const char *fallback; //  the default endpoint
    bool example;         //  a malformed endpoint's message shows the default
    const char *running;  //  who the no-reply hint asks about: "is it running?"
    const ProtobufCMessageDescriptor *request_desc; //  NULL: not called
    const ProtobufCMessageDescriptor *reply_desc;
} pmoctl_endpoint_t;

//  Indexed by pmoctl_service_t: the one place pmoctl's defaults are written.
extern const pmoctl_endpoint_t pmoctl_endpoints[PMOCTL_SERVICES];

//  How a call waits, and whether it says what went wrong. NULL: the
//  command's --timeout, its attempts, and every failure printed.
typedef struct {
    int timeout_ms; //  per attempt
    int attempts;   //  same request id each time
    bool quiet;     //  print nothing; the caller reads ctl->status
} pmoctl_wait_t;

//  Each service's endpoint from its variable, else its default.
void pmoctl_endpoints_init (pmoctl_t *ctl);
//  The service's client, connected on first use (owned by ctl, destroyed
//  by pmoctl_clients_destroy). NULL with ctl->status PMOCTL_USAGE if its
//  endpoint is malformed, said on stderr unless quiet.
//  Set the keyring up (once). 0, or -1 after saying why (ctl->status set).
int pmoctl_keys (pmoctl_t *ctl);

pmo_client_t *pmoctl_connect (pmoctl_t *ctl, pmoctl_service_t service, bool quiet);
void pmoctl_clients_destroy (pmoctl_t *ctl);

//  The one call path. Send request (the service's request message, header
//  unset) under a fresh header whose deadline covers every attempt: each
//  attempt waits wait->timeout_ms and a retry carries the same request id,
//  so a change is done once. Returns the reply (in the arena) if it
//  carries no error, its warnings said on stderr. Otherwise returns NULL
//  with ctl->status PMOCTL_USAGE (a malformed endpoint), PMOCTL_NO_REPLY or
//  PMOCTL_REFUSED (the service's error, naming the field), said on stderr
//  unless wait->quiet.
ProtobufCMessage *pmoctl_send (pmoctl_t *ctl, pmoctl_service_t service, ProtobufCMessage *request,
                               const pmoctl_wait_t *wait);
//  Send body (not copied) as the oneof member `member` of the service's
//  request; as pmoctl_send.
ProtobufCMessage *pmoctl_call_member (pmoctl_t *ctl, pmoctl_service_t service, const char *member,
                                      ProtobufCMessage *body, const pmoctl_wait_t *wait);
//  Send body (JSON, owned by the caller) as the request's member `member`;
//  as pmoctl_send, and a body the request cannot hold is a usage error
//  naming the field.
ProtobufCMessage *pmoctl_service_call (pmoctl_t *ctl, pmoctl_service_t service, const char *member,
                                       json_t *body);
//  The registry's: body as the RegistryRequest member `member`.
Pmo__RegistryReply *pmoctl_call (pmoctl_t *ctl, const char *member, ProtobufCMessage *body);
//  The body (oneof member) of a reply, NULL if none.
ProtobufCMessage *pmoctl_reply_body (const Pmo__RegistryReply *reply);

//  Resolve what a person typed to an id: ids pass through, codes of
//  projects, portfolios and programmes are looked up. Returns 0 or an
//  exit status after printing why.
int pmoctl_resolve (pmoctl_t *ctl, const pmoctl_entity_t *entity, const char *text,
                    const char **id);
//  The same for a project (for the other services' commands that name one).
int pmoctl_resolve_project (pmoctl_t *ctl, const char *text, const char **id);

//  ---------------------------------------------------------------------
//  Output

//  A column of a list table: a header and either a field path or a cell
//  function; max > 0 truncates longer values.
typedef const char *(pmoctl_cell_fn)(pmoctl_t *ctl, const ProtobufCMessage *msg);
typedef struct {
    const char *header;
    const char *field;
    size_t max;
    pmoctl_cell_fn *cell;
} pmoctl_column_t;

typedef struct _pmoctl_table_t pmoctl_table_t;
pmoctl_table_t *pmoctl_table_new (pmo_arena_t *arena, const pmoctl_column_t *columns);
//  Add a row of cells (one per column; copied as needed).
void pmoctl_table_add (pmoctl_table_t *self, const char *const *cells);
//  Add a row made from msg through the columns.
void pmoctl_table_add_message (pmoctl_t *ctl, pmoctl_table_t *self, const ProtobufCMessage *msg);
void pmoctl_table_print (pmoctl_table_t *self, FILE *out);
//  The items of msg's repeated message field `items` as a table on stdout,
//  a row each (the header alone if there are none).
void pmoctl_print_items (pmoctl_t *ctl, const ProtobufCMessage *msg, const char *items,
                         const pmoctl_column_t *columns);

//  The value at a field path of msg as people read it ("" if unset).
const char *pmoctl_format_field (pmoctl_t *ctl, const ProtobufCMessage *msg, const char *path);
//  "12,343.96"; "GBP 12,343.96"; "2026-03-31T09:15:02Z" (with_ms adds .123)
const char *pmoctl_format_amount (pmo_arena_t *arena, int64_t minor);
const char *pmoctl_format_money (pmo_arena_t *arena, const Pmo__Money *money);
const char *pmoctl_format_time (pmo_arena_t *arena, int64_t ms, bool with_ms);
//  An enum value's JSON label ("on_hold"); the number if unknown.
const char *pmoctl_format_enum (pmo_arena_t *arena, const ProtobufCEnumDescriptor *desc, int value);
//  The enum's labels joined by "|", without "unspecified".
const char *pmoctl_enum_choices (pmo_arena_t *arena, const ProtobufCEnumDescriptor *desc);

//  Every set field of msg as an aligned "key: value" block.
void pmoctl_print_entity (pmoctl_t *ctl, const ProtobufCMessage *msg, FILE *out);
//  One JSON document on a line. Returns 0, or PMOCTL_REFUSED if the
//  message cannot be written as JSON.
int pmoctl_print_json (const ProtobufCMessage *msg);

//  ---------------------------------------------------------------------
//  The services' commands (pmoctl_call.c)

//  The generic runner: build the request, call, print the reply (--json:
//  the row's json member), and return the exit status.
int pmoctl_run_call (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
//  The reply's member `name` if it is set, else the whole reply.
ProtobufCMessage *pmoctl_reply_member (ProtobufCMessage *reply, const char *name);
//  Printers for rows: the row's json member as a key: value block; a Pong
//  (--json too), exit 1 if the service cannot reach its Redis.
pmoctl_show_fn pmoctl_show_entity;
pmoctl_show_fn pmoctl_show_pong;

//  ---------------------------------------------------------------------
//  Runners outside their files

//  watch handles Ctrl-C itself
int pmoctl_run_watch (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);

//  Rows of the services' flag tables, whose requests are JSON bodies:
//  F (flag, meta, flags, help) and SW (switch, help) are read by the
//  command's builder; JSTR, JINT, JLIST and JSWITCH also name the body's
//  field they fill (pmoctl_args_json). END ends a table.
#define F(name, meta, flags, help)                                                                 \
    {                                                                                              \
        name, meta, NULL, NULL, flags, 0, 0, NULL, help                                            \
    }
#define SW(name, help)                                                                             \
    {                                                                                              \
        name, NULL, NULL, NULL, PMOCTL_SWITCH, 0, 0, NULL, help                                    \
    }
#define JSTR(name, meta, field, flags, help)                                                       \
    {                                                                                              \
        name, meta, field, NULL, flags, 0, 0, NULL, help                                           \
    }
#define JINT(name, meta, field, flags, min, max, help)                                             \
    {                                                                                              \
        name, meta, field, NULL, (flags) | PMOCTL_JSON_INT, min, max, NULL, help                   \
    }
#define JLIST(name, meta, field, help)                                                             \
    {                                                                                              \
        name, meta, field, NULL, PMOCTL_JSON_LIST, 0, 0, NULL, help                                \
    }
#define JSWITCH(name, field, help)                                                                 \
    {                                                                                              \
        name, NULL, field, NULL, PMOCTL_SWITCH, 0, 0, NULL, help                                   \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL                                                \
    }

//  Write every flag given that names a JSON field into body, in the order
//  of the command's flag table. 0, or a usage error (printed) as the exit
//  status.
int pmoctl_args_json (const pmoctl_command_t *cmd, const pmoctl_args_t *args, json_t *body);
//  Copy a string flag into the JSON body (if given).
void pmoctl_json_str (json_t *obj, const pmoctl_args_t *args, const char *flag, const char *field);
//  Copy an integer flag in [min, max] into the JSON body; 0 if absent or
//  good, else a usage error (printed) as the exit status.
int pmoctl_json_int (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                     const char *flag, const char *field, long min, long max);
//  An amount flag and its currency flag (default GBP) as a Money object in
//  body's field. 0 if absent or good, else a usage error naming want.
int pmoctl_json_money (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                       const char *flag, const char *currency, const char *field, const char *want);

#endif
