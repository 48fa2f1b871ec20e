/*  gateway_static.c: the dashboard's files, served from www/ with a
    strict Content-Security-Policy.
*/
#include "gateway_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATIC_MAX (4 * 1024 * 1024)

static const char *s_content_type (const char *path)
{
    const char *dot = strrchr (path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp (dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp (dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp (dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp (dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp (dot, ".json") == 0)
        return "application/json";
    if (strcmp (dot, ".png") == 0)
        return "image/png";
    return "application/octet-stream";
}

//  Read a whole file (malloc'd). NULL if there is no path, or the file cannot
//  be read or is too big.
char *gateway_read_file (const char *path, size_t *size)
{
    FILE *file = path ? fopen (path, "rb") : NULL;
    if (!file)
        return NULL;
    struct stat info;
    char *data = NULL;
    if (fstat (fileno (file), &info) == 0 && S_ISREG (info.st_mode) && info.st_size <= STATIC_MAX) {
        data = malloc ((size_t)info.st_size + 1);
        assert (data);
        *size = fread (data, 1, (size_t)info.st_size, file);
        data[*size] = 0;
    }
    fclose (file);
    return data;
}

enum MHD_Result gateway_static_serve (self_t *self, request_t *req, const char *url)
{
    const char *name = strcmp (url, "/") == 0 ? "index.html" : url + 1;
    //  Only plain names below www/: no "..", no hidden files
    bool ok = *name && *name != '.' && strlen (name) < 200 && !strstr (name, "..");
    for (const char *c = name; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '-' || *c == '_' || *c == '.' || *c == '/';
    char path[512];
    size_t size = 0;
    char *data = NULL;
    if (ok) {
        snprintf (path, sizeof path, "%s/%s", self->config.www, name);
        data = gateway_read_file (path, &size);
    }
    if (!data)
        return gateway_http_problem (req, 404, "not_found", "", "no such page", NULL, NULL, NULL);
    struct MHD_Response *response;
    gateway_http_send (req, 200, s_content_type (name), data, size, &response);
    MHD_add_response_header (response, "Cache-Control", "no-cache");
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                             "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                             "base-uri 'none'; form-action 'self'");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
    return gateway_http_queue (req, response);
}
