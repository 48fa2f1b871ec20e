/*  pmoctl_args.c: a command's flags, driven by its flag table.

    A flag table says, per flag, which field of the request it writes (a
    .proto path such as "budget.baseline") and with which setter. The
    setters work on any message through protobuf-c's descriptors, so a new
    field in the .proto needs one line in a table, not new code; enum flags
    take exactly the labels the JSON mapping writes.
*/
#include "pmoctl.h"

#include "pmo_json.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

//  The global options, for the hint when one is given after the command
static const char *s_global_options[] = {"registry", "registry-pub", "timeout", "json",
                                         "as",       "grant",        NULL};

//  ---------------------------------------------------------------------
//  Parsing

static bool s_offered (const pmoctl_command_t *cmd, const pmoctl_flag_t *flag)
{
    if (cmd->mode == PMOCTL_MODE_UPDATE)
        return !(flag->flags & PMOCTL_CREATE_ONLY);
    return !(flag->flags & PMOCTL_UPDATE_ONLY);
}

static const pmoctl_flag_t *s_flag_named (const pmoctl_command_t *cmd, const char *name, size_t len)
{
    for (const pmoctl_flag_t *flag = cmd->flags; flag && flag->name; flag++)
        if (strlen (flag->name) == len && strncmp (flag->name, name, len) == 0)
            return flag;
    return NULL;
}

static char *s_command_name (const pmoctl_command_t *cmd, char *buf, size_t size)
{
    snprintf (buf, size, "%s%s%s", cmd->group, cmd->verb ? " " : "", cmd->verb ? cmd->verb : "");
    return buf;
}

int pmoctl_args_parse (const pmoctl_command_t *cmd, int argc, char **argv, pmo_arena_t *arena,
                       pmoctl_args_t *args)
{
    memset (args, 0, sizeof *args);
    args->command = cmd;
    args->flags = pmo_arena_alloc (arena, (size_t)(argc + 1) * sizeof (pmoctl_flag_t *));
    args->values = pmo_arena_alloc (arena, (size_t)(argc + 1) * sizeof (char *));
    char name[64];
    bool options_done = false;
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (!options_done && (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0)) {
            pmoctl_usage (cmd, stdout);
            return 1;
        }
        if (!options_done && strcmp (arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || strncmp (arg, "--", 2) != 0) {
            if (!cmd->positional)
                return pmoctl_usage_error (cmd, "unexpected argument '%s'", arg);
            if (args->positional)
                return pmoctl_usage_error (cmd, "unexpected argument '%s' (%s is '%s')", arg,
                                           cmd->positional, args->positional);
            args->positional = arg;
            continue;
        }
        const char *text = arg + 2;
        const char *eq = strchr (text, '=');
        size_t len = eq ? (size_t)(eq - text) : strlen (text);
        const pmoctl_flag_t *flag = s_flag_named (cmd, text, len);
        if (!flag) {
            for (const char **global = s_global_options; *global; global++)
                if (strlen (*global) == len && strncmp (*global, text, len) == 0)
                    return pmoctl_usage_error (
                        cmd,
                        "--%s is a global option: give it before the command (pmoctl --%s ... %s)",
                        *global, *global, s_command_name (cmd, name, sizeof name));
            return pmoctl_usage_error (cmd, "unknown option '--%.*s'", (int)len, text);
        }
        if (!s_offered (cmd, flag))
            return pmoctl_usage_error (cmd, "--%s cannot be used with '%s'", flag->name,
                                       s_command_name (cmd, name, sizeof name));
        const char *value = "";
        if (flag->flags & PMOCTL_SWITCH) {
            if (eq)
                return pmoctl_usage_error (cmd, "--%s takes no value", flag->name);
        } else if (eq)
            value = eq + 1;
        else if (a + 1 < argc)
            value = argv[++a];
        else
            return pmoctl_usage_error (cmd, "--%s needs a value (%s)", flag->name,
                                       flag->meta ? flag->meta : "see below");
        args->flags[args->count] = flag;
        args->values[args->count] = value;
        args->count++;
    }
    if (cmd->positional && !args->positional)
        return pmoctl_usage_error (cmd, "%s is required", cmd->positional);
    if (cmd->mode != PMOCTL_MODE_UPDATE)
        for (const pmoctl_flag_t *flag = cmd->flags; flag && flag->name; flag++)
            if ((flag->flags & PMOCTL_REQUIRED) && s_offered (cmd, flag) &&
                !pmoctl_args_get (args, flag->name))
                return pmoctl_usage_error (cmd, "--%s is required", flag->name);
    return 0;
}

const char *pmoctl_args_get (const pmoctl_args_t *args, const char *name)
{
    for (size_t i = args->count; i > 0; i--)
        if (strcmp (args->flags[i - 1]->name, name) == 0)
            return args->values[i - 1];
    return NULL;
}

bool pmoctl_args_any_field (const pmoctl_args_t *args)
{
    for (size_t i = 0; i < args->count; i++)
        if (args->flags[i]->set)
            return true;
    return false;
}

int pmoctl_args_apply (pmoctl_t *ctl, const pmoctl_args_t *args, ProtobufCMessage *msg)
{
    for (size_t i = 0; i < args->count; i++) {
        const pmoctl_flag_t *flag = args->flags[i];
        if (!flag->set)
            continue;
        int rc = flag->set (ctl, flag, msg, args->values[i]);
        if (rc == PMOCTL_USAGE) {
            fputc ('\n', stderr);
            pmoctl_usage (args->command, stderr);
        }
        if (rc)
            return rc;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Usage

//  The placeholder of a flag's value: its meta, or its enum's labels.
static const char *s_meta (const pmoctl_command_t *cmd, const pmoctl_flag_t *flag, char *buf,
                           size_t size)
{
    if (flag->flags & PMOCTL_SWITCH)
        return "";
    if (flag->meta)
        return flag->meta;
    const ProtobufCFieldDescriptor *field =
        cmd->desc && flag->field ? pmoctl_field_find (cmd->desc, flag->field) : NULL;
    if (field && field->type == PROTOBUF_C_TYPE_ENUM) {
        pmo_arena_t *arena = pmo_arena_new ();
        snprintf (buf, size, "%s", pmoctl_enum_choices (arena, field->descriptor));
        pmo_arena_destroy (&arena);
        return buf;
    }
    return "VALUE";
}

void pmoctl_usage (const pmoctl_command_t *cmd, FILE *out)
{
    char name[64], meta[160];
    fprintf (out, "usage: pmoctl [global options] %s", s_command_name (cmd, name, sizeof name));
    if (cmd->positional)
        fprintf (out, " %s", cmd->positional);
    bool optional = false;
    for (const pmoctl_flag_t *flag = cmd->flags; flag && flag->name; flag++) {
        if (!s_offered (cmd, flag))
            continue;
        if ((flag->flags & PMOCTL_REQUIRED) && cmd->mode != PMOCTL_MODE_UPDATE)
            fprintf (out, " --%s %s", flag->name, s_meta (cmd, flag, meta, sizeof meta));
        else
            optional = true;
    }
    fprintf (out, "%s\n\n%s\n", optional ? " [options]" : "", cmd->summary);
    bool header = false;
    for (const pmoctl_flag_t *flag = cmd->flags; flag && flag->name; flag++) {
        if (!s_offered (cmd, flag))
            continue;
        if (!header) {
            fprintf (out, "\noptions:\n");
            header = true;
        }
        char left[200];
        const char *m = s_meta (cmd, flag, meta, sizeof meta);
        snprintf (left, sizeof left, "--%s%s%s", flag->name, *m ? " " : "", m);
        bool required = (flag->flags & PMOCTL_REQUIRED) && cmd->mode != PMOCTL_MODE_UPDATE;
        const char *extra = required                      ? " (required)"
                            : flag->flags & PMOCTL_REPEAT ? " (repeatable)"
                                                          : "";
        if (strlen (left) <= 30)
            fprintf (out, "  %-30s  %s%s\n", left, flag->help, extra);
        else
            fprintf (out, "  %s\n  %-30s  %s%s\n", left, "", flag->help, extra);
    }
    if (cmd->mode == PMOCTL_MODE_UPDATE)
        fprintf (out,
                 "\nThe record is read, the options change what was read, and the result is\n"
                 "sent with the version read: if someone changed it meanwhile, the registry\n"
                 "refuses with a conflict. An empty value (--description '') clears a field.\n");
    fprintf (out, "\nGlobal options (pmoctl --help) go before the command.\n");
}

int pmoctl_usage_error (const pmoctl_command_t *cmd, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fputs ("pmoctl: ", stderr);
    vfprintf (stderr, format, args);
    fputs ("\n\n", stderr);
    va_end (args);
    pmoctl_usage (cmd, stderr);
    return PMOCTL_USAGE;
}

//  Print "pmoctl: --flag: why"; the caller's apply adds the usage.
static int s_bad (const pmoctl_flag_t *flag, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
static int s_bad (const pmoctl_flag_t *flag, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "pmoctl: --%s: ", flag->name);
    vfprintf (stderr, format, args);
    fputc ('\n', stderr);
    va_end (args);
    return PMOCTL_USAGE;
}

//  ---------------------------------------------------------------------
//  Fields by path

const ProtobufCFieldDescriptor *pmoctl_field_find (const ProtobufCMessageDescriptor *desc,
                                                   const char *path)
{
    char part[64];
    while (desc) {
        const char *dot = strchr (path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen (path);
        if (len >= sizeof part)
            return NULL;
        memcpy (part, path, len);
        part[len] = 0;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field_by_name (desc, part);
        if (!field || !dot)
            return field;
        if (field->type != PROTOBUF_C_TYPE_MESSAGE || field->label == PROTOBUF_C_LABEL_REPEATED)
            return NULL;
        desc = field->descriptor;
        path = dot + 1;
    }
    return NULL;
}

ProtobufCMessage *pmoctl_field_owner (pmo_arena_t *arena, ProtobufCMessage *msg, const char *path,
                                      const ProtobufCFieldDescriptor **field)
{
    char part[64];
    for (;;) {
        const char *dot = strchr (path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen (path);
        assert (len < sizeof part);
        memcpy (part, path, len);
        part[len] = 0;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, part);
        assert (f); //  flag tables name real fields
        if (!dot) {
            *field = f;
            return msg;
        }
        assert (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED);
        ProtobufCMessage **slot = (ProtobufCMessage **)((char *)msg + f->offset);
        if (!*slot) {
            const ProtobufCMessageDescriptor *desc = f->descriptor;
            *slot = pmo_arena_alloc (arena, desc->sizeof_message);
            protobuf_c_message_init (desc, *slot);
        }
        msg = *slot;
        path = dot + 1;
    }
}

void pmoctl_strings_append (pmo_arena_t *arena, ProtobufCMessage *owner,
                            const ProtobufCFieldDescriptor *field, const char *value)
{
    assert (field->type == PROTOBUF_C_TYPE_STRING && field->label == PROTOBUF_C_LABEL_REPEATED);
    size_t *n = (size_t *)((char *)owner + field->quantifier_offset);
    char ***items = (char ***)((char *)owner + field->offset);
    char **grown = pmo_arena_alloc (arena, (*n + 1) * sizeof (char *));
    if (*n)
        memcpy (grown, *items, *n * sizeof (char *));
    grown[(*n)++] = pmo_arena_strdup (arena, value);
    *items = grown;
}

//  ---------------------------------------------------------------------
//  Setters

int pmoctl_set_text (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                     const char *value)
{
    const ProtobufCFieldDescriptor *field;
    ProtobufCMessage *owner = pmoctl_field_owner (ctl->arena, msg, flag->field, &field);
    assert (field->type == PROTOBUF_C_TYPE_STRING);
    *(char **)((char *)owner + field->offset) = pmo_arena_strdup (ctl->arena, value);
    return 0;
}

int pmoctl_set_int (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                    const char *value)
{
    char *end = NULL;
    errno = 0;
    long long number = strtoll (value, &end, 10);
    if (!*value || *end || errno || !isdigit ((unsigned char)*value) || number < flag->min ||
        number > flag->max)
        return s_bad (flag, "'%s' is not a whole number from %ld to %ld", value, flag->min,
                      flag->max);
    const ProtobufCFieldDescriptor *field;
    ProtobufCMessage *owner = pmoctl_field_owner (ctl->arena, msg, flag->field, &field);
    void *member = (char *)owner + field->offset;
    switch (field->type) {
    case PROTOBUF_C_TYPE_UINT32:
        *(uint32_t *)member = (uint32_t)number;
        break;
    case PROTOBUF_C_TYPE_INT32:
        *(int32_t *)member = (int32_t)number;
        break;
    case PROTOBUF_C_TYPE_UINT64:
        *(uint64_t *)member = (uint64_t)number;
        break;
    case PROTOBUF_C_TYPE_INT64:
        *(int64_t *)member = (int64_t)number;
        break;
    default:
        assert (!"pmoctl_set_int on a field that is not an integer");
    }
    return 0;
}

int pmoctl_set_enum (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                     const char *value)
{
    const ProtobufCFieldDescriptor *field;
    ProtobufCMessage *owner = pmoctl_field_owner (ctl->arena, msg, flag->field, &field);
    assert (field->type == PROTOBUF_C_TYPE_ENUM);
    int number;
    if (pmo_json_enum_parse (field->descriptor, value, &number) ||
        strcmp (pmoctl_format_enum (ctl->arena, field->descriptor, number), "unspecified") == 0)
        return s_bad (flag, "'%s' is not one of %s", value,
                      pmoctl_enum_choices (ctl->arena, field->descriptor));
    *(int *)((char *)owner + field->offset) = number;
    return 0;
}

int pmoctl_set_date (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                     const char *value)
{
    if (*value && !pmo_date_valid (value))
        return s_bad (flag, "'%s' is not a calendar date as YYYY-MM-DD", value);
    return pmoctl_set_text (ctl, flag, msg, value);
}

int pmoctl_parse_amount (const char *text, int64_t *minor)
{
    //  Whole part: digits, or groups of three after the first 1..3 digits
    //  when commas are used; then optionally '.' and one or two decimals.
    const char *p = text;
    int64_t whole = 0;
    int digits = 0, group = 0;
    bool commas = false;
    for (; *p && *p != '.'; p++) {
        if (*p == ',') {
            if (group == 0 || (commas ? group != 3 : group > 3))
                return -1;
            commas = true;
            group = 0;
            continue;
        }
        if (!isdigit ((unsigned char)*p) || ++digits > 16)
            return -1;
        whole = whole * 10 + (*p - '0');
        group++;
    }
    if (digits == 0 || group == 0 || (commas && group != 3))
        return -1;
    int64_t cents = 0;
    if (*p == '.') {
        p++;
        int decimals = 0;
        for (; *p; p++, decimals++) {
            if (!isdigit ((unsigned char)*p) || decimals == 2)
                return -1;
            cents = cents * 10 + (*p - '0');
        }
        if (decimals == 0)
            return -1;
        if (decimals == 1)
            cents *= 10;
    }
    //  16 digits times 100 stays far inside int64; the registry allows 2^53
    int64_t total = whole * 100 + cents;
    if (total > (int64_t)1 << 53)
        return -1;
    *minor = total;
    return 0;
}

int pmoctl_set_amount (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                       const char *value)
{
    const ProtobufCFieldDescriptor *field;
    ProtobufCMessage *owner = pmoctl_field_owner (ctl->arena, msg, flag->field, &field);
    void *member = (char *)owner + field->offset;
    if (field->type == PROTOBUF_C_TYPE_MESSAGE && !*value) {
        *(ProtobufCMessage **)member = NULL; //  "" removes the amount
        return 0;
    }
    int64_t minor;
    if (pmoctl_parse_amount (value, &minor))
        return s_bad (flag,
                      "'%s' is not an amount: major units with up to 2 decimals, e.g. 1250, "
                      "1250.5 or 1,250.00",
                      value);
    if (field->type == PROTOBUF_C_TYPE_INT64) {
        *(int64_t *)member = minor;
        return 0;
    }
    assert (field->type == PROTOBUF_C_TYPE_MESSAGE && field->descriptor == &pmo__money__descriptor);
    Pmo__Money *money = *(Pmo__Money **)member;
    if (!money) {
        money = pmo_arena_alloc (ctl->arena, sizeof (Pmo__Money));
        pmo__money__init (money);
        *(Pmo__Money **)member = money;
    }
    money->minor = minor;
    return 0;
}

int pmoctl_set_currency (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                         const char *value)
{
    if (strlen (value) != 3 || !isalpha ((unsigned char)value[0]) ||
        !isalpha ((unsigned char)value[1]) || !isalpha ((unsigned char)value[2]))
        return s_bad (flag, "'%s' is not an ISO 4217 code such as GBP, EUR or USD", value);
    char *code = pmo_arena_strdup (ctl->arena, value);
    for (char *c = code; *c; c++)
        *c = (char)toupper ((unsigned char)*c);
    ctl->currency = code;
    return 0;
}

//  Call fn for each item of "a, b,c" (spaces trimmed, empty items skipped).
typedef int (s_item_fn) (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *owner,
                         const ProtobufCFieldDescriptor *field, const char *item);

static int s_each_item (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                        const char *value, s_item_fn *fn)
{
    const ProtobufCFieldDescriptor *field;
    ProtobufCMessage *owner = pmoctl_field_owner (ctl->arena, msg, flag->field, &field);
    assert (field->type == PROTOBUF_C_TYPE_STRING && field->label == PROTOBUF_C_LABEL_REPEATED);
    //  The list given replaces the one read
    *(size_t *)((char *)owner + field->quantifier_offset) = 0;
    *(char ***)((char *)owner + field->offset) = NULL;
    char *copy = pmo_arena_strdup (ctl->arena, value);
    char *save = NULL;
    for (char *item = strtok_r (copy, ",", &save); item; item = strtok_r (NULL, ",", &save)) {
        while (isspace ((unsigned char)*item))
            item++;
        char *end = item + strlen (item);
        while (end > item && isspace ((unsigned char)end[-1]))
            *--end = 0;
        if (!*item)
            continue;
        int rc = fn (ctl, flag, owner, field, item);
        if (rc)
            return rc;
    }
    return 0;
}

static int s_append_item (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *owner,
                          const ProtobufCFieldDescriptor *field, const char *item)
{
    pmoctl_strings_append (ctl->arena, owner, field, item);
    return 0;
}

static int s_append_ref (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *owner,
                         const ProtobufCFieldDescriptor *field, const char *item)
{
    const char *id;
    int rc = pmoctl_resolve (ctl, flag->entity, item, &id);
    if (rc)
        return rc;
    pmoctl_strings_append (ctl->arena, owner, field, id);
    return 0;
}

int pmoctl_set_list (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                     const char *value)
{
    return s_each_item (ctl, flag, msg, value, s_append_item);
}

int pmoctl_set_refs (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                     const char *value)
{
    return s_each_item (ctl, flag, msg, value, s_append_ref);
}

int pmoctl_set_ref (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                    const char *value)
{
    const char *id = value;
    if (*value) {
        int rc = pmoctl_resolve (ctl, flag->entity, value, &id);
        if (rc)
            return rc;
    }
    return pmoctl_set_text (ctl, flag, msg, id);
}

int pmoctl_set_switch (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                       const char *value)
{
    const ProtobufCFieldDescriptor *field;
    ProtobufCMessage *owner = pmoctl_field_owner (ctl->arena, msg, flag->field, &field);
    assert (field->type == PROTOBUF_C_TYPE_BOOL);
    *(protobuf_c_boolean *)((char *)owner + field->offset) = 1;
    return 0;
}

void pmoctl_json_str (json_t *obj, const pmoctl_args_t *args, const char *flag, const char *field)
{
    const char *value = pmoctl_args_get (args, flag);
    if (value)
        json_object_set_new (obj, field, json_string (value));
}

int pmoctl_json_int (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                     const char *flag, const char *field, long min, long max)
{
    const char *value = pmoctl_args_get (args, flag);
    if (!value)
        return 0;
    char *end = NULL;
    long n = strtol (value, &end, 10);
    if (!*value || *end || n < min || n > max)
        return pmoctl_usage_error (cmd, "--%s '%s': a whole number from %ld to %ld", flag, value,
                                   min, max);
    json_object_set_new (obj, field, json_integer (n));
    return 0;
}

int pmoctl_json_money (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                       const char *flag, const char *currency, const char *field, const char *want)
{
    const char *value = pmoctl_args_get (args, flag);
    if (!value)
        return 0;
    int64_t minor;
    if (pmoctl_parse_amount (value, &minor))
        return pmoctl_usage_error (cmd, "--%s '%s': %s", flag, value, want);
    const char *code = pmoctl_args_get (args, currency);
    json_t *money = json_object ();
    json_object_set_new (money, "minor", json_integer (minor));
    json_object_set_new (money, "currency", json_string (code ? code : "GBP"));
    json_object_set_new (obj, field, money);
    return 0;
}

//  "a,b,c" as an array of strings (empty items left out).
static json_t *s_json_list (const char *value)
{
    json_t *list = json_array ();
    char *copy = strdup (value), *save = NULL;
    assert (copy);
    for (char *one = strtok_r (copy, ",", &save); one; one = strtok_r (NULL, ",", &save))
        json_array_append_new (list, json_string (one));
    free (copy);
    return list;
}

int pmoctl_args_json (const pmoctl_command_t *cmd, const pmoctl_args_t *args, json_t *body)
{
    for (const pmoctl_flag_t *flag = cmd->flags; flag && flag->name; flag++) {
        const char *value = flag->field && !flag->set ? pmoctl_args_get (args, flag->name) : NULL;
        if (!value)
            continue;
        if (flag->flags & PMOCTL_SWITCH)
            json_object_set_new (body, flag->field, json_true ());
        else if (flag->flags & PMOCTL_JSON_LIST)
            json_object_set_new (body, flag->field, s_json_list (value));
        else if (!(flag->flags & PMOCTL_JSON_INT))
            json_object_set_new (body, flag->field, json_string (value));
        else {
            int rc =
                pmoctl_json_int (body, cmd, args, flag->name, flag->field, flag->min, flag->max);
            if (rc)
                return rc;
        }
    }
    return 0;
}
