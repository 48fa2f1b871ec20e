/*  gateway_mappings.c: import mappings kept on the gateway. See
    gateway_mappings.h.

    The directory is read on every request: mappings are few (tens), an
    operator adds one by copying a file, and nothing then needs a restart.
*/
#include "gateway_mappings.h"
#include "gateway_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64
#define LIST_MAX     1000 //  files looked at in one listing

bool gateway_mapping_name_valid (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    bool ok = len > 0 && len <= NAME_MAX_LEN;
    for (const char *c = name; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '-' || *c == '_';
    return ok;
}

static const char *s_string (json_t *root, const char *key)
{
    const char *value = json_string_value (json_object_get (root, key));
    return value ? value : "";
}

Pmo__StoredMapping *gateway_mapping_summary (const char *name, const char *text, size_t size,
                                             bool with_text, pmo_arena_t *arena)
{
    json_t *root = json_loadb (text, size, 0, NULL);
    if (!json_is_object (root)) {
        json_decref (root);
        return NULL;
    }
    Pmo__StoredMapping *mapping = pmo_arena_alloc (arena, sizeof (Pmo__StoredMapping));
    pmo__stored_mapping__init (mapping);
    mapping->name = pmo_arena_strdup (arena, name);
    //  A mapping without "entity" imports projects (portio's default)
    const char *entity = s_string (root, "entity");
    mapping->entity = pmo_arena_strdup (arena, *entity ? entity : "project");
    mapping->comment = pmo_arena_strdup (arena, s_string (root, "comment"));
    mapping->org_unit = pmo_arena_strdup (arena, s_string (root, "org_unit"));
    mapping->columns = (uint32_t)json_array_size (json_object_get (root, "columns"));
    mapping->mapping = with_text ? pmo_arena_strdup (arena, text) : "";
    json_decref (root);
    return mapping;
}

//  The file of name in dir (malloc'd), or NULL.
static char *s_file (const char *dir, const char *name, size_t *size)
{
    if (!dir || !*dir || !gateway_mapping_name_valid (name))
        return NULL;
    char path[1024];
    snprintf (path, sizeof path, "%s/%s.json", dir, name);
    return gateway_read_file (path, size);
}

char *gateway_mapping_read (const char *dir, const char *name, const Pmo__Identity *who,
                            gateway_path_fn *path_of, void *ctx, size_t *size, char *detail,
                            size_t detail_size)
{
    char *text = s_file (dir, name, size);
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__StoredMapping *mapping =
        text ? gateway_mapping_summary (name, text, *size, false, arena) : NULL;
    if (text && !mapping) {
        pmo_warn ("gateway: a stored mapping is not a JSON object name=%s", name);
        snprintf (detail, detail_size,
                  "the gateway's mapping '%.64s' is not a JSON object: its operator must fix "
                  "the file",
                  name);
        free (text);
        text = NULL;
    } else if (!mapping || !gateway_may_use_mapping (who, mapping->org_unit, path_of, ctx)) {
        snprintf (detail, detail_size,
                  "no mapping '%.64s' on this gateway for you (GET /api/v1/import/mappings "
                  "lists those you may use)",
                  name ? name : "");
        free (text);
        text = NULL;
    }
    pmo_arena_destroy (&arena);
    return text;
}

static int s_compare (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

int gateway_mappings_list (const char *dir, const char *entity, const Pmo__Identity *who,
                           gateway_path_fn *path_of, void *ctx, pmo_arena_t *arena,
                           Pmo__MappingList *list)
{
    if (!dir || !*dir)
        return 0;
    DIR *handle = opendir (dir);
    if (!handle)
        return -1;
    //  The names first, sorted, so the list reads the same every time
    char **names = pmo_arena_alloc (arena, LIST_MAX * sizeof (char *));
    size_t count = 0;
    struct dirent *entry;
    while (count < LIST_MAX && (entry = readdir (handle))) {
        size_t len = strlen (entry->d_name);
        if (len <= 5 || strcmp (entry->d_name + len - 5, ".json") != 0)
            continue;
        char *name = pmo_arena_printf (arena, "%.*s", (int)(len - 5), entry->d_name);
        if (gateway_mapping_name_valid (name))
            names[count++] = name;
    }
    closedir (handle);
    qsort (names, count, sizeof (char *), s_compare);
    for (size_t i = 0; i < count; i++) {
        size_t size = 0;
        char *text = s_file (dir, names[i], &size);
        Pmo__StoredMapping *mapping =
            text ? gateway_mapping_summary (names[i], text, size, false, arena) : NULL;
        free (text);
        if (!mapping) {
            pmo_warn ("gateway: a stored mapping is not a JSON object name=%s", names[i]);
            continue;
        }
        if ((entity && *entity && strcmp (entity, mapping->entity) != 0) ||
            !gateway_may_use_mapping (who, mapping->org_unit, path_of, ctx))
            continue;
        pmo_reflect_append (&list->base, "mappings", &mapping->base, arena);
    }
    return 0;
}
