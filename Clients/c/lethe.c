/*
 * lethe.c - the lethed client: one connection, one request at a time, line
 * framing (one compact JSON message per line, Protocol/README.md "Framing").
 *
 * The one job of this file is the wire: connect, frame, send, read, match the
 * reply to its request, route `$/progress`, cancel and time out. Everything is
 * non-blocking underneath and every wait goes through poll() on two
 * descriptors: the socket and the read end of a self-pipe that lethe_cancel
 * writes to, so a cancel from a signal handler or another thread wakes a call
 * at once.
 */
#define _POSIX_C_SOURCE 200809L

#include "lethe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set on the socket instead */
#endif

/* How deep the JSON of a message may nest (json-c's default is 32). */
#define JSON_DEPTH 512
/* The largest message accepted from the daemon; its own default limit is 16 MiB. */
#define MAX_MESSAGE_BYTES ((size_t)1 << 30)
/* The smallest free space offered to read(). */
#define READ_CHUNK 65536
/* Default cancel wait, ms. */
#define DEFAULT_CANCEL_WAIT_MS 2000

struct lethe_client {
    int fd;                               /* the socket, non-blocking */
    int wake[2];                          /* self-pipe: lethe_cancel writes wake[1] */
    volatile sig_atomic_t cancel_pending; /* set by lethe_cancel, consumed by a call */
    int broken;                           /* the stream is unusable: every call fails */
    int broken_status;                    /* ... with this status */
    int in_call;                          /* guards against calls from the callback */
    long long next_id;                    /* ids of our requests: 1, 2, ... */
    int timeout_ms;                       /* <= 0: none */
    int cancel_wait_ms;                   /* < 0: unlimited */
    lethe_progress_fn progress;
    void *progress_data;
    /* Received bytes: [start, len) are not consumed yet; [start, scanned) has no '\n'. */
    char *buf;
    size_t start, scanned, len, cap;
    json_tokener *tokener;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
};

/* ------------------------------------------------------------------ errors */

void lethe_error_clear(lethe_error *err)
{
    if (err == NULL)
        return;
    if (err->data != NULL)
        json_object_put(err->data);
    err->data = NULL;
    err->status = LETHE_OK;
    err->code = 0;
    err->sys_errno = 0;
    err->message[0] = '\0';
}

int lethe_error_is_daemon(const lethe_error *err)
{
    return err != NULL && err->status == LETHE_DAEMON_ERROR;
}

const char *lethe_status_name(int status)
{
    switch (status) {
    case LETHE_OK: return "LETHE_OK";
    case LETHE_DAEMON_ERROR: return "LETHE_DAEMON_ERROR";
    case LETHE_CANCELLED: return "LETHE_CANCELLED";
    case LETHE_TIMEOUT: return "LETHE_TIMEOUT";
    case LETHE_CONNECT_FAILED: return "LETHE_CONNECT_FAILED";
    case LETHE_CONNECTION_LOST: return "LETHE_CONNECTION_LOST";
    case LETHE_PROTOCOL_ERROR: return "LETHE_PROTOCOL_ERROR";
    case LETHE_SYSTEM_ERROR: return "LETHE_SYSTEM_ERROR";
    case LETHE_INVALID_ARGUMENT: return "LETHE_INVALID_ARGUMENT";
    case LETHE_NO_MEMORY: return "LETHE_NO_MEMORY";
    default: return "LETHE_UNKNOWN";
    }
}

/* Fills err (if any) and returns status. */
static int fail(lethe_error *err, int status, int code, int sys_errno, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        lethe_error_clear(err);
        err->status = status;
        err->code = code;
        err->sys_errno = sys_errno;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

/*
 * Marks the stream unusable (a lost connection, a half-written frame, garbage)
 * and shuts the socket down, so the daemon sees the client go (and cancels a
 * job with a workDoneToken at its next `$/progress`). Later calls fail at once.
 */
static int fail_broken(lethe_client *c, lethe_error *err, int status, int sys_errno, const char *what)
{
    c->broken = 1;
    c->broken_status = status;
    shutdown(c->fd, SHUT_RDWR);
    if (sys_errno != 0)
        return fail(err, status, 0, sys_errno, "%s (%s); connect again", what, strerror(sys_errno));
    return fail(err, status, 0, 0, "%s; connect again", what);
}

/* -------------------------------------------------------------------- time */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll()'s timeout for a deadline (-1: none), at least 0. */
static int ms_until(long long deadline)
{
    long long left;
    if (deadline < 0)
        return -1;
    left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* -------------------------------------------------------------- connecting */

int lethe_default_socket_path(char *buf, size_t size)
{
    const char *s = getenv("LETHE_SOCKET");
    if (s != NULL && s[0] != '\0')
        return snprintf(buf, size, "%s", s);
    s = getenv("XDG_RUNTIME_DIR");
    if (s != NULL && s[0] != '\0')
        return snprintf(buf, size, "%s/lethe/lethed.sock", s);
    return snprintf(buf, size, "/tmp/lethe-%lu/lethed.sock", (unsigned long)getuid());
}

static int set_flags(int fd, int nonblock)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -1;
    if (nonblock) {
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
            return -1;
    }
    return 0;
}

lethe_client *lethe_connect(const char *path, lethe_error *err)
{
    char resolved[4096];
    struct sockaddr_un addr;
    lethe_client *c;
    int n, rc, e;

    lethe_error_clear(err);
    if (path == NULL) {
        n = lethe_default_socket_path(resolved, sizeof resolved);
        if (n < 0 || (size_t)n >= sizeof resolved) {
            fail(err, LETHE_CONNECT_FAILED, 0, 0, "the default socket path is too long");
            return NULL;
        }
        path = resolved;
    }
    if (path[0] == '\0' || strlen(path) >= sizeof addr.sun_path) {
        fail(err, LETHE_CONNECT_FAILED, 0, ENAMETOOLONG,
             "cannot reach lethed at '%s': a socket path must have 1 to %zu bytes",
             path, sizeof addr.sun_path - 1);
        return NULL;
    }

    c = calloc(1, sizeof *c);
    if (c == NULL) {
        fail(err, LETHE_NO_MEMORY, 0, ENOMEM, "out of memory");
        return NULL;
    }
    c->fd = c->wake[0] = c->wake[1] = -1;
    c->next_id = 1;
    c->cancel_wait_ms = DEFAULT_CANCEL_WAIT_MS;
    memcpy(c->path, path, strlen(path) + 1);
    c->tokener = json_tokener_new_ex(JSON_DEPTH);
    if (c->tokener == NULL) {
        fail(err, LETHE_NO_MEMORY, 0, ENOMEM, "out of memory");
        lethe_close(c);
        return NULL;
    }
    if (pipe(c->wake) < 0 || set_flags(c->wake[0], 1) < 0 || set_flags(c->wake[1], 1) < 0) {
        fail(err, LETHE_SYSTEM_ERROR, 0, errno, "cannot create a pipe: %s", strerror(errno));
        lethe_close(c);
        return NULL;
    }

    c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (c->fd < 0) {
        fail(err, LETHE_SYSTEM_ERROR, 0, errno, "cannot create a socket: %s", strerror(errno));
        lethe_close(c);
        return NULL;
    }
#ifdef SO_NOSIGPIPE
    {
        int one = 1;
        setsockopt(c->fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
    }
#endif
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    /* A Unix-socket connect completes at once or fails; only a signal can interrupt it. */
    do
        rc = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        e = errno;
        fail(err, LETHE_CONNECT_FAILED, 0, e,
             "cannot reach lethed at %s (%s); start it with `lethed --socket %s`, "
             "or point LETHE_SOCKET at a running daemon's socket", path, strerror(e), path);
        lethe_close(c);
        return NULL;
    }
    if (set_flags(c->fd, 1) < 0) {
        fail(err, LETHE_SYSTEM_ERROR, 0, errno, "fcntl: %s", strerror(errno));
        lethe_close(c);
        return NULL;
    }
    return c;
}

const char *lethe_socket_path(const lethe_client *client)
{
    return client != NULL ? client->path : NULL;
}

void lethe_close(lethe_client *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->wake[0] >= 0)
        close(c->wake[0]);
    if (c->wake[1] >= 0)
        close(c->wake[1]);
    if (c->tokener != NULL)
        json_tokener_free(c->tokener);
    free(c->buf);
    free(c);
}

/* ---------------------------------------------------------------- settings */

void lethe_set_progress(lethe_client *c, lethe_progress_fn callback, void *userdata)
{
    if (c == NULL)
        return;
    c->progress = callback;
    c->progress_data = userdata;
}

void lethe_set_timeout(lethe_client *c, int timeout_ms)
{
    if (c != NULL)
        c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

void lethe_set_cancel_wait(lethe_client *c, int wait_ms)
{
    if (c != NULL)
        c->cancel_wait_ms = wait_ms < 0 ? -1 : wait_ms;
}

/* Async-signal-safe: a store to a sig_atomic_t and a write(2), errno kept. */
void lethe_cancel(lethe_client *c)
{
    int saved = errno;
    ssize_t n;
    if (c == NULL)
        return;
    c->cancel_pending = 1;
    /* The pipe is non-blocking: when it is full, a wake-up is pending anyway. */
    n = write(c->wake[1], "x", 1);
    (void)n;
    errno = saved;
}

/* Empties the self-pipe; the flag, not the bytes, says whether a cancel is pending. */
static void drain_wake(lethe_client *c)
{
    char junk[64];
    while (read(c->wake[0], junk, sizeof junk) > 0)
        ;
}

/* Consumes a pending lethe_cancel: 1 if there was one. */
static int take_cancel(lethe_client *c)
{
    if (!c->cancel_pending)
        return 0;
    c->cancel_pending = 0;
    return 1;
}

/* ----------------------------------------------------------------- sending */

/*
 * Writes all of data before the deadline (-1: none). Returns LETHE_OK,
 * LETHE_TIMEOUT (with *written bytes written) or a broken-stream status.
 */
static int write_all(lethe_client *c, const char *data, size_t size, long long deadline,
                     size_t *written, lethe_error *err)
{
    while (*written < size) {
        ssize_t n = send(c->fd, data + *written, size - *written, MSG_NOSIGNAL);
        if (n > 0) {
            *written += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p;
            int rc, t = ms_until(deadline);
            if (t == 0)
                return LETHE_TIMEOUT;
            p.fd = c->fd;
            p.events = POLLOUT;
            p.revents = 0;
            rc = poll(&p, 1, t);
            if (rc < 0 && errno != EINTR)
                return fail_broken(c, err, LETHE_SYSTEM_ERROR, errno, "poll failed");
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN))
            return fail_broken(c, err, LETHE_CONNECTION_LOST, errno,
                               "lost the connection to lethed while sending");
        return fail_broken(c, err, n < 0 ? LETHE_SYSTEM_ERROR : LETHE_CONNECTION_LOST,
                           n < 0 ? errno : 0, "cannot send to lethed");
    }
    return LETHE_OK;
}

/* Sends one message (a line) whole. A timeout after part of it was sent breaks the stream. */
static int send_message(lethe_client *c, json_object *msg, long long deadline, lethe_error *err)
{
    size_t len, written = 0;
    const char *text = json_object_to_json_string_length(
        msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *line;
    int rc;

    if (text == NULL)
        return fail(err, LETHE_NO_MEMORY, 0, ENOMEM, "out of memory");
    line = malloc(len + 1);
    if (line == NULL)
        return fail(err, LETHE_NO_MEMORY, 0, ENOMEM, "out of memory");
    memcpy(line, text, len);
    line[len] = '\n'; /* json-c escapes newlines inside strings: the message is one line */
    rc = write_all(c, line, len + 1, deadline, &written, err);
    free(line);
    if (rc == LETHE_TIMEOUT && written > 0)
        return fail_broken(c, err, LETHE_TIMEOUT, 0,
                           "timed out while sending a request; the connection was closed "
                           "because the stream cannot be resynchronised");
    if (rc == LETHE_TIMEOUT)
        return fail(err, LETHE_TIMEOUT, 0, 0, "timed out before the request could be sent");
    return rc;
}

/* Sends `$/cancelRequest` for `id`, as a notification (no reply of its own). */
static int send_cancel(lethe_client *c, long long id, lethe_error *err)
{
    json_object *msg = json_object_new_object(), *params = json_object_new_object();
    int rc;
    if (msg == NULL || params == NULL) {
        json_object_put(msg);
        json_object_put(params);
        return fail(err, LETHE_NO_MEMORY, 0, ENOMEM, "out of memory");
    }
    json_object_object_add(params, "id", json_object_new_int64(id));
    json_object_object_add(msg, "jsonrpc", json_object_new_string("2.0"));
    json_object_object_add(msg, "method", json_object_new_string("$/cancelRequest"));
    json_object_object_add(msg, "params", params);
    /* A tiny frame on a socket whose daemon reads continuously: no deadline. */
    rc = send_message(c, msg, -1, err);
    json_object_put(msg);
    return rc;
}

/* ----------------------------------------------------------------- reading */

/*
 * Reads what the socket has into the buffer. Returns LETHE_OK (possibly having
 * read nothing, on EAGAIN/EINTR) or a broken-stream status.
 */
static int read_some(lethe_client *c, lethe_error *err)
{
    ssize_t n;
    if (c->start > 0 && (c->start == c->len || c->start >= c->cap / 2)) {
        /* Drop what was consumed, keeping the unconsumed tail at the front. */
        memmove(c->buf, c->buf + c->start, c->len - c->start);
        c->len -= c->start;
        c->scanned -= c->start;
        c->start = 0;
    }
    if (c->cap - c->len < READ_CHUNK) {
        size_t cap = c->cap ? c->cap * 2 : 4 * READ_CHUNK;
        char *b = realloc(c->buf, cap);
        if (b == NULL)
            return fail(err, LETHE_NO_MEMORY, 0, ENOMEM, "out of memory for a reply");
        c->buf = b;
        c->cap = cap;
    }
    n = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (n > 0) {
        c->len += (size_t)n;
        return LETHE_OK;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return LETHE_OK;
    if (n == 0)
        return fail_broken(c, err, LETHE_CONNECTION_LOST, 0, "lethed closed the connection");
    return fail_broken(c, err, LETHE_CONNECTION_LOST, errno, "lost the connection to lethed");
}

/*
 * Takes the next complete message out of the buffer: 1 with *msg (a new
 * reference; NULL for a JSON null), 0 if no complete line is buffered, or a
 * negative status for a line that is not JSON.
 */
static int next_message(lethe_client *c, json_object **msg, lethe_error *err)
{
    for (;;) {
        /* (memchr must not see the NULL buffer of a client that has read nothing yet) */
        char *nl = c->len > c->scanned ? memchr(c->buf + c->scanned, '\n', c->len - c->scanned) : NULL;
        char *line;
        size_t size;
        if (nl == NULL) {
            c->scanned = c->len;
            if (c->len - c->start > MAX_MESSAGE_BYTES)
                return fail_broken(c, err, LETHE_PROTOCOL_ERROR, 0,
                                   "lethed sent a message larger than this client accepts");
            return 0;
        }
        line = c->buf + c->start;
        size = (size_t)(nl - line);
        c->start = c->scanned = (size_t)(nl - c->buf) + 1;
        if (size > 0 && line[size - 1] == '\r')
            size--;
        if (size == 0)
            continue; /* a blank line */
        if (size > INT_MAX - 1)
            return fail_broken(c, err, LETHE_PROTOCOL_ERROR, 0, "lethed sent a message too large to parse");
        json_tokener_reset(c->tokener);
        /* Parsing the '\n' too ends a bare number; the line has no other '\n'. */
        *msg = json_tokener_parse_ex(c->tokener, line, (int)size + 1);
        if (json_tokener_get_error(c->tokener) != json_tokener_success) {
            json_object_put(*msg);
            *msg = NULL;
            return fail_broken(c, err, LETHE_PROTOCOL_ERROR, 0, "lethed sent a line that is not JSON");
        }
        return 1;
    }
}

/* ---------------------------------------------------------------- the call */

/* Methods whose params take a workDoneToken (Protocol/lethe.openrpc.json). */
static int takes_token(const char *method)
{
    static const char *const names[] = {
        "model/train", "forget", "attack", "compare", "model/predict", "fleet/train", NULL
    };
    size_t i;
    for (i = 0; names[i] != NULL; i++)
        if (strcmp(method, names[i]) == 0)
            return 1;
    return 0;
}

/* Is `id` (a reply's id member) our id? */
static int is_id(json_object *id, long long want)
{
    if (json_object_is_type(id, json_type_int))
        return json_object_get_int64(id) == want;
    if (json_object_is_type(id, json_type_double))
        return json_object_get_double(id) == (double)want;
    return 0;
}

/* A new params object holding `params`' members (NULL: none) and our progress token; *token is borrowed from it.
 * The caller's object is not touched. */
static json_object *params_with_token(json_object *params, long long id, json_object **token)
{
    char text[48];
    json_object *p = json_object_new_object();
    if (p == NULL)
        return NULL;
    if (params != NULL) {
        json_object_object_foreach(params, key, value) {
            json_object_object_add(p, key, json_object_get(value));
        }
    }
    snprintf(text, sizeof text, "lethe-c-%lld", id);
    *token = json_object_new_string(text);
    json_object_object_add(p, "workDoneToken", *token);
    return p;
}

/* Builds the request envelope; *token is set (borrowed from the envelope) when progress is routed. */
static json_object *build_request(lethe_client *c, long long id, const char *method,
                                  json_object *params, json_object **token)
{
    json_object *msg = json_object_new_object(), *p = NULL, *given = NULL;
    int is_object = params != NULL && json_object_is_type(params, json_type_object);
    int wants_token = c->progress != NULL && takes_token(method);
    *token = NULL;
    if (msg == NULL)
        return NULL;
    json_object_object_add(msg, "jsonrpc", json_object_new_string("2.0"));
    json_object_object_add(msg, "id", json_object_new_int64(id));
    json_object_object_add(msg, "method", json_object_new_string(method));
    if (is_object && json_object_object_get_ex(params, "workDoneToken", &given) && given != NULL) {
        p = json_object_get(params); /* the caller's own token */
        *token = given;
    } else if (wants_token && (is_object || params == NULL)) {
        p = params_with_token(params, id, token);
        if (p == NULL) {
            json_object_put(msg);
            return NULL;
        }
    } else if (params != NULL) {
        p = json_object_get(params); /* as given (an array too) */
    }
    if (p != NULL)
        json_object_object_add(msg, "params", p);
    return msg;
}

/* Fills err from a reply's error object with status `status`. */
static int daemon_error(json_object *error, int status, lethe_error *err)
{
    json_object *code = NULL, *message = NULL, *data = NULL;
    const char *text;
    json_object_object_get_ex(error, "code", &code);
    json_object_object_get_ex(error, "message", &message);
    text = json_object_is_type(message, json_type_string) ? json_object_get_string(message)
                                                          : "(the error has no message)";
    fail(err, status, json_object_get_int(code), 0, "%s", text);
    if (err != NULL && json_object_object_get_ex(error, "data", &data) && data != NULL)
        err->data = json_object_get(data);
    return status;
}

/* Where a call stands. */
enum { RUNNING, CANCELLING_BY_REQUEST, CANCELLING_BY_TIMEOUT };

/*
 * Handles one message received while waiting for the reply to `id`. Returns 1
 * when it was that reply (rc set), else 0. `*callback_cancel` is set when the
 * progress callback asks to cancel.
 */
static int handle_message(lethe_client *c, json_object *msg, long long id, json_object *token,
                          int state, int *callback_cancel, json_object **result, int *rc,
                          lethe_error *err)
{
    json_object *idv = NULL, *error = NULL, *res = NULL, *m = NULL;
    int has_id = json_object_object_get_ex(msg, "id", &idv);

    if (json_object_object_get_ex(msg, "method", &m)) {
        /* A notification: only `$/progress` for our token matters, and only while running. */
        json_object *np = NULL, *tok = NULL, *value = NULL;
        if (!has_id && state == RUNNING && !*callback_cancel && c->progress != NULL && token != NULL &&
            json_object_is_type(m, json_type_string) &&
            strcmp(json_object_get_string(m), "$/progress") == 0 &&
            json_object_object_get_ex(msg, "params", &np) &&
            json_object_object_get_ex(np, "token", &tok) && json_object_equal(tok, token) &&
            json_object_object_get_ex(np, "value", &value) &&
            c->progress(value, c->progress_data) != 0)
            *callback_cancel = 1;
        return 0;
    }
    if (!has_id)
        return 0; /* neither a notification nor a reply: not ours */
    json_object_object_get_ex(msg, "error", &error);
    /* A reply to an earlier, abandoned request: skipped. An error with id null is
     * about our own frame (e.g. the daemon's connection limit): ours. */
    if (!is_id(idv, id) && !(idv == NULL && error != NULL))
        return 0;

    if (error != NULL) {
        int code = json_object_get_int(json_object_object_get(error, "code"));
        int status = LETHE_DAEMON_ERROR;
        if (code == LETHE_RPC_REQUEST_CANCELLED)
            status = state == CANCELLING_BY_TIMEOUT ? LETHE_TIMEOUT : LETHE_CANCELLED;
        *rc = daemon_error(error, status, err);
        if (status == LETHE_TIMEOUT && err != NULL) {
            char daemon_message[LETHE_ERROR_MESSAGE_SIZE];
            memcpy(daemon_message, err->message, sizeof daemon_message);
            snprintf(err->message, sizeof err->message, "timed out after %d ms: %.*s", c->timeout_ms,
                     (int)(sizeof err->message - 40), daemon_message);
        }
    } else if (json_object_object_get_ex(msg, "result", &res)) {
        if (result != NULL)
            *result = json_object_get(res);
        *rc = LETHE_OK;
    } else {
        *rc = fail_broken(c, err, LETHE_PROTOCOL_ERROR, 0, "lethed sent a reply with neither result nor error");
    }
    return 1;
}

int lethe_call(lethe_client *c, const char *method, json_object *params, json_object **result,
               lethe_error *err)
{
    json_object *request, *token, *msg = NULL;
    long long id, deadline, cancel_deadline = -1;
    int rc = LETHE_OK, state = RUNNING, callback_cancel = 0;

    if (result != NULL)
        *result = NULL;
    lethe_error_clear(err);
    if (c == NULL || method == NULL)
        return fail(err, LETHE_INVALID_ARGUMENT, 0, 0, "lethe_call needs a client and a method");
    if (params != NULL && !json_object_is_type(params, json_type_object) &&
        !json_object_is_type(params, json_type_array))
        return fail(err, LETHE_INVALID_ARGUMENT, 0, 0, "params must be an object or an array");
    if (c->in_call)
        return fail(err, LETHE_INVALID_ARGUMENT, 0, 0,
                    "a call is already running on this client (one call at a time)");
    if (c->broken)
        return fail(err, c->broken_status, 0, 0,
                    "the connection to lethed at %s is no longer usable; connect again", c->path);
    /* A cancel that came while no call ran cancels this one, before anything is sent. */
    drain_wake(c);
    if (take_cancel(c))
        return fail(err, LETHE_CANCELLED, 0, 0, "%s was cancelled before it was sent", method);

    deadline = c->timeout_ms > 0 ? now_ms() + c->timeout_ms : -1;
    id = c->next_id++;
    request = build_request(c, id, method, params, &token);
    if (request == NULL)
        return fail(err, LETHE_NO_MEMORY, 0, ENOMEM, "out of memory");
    c->in_call = 1;
    rc = send_message(c, request, deadline, err);

    while (rc == LETHE_OK) {
        struct pollfd p[2];
        int n, asked;

        /* 1. Every complete message already received, until our reply. */
        while ((n = next_message(c, &msg, err)) == 1) {
            int done = handle_message(c, msg, id, token, state, &callback_cancel, result, &rc, err);
            json_object_put(msg);
            if (done)
                goto out;
        }
        if (n < 0) {
            rc = n;
            break;
        }

        /* 2. Cancellation (lethe_cancel or the callback) and the timeout. */
        drain_wake(c);
        asked = take_cancel(c);
        if (state == RUNNING) {
            if (asked || callback_cancel)
                state = CANCELLING_BY_REQUEST;
            else if (deadline >= 0 && now_ms() >= deadline)
                state = CANCELLING_BY_TIMEOUT;
            if (state != RUNNING) {
                rc = send_cancel(c, id, err);
                if (rc != LETHE_OK)
                    break;
                cancel_deadline = c->cancel_wait_ms < 0 ? -1 : now_ms() + c->cancel_wait_ms;
            }
        } else if (asked) {
            /* Cancelled again while waiting for the first cancel's reply: stop waiting. */
            rc = fail(err, state == CANCELLING_BY_TIMEOUT ? LETHE_TIMEOUT : LETHE_CANCELLED, 0, 0,
                      "%s: stopped waiting for lethed to confirm the cancellation "
                      "(its reply will be skipped)", method);
            break;
        }
        if (state != RUNNING && cancel_deadline >= 0 && now_ms() >= cancel_deadline) {
            if (state == CANCELLING_BY_TIMEOUT)
                rc = fail(err, LETHE_TIMEOUT, 0, 0,
                          "%s timed out after %d ms and was cancelled, but lethed did not confirm within "
                          "%d ms (its reply will be skipped)", method, c->timeout_ms, c->cancel_wait_ms);
            else
                rc = fail(err, LETHE_CANCELLED, 0, 0,
                          "%s was cancelled, but lethed did not confirm within %d ms "
                          "(its reply will be skipped)", method, c->cancel_wait_ms);
            break;
        }

        /* 3. Wait for bytes, a cancel or the next deadline. EINTR just goes round again. */
        p[0].fd = c->fd;
        p[0].events = POLLIN;
        p[1].fd = c->wake[0];
        p[1].events = POLLIN;
        p[0].revents = p[1].revents = 0;
        n = poll(p, 2, ms_until(state == RUNNING ? deadline : cancel_deadline));
        if (n < 0 && errno != EINTR)
            rc = fail_broken(c, err, LETHE_SYSTEM_ERROR, errno, "poll failed");
        else if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            rc = read_some(c, err);
    }
out:
    json_object_put(request);
    c->in_call = 0;
    return rc;
}
