/*
 * test_lethe - checks liblethe against a real lethed.
 *
 *     test_lethe --socket PATH [--pid PID] [--openrpc FILE]
 *
 * PATH is a running daemon's socket (`make check` starts a private one); PID
 * its process id, checked against server/status; FILE the OpenRPC document
 * (Protocol/lethe.openrpc.json), compared with rpc.discover's reply. The tests
 * write their tiny datasets into a temporary directory of their own.
 *
 * Some checks go through a relay (a forked child between the client and the
 * daemon) that feeds the daemon's replies to the client a few bytes at a time
 * and puts foreign messages before each of them: `$/progress` for other
 * tokens, a reply to another id, another notification, blank lines. So the
 * skipping of foreign messages and partial reads are checked on real traffic.
 *
 * Prints one line per check and ends with `N passed, M failed`; exits 1 when a
 * check failed.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lethe.h"
#include "idx.h"

/* ------------------------------------------------------------------ checks */

static int passed, failed;

static int check(int ok, const char *name, const char *fmt, ...)
{
    char detail[1200] = "";
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    if (ok)
        passed++;
    else
        failed++;
    printf("%s  %s%s%s%s\n", ok ? "PASS" : "FAIL", name, detail[0] ? (ok ? " (" : ": ") : "", detail,
           detail[0] && ok ? ")" : "");
    fflush(stdout);
    return ok;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ----------------------------------------------------------------- helpers */

static const char *sock_path;
static char tmp_dir[256], tiny_dir[300], big_dir[300];

/* Parses a JSON literal (for params); aborts on a typo in a test. */
static json_object *J(const char *text)
{
    json_object *o = json_tokener_parse(text);
    if (o == NULL) {
        fprintf(stderr, "test bug: bad JSON %s\n", text);
        exit(2);
    }
    return o;
}

/* An array's length; 0 for anything else (json-c asserts on a non-array). */
static size_t alen(json_object *o)
{
    return json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;
}

/*
 * Equal JSON values, numbers compared as numbers: the daemon writes the OpenRPC
 * document's 18446744073709549568 (Seed's maximum) as 1.844674407370955e+19,
 * the same double, which json-c reads as a double where the file gives a uint64.
 */
static int same_json(json_object *a, json_object *b)
{
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    size_t i;
    if ((ta == json_type_int || ta == json_type_double) && (tb == json_type_int || tb == json_type_double))
        return json_object_get_double(a) == json_object_get_double(b);
    if (ta != tb)
        return 0;
    switch (ta) {
    case json_type_object: {
        if (json_object_object_length(a) != json_object_object_length(b))
            return 0;
        json_object_object_foreach(a, key, va) {
            json_object *vb = NULL;
            if (!json_object_object_get_ex(b, key, &vb) || !same_json(va, vb))
                return 0;
        }
        return 1;
    }
    case json_type_array:
        if (alen(a) != alen(b))
            return 0;
        for (i = 0; i < alen(a); i++)
            if (!same_json(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                return 0;
        return 1;
    default:
        return json_object_equal(a, b);
    }
}

/* A call whose params are given as JSON text. */
static int callj(lethe_client *c, const char *method, const char *params, json_object **result, lethe_error *err)
{
    json_object *p = params ? J(params) : NULL;
    int rc = lethe_call(c, method, p, result, err);
    json_object_put(p);
    return rc;
}

/* A call that must succeed (setup); exits otherwise. */
static json_object *must(lethe_client *c, const char *method, const char *params)
{
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL;
    if (callj(c, method, params, &r, &err) != LETHE_OK) {
        printf("FAIL  setup: %s %s: %s\n", method, params ? params : "", err.message);
        printf("%d passed, %d failed\n", passed, failed + 1);
        exit(1);
    }
    return r;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

static int num_int(json_object *o, const char *key)
{
    return json_object_get_int(json_object_object_get(o, key));
}

static lethe_client *connect_or_die(const char *path)
{
    lethe_error err = LETHE_ERROR_INIT;
    lethe_client *c = lethe_connect(path, &err);
    if (c == NULL) {
        printf("FAIL  setup: connect %s: %s\n", path ? path : "(default)", err.message);
        printf("%d passed, %d failed\n", passed, failed + 1);
        exit(1);
    }
    return c;
}

/* Deletes a model left by an earlier run against the same daemon, if any. */
static void drop_model(lethe_client *c, const char *name)
{
    char params[200];
    snprintf(params, sizeof params, "{\"name\":\"%s\"}", name);
    callj(c, "model/delete", params, NULL, NULL);
}

static char *fingerprint(lethe_client *c, const char *model, char *buf, size_t size)
{
    char params[200];
    json_object *r;
    snprintf(params, sizeof params, "{\"model\":\"%s\"}", model);
    r = must(c, "model/info", params);
    snprintf(buf, size, "%s", str(r, "fingerprint"));
    json_object_put(r);
    return buf;
}

/* The number of jobs server/status lists, polled until it is 0 or `ms` pass. */
static int jobs_after(lethe_client *c, int ms)
{
    long long end = now_ms() + ms;
    for (;;) {
        json_object *r = must(c, "server/status", NULL);
        json_object *jobs = json_object_object_get(r, "jobs");
        int n = json_object_is_type(jobs, json_type_array) ? (int)alen(jobs) : -1;
        json_object_put(r);
        if (n <= 0 || now_ms() >= end)
            return n;
        {
            struct timespec pause = { 0, 20000000 }; /* 20 ms */
            nanosleep(&pause, NULL);
        }
    }
}

/* ---------------------------------------------------------------- progress */

typedef struct {
    int calls;
    int epochs_seen[16];   /* `epoch` of the first values */
    int foreign;           /* values that are not ours (the relay's intruders) */
    int cancel_at;         /* return 1 when `epoch` reaches this (0: never) */
    int last_epochs;       /* `epochs` of the last value */
    lethe_client *client;  /* for the nested-call check */
    int nested_status;     /* what a nested lethe_call returned */
    char stage[32];
    pid_t kill_pid;        /* kill this process at epoch kill_at */
    int kill_at;
} progress_log;

static int on_progress(json_object *value, void *userdata)
{
    progress_log *log = userdata;
    int epoch = num_int(value, "epoch");
    if (log->calls < 16)
        log->epochs_seen[log->calls] = epoch;
    log->calls++;
    log->last_epochs = num_int(value, "epochs");
    snprintf(log->stage, sizeof log->stage, "%s", str(value, "stage"));
    if (epoch == 999 || strcmp(log->stage, "intruder") == 0)
        log->foreign++;
    if (log->client != NULL && log->calls == 1) {
        lethe_error err = LETHE_ERROR_INIT;
        log->nested_status = lethe_call(log->client, "server/status", NULL, NULL, &err);
        lethe_error_clear(&err);
    }
    if (log->kill_pid > 0 && epoch >= log->kill_at) {
        kill(log->kill_pid, SIGKILL);
        log->kill_pid = 0;
    }
    return log->cancel_at > 0 && epoch >= log->cancel_at;
}

/* ------------------------------------------------------------------- relay */

/* Writes all of data; for the relay child. */
static int relay_write(int fd, const char *data, size_t size, size_t chunk)
{
    while (size > 0) {
        size_t n = size < chunk ? size : chunk;
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        size -= (size_t)w;
        if (chunk < 4096) {
            struct timespec pause = { 0, 100000 }; /* 0.1 ms: the client sees the line in pieces */
            nanosleep(&pause, NULL);
        }
    }
    return 0;
}

/* The intruders sent before every line from the daemon. */
static const char intruders[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"$/progress\",\"params\":{\"token\":\"someone-else\","
    "\"value\":{\"epoch\":999,\"epochs\":999,\"stage\":\"intruder\"}}}\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"$/progress\",\"params\":{\"token\":1,"
    "\"value\":{\"epoch\":999,\"epochs\":999,\"stage\":\"intruder\"}}}\n"
    "{\"id\":987654,\"jsonrpc\":\"2.0\",\"result\":{\"intruder\":true}}\n"
    "{\"error\":{\"code\":-32800,\"message\":\"intruder\"},\"id\":\"1\",\"jsonrpc\":\"2.0\"}\n"
    "\r\n\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"window/logMessage\",\"params\":{\"message\":\"intruder\"}}\n";

/*
 * Forks a relay listening on `path` for one client, which it connects to the
 * daemon. Returns the child's pid once it listens.
 */
static pid_t start_relay(const char *path)
{
    struct sockaddr_un addr;
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    pid_t pid;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    unlink(path);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 1) < 0) {
        perror("relay");
        exit(2);
    }
    fflush(stdout);
    pid = fork();
    if (pid != 0) {
        close(lfd);
        return pid;
    }
    {
        int cfd = accept(lfd, NULL, NULL), dfd = socket(AF_UNIX, SOCK_STREAM, 0);
        char *buf = NULL;
        size_t len = 0, cap = 0;
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path);
        if (cfd < 0 || dfd < 0 || connect(dfd, (struct sockaddr *)&addr, sizeof addr) < 0)
            _exit(3);
        for (;;) {
            struct pollfd p[2] = { { cfd, POLLIN, 0 }, { dfd, POLLIN, 0 } };
            char chunk[65536];
            ssize_t n;
            if (poll(p, 2, -1) < 0)
                continue;
            if (p[0].revents) { /* client -> daemon, as is */
                n = read(cfd, chunk, sizeof chunk);
                if (n <= 0 || relay_write(dfd, chunk, (size_t)n, (size_t)n) < 0)
                    _exit(0);
            }
            if (p[1].revents) { /* daemon -> client, line by line, with intruders, in pieces */
                char *nl;
                n = read(dfd, chunk, sizeof chunk);
                if (n <= 0)
                    _exit(0);
                if (len + (size_t)n > cap) {
                    cap = (len + (size_t)n) * 2;
                    buf = realloc(buf, cap);
                    if (buf == NULL)
                        _exit(4);
                }
                memcpy(buf + len, chunk, (size_t)n);
                len += (size_t)n;
                while ((nl = memchr(buf, '\n', len)) != NULL) {
                    size_t line = (size_t)(nl - buf) + 1;
                    if (relay_write(cfd, intruders, sizeof intruders - 1, 5) < 0 ||
                        relay_write(cfd, buf, line < 64 ? line : 64, 7) < 0 ||
                        (line > 64 && relay_write(cfd, buf + 64, line - 64, 4093) < 0))
                        _exit(0);
                    memmove(buf, buf + line, len - line);
                    len -= line;
                }
            }
        }
    }
}

/* -------------------------------------------------------------------- tests */

static void test_default_path(void)
{
    char buf[512], want[512];
    int n;
    const char *xdg = getenv("XDG_RUNTIME_DIR"), *ls = getenv("LETHE_SOCKET");
    char saved_xdg[512] = "", saved_ls[512] = "";
    int had_xdg = xdg != NULL, had_ls = ls != NULL;
    if (had_xdg) snprintf(saved_xdg, sizeof saved_xdg, "%s", xdg);
    if (had_ls) snprintf(saved_ls, sizeof saved_ls, "%s", ls);

    setenv("LETHE_SOCKET", "/run/x/custom.sock", 1);
    setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
    n = lethe_default_socket_path(buf, sizeof buf);
    check(strcmp(buf, "/run/x/custom.sock") == 0 && n == (int)strlen(buf),
          "default path: $LETHE_SOCKET comes first", "%s", buf);

    setenv("LETHE_SOCKET", "", 1);
    lethe_default_socket_path(buf, sizeof buf);
    check(strcmp(buf, "/run/user/4242/lethe/lethed.sock") == 0,
          "default path: empty LETHE_SOCKET, then $XDG_RUNTIME_DIR/lethe/lethed.sock", "%s", buf);

    unsetenv("LETHE_SOCKET");
    setenv("XDG_RUNTIME_DIR", "", 1);
    snprintf(want, sizeof want, "/tmp/lethe-%lu/lethed.sock", (unsigned long)getuid());
    lethe_default_socket_path(buf, sizeof buf);
    check(strcmp(buf, want) == 0, "default path: empty XDG_RUNTIME_DIR gives /tmp/lethe-<uid>/lethed.sock", "%s", buf);

    unsetenv("XDG_RUNTIME_DIR");
    n = lethe_default_socket_path(buf, 8);
    check(strncmp(buf, want, 7) == 0 && buf[7] == '\0' && n == (int)strlen(want),
          "default path: unset XDG_RUNTIME_DIR, and truncation reports the full length", "%d", n);

    /* lethe_connect(NULL) really uses it. */
    setenv("LETHE_SOCKET", sock_path, 1);
    {
        lethe_error err = LETHE_ERROR_INIT;
        lethe_client *c = lethe_connect(NULL, &err);
        json_object *r = NULL;
        int rc = c ? lethe_call(c, "server/status", NULL, &r, &err) : -100;
        check(c != NULL && rc == LETHE_OK && strcmp(lethe_socket_path(c), sock_path) == 0,
              "lethe_connect(NULL) connects to $LETHE_SOCKET", "%s", err.message);
        json_object_put(r);
        lethe_close(c);
        lethe_error_clear(&err);
    }
    unsetenv("LETHE_SOCKET");
    setenv("XDG_RUNTIME_DIR", "/nonexistent-lethe-test", 1);
    {
        lethe_error err = LETHE_ERROR_INIT;
        lethe_client *c = lethe_connect(NULL, &err);
        check(c == NULL && err.status == LETHE_CONNECT_FAILED &&
                  strstr(err.message, "/nonexistent-lethe-test/lethe/lethed.sock") != NULL,
              "lethe_connect(NULL) without LETHE_SOCKET names the XDG default path", "%s", err.message);
        lethe_close(c);
        lethe_error_clear(&err);
    }
    if (had_xdg) setenv("XDG_RUNTIME_DIR", saved_xdg, 1); else unsetenv("XDG_RUNTIME_DIR");
    if (had_ls) setenv("LETHE_SOCKET", saved_ls, 1); else unsetenv("LETHE_SOCKET");
}

static void test_connect_failure(void)
{
    char path[400];
    lethe_error err = LETHE_ERROR_INIT;
    lethe_client *c;
    snprintf(path, sizeof path, "%s/nobody-listens.sock", tmp_dir);
    c = lethe_connect(path, &err);
    check(c == NULL && err.status == LETHE_CONNECT_FAILED && err.sys_errno == ENOENT &&
              strstr(err.message, path) != NULL && strstr(err.message, "lethed --socket") != NULL &&
              !lethe_error_is_daemon(&err),
          "connect failure: LETHE_CONNECT_FAILED naming the path and how to start lethed", "%s", err.message);
    lethe_error_clear(&err);
    check(err.status == LETHE_OK && err.message[0] == '\0' && err.data == NULL, "lethe_error_clear resets", NULL);
}

static void test_status(lethe_client *c, long pid)
{
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL, *jobs = NULL;
    int rc = lethe_call(c, "server/status", NULL, &r, &err);
    check(rc == LETHE_OK && json_object_is_type(r, json_type_object) && str(r, "version")[0] != '\0' &&
              json_object_object_get_ex(r, "jobs", &jobs) && json_object_is_type(jobs, json_type_array) &&
              num_int(r, "threads") == 1 && (pid <= 0 || json_object_get_int64(json_object_object_get(r, "pid")) == pid),
          "server/status: a result with version, pid of our daemon, threads 1, jobs",
          "version %s, pid %lld, threads %d%s", str(r, "version"),
          (long long)json_object_get_int64(json_object_object_get(r, "pid")), num_int(r, "threads"), err.message);
    json_object_put(r);

    r = (json_object *)&err; /* any non-NULL value: the call must set it to NULL */
    rc = callj(c, "$/cancelRequest", "{\"id\":424242}", &r, &err);
    check(rc == LETHE_OK && r == NULL, "a JSON null result ($/cancelRequest as a request) is LETHE_OK with NULL", NULL);
    lethe_error_clear(&err);
}

static void test_errors(lethe_client *c)
{
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = (json_object *)1, *data;
    int rc = callj(c, "no/such-method", NULL, &r, &err);
    check(rc == LETHE_DAEMON_ERROR && err.status == LETHE_DAEMON_ERROR && err.code == -32601 &&
              strstr(err.message, "no/such-method") != NULL && r == NULL && lethe_error_is_daemon(&err),
          "unknown method: LETHE_DAEMON_ERROR, code -32601, message names it", "%d %s", err.code, err.message);

    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":2.5}", &r, &err);
    check(rc == LETHE_DAEMON_ERROR && err.code == -32602 && strstr(err.message, "'epochs'") != NULL,
          "bad params: -32602 naming the field 'epochs'", "%d %s", err.code, err.message);

    rc = callj(c, "split/create", "{\"forget\":{\"count\":3}}", &r, &err);
    check(rc == LETHE_DAEMON_ERROR && err.code == -32602 && strstr(err.message, "missing parameter 'dataset'") != NULL,
          "missing param: -32602 \"missing parameter 'dataset'\"", "%s", err.message);

    rc = callj(c, "evaluate", "{\"model\":\"nope\",\"split\":\"t-d-split\"}", &r, &err);
    data = err.data;
    check(rc == LETHE_DAEMON_ERROR && err.code == 1 && data != NULL && strcmp(str(data, "kind"), "model") == 0 &&
              strcmp(str(data, "name"), "nope") == 0,
          "error data: an unknown model is code 1 with data {kind, name}", "%s %s", err.message,
          data ? json_object_to_json_string(data) : "no data");
    lethe_error_clear(&err); /* frees data: valgrind checks that */

    rc = callj(c, "server/status", "\"a string\"", &r, &err);
    check(rc == LETHE_INVALID_ARGUMENT && !lethe_error_is_daemon(&err), "params that are a string: LETHE_INVALID_ARGUMENT",
          "%s", err.message);
    rc = lethe_call(c, NULL, NULL, &r, &err);
    check(rc == LETHE_INVALID_ARGUMENT, "a NULL method: LETHE_INVALID_ARGUMENT", NULL);
    /* And the client is still in step after all of that. */
    rc = callj(c, "model/info", "{\"model\":\"t-m\"}", &r, &err);
    check(rc == LETHE_OK && strcmp(str(r, "name"), "t-m") == 0, "the client is usable after errors", NULL);
    json_object_put(r);
    lethe_error_clear(&err);
}

static void test_progress(lethe_client *c)
{
    progress_log log;
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL, *params = J("{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":3}");
    const char *before = NULL;
    char saved[256];
    int rc;

    memset(&log, 0, sizeof log);
    log.client = c;
    log.nested_status = 1;
    lethe_set_progress(c, on_progress, &log);
    snprintf(saved, sizeof saved, "%s", json_object_to_json_string(params));
    rc = lethe_call(c, "model/train", params, &r, &err);
    before = json_object_to_json_string(params);
    check(rc == LETHE_OK && num_int(r, "epochs") == 3, "model/train with a progress callback succeeds", "%s", err.message);
    check(log.calls == 3 && log.epochs_seen[0] == 1 && log.epochs_seen[1] == 2 && log.epochs_seen[2] == 3 &&
              log.last_epochs == 3 && strcmp(log.stage, "train") == 0,
          "progress: the callback got epochs 1, 2, 3 of 3, stage train", "%d calls", log.calls);
    check(strcmp(before, saved) == 0, "params are borrowed: the caller's object gets no workDoneToken", "%s", before);
    check(log.nested_status == LETHE_INVALID_ARGUMENT, "a call from inside the callback is refused (one call at a time)",
          "%s", lethe_status_name(log.nested_status));
    json_object_put(r);
    json_object_put(params);

    /* A method without workDoneToken gets none, although progress is set. */
    memset(&log, 0, sizeof log);
    rc = callj(c, "evaluate", "{\"model\":\"t-m\",\"split\":\"t-d-split\"}", &r, &err);
    check(rc == LETHE_OK && log.calls == 0, "with progress set, evaluate (no workDoneToken param) still works",
          "%s", err.message);
    json_object_put(r);

    /* The caller's own token is used. */
    memset(&log, 0, sizeof log);
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":2,\"workDoneToken\":\"mine\"}",
               &r, &err);
    check(rc == LETHE_OK && log.calls == 2, "a workDoneToken given in params is used for the callback", "%d calls",
          log.calls);
    json_object_put(r);

    /* Without a callback nothing is delivered and no token is added. */
    lethe_set_progress(c, NULL, NULL);
    memset(&log, 0, sizeof log);
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":2}", &r, &err);
    check(rc == LETHE_OK && log.calls == 0, "progress removed: no callbacks", NULL);
    json_object_put(r);
    lethe_error_clear(&err);
}

static void test_cancel_from_callback(lethe_client *c)
{
    progress_log log;
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL;
    char fp_before[32], fp_after[32];
    long long t0;
    int rc;

    fingerprint(c, "t-m", fp_before, sizeof fp_before);
    memset(&log, 0, sizeof log);
    log.cancel_at = 2;
    lethe_set_progress(c, on_progress, &log);
    t0 = now_ms();
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":100000}", &r, &err);
    check(rc == LETHE_CANCELLED && err.status == LETHE_CANCELLED && err.code == -32800 && r == NULL &&
              !lethe_error_is_daemon(&err) && strstr(err.message, "cancelled") != NULL,
          "cancel from the progress callback: LETHE_CANCELLED, code -32800", "%s, %s, %lld ms",
          lethe_status_name(rc), err.message, now_ms() - t0);
    check(log.calls == 2, "no callback after it asked to cancel", "%d calls", log.calls);
    lethe_set_progress(c, NULL, NULL);
    fingerprint(c, "t-m", fp_after, sizeof fp_after);
    check(strcmp(fp_before, fp_after) == 0, "the cancelled model/train changed nothing (same fingerprint)", "%s",
          fp_after);
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":1}", &r, &err);
    check(rc == LETHE_OK && num_int(r, "epochs") == 1, "the next call on the same client works", "%s", err.message);
    json_object_put(r);
    lethe_error_clear(&err);
}

static lethe_client *volatile alarm_client;

static void on_alarm(int sig)
{
    (void)sig;
    lethe_cancel(alarm_client);
}

static void test_cancel_from_signal(lethe_client *c)
{
    struct sigaction sa, old;
    struct itimerval it;
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL;
    long long t0, elapsed;
    int rc;

    alarm_client = c;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: poll() sees EINTR too */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 300000;
    t0 = now_ms();
    setitimer(ITIMER_REAL, &it, NULL);
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":100000}", &r, &err);
    elapsed = now_ms() - t0;
    check(rc == LETHE_CANCELLED && err.code == -32800 && strstr(err.message, "model/train was cancelled") != NULL &&
              elapsed >= 250 && elapsed < 5000,
          "lethe_cancel from a SIGALRM handler cancels a long model/train on the daemon", "%s, %s, %lld ms",
          lethe_status_name(rc), err.message, elapsed);
    sigaction(SIGALRM, &old, NULL);
    check(jobs_after(c, 1000) == 0, "server/status lists no job afterwards", NULL);
    rc = callj(c, "model/info", "{\"model\":\"t-m\"}", &r, &err);
    check(rc == LETHE_OK && strcmp(str(r, "name"), "t-m") == 0, "the client is usable after the signal", "%s",
          err.message);
    json_object_put(r);

    /* A cancel while no call runs cancels the next call before it is sent, and only that one. */
    lethe_cancel(c);
    rc = callj(c, "server/status", NULL, &r, &err);
    check(rc == LETHE_CANCELLED && err.code == 0 && strstr(err.message, "before it was sent") != NULL,
          "a cancel between calls cancels the next call before sending (code 0)", "%s", err.message);
    rc = callj(c, "server/status", NULL, &r, &err);
    check(rc == LETHE_OK, "... and the call after that runs", "%s", err.message);
    json_object_put(r);
    lethe_error_clear(&err);
}

static void *cancel_later(void *client)
{
    struct timespec pause = { 0, 300000000 }; /* 300 ms */
    nanosleep(&pause, NULL);
    lethe_cancel(client);
    return NULL;
}

/*
 * lethe_cancel from another thread, on a call with no progress callback: no
 * message arrives until the daemon's reply, so only the self-pipe can wake the
 * call (a 5 s timeout keeps a broken library from hanging the test).
 */
static void test_cancel_from_thread(lethe_client *c)
{
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL;
    pthread_t thread;
    long long t0, elapsed;
    int rc;

    lethe_set_progress(c, NULL, NULL);
    lethe_set_timeout(c, 5000);
    t0 = now_ms();
    pthread_create(&thread, NULL, cancel_later, c);
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":100000}", &r, &err);
    elapsed = now_ms() - t0;
    pthread_join(thread, NULL);
    lethe_set_timeout(c, 0);
    check(rc == LETHE_CANCELLED && err.code == -32800 && elapsed >= 250 && elapsed < 2000,
          "lethe_cancel from another thread wakes a call that has no traffic (self-pipe)", "%s, %s, %lld ms",
          lethe_status_name(rc), err.message, elapsed);
    check(jobs_after(c, 1000) == 0, "no job left after the thread's cancel", NULL);
    lethe_error_clear(&err);
}

static void test_timeout(lethe_client *c)
{
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL;
    char fp_before[32], fp_after[32];
    progress_log log;
    long long t0, elapsed;
    int rc;

    fingerprint(c, "t-m", fp_before, sizeof fp_before);
    lethe_set_timeout(c, 300);
    t0 = now_ms();
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":100000}", &r, &err);
    elapsed = now_ms() - t0;
    check(rc == LETHE_TIMEOUT && err.status == LETHE_TIMEOUT && err.code == -32800 && r == NULL &&
              strstr(err.message, "timed out") != NULL && elapsed >= 290 && elapsed < 3000,
          "timeout 300 ms: LETHE_TIMEOUT, the daemon confirmed the cancel (-32800)", "%s, %s, %lld ms",
          lethe_status_name(rc), err.message, elapsed);
    check(jobs_after(c, 1000) == 0, "the timed-out job is gone from server/status", NULL);
    fingerprint(c, "t-m", fp_after, sizeof fp_after);
    check(strcmp(fp_before, fp_after) == 0, "the timed-out model/train changed nothing", NULL);
    t0 = now_ms();
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":2}", &r, &err);
    check(rc == LETHE_OK && num_int(r, "epochs") == 2 && now_ms() - t0 < 300,
          "a quick call under the same timeout succeeds: the client stays usable", "%s", err.message);
    json_object_put(r);

    /* A cancel wait of 0: the call returns at once (code 0), the daemon's late reply is skipped later. */
    lethe_set_timeout(c, 200);
    lethe_set_cancel_wait(c, 0);
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":100000}", &r, &err);
    check(rc == LETHE_TIMEOUT && err.code == 0 && strstr(err.message, "did not confirm") != NULL,
          "timeout with cancel wait 0: LETHE_TIMEOUT with code 0", "%s", err.message);
    lethe_set_timeout(c, 0);
    lethe_set_cancel_wait(c, 2000);
    memset(&log, 0, sizeof log);
    lethe_set_progress(c, on_progress, &log);
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":2}", &r, &err);
    check(rc == LETHE_OK && num_int(r, "epochs") == 2 && strcmp(str(r, "model"), "t-m") == 0,
          "the next call skips the abandoned request's reply (another id) and gets its own", "%s %s",
          lethe_status_name(rc), err.message);
    check(log.calls == 2 && log.last_epochs == 2, "... and its callback saw only its own 2 epochs", "%d calls",
          log.calls);
    lethe_set_progress(c, NULL, NULL);
    json_object_put(r);
    lethe_error_clear(&err);
}

static void test_large(lethe_client *c, const char *openrpc)
{
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL, *values, *preds, *inputs, *params;
    size_t len = 0, i, j, bad = 0;
    int rc;

    rc = callj(c, "rpc.discover", NULL, &r, &err);
    if (openrpc != NULL) {
        json_object *file = json_object_from_file(openrpc);
        check(rc == LETHE_OK && file != NULL && same_json(r, file),
              "rpc.discover: the whole OpenRPC document, equal to the file", "%zu bytes",
              r ? strlen(json_object_to_json_string(r)) : 0);
        json_object_put(file);
    } else {
        check(rc == LETHE_OK && alen(json_object_object_get(r, "methods")) > 20,
              "rpc.discover: the whole OpenRPC document", NULL);
    }
    json_object_put(r);

    /* model/predict of 1562 examples x 64 classes (the daemon's inline limit is 100000 values): about 2 MB. */
    rc = callj(c, "model/predict", "{\"model\":\"t-big\",\"dataset\":\"t-big\",\"part\":\"test\"}", &r, &err);
    if (rc == LETHE_OK)
        json_object_to_json_string_length(r, JSON_C_TO_STRING_PLAIN, &len);
    values = json_object_object_get(r, "values");
    preds = json_object_object_get(r, "predictions");
    for (i = 0; rc == LETHE_OK && i < alen(values); i++) {
        json_object *row = json_object_array_get_idx(values, i);
        int p = i < alen(preds) ? json_object_get_int(json_object_array_get_idx(preds, i)) : -1;
        double best;
        if (alen(row) != 64 || p < 0 || p >= 64) {
            bad++;
            continue;
        }
        best = json_object_get_double(json_object_array_get_idx(row, (size_t)p));
        for (j = 0; j < alen(row); j++)
            if (json_object_get_double(json_object_array_get_idx(row, j)) > best)
                bad++;
    }
    check(rc == LETHE_OK && len > 1900000 && num_int(r, "count") == 1562 && alen(values) == 1562 &&
              alen(preds) == 1562 && bad == 0,
          "a reply of about 2 MB (model/predict, 1562 x 64 logits) is read whole: every prediction is its row's argmax",
          "%zu bytes, %zu bad%s%s", len, bad, rc == LETHE_OK ? "" : ", ", rc == LETHE_OK ? "" : err.message);
    json_object_put(r);

    /* A request of about 1 MB (more than a socket buffer): 1024 inline inputs. The timeout only
     * keeps a library that loses bytes from hanging here. */
    lethe_set_timeout(c, 10000);
    params = J("{\"model\":\"t-m\"}");
    inputs = json_object_new_array();
    for (i = 0; i < 1024; i++) {
        json_object *row = json_object_new_array();
        for (j = 0; j < 64; j++)
            json_object_array_add(row, json_object_new_double((double)((i * 64 + j) % 997) / 997.0 + 1e-9));
        json_object_array_add(inputs, row);
    }
    json_object_object_add(params, "inputs", inputs);
    json_object_to_json_string_length(params, JSON_C_TO_STRING_PLAIN, &len);
    rc = lethe_call(c, "model/predict", params, &r, &err);
    check(rc == LETHE_OK && num_int(r, "count") == 1024 &&
              alen(json_object_object_get(r, "predictions")) == 1024,
          "a request of about 1 MB (1024 inline inputs) is written whole", "%zu bytes: %s", len,
          rc == LETHE_OK ? "ok" : err.message);
    lethe_set_timeout(c, 0);
    json_object_put(r);
    json_object_put(params);
    lethe_error_clear(&err);
}

static void test_relay(const char *openrpc)
{
    char path[400];
    pid_t relay;
    lethe_client *c;
    lethe_error err = LETHE_ERROR_INIT;
    json_object *r = NULL;
    progress_log log;
    int rc, st;

    snprintf(path, sizeof path, "%s/relay.sock", tmp_dir);
    relay = start_relay(path);
    c = connect_or_die(path);
    memset(&log, 0, sizeof log);
    lethe_set_progress(c, on_progress, &log);
    rc = callj(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":3}", &r, &err);
    check(rc == LETHE_OK && num_int(r, "epochs") == 3 && strcmp(str(r, "model"), "t-m") == 0 &&
              json_object_object_get(r, "intruder") == NULL,
          "relay: the reply is found among replies to other ids, read in pieces", "%s %s", lethe_status_name(rc),
          err.message);
    check(log.calls == 3 && log.foreign == 0 && log.epochs_seen[2] == 3,
          "relay: $/progress of other tokens (\"someone-else\", 1) never reaches the callback", "%d calls, %d foreign",
          log.calls, log.foreign);
    json_object_put(r);
    rc = callj(c, "rpc.discover", NULL, &r, &err);
    if (openrpc != NULL) {
        json_object *file = json_object_from_file(openrpc);
        check(rc == LETHE_OK && same_json(r, file), "relay: rpc.discover arrives whole, in 4 KB pieces", NULL);
        json_object_put(file);
    }
    json_object_put(r);

    /* The relay dies during a long model/train: LETHE_CONNECTION_LOST, and the client stays closed. */
    json_object_put(must(c, "model/create",
                         "{\"name\":\"t-lost\",\"architecture\":{\"kind\":\"mlp\",\"hidden\":[8]},\"dataset\":\"t-d\"}"));
    memset(&log, 0, sizeof log);
    log.kill_pid = relay;
    log.kill_at = 2;
    rc = callj(c, "model/train", "{\"model\":\"t-lost\",\"dataset\":\"t-d\",\"epochs\":100000}", &r, &err);
    check(rc == LETHE_CONNECTION_LOST && err.status == LETHE_CONNECTION_LOST && !lethe_error_is_daemon(&err),
          "connection lost mid-call: LETHE_CONNECTION_LOST", "%s %s", lethe_status_name(rc), err.message);
    rc = callj(c, "server/status", NULL, &r, &err);
    check(rc == LETHE_CONNECTION_LOST && r == NULL, "a lost client fails at once afterwards", "%s", err.message);
    lethe_close(c);
    waitpid(relay, &st, 0);
    lethe_error_clear(&err);
}

/* ---------------------------------------------------------------------- main */

/* Ends the run if it hangs (a broken library can wait forever for a reply). */
static void *watchdog(void *arg)
{
    struct timespec limit = { 120, 0 };
    (void)arg;
    nanosleep(&limit, NULL);
    printf("FAIL  watchdog: the tests did not finish within 120 s\n%d passed, %d failed\n", passed, failed + 1);
    fflush(stdout);
    _exit(1);
    return NULL;
}

static void remove_dataset(const char *dir)
{
    static const char *const files[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
    char path[400];
    size_t i;
    for (i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    const char *openrpc = NULL;
    long pid = 0;
    lethe_client *c;
    char params[600], relay_sock[400];
    pthread_t dog;
    int i, dog_started;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--socket") == 0)
            sock_path = argv[i + 1];
        else if (strcmp(argv[i], "--pid") == 0)
            pid = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--openrpc") == 0)
            openrpc = argv[i + 1];
    }
    if (sock_path == NULL || i != argc) {
        fprintf(stderr, "usage: test_lethe --socket PATH [--pid PID] [--openrpc FILE]\n");
        return 2;
    }
    snprintf(tmp_dir, sizeof tmp_dir, "%s/lethe-c-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(tiny_dir, sizeof tiny_dir, "%s/tiny", tmp_dir);
    snprintf(big_dir, sizeof big_dir, "%s/big", tmp_dir);
    if (mkdir(tiny_dir, 0700) != 0 || mkdir(big_dir, 0700) != 0 ||
        idx_write_dataset(tiny_dir, 200, 100, 8, 3) != 0 || idx_write_dataset(big_dir, 100, 1562, 4, 64) != 0) {
        fprintf(stderr, "cannot write the test datasets into %s\n", tmp_dir);
        return 2;
    }

    dog_started = pthread_create(&dog, NULL, watchdog, NULL) == 0;
    test_default_path();
    test_connect_failure();

    c = connect_or_die(sock_path);
    snprintf(params, sizeof params, "{\"name\":\"t-d\",\"path\":\"%s\",\"classes\":3}", tiny_dir);
    json_object_put(must(c, "dataset/load", params));
    snprintf(params, sizeof params, "{\"name\":\"t-big\",\"path\":\"%s\",\"classes\":64}", big_dir);
    json_object_put(must(c, "dataset/load", params));
    json_object_put(must(c, "split/create", "{\"dataset\":\"t-d\",\"forget\":{\"count\":20}}"));
    drop_model(c, "t-m");
    drop_model(c, "t-big");
    drop_model(c, "t-lost");
    json_object_put(must(c, "model/create",
                         "{\"name\":\"t-m\",\"architecture\":{\"kind\":\"mlp\",\"hidden\":[16]},\"dataset\":\"t-d\"}"));
    json_object_put(must(c, "model/create",
                         "{\"name\":\"t-big\",\"architecture\":{\"kind\":\"mlp\",\"hidden\":[]},\"dataset\":\"t-big\"}"));
    json_object_put(must(c, "model/train", "{\"model\":\"t-m\",\"dataset\":\"t-d\",\"epochs\":2}"));

    test_status(c, pid);
    test_errors(c);
    test_progress(c);
    test_cancel_from_callback(c);
    test_cancel_from_signal(c);
    test_cancel_from_thread(c);
    test_timeout(c);
    test_large(c, openrpc);
    test_relay(openrpc);
    check(jobs_after(c, 3000) == 0, "the daemon cancelled the lost connection's job (no job left)", NULL);

    lethe_close(c);
    snprintf(relay_sock, sizeof relay_sock, "%s/relay.sock", tmp_dir);
    unlink(relay_sock);
    remove_dataset(tiny_dir);
    remove_dataset(big_dir);
    rmdir(tmp_dir);
    if (dog_started) {
        pthread_cancel(dog); /* it sleeps in nanosleep, a cancellation point */
        pthread_join(dog, NULL);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed > 0 ? 1 : 0;
}
