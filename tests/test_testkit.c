/*  test_testkit.c: the test kit itself works: a throwaway redis-server keeps
    its data across a crash through the AOF, ports are free and not 6379,
    child processes report their exit status, build paths follow
    PMO_BUILD_DIR.
*/
#include "pmo_testkit.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

//  The value of a one-field CONFIG GET, copied into buf
static const char *s_config_get (pmo_test_redis_t *redis, const char *name, char *buf, size_t size)
{
    redisReply *reply = pmo_test_redis_command (redis, "CONFIG GET %s", name);
    assert (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2);
    snprintf (buf, size, "%s", reply->element[1]->str);
    freeReplyObject (reply);
    return buf;
}

static void s_test_redis_survives_crash (void)
{
    pmo_test_redis_t *redis = pmo_test_redis_start (true);
    assert (redis);
    int port = pmo_test_redis_port (redis);
    assert (port > 0 && port != 6379);
    char url[64];
    snprintf (url, sizeof url, "redis://127.0.0.1:%d", port);
    assert (strcmp (pmo_test_redis_url (redis), url) == 0);

    char value[256], dir[256];
    assert (strcmp (s_config_get (redis, "appendonly", value, sizeof value), "yes") == 0);
    assert (strcmp (s_config_get (redis, "appendfsync", value, sizeof value), "always") == 0);
    assert (strcmp (s_config_get (redis, "save", value, sizeof value), "") == 0);
    assert (strcmp (s_config_get (redis, "bind", value, sizeof value), "127.0.0.1") == 0);
    s_config_get (redis, "dir", dir, sizeof dir);

    redisReply *reply = pmo_test_redis_command (redis, "SET %s %b", "testkit:key", "v\0x", 3);
    assert (reply && reply->type == REDIS_REPLY_STATUS && strcmp (reply->str, "OK") == 0);
    freeReplyObject (reply);
    reply = pmo_test_redis_command (redis, "GET testkit:key");
    assert (reply && reply->type == REDIS_REPLY_STRING && reply->len == 3);
    assert (memcmp (reply->str, "v\0x", 3) == 0);
    freeReplyObject (reply);

    //  Crash: nothing answers, then the AOF brings the key back
    pmo_test_redis_kill (redis);
    reply = pmo_test_redis_command (redis, "PING");
    assert (reply == NULL);
    assert (pmo_test_redis_restart (redis) == 0);
    assert (pmo_test_redis_port (redis) == port);
    reply = pmo_test_redis_command (redis, "GET testkit:key");
    assert (reply && reply->type == REDIS_REPLY_STRING && reply->len == 3);
    assert (memcmp (reply->str, "v\0x", 3) == 0);
    freeReplyObject (reply);

    //  A running server is not restarted twice
    assert (pmo_test_redis_restart (redis) == -1);

    pmo_test_redis_destroy (&redis);
    assert (redis == NULL);
    pmo_test_redis_destroy (&redis);
    struct stat st;
    assert (stat (dir, &st) == -1 && errno == ENOENT);
}

static void s_test_redis_everysec (void)
{
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    assert (redis);
    char value[64];
    assert (strcmp (s_config_get (redis, "appendfsync", value, sizeof value), "everysec") == 0);

    //  Two servers at once get two ports
    pmo_test_redis_t *other = pmo_test_redis_start (false);
    assert (other);
    assert (pmo_test_redis_port (other) != pmo_test_redis_port (redis));
    pmo_test_redis_destroy (&other);
    pmo_test_redis_destroy (&redis);
}

static void s_test_free_port (void)
{
    int first = pmo_test_free_port ();
    int second = pmo_test_free_port ();
    assert (first > 0 && first != 6379);
    assert (second > 0 && second != 6379 && second != first);

    //  It really is free
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert (fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)first)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert (bind (fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    close (fd);
}

static void s_test_proc (void)
{
    char *exit3[] = {"/bin/sh", "-c", "echo expected output of a failing child; exit 3", NULL};
    pmo_test_proc_t *proc = pmo_test_proc_start (exit3);
    assert (proc);
    assert (pmo_test_proc_wait (proc, 5000) == 3);
    assert (pmo_test_proc_wait (proc, 0) == 3);
    assert (pmo_test_proc_signal (proc, SIGTERM) == -1);
    pmo_test_proc_destroy (&proc);
    assert (proc == NULL);
    pmo_test_proc_destroy (&proc);

    //  Still running: the wait times out; SIGTERM ends it with 128+15
    char *sleeper[] = {"/bin/sleep", "30", NULL};
    proc = pmo_test_proc_start (sleeper);
    assert (proc);
    assert (pmo_test_proc_wait (proc, 100) == -1);
    assert (pmo_test_proc_signal (proc, SIGTERM) == 0);
    assert (pmo_test_proc_wait (proc, 5000) == 128 + SIGTERM);
    pmo_test_proc_destroy (&proc);

    //  Left running: destroy kills it
    proc = pmo_test_proc_start (sleeper);
    assert (proc);
    pmo_test_proc_destroy (&proc);

    char *missing[] = {"/nonexistent/pmo-binary", NULL};
    proc = pmo_test_proc_start (missing);
    assert (proc);
    assert (pmo_test_proc_wait (proc, 5000) == 127);
    pmo_test_proc_destroy (&proc);
}

static void s_test_build_path (void)
{
    char path[512];
    setenv ("PMO_BUILD_DIR", "/some/build", 1);
    assert (strcmp (pmo_test_build_path ("services/registry/pmo-registry", path, sizeof path),
                    "/some/build/services/registry/pmo-registry") == 0);

    //  By hand, without CTest: found from where this binary lives
    unsetenv ("PMO_BUILD_DIR");
    pmo_test_build_path ("tests/test_testkit", path, sizeof path);
    assert (access (path, X_OK) == 0);
}

int main (void)
{
    s_test_free_port ();
    s_test_proc ();
    s_test_build_path ();
    s_test_redis_survives_crash ();
    s_test_redis_everysec ();
    printf ("test_testkit: OK\n");
    return 0;
}
