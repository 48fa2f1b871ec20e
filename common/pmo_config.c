/*  pmo_config.c: flags and environment variables. */
#include "pmo_config.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_usage (const pmo_option_t *options, size_t count, const char *program,
                     const char *summary)
{
    printf ("%s\n\nUsage: %s [options]\n\nOptions (flag, environment variable, default):\n",
            summary, program);
    for (size_t i = 0; i < count; i++)
        printf ("  --%-16s %-24s %s\n  %-42s (default: %s)\n", options[i].name,
                options[i].env ? options[i].env : "", options[i].help, "",
                options[i].fallback ? options[i].fallback : "none");
    printf ("  --help                                    this text\n");
}

int pmo_config_parse (pmo_option_t *options, size_t count, int argc, char **argv,
                      const char *summary)
{
    for (size_t i = 0; i < count; i++) {
        const char *env = options[i].env ? getenv (options[i].env) : NULL;
        options[i].value = env && *env ? env : options[i].fallback;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            s_usage (options, count, argv[0], summary);
            return 1;
        }
        if (strncmp (arg, "--", 2) != 0) {
            fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", argv[0], arg);
            return -1;
        }
        const char *name = arg + 2;
        const char *eq = strchr (name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen (name);
        pmo_option_t *option = NULL;
        for (size_t i = 0; i < count; i++)
            if (strlen (options[i].name) == name_len &&
                strncmp (options[i].name, name, name_len) == 0)
                option = &options[i];
        if (!option) {
            fprintf (stderr, "%s: unknown option '%s' (see --help)\n", argv[0], arg);
            return -1;
        }
        if (eq)
            option->value = eq + 1;
        else if (a + 1 < argc)
            option->value = argv[++a];
        else {
            fprintf (stderr, "%s: option '%s' needs a value\n", argv[0], arg);
            return -1;
        }
    }
    return 0;
}

const char *pmo_config_get (const pmo_option_t *options, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (options[i].name, name) == 0)
            return options[i].value;
    assert (!"unknown option name");
    return NULL;
}

int pmo_config_int (const pmo_option_t *options, size_t count, const char *name, long min, long max,
                    long *value)
{
    const char *text = pmo_config_get (options, count, name);
    char *end = NULL;
    errno = 0;
    long v = text ? strtol (text, &end, 10) : 0;
    if (!text || !*text || *end || errno || v < min || v > max) {
        fprintf (stderr, "option --%s: '%s' is not a whole number from %ld to %ld\n", name,
                 text ? text : "", min, max);
        return -1;
    }
    *value = v;
    return 0;
}
