/*  pmo_config.h: settings from command-line flags and environment variables.
    Every setting has both: "--redis URL" and PMO_REDIS_URL. A flag wins over
    the environment, the environment over the default.
*/
#ifndef PMO_CONFIG_H_INCLUDED
#define PMO_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name;     //  flag without the dashes, e.g. "redis"
    const char *env;      //  environment variable, e.g. "PMO_REDIS_URL"
    const char *fallback; //  default value; NULL = no default
    const char *help;     //  one line for --help
    const char *value;    //  the value in force after pmo_config_parse
} pmo_option_t;

//  Parse argv against the options. Returns 0 when the program should run, 1
//  when --help was printed (exit 0), -1 on a bad flag (the message is
//  printed; exit 2). Values point into argv, environ or the defaults.
int pmo_config_parse (pmo_option_t *options, size_t count, int argc, char **argv,
                      const char *summary);
//  The value of a named option (programmer error if the name is unknown).
const char *pmo_config_get (const pmo_option_t *options, size_t count, const char *name);
//  Parse an integer setting in [min, max]; returns -1 and prints why if not.
int pmo_config_int (const pmo_option_t *options, size_t count, const char *name, long min, long max,
                    long *value);

#endif
