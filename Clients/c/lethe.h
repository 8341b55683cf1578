/*
 * lethe.h - C client library for lethed, the Lethe machine-unlearning daemon.
 *
 * lethed serves JSON-RPC 2.0 on a Unix socket, one JSON message per line
 * (Protocol/README.md; the methods are in Protocol/lethe.openrpc.json). This
 * library connects to it, sends one request at a time and waits for the reply,
 * and on the way:
 *
 *   - delivers `$/progress` notifications of the running request to a callback
 *     (lethe_set_progress);
 *   - cancels the running request on the daemon with `$/cancelRequest` when asked
 *     to (lethe_cancel, safe in a signal handler; or the progress callback's
 *     return value), or when a timeout expires (lethe_set_timeout);
 *   - skips notifications of other tokens and replies to other (earlier,
 *     abandoned) requests.
 *
 * Params and results are json-c objects (https://github.com/json-c/json-c).
 *
 * Minimal use:
 *
 *     lethe_error err = LETHE_ERROR_INIT;
 *     lethe_client *c = lethe_connect(NULL, &err);          // default socket
 *     if (c == NULL) { fprintf(stderr, "%s\n", err.message); return 1; }
 *     json_object *status = NULL;
 *     if (lethe_call(c, "server/status", NULL, &status, &err) == LETHE_OK) {
 *         puts(json_object_to_json_string(status));
 *         json_object_put(status);
 *     } else {
 *         fprintf(stderr, "%s (code %d)\n", err.message, err.code);
 *     }
 *     lethe_error_clear(&err);
 *     lethe_close(c);
 *
 * Threads: there is no global state. A client may be used by one thread at a
 * time and runs one call at a time (a call made from inside the progress
 * callback of the same client fails with LETHE_INVALID_ARGUMENT). Different
 * clients can be used from different threads at once; the daemon runs the
 * requests of one connection in order, so open one client per job you want to
 * run in parallel. lethe_cancel is the one function that may be called from
 * another thread or from a signal handler while a call runs.
 *
 * Signals: the library installs no signal handlers and never raises SIGPIPE
 * (it sends with MSG_NOSIGNAL). A signal that interrupts a system call is
 * retried transparently.
 */
#ifndef LETHE_H
#define LETHE_H

#include <stddef.h>
#include <json.h> /* json-c; `pkg-config --cflags json-c` (or lethe) puts it on the path */

#ifdef __cplusplus
extern "C" {
#endif

#define LETHE_CLIENT_VERSION "0.1.0"

/* ------------------------------------------------------------------ statuses */

/*
 * What every function returning int returns: LETHE_OK (0) or one of these
 * negative statuses. The status says *who* failed:
 *
 *   LETHE_DAEMON_ERROR      the daemon answered the request with a JSON-RPC
 *                           error object: err->code, err->message and
 *                           err->data are the daemon's.
 *   LETHE_CANCELLED         the call was cancelled (lethe_cancel or the progress
 *                           callback). err->code is -32800 when the daemon
 *                           confirmed it, 0 when the call ended without the
 *                           daemon's word (cancelled before it was sent, or not
 *                           confirmed within the cancel wait).
 *   LETHE_TIMEOUT           the timeout expired and the request was cancelled;
 *                           err->code as for LETHE_CANCELLED.
 *   LETHE_CONNECT_FAILED    lethe_connect could not reach the daemon.
 *   LETHE_CONNECTION_LOST   the daemon closed the connection (or it broke).
 *                           The client is unusable from then on: close it.
 *   LETHE_PROTOCOL_ERROR    the daemon sent something that is not JSON-RPC.
 *                           The client is unusable from then on.
 *   LETHE_SYSTEM_ERROR      a system call failed (err->sys_errno).
 *   LETHE_INVALID_ARGUMENT  the caller passed something wrong (NULL method,
 *                           params neither object nor array, nested call).
 *   LETHE_NO_MEMORY         out of memory.
 *
 * Everything but LETHE_DAEMON_ERROR is a failure of the transport or of the
 * call itself rather than an answer of the daemon (lethe_error_is_daemon).
 */
typedef enum lethe_status {
    LETHE_OK = 0,
    LETHE_DAEMON_ERROR = -1,
    LETHE_CANCELLED = -2,
    LETHE_TIMEOUT = -3,
    LETHE_CONNECT_FAILED = -4,
    LETHE_CONNECTION_LOST = -5,
    LETHE_PROTOCOL_ERROR = -6,
    LETHE_SYSTEM_ERROR = -7,
    LETHE_INVALID_ARGUMENT = -8,
    LETHE_NO_MEMORY = -9
} lethe_status;

/* JSON-RPC error codes the daemon uses (Sources/JSONRPC/RPCError.swift). */
#define LETHE_RPC_PARSE_ERROR (-32700)
#define LETHE_RPC_INVALID_REQUEST (-32600)
#define LETHE_RPC_METHOD_NOT_FOUND (-32601)
#define LETHE_RPC_INVALID_PARAMS (-32602)
#define LETHE_RPC_INTERNAL_ERROR (-32603)
#define LETHE_RPC_REQUEST_CANCELLED (-32800)
#define LETHE_RPC_NOT_FOUND 1
#define LETHE_RPC_ALREADY_EXISTS 2
#define LETHE_RPC_INVALID_DATA 3
#define LETHE_RPC_SHAPE_MISMATCH 4
#define LETHE_RPC_BUSY 5
#define LETHE_RPC_SHUTTING_DOWN 6

/* ------------------------------------------------------------------- errors */

#define LETHE_ERROR_MESSAGE_SIZE 1024

/*
 * Details of a failure. Initialise it with LETHE_ERROR_INIT (or zero it) before
 * its first use; every function that takes one first releases what it held and
 * then fills it on failure (on success it is left cleared). Release it with
 * lethe_error_clear when done. Passing NULL discards the details.
 */
typedef struct lethe_error {
    int status;       /* the lethe_status of the failure; LETHE_OK when none */
    int code;         /* JSON-RPC error code: the daemon's for LETHE_DAEMON_ERROR;
                         -32800 for a cancellation the daemon confirmed; else 0 */
    int sys_errno;    /* errno for LETHE_SYSTEM_ERROR / CONNECT_FAILED / CONNECTION_LOST, else 0 */
    char message[LETHE_ERROR_MESSAGE_SIZE]; /* NUL-terminated; the daemon's own message
                                                for daemon errors (truncated if longer) */
    json_object *data; /* the error's `data` (only some daemon errors have one, e.g.
                          {"kind":"model","name":"m"} for error 1), owned; else NULL */
} lethe_error;

#define LETHE_ERROR_INIT { LETHE_OK, 0, 0, { 0 }, NULL }

/* Releases err->data and resets every field. NULL is allowed. */
void lethe_error_clear(lethe_error *err);

/* 1 when err holds an error reply of the daemon (LETHE_DAEMON_ERROR), else 0. */
int lethe_error_is_daemon(const lethe_error *err);

/* A constant name for a status, e.g. "LETHE_TIMEOUT"; "LETHE_UNKNOWN" for others. */
const char *lethe_status_name(int status);

/* ----------------------------------------------------------- the connection */

typedef struct lethe_client lethe_client; /* opaque */

/*
 * Writes the socket path lethe_connect(NULL, ...) uses, exactly as the `lethe`
 * command-line client resolves it: $LETHE_SOCKET if set and non-empty, else
 * $XDG_RUNTIME_DIR/lethe/lethed.sock if XDG_RUNTIME_DIR is set and non-empty,
 * else /tmp/lethe-<uid>/lethed.sock. Like snprintf: writes at most size bytes
 * (NUL included; buf may be NULL when size is 0) and returns the path's length,
 * so a result >= size means it was truncated; -1 on an encoding failure.
 */
int lethe_default_socket_path(char *buf, size_t size);

/*
 * Connects to lethed on the Unix socket `path` (NULL: the default path, see
 * lethe_default_socket_path). Returns a new client, or NULL with err filled:
 * LETHE_CONNECT_FAILED (its message names the path, the reason and how to start
 * lethed), LETHE_NO_MEMORY or LETHE_SYSTEM_ERROR. Nothing is sent on connecting
 * (lethed needs no `initialize`). Close the client with lethe_close.
 */
lethe_client *lethe_connect(const char *path, lethe_error *err);

/* The path the client connected to (owned by the client). */
const char *lethe_socket_path(const lethe_client *client);

/*
 * Closes the connection and frees the client. NULL is allowed. A request the
 * daemon is still running for this client is cancelled by the daemon when it
 * next writes to the closed connection (its next `$/progress` or its reply).
 */
void lethe_close(lethe_client *client);

/* ------------------------------------------------------------------- calls */

/*
 * Sends the request `method` with `params` and waits for its reply.
 *
 * params:  an object (or array) of params, borrowed: the library neither keeps
 *          nor modifies it. NULL sends no params (the daemon reads {}).
 * result:  on LETHE_OK, *result is the reply's `result`, a new reference the
 *          caller releases with json_object_put. JSON null (e.g. `shutdown`'s
 *          result) is NULL in json-c, so *result may be NULL on success. On
 *          failure *result is NULL. result may be NULL to discard the result.
 * err:     filled on failure (see lethe_status); may be NULL.
 *
 * Returns LETHE_OK or a negative lethe_status.
 *
 * Progress: with a progress callback set (lethe_set_progress), a
 * `workDoneToken` is added to the params of the methods that take one
 * (model/train, forget, attack, compare, model/predict and fleet/train; the
 * others reject it) and each `$/progress` value for that token is passed to
 * the callback. If params already has a `workDoneToken`, that token is used.
 *
 * Cancellation and timeouts: see lethe_cancel and lethe_set_timeout. If the
 * request finishes before the daemon sees the cancellation, its real reply is
 * returned (LETHE_OK with the result, or its error).
 *
 * Notifications of other tokens and replies to other ids (to requests that
 * were abandoned, e.g. after a cancel wait ran out) are skipped.
 */
int lethe_call(lethe_client *client, const char *method, json_object *params,
               json_object **result, lethe_error *err);

/* -------------------------------------------------------------- progress */

/*
 * A progress callback. `value` is the `value` of one `$/progress` notification
 * for the running call, e.g. {"epoch":2,"epochs":5,"loss":0.99,"accuracy":0.66,
 * "stage":"train","unit":"epoch","step":2,"steps":5,"examplesPerSecond":...};
 * it is borrowed and valid during the callback only (json_object_get it to keep
 * it). Return 0 to go on, nonzero to cancel the call (as lethe_cancel). The
 * callback is not called any more once the call is being cancelled. It must
 * not make calls on the same client.
 */
typedef int (*lethe_progress_fn)(json_object *value, void *userdata);

/* Sets (or, with NULL, removes) the client's progress callback for later calls. */
void lethe_set_progress(lethe_client *client, lethe_progress_fn callback, void *userdata);

/* -------------------------------------------------------- cancel, timeout */

/*
 * Asks the running call on `client` to cancel its request. Async-signal-safe:
 * it only sets a flag (a volatile sig_atomic_t) and writes a byte to the
 * client's self-pipe, which wakes the call at once (errno is preserved). It may
 * also be called from another thread. The call then sends
 * `{"method":"$/cancelRequest","params":{"id":N}}` and waits (at most the
 * cancel wait, lethe_set_cancel_wait) for the request's reply; the daemon
 * answers a cancelled job with error -32800 and changes nothing, and the call
 * returns LETHE_CANCELLED with err->code -32800. Calling lethe_cancel again
 * while it waits stops waiting at once (LETHE_CANCELLED, code 0).
 *
 * A cancel requested while no call runs is kept: the next call returns
 * LETHE_CANCELLED (code 0) without sending anything, so a signal that lands
 * just before a call is not lost. The call after that runs normally.
 *
 * Only jobs can be cancelled on the daemon (Protocol/README.md); dataset/load,
 * model/save and model/load run to completion regardless, so their call gives
 * up after the cancel wait and their late reply is skipped by a later call
 * (which the daemon answers after it, requests running in order).
 */
void lethe_cancel(lethe_client *client);

/*
 * Sets the timeout of each later call in milliseconds (0 or less: none, the
 * default). It counts from the start of the call. On expiry the call cancels
 * its request on the daemon (`$/cancelRequest`), waits at most the cancel wait
 * for the reply, and returns LETHE_TIMEOUT (err->code -32800 when the daemon
 * confirmed the cancellation). The client stays usable. If the timeout expires
 * while a request is only partly written (a request of megabytes to a daemon
 * that stopped reading), the connection is closed instead: the stream cannot
 * be resynchronised.
 */
void lethe_set_timeout(lethe_client *client, int timeout_ms);

/*
 * How long a cancelled or timed-out call waits for the daemon to answer the
 * cancelled request, in milliseconds (default 2000; less than 0: no limit;
 * 0: do not wait). When it runs out the call returns with err->code 0, and the
 * reply that comes later is skipped.
 */
void lethe_set_cancel_wait(lethe_client *client, int wait_ms);

#ifdef __cplusplus
}
#endif

#endif /* LETHE_H */
