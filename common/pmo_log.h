/*  pmo_log.h: structured logging, one line per event:
        2026-11-23T07:00:00.123Z info registry: ready endpoint=tcp://...
    Messages are "event key=value ...": ids and sizes, never secrets or whole
    payloads.
*/
#ifndef PMO_LOG_H_INCLUDED
#define PMO_LOG_H_INCLUDED

typedef enum {
    PMO_LOG_DEBUG = 0,
    PMO_LOG_INFO = 1,
    PMO_LOG_WARN = 2,
    PMO_LOG_ERROR = 3,
} pmo_log_level_t;

//  Set the component name printed on every line and the lowest level shown
//  ("debug", "info", "warn", "error"). Returns -1 for an unknown level.
int pmo_log_init (const char *component, const char *level);
void pmo_log (pmo_log_level_t level, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

#define pmo_debug(...) pmo_log (PMO_LOG_DEBUG, __VA_ARGS__)
#define pmo_info(...)  pmo_log (PMO_LOG_INFO, __VA_ARGS__)
#define pmo_warn(...)  pmo_log (PMO_LOG_WARN, __VA_ARGS__)
#define pmo_error(...) pmo_log (PMO_LOG_ERROR, __VA_ARGS__)

#endif
