/*
 * forget_evaluate_attack - a whole unlearning experiment through liblethe:
 * load a dataset, split off a forget set, train a small MLP (progress
 * printed), unlearn the forget set, evaluate, and run the simple
 * membership-inference attack.
 *
 *     forget_evaluate_attack [--socket PATH] [--method finetune|gradient-ascent]
 *                            [--epochs N] [DATASET_DIR [CLASSES]]
 *
 * Without --socket it uses the default socket ($LETHE_SOCKET, else lethed's
 * default path). Without DATASET_DIR the daemon loads its default dataset,
 * Fashion-MNIST from /usr/share/datasets/fashion-mnist. DATASET_DIR holds IDX
 * files (train-images-idx3-ubyte, ...); CLASSES defaults to 10.
 *
 * Ctrl-C cancels the running request on the daemon (lethe_cancel from the
 * SIGINT handler) and exits.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lethe.h"

static lethe_client *volatile sigint_client; /* for the signal handler only */

static void on_sigint(int sig)
{
    (void)sig;
    if (sigint_client != NULL)
        lethe_cancel(sigint_client); /* async-signal-safe */
}

/* Calls method; on failure prints the error and exits. Returns the result (caller puts). */
static json_object *call(lethe_client *c, const char *method, json_object *params)
{
    lethe_error err = LETHE_ERROR_INIT;
    json_object *result = NULL;
    int rc = lethe_call(c, method, params, &result, &err);
    json_object_put(params); /* lethe_call only borrows params; this program is done with them */
    if (rc != LETHE_OK) {
        fprintf(stderr, "%s failed: %s: %s", method, lethe_status_name(rc), err.message);
        if (lethe_error_is_daemon(&err))
            fprintf(stderr, " (code %d)", err.code);
        fputc('\n', stderr);
        lethe_error_clear(&err);
        lethe_close(c);
        exit(rc == LETHE_CANCELLED ? 130 : 1);
    }
    return result;
}

/* A member as text: numbers with 4 decimals, the daemon's "NaN" strings as they are. */
static const char *num(json_object *obj, const char *key, char *buf, size_t size)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return "-";
    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
        snprintf(buf, size, "%.4f", json_object_get_double(v));
    else
        snprintf(buf, size, "%s", json_object_get_string(v));
    return buf;
}

/* Progress callback: one line per epoch (or batch). Returning 0 lets the job go on. */
static int print_progress(json_object *value, void *userdata)
{
    char a[32], b[32];
    json_object *stage = json_object_object_get(value, "stage");
    printf("  %-8s %s %d/%d  loss %s  accuracy %s\n", (const char *)userdata,
           stage ? json_object_get_string(stage) : "?",
           json_object_get_int(json_object_object_get(value, "step")),
           json_object_get_int(json_object_object_get(value, "steps")),
           num(value, "loss", a, sizeof a), num(value, "accuracy", b, sizeof b));
    fflush(stdout);
    return 0;
}

/* Deletes a model if it exists, so the example can be run again on the same daemon. */
static void delete_model(lethe_client *c, const char *name)
{
    lethe_error err = LETHE_ERROR_INIT;
    json_object *params = json_object_new_object();
    json_object_object_add(params, "name", json_object_new_string(name));
    if (lethe_call(c, "model/delete", params, NULL, &err) != LETHE_OK && err.code != LETHE_RPC_NOT_FOUND)
        fprintf(stderr, "warning: model/delete %s: %s\n", name, err.message);
    lethe_error_clear(&err);
    json_object_put(params);
}

static void print_evaluation(const char *title, json_object *ev)
{
    static const char *const sets[] = { "retain", "forget", "validation", "test" };
    char a[32], b[32];
    size_t i;
    printf("%s\n", title);
    for (i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        json_object *s = json_object_object_get(ev, sets[i]);
        printf("  %-10s accuracy %s  loss %s  (%d examples)\n", sets[i], num(s, "accuracy", a, sizeof a),
               num(s, "loss", b, sizeof b), json_object_get_int(json_object_object_get(s, "count")));
    }
    printf("  unlearning accuracy (1 - forget accuracy): %s\n", num(ev, "unlearningAccuracy", a, sizeof a));
}

int main(int argc, char **argv)
{
    const char *socket_path = NULL, *data_dir = NULL, *method = "finetune";
    int classes = 10, epochs = 3, i;
    lethe_error err = LETHE_ERROR_INIT;
    lethe_client *c;
    json_object *p, *r, *ev;
    char output[160], a[32], b[32];
    struct sigaction sa;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
            socket_path = argv[++i];
        else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc)
            method = argv[++i];
        else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--socket PATH] [--method finetune|gradient-ascent] [--epochs N] "
                            "[DATASET_DIR [CLASSES]]\n", argv[0]);
            return 2;
        } else if (data_dir == NULL)
            data_dir = argv[i];
        else
            classes = atoi(argv[i]);
    }

    c = lethe_connect(socket_path, &err);
    if (c == NULL) {
        fprintf(stderr, "%s\n", err.message);
        lethe_error_clear(&err);
        return 1;
    }
    printf("connected to %s\n", lethe_socket_path(c));
    sigint_client = c;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    /* 1. The dataset: the daemon's default (Fashion-MNIST) unless a directory is given. */
    p = json_object_new_object();
    json_object_object_add(p, "name", json_object_new_string("example-data"));
    if (data_dir != NULL) {
        json_object_object_add(p, "path", json_object_new_string(data_dir));
        json_object_object_add(p, "classes", json_object_new_int(classes));
    }
    r = call(c, "dataset/load", p);
    printf("dataset %s: %d training and %d test examples of %d classes, from %s\n",
           json_object_get_string(json_object_object_get(r, "name")),
           json_object_get_int(json_object_object_get(r, "trainCount")),
           json_object_get_int(json_object_object_get(r, "testCount")),
           json_object_get_int(json_object_object_get(r, "classCount")),
           json_object_get_string(json_object_object_get(r, "origin")));
    json_object_put(r);

    /* 2. A split: 10% of the training set is to be forgotten. */
    p = json_object_new_object();
    json_object_object_add(p, "name", json_object_new_string("example-split"));
    json_object_object_add(p, "dataset", json_object_new_string("example-data"));
    json_object_object_add(p, "forget", json_object_new_object());
    json_object_object_add(json_object_object_get(p, "forget"), "fraction", json_object_new_double(0.1));
    r = call(c, "split/create", p);
    printf("split %s: retain %d, forget %d, validation %d, test %d\n",
           json_object_get_string(json_object_object_get(r, "name")),
           json_object_get_int(json_object_object_get(r, "retain")),
           json_object_get_int(json_object_object_get(r, "forget")),
           json_object_get_int(json_object_object_get(r, "validation")),
           json_object_get_int(json_object_object_get(r, "test")));
    json_object_put(r);

    /* 3. A small MLP, trained with progress. */
    snprintf(output, sizeof output, "example-mlp-%s", method);
    delete_model(c, "example-mlp");
    delete_model(c, output);
    p = json_object_new_object();
    json_object_object_add(p, "name", json_object_new_string("example-mlp"));
    json_object_object_add(p, "dataset", json_object_new_string("example-data"));
    json_object_object_add(p, "architecture", json_object_new_object());
    json_object_object_add(json_object_object_get(p, "architecture"), "kind", json_object_new_string("mlp"));
    json_object_object_add(json_object_object_get(p, "architecture"), "hidden", json_object_new_array());
    json_object_array_add(json_object_object_get(json_object_object_get(p, "architecture"), "hidden"),
                          json_object_new_int(32));
    r = call(c, "model/create", p);
    printf("model %s: %d parameters\n", json_object_get_string(json_object_object_get(r, "name")),
           json_object_get_int(json_object_object_get(r, "parameterCount")));
    json_object_put(r);

    lethe_set_progress(c, print_progress, "train");
    p = json_object_new_object();
    json_object_object_add(p, "model", json_object_new_string("example-mlp"));
    json_object_object_add(p, "dataset", json_object_new_string("example-data"));
    json_object_object_add(p, "epochs", json_object_new_int(epochs));
    r = call(c, "model/train", p);
    printf("trained: loss %s, accuracy %s, fingerprint %s\n", num(r, "loss", a, sizeof a),
           num(r, "accuracy", b, sizeof b), json_object_get_string(json_object_object_get(r, "fingerprint")));
    json_object_put(r);

    /* 4. Unlearn the forget set. */
    lethe_set_progress(c, print_progress, "forget");
    p = json_object_new_object();
    json_object_object_add(p, "model", json_object_new_string("example-mlp"));
    json_object_object_add(p, "split", json_object_new_string("example-split"));
    json_object_object_add(p, "method", json_object_new_string(method));
    json_object_object_add(p, "output", json_object_new_string(output));
    r = call(c, "forget", p);
    printf("forget (%s): wrote %s in %s s, hyperparameters %s\n", method,
           json_object_get_string(json_object_object_get(r, "model")), num(r, "seconds", a, sizeof a),
           json_object_to_json_string_ext(json_object_object_get(r, "hyperparameters"), JSON_C_TO_STRING_PLAIN));
    json_object_put(r);
    lethe_set_progress(c, NULL, NULL);

    /* 5. Evaluate the original and the unlearned model. */
    p = json_object_new_object();
    json_object_object_add(p, "model", json_object_new_string("example-mlp"));
    json_object_object_add(p, "split", json_object_new_string("example-split"));
    ev = call(c, "evaluate", p);
    print_evaluation("evaluate example-mlp (original)", ev);
    json_object_put(ev);
    p = json_object_new_object();
    json_object_object_add(p, "model", json_object_new_string(output));
    json_object_object_add(p, "split", json_object_new_string("example-split"));
    ev = call(c, "evaluate", p);
    snprintf(output + strlen(output), sizeof output - strlen(output), " (unlearned)");
    print_evaluation(output, ev);
    json_object_put(ev);
    output[strlen(output) - strlen(" (unlearned)")] = '\0';

    /* 6. The simple membership-inference attack: forget set versus test set. */
    p = json_object_new_object();
    json_object_object_add(p, "model", json_object_new_string(output));
    json_object_object_add(p, "split", json_object_new_string("example-split"));
    json_object_object_add(p, "kind", json_object_new_string("simple"));
    r = call(c, "attack", p);
    printf("attack simple on %s: %s %s (chance level %s; %d members vs %d non-members)\n", output,
           json_object_get_string(json_object_object_get(r, "scoreName")), num(r, "score", a, sizeof a),
           num(r, "chanceLevel", b, sizeof b), json_object_get_int(json_object_object_get(r, "members")),
           json_object_get_int(json_object_object_get(r, "nonMembers")));
    json_object_put(r);

    sigint_client = NULL;
    lethe_close(c);
    return 0;
}
