/*  pmo_log.c: structured logging to stderr (systemd and deploy/pmo capture it). */
#include "pmo_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char s_component[32] = "pmo";
static pmo_log_level_t s_level = PMO_LOG_INFO;
static const char *s_names[] = {"debug", "info", "warn", "error"};

int pmo_log_init (const char *component, const char *level)
{
    if (component)
        snprintf (s_component, sizeof s_component, "%s", component);
    if (!level)
        return 0;
    for (int i = 0; i < 4; i++)
        if (strcmp (level, s_names[i]) == 0) {
            s_level = (pmo_log_level_t)i;
            return 0;
        }
    return -1;
}

void pmo_log (pmo_log_level_t level, const char *format, ...)
{
    if (level < s_level)
        return;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r (&ts.tv_sec, &tm);
    char line[2048];
    int len = snprintf (line, sizeof line,
                        "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s: ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        (int)(ts.tv_nsec / 1000000), s_names[level], s_component);
    va_list args;
    va_start (args, format);
    vsnprintf (line + len, sizeof line - (size_t)len, format, args);
    va_end (args);
    //  One write per line so lines from threads do not interleave
    fprintf (stderr, "%s\n", line);
}
