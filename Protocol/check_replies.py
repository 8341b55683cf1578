#!/usr/bin/env python3
"""Checks a running lethed against Protocol/lethe.openrpc.json.

    python3 Protocol/check_replies.py SOCKET_PATH [--doc FILE] [--timeout SECONDS] [--shutdown | --exit-only]

1. Checks the OpenRPC document itself: every method has a name, params and a result, names are unique,
   every `$ref` resolves, every schema is a valid JSON Schema (draft 7), error codes are known ones.
2. Connects to the daemon on SOCKET_PATH (line framing) and drives a real session on a tiny synthetic IDX
   dataset written to a temporary directory: initialize, rpc.discover (the served document must equal the file,
   parsed), server/status, dataset/load, split/create, split/info (counts and per-class counts), model/create
   (mlp, cnn, resnet18, layers), model/train (with `$/progress`), model/info, model/save and model/load (a round
   trip under a new name keeps the fingerprint, the shapes and the predictions; also for a model with BatchNorm
   buffers), model/predict (indices [0, 5] give 2 rows, the rows of [0] and of [5]; probabilities are the softmax
   of the logits; whole parts, split subsets and inline inputs give as many rows as examples; an .npy `path`
   holds the reply's values), forget (finetune and retrain), evaluate, attack (with and without `kind`),
   `$/cancelRequest`, and error replies for every method that documents errors (among them the number checks: a
   non-integral integer, a negative seed; a missing, non-safetensors or misfitting file for model/load; an
   unknown split for split/info). On a second connection it pipes a script (dataset/load, split/create,
   model/create, model/train, evaluate, attack, with a server/status among them) in one write without waiting,
   half-closes its sending side, and checks that every request succeeds and that the replies come in the order
   sent (server/status, answered at once, aside). Every reply envelope, every `result` (against its method's
   result schema), every `error` (against ErrorObject, and its code against the method's documented errors) and
   every `$/progress` notification (against `x-notifications`) is validated.
3. Checks that the method names of the document equal initialize's `capabilities.methods`: the daemon
   implements exactly the documented methods.
4. Checks coverage: every method of the document, and rpc.discover, answered a request with a result, and every
   method that documents errors answered at least one error. Without --shutdown, shutdown and exit are left out
   (and the line says so).

With --shutdown it ends with shutdown, then requests refused with error 6 (server/status, initialize, a second
shutdown, split/info), an unknown method (still -32601), $/cancelRequest and rpc.discover (still answered), and exit
sent as a request: its null reply is validated, then the daemon must close the connection (it exits, with code 0:
`make protocol-check` checks the code). With --exit-only it skips the session and sends only exit, without
shutdown: null reply, closed connection (the daemon exits with code 1).

Prints one line per check and ends with `N passed, M failed`; exits 1 when any check failed.
Needs Python 3 and `jsonschema` only.
"""

import argparse
import ast
import json
import os
import random
import shutil
import socket
import struct
import sys
import tempfile
import time

try:
    from jsonschema import Draft7Validator
except ImportError:  # pragma: no cover
    print("FAIL  setup: the Python package 'jsonschema' is not installed")
    print("0 passed, 1 failed")
    sys.exit(1)

DEFAULT_DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lethe.openrpc.json")

# Error codes of Sources/JSONRPC/RPCError.swift.
KNOWN_CODES = {-32700, -32600, -32601, -32602, -32603, -32800, 1, 2, 3, 4, 5, 6}


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def record(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS  {name}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL  {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok


# ---------------------------------------------------------------- the document

def resolve_pointer(doc, ref):
    """Resolves a local `#/a/b` reference inside `doc`; raises KeyError when it does not."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise KeyError(f"not a local reference: {ref!r}")
    node = doc
    pointer = ref[1:]
    if pointer == "":
        return node
    if not pointer.startswith("/"):
        raise KeyError(f"not a JSON pointer: {ref!r}")
    for part in pointer[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                raise KeyError(f"{ref}: no item {part!r}")
        elif isinstance(node, dict):
            if part not in node:
                raise KeyError(f"{ref}: no member {part!r}")
            node = node[part]
        else:
            raise KeyError(f"{ref}: cannot descend into {part!r}")
    return node


def all_refs(node, path="#"):
    """Every `$ref` value in the document, with where it is."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append((path, value))
            else:
                found.extend(all_refs(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(all_refs(value, f"{path}/{i}"))
    return found


def inline(doc, schema, stack=()):
    """A copy of `schema` with every local `$ref` replaced by its target (in draft 7 a `$ref` object's other
    keywords are ignored, so replacing the whole object is exact)."""
    if isinstance(schema, dict):
        if "$ref" in schema and isinstance(schema["$ref"], str):
            ref = schema["$ref"]
            if ref in stack:
                raise ValueError(f"recursive $ref {ref}")
            return inline(doc, resolve_pointer(doc, ref), stack + (ref,))
        return {k: inline(doc, v, stack) for k, v in schema.items()}
    if isinstance(schema, list):
        return [inline(doc, v, stack) for v in schema]
    return schema


def params_schema(descriptors):
    """The by-name params object described by a list of content descriptors (the daemon rejects unknown fields)."""
    return {
        "type": "object",
        "properties": {d["name"]: d["schema"] for d in descriptors},
        "required": [d["name"] for d in descriptors if d.get("required")],
        "additionalProperties": False,
    }


def first_error(schema, instance):
    errors = sorted(Draft7Validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    where = "/".join(str(p) for p in e.absolute_path) or "(top)"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"at {where}: {e.message[:300]}{more}"


def check_document(doc, checks):
    """Structural checks of the OpenRPC document. Returns True when it is usable for the session."""
    usable = True
    usable &= checks.record(
        doc.get("openrpc") == "1.3.2" and isinstance(doc.get("info"), dict)
        and doc["info"].get("title") == "Lethe" and isinstance(doc["info"].get("version"), str),
        "doc: openrpc 1.3.2 with info title \"Lethe\" and a version",
        f"openrpc={doc.get('openrpc')!r}, info={json.dumps(doc.get('info', {}).get('title'))}")
    methods = doc.get("methods")
    if not checks.record(isinstance(methods, list) and len(methods) > 0, "doc: has a list of methods"):
        return False

    names = []
    for i, m in enumerate(methods):
        problems = []
        name = m.get("name") if isinstance(m, dict) else None
        if not isinstance(name, str) or not name:
            problems.append("no name")
            name = f"#{i}"
        names.append(name)
        if not isinstance(m, dict):
            checks.record(False, f"doc: method {name} is well-formed", "not an object")
            usable = False
            continue
        params = m.get("params")
        if not isinstance(params, list):
            problems.append("no params list")
        else:
            for p in params:
                if not (isinstance(p, dict) and isinstance(p.get("name"), str) and "schema" in p):
                    problems.append(f"a param without name or schema: {json.dumps(p)[:80]}")
        result = m.get("result")
        if not (isinstance(result, dict) and isinstance(result.get("name"), str) and "schema" in result):
            problems.append("no result with name and schema")
        if m.get("paramStructure") != "by-name":
            problems.append(f"paramStructure {m.get('paramStructure')!r}, expected 'by-name'")
        for e in m.get("errors", []):
            if not (isinstance(e, dict) and isinstance(e.get("code"), int) and isinstance(e.get("message"), str)):
                problems.append(f"an error without integer code and string message: {json.dumps(e)[:80]}")
            elif e["code"] not in KNOWN_CODES:
                problems.append(f"error code {e['code']} is not one of RPCError.swift's")
        usable &= checks.record(not problems, f"doc: method {name} has name, params, result, errors", "; ".join(problems))

    duplicates = sorted({n for n in names if names.count(n) > 1})
    checks.record(not duplicates, "doc: method names are unique", f"duplicates: {duplicates}" if duplicates else f"{len(names)} methods")

    refs = all_refs(doc)
    broken = []
    for where, ref in refs:
        try:
            resolve_pointer(doc, ref)
        except KeyError as e:
            broken.append(f"{where}: {e}")
    usable &= checks.record(not broken, "doc: every $ref resolves",
                            "; ".join(broken[:5]) if broken else f"{len(refs)} references")

    bad_schemas = []
    to_check = [(f"components/schemas/{k}", v) for k, v in doc.get("components", {}).get("schemas", {}).items()]
    for m in methods:
        if isinstance(m, dict):
            for p in m.get("params", []) if isinstance(m.get("params"), list) else []:
                if isinstance(p, dict) and "schema" in p:
                    to_check.append((f"{m.get('name')} param {p.get('name')}", p["schema"]))
            if isinstance(m.get("result"), dict) and "schema" in m["result"]:
                to_check.append((f"{m.get('name')} result", m["result"]["schema"]))
    for where, schema in to_check:
        try:
            Draft7Validator.check_schema(schema)
            if not broken:
                Draft7Validator.check_schema(inline(doc, schema))
        except Exception as e:  # SchemaError, ValueError (recursion)
            bad_schemas.append(f"{where}: {str(e).splitlines()[0][:200]}")
    usable &= checks.record(not bad_schemas, "doc: every schema is a valid JSON Schema (draft 7)",
                            "; ".join(bad_schemas[:5]) if bad_schemas else f"{len(to_check)} schemas")

    for required in ("ErrorObject", "Response"):
        usable &= checks.record(required in doc.get("components", {}).get("schemas", {}),
                                f"doc: components/schemas has {required}")

    codes = {e.get("code") for e in doc.get("components", {}).get("errors", {}).values() if isinstance(e, dict)}
    checks.record(codes == KNOWN_CODES, "doc: components/errors lists every error code",
                  f"missing {sorted(KNOWN_CODES - codes)}, unknown {sorted(codes - KNOWN_CODES)}" if codes != KNOWN_CODES else "")

    progress = [n for n in doc.get("x-notifications", []) if isinstance(n, dict) and n.get("name") == "$/progress"]
    ok = (len(progress) == 1 and isinstance(progress[0].get("params"), list)
          and {p.get("name") for p in progress[0]["params"] if isinstance(p, dict)} == {"token", "value"})
    usable &= checks.record(ok, "doc: x-notifications describes $/progress with params token and value")
    return usable


# ---------------------------------------------------------------- the synthetic dataset

def write_idx(path, dims, data):
    header = bytes([0, 0, 0x08, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    with open(path, "wb") as f:
        f.write(header + bytes(data))


def write_synthetic_dataset(directory, train=200, test=100, side=8, classes=3, seed=0):
    """Uncompressed IDX files: images whose bright vertical band depends on the class, so a model can learn."""
    rng = random.Random(seed)

    def make(n, images_file, labels_file):
        labels = [i % classes for i in range(n)]
        rng.shuffle(labels)
        pixels = bytearray()
        band = max(1, side // classes)
        for y in labels:
            for _row in range(side):
                for col in range(side):
                    bright = y * band <= col < (y + 1) * band
                    pixels.append(rng.randint(170, 255) if bright else rng.randint(0, 70))
        write_idx(os.path.join(directory, images_file), [n, side, side], pixels)
        write_idx(os.path.join(directory, labels_file), [n], labels)

    make(train, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    make(test, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def read_npy_float32(path):
    """A little-endian float32 .npy file (C order): (shape, values as a flat list). Raises ValueError otherwise."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not an .npy file")
    major = data[6]
    if major == 1:
        (length,), start = struct.unpack("<H", data[8:10]), 10
    elif major in (2, 3):
        (length,), start = struct.unpack("<I", data[8:12]), 12
    else:
        raise ValueError(f"{path}: .npy version {major}")
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    if header.get("descr") != "<f4" or header.get("fortran_order"):
        raise ValueError(f"{path}: header {header}, expected little-endian float32 in C order")
    shape = tuple(header["shape"])
    count = 1
    for d in shape:
        count *= d
    body = data[start + length:]
    if len(body) != 4 * count:
        raise ValueError(f"{path}: {len(body)} bytes of data for shape {shape}")
    return shape, list(struct.unpack(f"<{count}f", body))


# ---------------------------------------------------------------- the connection

class ConnectionLost(Exception):
    pass


class Session:
    """One line-framed connection. Replies are matched by id, and the ids are also logged in arrival order (requests of one
    connection are answered in order, except server/status, initialize and $/cancelRequest); notifications are kept."""

    def __init__(self, path, timeout):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""
        self.replies = {}
        self.notifications = []
        self.next_id = 1
        self.closed = False
        self.arrivals = []  # ids of replies, in the order they arrived

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def new_id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise ConnectionLost(f"cannot send: {e}")

    def send(self, message):
        self.send_raw(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def _read_line(self, deadline):
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply in time")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no reply in time")
            except OSError as e:
                raise ConnectionLost(f"cannot read: {e}")
            if not chunk:
                self.closed = True
                raise ConnectionLost("the daemon closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def _read_message(self, deadline):
        while True:
            line = self._read_line(deadline).strip()
            if not line:
                continue
            try:
                return json.loads(line)
            except ValueError as e:
                raise ConnectionLost(f"the daemon sent a line that is not JSON ({e}): {line[:200]!r}")

    def _file(self, message):
        if isinstance(message, list):
            for item in message:
                self._file(item)
        elif isinstance(message, dict) and "method" in message and "id" not in message:
            self.notifications.append(message)
        elif isinstance(message, dict):
            self.arrivals.append(message.get("id"))
            self.replies.setdefault(json.dumps(message.get("id")), []).append(message)
        else:
            raise ConnectionLost(f"the daemon sent a JSON value that is not a message: {json.dumps(message)[:200]}")

    def wait_reply(self, request_id, timeout=None):
        key = json.dumps(request_id)
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.replies.get(key):
            self._file(self._read_message(deadline))
        reply = self.replies[key].pop(0)
        return reply

    def request(self, method, params=None, request_id=None):
        """Sends a request; returns (id, reply, notifications that arrived meanwhile)."""
        if request_id is None:
            request_id = self.new_id()
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        seen = len(self.notifications)
        self.send(message)
        reply = self.wait_reply(request_id)
        return request_id, reply, self.notifications[seen:]

    def half_close(self):
        """Shuts down the sending side, as `echo … | socat` does; replies can still be read."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            raise ConnectionLost(f"cannot half-close: {e}")

    def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def wait_closed(self, timeout):
        """True when the daemon closes the connection within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._file(self._read_message(deadline))
        except ConnectionLost:
            return self.closed
        except TimeoutError:
            return False


# ---------------------------------------------------------------- the checker

class Checker:
    def __init__(self, doc, checks, session, path=None, timeout=120):
        self.path = path
        self.timeout = timeout
        self.doc = doc
        self.checks = checks
        self.session = session
        self.methods = {m["name"]: m for m in doc["methods"]}
        schemas = doc["components"]["schemas"]
        self.response_schema = inline(doc, schemas["Response"])
        self.error_schema = inline(doc, schemas["ErrorObject"])
        self.result_schemas = {name: inline(doc, m["result"]["schema"]) for name, m in self.methods.items()}
        self.params_schemas = {name: inline(doc, params_schema(m["params"])) for name, m in self.methods.items()}
        progress = next(n for n in doc["x-notifications"] if n.get("name") == "$/progress")
        self.progress_schema = inline(doc, params_schema(progress["params"]))
        self.notification_schema = inline(doc, schemas["Notification"]) if "Notification" in schemas else None
        self.not_found_data = inline(doc, schemas["NotFoundData"]) if "NotFoundData" in schemas else None
        # Which methods were seen answering a result, and which an error: check_coverage fails on a method of the
        # document that never was, so a method cannot silently drop out of the session.
        self.answered = set()
        self.refused = set()

    def envelope_problem(self, request_id, reply):
        problem = first_error(self.response_schema, reply)
        if problem:
            return f"reply envelope {problem}"
        if reply.get("id") != request_id or type(reply.get("id")) is not type(request_id):
            return f"reply id {json.dumps(reply.get('id'))} is not the request's {json.dumps(request_id)}"
        return None

    def call_ok(self, label, method, params=None, request_id=None):
        """A request that must succeed: validates params against the document, the envelope, and the result."""
        self.check_params(label, method, params)
        request_id, reply, notifications = self.session.request(method, params, request_id)
        return self.check_result(label, method, request_id, reply), notifications

    def check_params(self, label, method, params):
        if method in self.params_schemas:
            problem = first_error(self.params_schemas[method], params if params is not None else {})
            self.checks.record(problem is None, f"doc: {label} params are valid for {method}", problem or "")

    def check_result(self, label, method, request_id, reply):
        """Validates a reply that must be a result: the envelope, then the result against the method's schema.
        Returns the result, or None when a check failed."""
        problem = self.envelope_problem(request_id, reply)
        if problem is None and "error" in reply:
            problem = f"error {reply['error'].get('code')}: {reply['error'].get('message')}"
        if problem is None:
            self.answered.add(method)
            schema = self.result_schemas.get(method)
            if schema is None:
                problem = f"method {method} is not in the document"
            else:
                problem = first_error(schema, reply["result"])
                if problem:
                    problem = f"result {problem}"
        name = self.methods.get(method, {}).get("result", {}).get("name", "result")
        self.checks.record(problem is None, f"reply: {label} result matches {method}'s {name} schema", problem or "")
        return reply.get("result") if problem is None else None

    def call_error(self, label, method, params, expected_code, message_contains=None, raw=None, message_equals=None):
        """A request that must fail with `expected_code`: validates the envelope, ErrorObject, and that the code is
        documented for the method. `raw` sends those bytes instead (their reply has id null). `message_contains` and
        `message_equals` check the message."""
        if raw is not None:
            self.session.send_raw(raw)
            request_id = None
            reply = self.session.wait_reply(None)
        else:
            request_id, reply, _ = self.session.request(method, params)
        problem = self.envelope_problem(request_id, reply)
        if problem is None and "error" not in reply:
            problem = f"expected error {expected_code}, got result {json.dumps(reply.get('result'))[:200]}"
        if problem is None:
            error = reply["error"]
            if method is not None:
                self.refused.add(method)
            problem = first_error(self.error_schema, error)
            if problem:
                problem = f"error object {problem}"
            elif error["code"] != expected_code:
                problem = f"expected code {expected_code}, got {error['code']}: {error['message']}"
            elif message_contains and message_contains not in error["message"]:
                problem = f"message {error['message']!r} does not mention {message_contains!r}"
            elif message_equals is not None and error["message"] != message_equals:
                problem = f"message {error['message']!r} is not {message_equals!r}"
            elif method in self.methods and expected_code not in {e.get("code") for e in self.methods[method].get("errors", [])}:
                problem = f"code {expected_code} is not in {method}'s documented errors"
            elif expected_code == 1 and "data" in error and self.not_found_data is not None:
                p = first_error(self.not_found_data, error["data"])
                if p:
                    problem = f"error data {p}"
        self.checks.record(problem is None, f"reply: {label} is error {expected_code} matching ErrorObject",
                           problem or reply["error"]["message"])
        return reply

    def check_progress(self, label, notifications, token, stage, epochs):
        progress = [n for n in notifications if n.get("method") == "$/progress"]
        problems = []
        if len(progress) != epochs:
            problems.append(f"{len(progress)} $/progress notifications for {epochs} epochs")
        for n in progress:
            if self.notification_schema is not None:
                p = first_error(self.notification_schema, n)
                if p:
                    problems.append(f"notification envelope {p}")
                    continue
            p = first_error(self.progress_schema, n.get("params"))
            if p:
                problems.append(f"params {p}")
                continue
            if n["params"]["token"] != token or type(n["params"]["token"]) is not type(token):
                problems.append(f"token {json.dumps(n['params']['token'])} is not {json.dumps(token)}")
            if n["params"]["value"]["stage"] != stage:
                problems.append(f"stage {n['params']['value']['stage']!r} is not {stage!r}")
        epochs_seen = [n["params"]["value"]["epoch"] for n in progress if isinstance(n.get("params"), dict)
                       and isinstance(n["params"].get("value"), dict) and "epoch" in n["params"]["value"]]
        if not problems and epochs_seen != list(range(1, epochs + 1)):
            problems.append(f"epochs reported {epochs_seen}")
        self.checks.record(not problems, f"notify: {label} $/progress notifications match x-notifications",
                           "; ".join(problems[:3]) if problems else f"{len(progress)} notifications")

    def check_cancel(self, model, ds, split, before):
        """A long model/train is listed by server/status while it runs, answers -32800 after $/cancelRequest, and
        leaves the model as it was."""
        s = self.session
        train_id = s.new_id()
        s.send({"jsonrpc": "2.0", "id": train_id, "method": "model/train",
                "params": {"model": model, "dataset": ds, "epochs": 50000, "batchSize": 1}})
        listed = None
        for _ in range(200):
            _, reply, _ = s.request("server/status")
            jobs = reply.get("result", {}).get("jobs", []) if isinstance(reply.get("result"), dict) else []
            listed = next((j for j in jobs if j.get("method") == "model/train" and j.get("target") == model), None)
            if listed is not None or s.replies.get(json.dumps(train_id)):
                break
            time.sleep(0.05)
        problem = first_error(self.result_schemas["server/status"], reply.get("result"))
        self.expect(listed is not None and problem is None,
                    "server/status answers while model/train runs and lists its job",
                    problem or (f"job {listed}" if listed else "no model/train job listed"))
        if listed is not None:
            self.check_discover("rpc.discover (while model/train runs)")
            self.expect(not s.replies.get(json.dumps(train_id)),
                        "rpc.discover is answered at once: its reply overtook the running model/train's")
        # The job registers for cancellation just after it is listed: repeat the cancel until the reply comes.
        reply = None
        for _ in range(12):
            s.notify("$/cancelRequest", {"id": train_id})
            try:
                reply = s.wait_reply(train_id, timeout=5)
                break
            except TimeoutError:
                continue
        if reply is None:
            self.expect(False, "reply: cancelled model/train is error -32800 matching ErrorObject", "no reply after $/cancelRequest")
            return
        problem = self.envelope_problem(train_id, reply)
        if problem is None and "error" not in reply:
            problem = "the training finished instead of being cancelled"
        if problem is None:
            problem = first_error(self.error_schema, reply["error"])
            if problem is None and reply["error"]["code"] != -32800:
                problem = f"expected code -32800, got {reply['error']['code']}: {reply['error']['message']}"
            if problem is None and -32800 not in {e.get("code") for e in self.methods["model/train"].get("errors", [])}:
                problem = "code -32800 is not in model/train's documented errors"
        self.expect(problem is None, "reply: cancelled model/train is error -32800 matching ErrorObject",
                    problem or reply["error"]["message"])
        after, _ = self.call_ok("evaluate (after the cancelled train)", "evaluate", {"model": model, "split": split})
        if before is not None and after is not None:
            same = all(before[k] == after[k] for k in ("retain", "forget", "validation", "test"))
            self.expect(same, "a cancelled model/train leaves the model untouched (same evaluate metrics)")

    def check_pipeline(self, path, timeout, data_dir, tag):
        """On a second connection, a script written in one go without waiting for replies, then a half-close of the
        sending side (as `echo … | socat` does): each request depends on the one before, so it only succeeds when the
        connection's requests run in order. Every reply must come, succeed, and arrive in the order sent, apart from
        server/status, which is answered at once."""
        ds, split, model = f"{tag}-pipe", f"{tag}-pipe-split", f"{tag}-pipe-model"
        script = [
            ("dataset/load", {"name": ds, "path": data_dir, "classes": 3}),
            ("split/create", {"dataset": ds, "forget": {"count": 20}, "seed": 3}),
            ("model/create", {"name": model, "architecture": {"kind": "mlp", "hidden": [8]}, "dataset": ds, "seed": 1}),
            ("server/status", None),
            ("model/train", {"model": model, "dataset": ds, "epochs": 2, "workDoneToken": "pipe-train"}),
            ("evaluate", {"model": model, "split": split}),
            ("attack", {"model": model, "split": split}),
        ]
        try:
            pipe = Session(path, timeout)
        except OSError as e:
            self.expect(False, "pipe: connect a second connection", str(e))
            return
        try:
            sent = []
            data = b""
            for i, (method, params) in enumerate(script, start=1):
                request_id = f"pipe-{i}"
                self.check_params(f"pipe {method}", method, params)
                message = {"jsonrpc": "2.0", "id": request_id, "method": method}
                if params is not None:
                    message["params"] = params
                data += json.dumps(message, separators=(",", ":")).encode() + b"\n"
                sent.append((request_id, method))
            pipe.send_raw(data)  # one write: nothing waits for a reply
            pipe.half_close()
            results = {}
            for request_id, method in sent:
                reply = pipe.wait_reply(request_id)
                results[request_id] = self.check_result(f"pipe {method} ({request_id})", method, request_id, reply)
            self.expect(all(r is not None for r in results.values()),
                        "pipe: every request of the piped script succeeded (each needs the one before: in-order execution)",
                        f"{len(results)} requests")
            ordered = [rid for rid, method in sent if method not in ("server/status", "initialize")]
            arrived = [rid for rid in pipe.arrivals if rid in ordered]
            self.expect(arrived == ordered, "pipe: replies arrived in the order the requests were sent",
                        f"arrived {arrived}" if arrived != ordered else " → ".join(ordered))
            self.check_progress("pipe model/train", pipe.notifications, "pipe-train", "train", 2)
            attack = results.get(f"pipe-{len(sent)}")
            if attack is not None:
                self.expect(attack["kind"] == "simple", "pipe: attack without kind defaults to \"simple\"", f"kind {attack['kind']!r}")
            self.expect(pipe.wait_closed(10), "pipe: after a half-close, the daemon closes the connection once every reply is sent")
        finally:
            pipe.close()

    def check_number_errors(self, model, ds, split):
        """Params are decoded with the field's type: integers must be integral and in range, tokens strings or numbers."""
        self.call_error("non-integral epochs", "model/train", {"model": model, "dataset": ds, "epochs": 2.5}, -32602,
                        message_equals="parameter 'epochs': must be an integer, got 2.5")
        self.call_error("negative seed", "split/create", {"dataset": ds, "forget": {"count": 3}, "seed": -1}, -32602,
                        message_contains="parameter 'seed': -1.0 is out of range (")
        self.call_error("non-integral nested integer", "model/create",
                        {"name": f"{model}-bad", "architecture": {"kind": "mlp", "hidden": [1.5]}, "dataset": ds}, -32602,
                        message_equals="parameter 'architecture.hidden[0]': must be an integer, got 1.5")
        self.call_error("mistyped integer", "model/train", {"model": model, "dataset": ds, "epochs": "2"}, -32602,
                        message_equals="parameter 'epochs' must be an integer")
        self.call_error("workDoneToken neither string nor number", "model/train",
                        {"model": model, "dataset": ds, "epochs": 1, "workDoneToken": {"not": "a token"}}, -32602,
                        message_contains="'workDoneToken'")
        self.call_error("evaluate with workDoneToken (it takes none)", "evaluate",
                        {"model": model, "split": split, "workDoneToken": "t"}, -32602, message_contains="'workDoneToken'")
        self.call_error("forget hyperparameter above 1e9", "forget",
                        {"model": model, "split": split, "method": "finetune", "output": f"{model}-huge",
                         "hyperparameters": {"lr": 2e9}}, -32602, message_contains="'lr'")
        self.call_error("epochs above 100000", "model/train", {"model": model, "dataset": ds, "epochs": 100001}, -32602,
                        message_contains="'epochs'")

    def check_discover(self, label):
        """rpc.discover (OpenRPC service discovery) returns the document: the file this checker read, parsed. It is
        not among the document's methods, so its reply is checked against the file instead of a result schema."""
        request_id, reply, _ = self.session.request("rpc.discover")
        problem = self.envelope_problem(request_id, reply)
        if problem is None and "error" in reply:
            problem = f"error {reply['error'].get('code')}: {reply['error'].get('message')}"
        if problem is None:
            self.answered.add("rpc.discover")
            served = reply["result"]
            if served != self.doc:
                served_methods = [m.get("name") for m in served.get("methods", [])] if isinstance(served, dict) else None
                differ = sorted(k for k in set(served) | set(self.doc) if served.get(k) != self.doc.get(k)) \
                    if isinstance(served, dict) else ["(not an object)"]
                problem = f"the served document differs from the file in {differ}"
                if served_methods is not None and served_methods != [m["name"] for m in self.doc["methods"]]:
                    problem += f"; served methods {served_methods}"
        self.checks.record(problem is None, f"reply: {label} result equals the OpenRPC document",
                           problem or f"{len(self.doc['methods'])} methods, {len(json.dumps(self.doc))} bytes")
        return problem is None

    def check_split_info(self, ds, split, made):
        """split/info reports the parts split/create made, with per-class counts that add up."""
        info, _ = self.call_ok("split/info", "split/info", {"name": split})
        if info is not None:
            parts = ("retain", "forget", "validation", "test")
            counts = {k: info[k]["count"] for k in parts}
            want = {k: made[k] for k in parts} if made is not None else {"retain": 180, "forget": 20, "validation": 50, "test": 50}
            self.expect(info["name"] == split and info["dataset"] == ds and counts == want,
                        "split/info reports the counts split/create made", f"{counts}")
            bad = [k for k in parts if len(info[k]["classCounts"]) != 3 or sum(info[k]["classCounts"]) != info[k]["count"]]
            self.expect(not bad, "split/info: each part's classCounts has one entry per class and sums to its count",
                        f"wrong in {bad}" if bad else "; ".join(f"{k} {info[k]['classCounts']}" for k in parts))
        self.call_error("unknown split (split/info)", "split/info", {"name": "no-such-split"}, 1, "no-such-split")
        self.call_error("split/info without name", "split/info", {}, -32602, "'name'")

    def round_trip(self, model, loaded, data_dir, info):
        """model/save to a file, model/load it under a new name: same fingerprint, shape and size. Returns the path."""
        path = os.path.join(data_dir, f"{model}.safetensors")
        saved, _ = self.call_ok(f"model/save ({model})", "model/save", {"model": model, "path": path})
        if saved is not None:
            size = os.path.getsize(path) if os.path.exists(path) else None
            self.expect(saved["model"] == model and saved["path"] == path and saved["bytes"] == size
                        and saved["fingerprint"] == info["fingerprint"],
                        f"model/save ({model}) writes the file it reports, with model/info's fingerprint",
                        f"bytes {saved['bytes']} (file: {size}), fingerprint {saved['fingerprint']} (model/info: {info['fingerprint']})")
        got, _ = self.call_ok(f"model/load ({model} as {loaded})", "model/load", {"name": loaded, "path": path})
        if got is not None:
            same = {k: (got[k], info[k]) for k in ("fingerprint", "architecture", "inputShape", "classCount", "parameterCount")}
            diff = {k: v for k, v in same.items() if v[0] != v[1]}
            if saved is not None and got["tensors"] != saved["tensors"]:
                diff["tensors"] = (got["tensors"], saved["tensors"])
            self.expect(not diff and got["name"] == loaded, f"model/load ({loaded}) gives back the saved model: same fingerprint, "
                        "architecture, shapes and tensor count", f"differs: {diff}" if diff else f"fingerprint {got['fingerprint']}")
            again, _ = self.call_ok(f"model/info ({loaded})", "model/info", {"model": loaded})
            if again is not None:
                self.expect(again["fingerprint"] == info["fingerprint"],
                            f"model/info ({loaded}) has the saved model's fingerprint",
                            f"{again['fingerprint']} vs {info['fingerprint']}")
        return path

    def check_save_load(self, model, ds, data_dir, tag):
        """model/save and model/load: a round trip keeps the weights (fingerprints and predictions), and the errors."""
        info, _ = self.call_ok("model/info (before model/save)", "model/info", {"model": model})
        if info is None:
            return
        loaded = f"{tag}-loaded"
        path = self.round_trip(model, loaded, data_dir, info)
        a, _ = self.call_ok("model/predict (saved model)", "model/predict", {"model": model, "dataset": ds, "indices": list(range(10))})
        b, _ = self.call_ok("model/predict (loaded model)", "model/predict", {"model": loaded, "dataset": ds, "indices": list(range(10))})
        if a is not None and b is not None:
            self.expect(a["values"] == b["values"], "the loaded model predicts exactly what the saved one does (10 test examples)")
        replaced, _ = self.call_ok("model/load (replace: true over an existing name)", "model/load",
                                   {"name": loaded, "path": path, "replace": True})
        if replaced is not None:
            self.expect(replaced["fingerprint"] == info["fingerprint"], "model/load with replace keeps the fingerprint")
        self.call_error("model/load under an existing name (no replace)", "model/load", {"name": loaded, "path": path}, 2, loaded)
        missing = os.path.join(data_dir, "no-such-file.safetensors")
        self.call_error("model/load of a missing file", "model/load", {"name": f"{tag}-missing", "path": missing}, 1, missing)
        junk = os.path.join(data_dir, "junk.safetensors")
        with open(junk, "wb") as f:
            f.write(b"this is not a safetensors file")
        self.call_error("model/load of a file that is not safetensors", "model/load", {"name": f"{tag}-junk", "path": junk}, 3, junk)
        self.call_error("model/load with an architecture the tensors do not fit", "model/load",
                        {"name": f"{tag}-narrow", "path": path, "architecture": {"kind": "mlp", "hidden": [8]}, "dataset": ds},
                        4, "'1.weight'")
        self.call_error("model/load of an unknown dataset's shape", "model/load",
                        {"name": f"{tag}-nodata", "path": path, "dataset": "no-such-dataset"}, 1, "no-such-dataset")
        self.call_error("model/save of an unknown model", "model/save",
                        {"model": "no-such-model", "path": os.path.join(data_dir, "x.safetensors")}, 1, "no-such-model")
        self.call_error("model/save into a missing directory", "model/save",
                        {"model": model, "path": os.path.join(data_dir, "no-such-dir", "m.safetensors")}, 1, "no-such-dir")
        self.call_error("model/save with an empty path", "model/save", {"model": model, "path": ""}, -32602, "'path'")
        status, _ = self.call_ok("server/status (after model/load)", "server/status")
        if status is not None:
            self.expect(loaded in status["models"] and f"{tag}-missing" not in status["models"]
                        and f"{tag}-junk" not in status["models"] and f"{tag}-narrow" not in status["models"],
                        "server/status lists the loaded model, and no model of a failed model/load")

    def check_predict(self, model, ds, split, data_dir, tag):
        """model/predict: as many rows as asked, the rows of the examples asked for, in order, whatever the source."""
        def close(x, y, tolerance=1e-5):
            return len(x) == len(y) and all(abs(a - b) <= tolerance * max(1.0, abs(a), abs(b)) for a, b in zip(x, y))

        def shaped(result, count, label, accuracy=True):
            values = result.get("values")
            ok = (result["model"] == model and result["count"] == count and result["classCount"] == 3
                  and len(result["predictions"]) == count and isinstance(values, list) and len(values) == count
                  and all(len(row) == 3 for row in values) and ("accuracy" in result) == accuracy and "path" not in result)
            self.expect(ok, f"model/predict ({label}) returns {count} rows of 3 values"
                        + (" and an accuracy" if accuracy else ", no accuracy (inline inputs are unlabelled)"),
                        f"count {result['count']}, {len(values) if isinstance(values, list) else 'no'} rows, "
                        f"accuracy {'given' if 'accuracy' in result else 'absent'}")
            argmax = [max(range(len(row)), key=row.__getitem__) for row in values or []]
            self.expect(result["predictions"] == argmax, f"model/predict ({label}): predictions are each row's arg-max",
                        f"{result['predictions'][:10]}")
            return ok

        pair, _ = self.call_ok("model/predict (test indices [0, 5])", "model/predict", {"model": model, "dataset": ds, "indices": [0, 5]})
        if pair is not None and shaped(pair, 2, "indices [0, 5]"):
            self.expect(pair["output"] == "logits", "model/predict: output defaults to logits", pair["output"])
            rows = []
            for i in (0, 5):
                one, _ = self.call_ok(f"model/predict (test index [{i}])", "model/predict", {"model": model, "dataset": ds, "indices": [i]})
                rows.append(one["values"][0] if one is not None and shaped(one, 1, f"index [{i}]") else None)
            self.expect(all(r is not None for r in rows) and close(pair["values"][0], rows[0]) and close(pair["values"][1], rows[1]),
                        "model/predict: the rows of [0, 5] are the rows of [0] and of [5], in that order",
                        f"pair {pair['values']}, singles {rows}")
            probs, _ = self.call_ok("model/predict (probabilities)", "model/predict",
                                    {"model": model, "dataset": ds, "indices": [0, 5], "output": "probabilities"})
            if probs is not None and shaped(probs, 2, "probabilities"):
                def softmax(row):
                    m = max(row)
                    e = [pow(2.718281828459045, v - m) for v in row]
                    return [v / sum(e) for v in e]
                ok = all(close(p, softmax(l), 1e-5) and abs(sum(p) - 1) <= 1e-5 for p, l in zip(probs["values"], pair["values"]))
                self.expect(ok and probs["output"] == "probabilities",
                            "model/predict: probabilities are the softmax of the logits (rows sum to 1)", f"{probs['values']}")

        whole, _ = self.call_ok("model/predict (the whole test part)", "model/predict", {"model": model, "dataset": ds})
        if whole is not None and shaped(whole, 100, "the whole test part"):
            npy = os.path.join(data_dir, "predict.npy")
            filed, _ = self.call_ok("model/predict (to an .npy file)", "model/predict", {"model": model, "dataset": ds, "path": npy})
            if filed is not None:
                self.expect(filed.get("path") == npy and "values" not in filed and filed["count"] == 100
                            and filed["predictions"] == whole["predictions"],
                            "model/predict with path: reports the path and no values", f"keys {sorted(filed)}")
                try:
                    shape, values = read_npy_float32(npy)
                    rows = [values[i * 3:(i + 1) * 3] for i in range(shape[0])] if len(shape) == 2 else []
                    self.expect(shape == (100, 3) and all(close(r, w, 1e-6) for r, w in zip(rows, whole["values"])),
                                "model/predict with path: the .npy file holds the [count, classCount] values of the reply",
                                f"shape {shape}")
                except (OSError, ValueError) as e:
                    self.expect(False, "model/predict with path: the .npy file holds the [count, classCount] values of the reply", str(e))
        train, _ = self.call_ok("model/predict (the whole train part)", "model/predict", {"model": model, "dataset": ds, "part": "train"})
        if train is not None:
            shaped(train, 200, "the whole train part")
        for subset, count in ((None, 20), ("retain", 180), ("validation", 50), ("test", 50)):
            params = {"model": model, "split": split}
            if subset is not None:
                params["subset"] = subset
            label = f"split, subset {subset or '(default: forget)'}"
            got, _ = self.call_ok(f"model/predict ({label})", "model/predict", params)
            if got is not None:
                shaped(got, count, label)
        inputs = [[0.0] * 64, [1.0] * 64]
        got, _ = self.call_ok("model/predict (inline inputs)", "model/predict", {"model": model, "inputs": inputs})
        if got is not None:
            shaped(got, 2, "2 inline inputs", accuracy=False)

        self.call_error("model/predict with an index out of range", "model/predict",
                        {"model": model, "dataset": ds, "indices": [0, 100]}, -32602, "'indices'")
        self.call_error("model/predict with an input of the wrong size", "model/predict",
                        {"model": model, "inputs": [[0.0] * 63]}, 4, "'inputs[0]'")
        self.call_error("model/predict with two sources", "model/predict", {"model": model, "dataset": ds, "split": split}, -32602)
        self.call_error("model/predict of an unknown model", "model/predict", {"model": "no-such-model", "inputs": [[0.0] * 64]}, 1,
                        "no-such-model")
        self.call_error("model/predict to a missing directory", "model/predict",
                        {"model": model, "dataset": ds, "path": os.path.join(data_dir, "no-such-dir", "p.npy")}, 1, "no-such-dir")

        # A model/predict long enough to be seen running (a ResNet-18 on 1024 inputs): server/status lists it as a
        # job, and its reply still validates.
        wide = f"{tag}-wide"
        if self.call_ok("model/create (resnet18 for a long model/predict)", "model/create",
                        {"name": wide, "dataset": ds, "architecture": {"kind": "resnet18", "width": 16, "cifarStem": True}})[0]:
            self.check_listed_job("model/predict", {"model": wide, "inputs": [[0.5] * 64] * 1024}, wide)

    def check_listed_job(self, method, params, target):
        """Sends `method` on a second connection and polls server/status on this one until the job is listed: the
        status reply (with the job in it) must match server/status's result schema."""
        if self.path is None:
            return
        try:
            other = Session(self.path, self.timeout)
        except OSError as e:
            self.expect(False, f"{method}: connect a second connection", str(e))
            return
        try:
            self.check_params(f"{method} (long, on a second connection)", method, params)
            request_id = other.new_id()
            other.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
            listed, reply = None, None
            deadline = time.monotonic() + 30
            while listed is None and time.monotonic() < deadline:
                status_id, reply, _ = self.session.request("server/status")
                jobs = reply.get("result", {}).get("jobs", []) if isinstance(reply.get("result"), dict) else []
                listed = next((j for j in jobs if j.get("method") == method and j.get("target") == target), None)
                if listed is None:
                    time.sleep(0.005)
            if listed is None:
                self.expect(False, f"server/status lists a running {method} job", "never listed (did it finish at once?)")
            else:
                self.check_result(f"server/status (while {method} runs)", "server/status", status_id, reply)
                self.expect(True, f"server/status lists a running {method} job", json.dumps(listed))
            self.check_result(f"{method} (long, on a second connection)", method, request_id, other.wait_reply(request_id))
        finally:
            other.close()

    def check_coverage(self, shutdown):
        """Every method of the document, and rpc.discover, answered a result; every one that documents errors was
        seen answering one. shutdown and exit end the daemon, so they are only called with --shutdown."""
        exempt = set() if shutdown else {"shutdown", "exit"}
        note = "" if shutdown else "; shutdown and exit not called (they need --shutdown)"
        expected = (set(self.methods) | {"rpc.discover"}) - exempt
        missing = sorted(expected - self.answered)
        self.expect(not missing, "coverage: every method of the document, and rpc.discover, answered a request with a result",
                    f"never answered: {missing}" if missing else f"{len(expected)} methods{note}")
        with_errors = {name for name, m in self.methods.items() if m.get("errors")} - exempt
        missing = sorted(with_errors - self.refused)
        self.expect(not missing, "coverage: every method that documents errors answered at least one error",
                    f"never answered an error: {missing}" if missing else f"{len(with_errors)} methods{note}")

    def check_attacks_and_fleets(self, model, split, tag, data_dir):
        """Every attack kind, the fleets they read (trained once, then reused), fleet/list, and the deletes."""
        for kind, extra in (("mia-efficacy", {}), ("lira", {"shadows": 4}), ("rmia", {"shadows": 4, "variant": "offline"}),
                            ("epsilon", {"models": 2, "hyperparameters": {"epochs": 1}, "workDoneToken": "check-eps"}),
                            ("ulira", {"models": 2, "hyperparameters": {"epochs": 1}})):
            result, notes = self.call_ok(f"attack ({kind})", "attack", {"model": model, "split": split, "kind": kind, **extra})
            if result is None:
                continue
            want = {"mia-efficacy": "efficacy", "epsilon": "forgetQuality"}.get(kind, "auc")
            self.expect(result["kind"] == kind and result["scoreName"] == want, f"attack ({kind}) names its score {want!r}",
                        f"kind {result['kind']!r}, scoreName {result['scoreName']!r}")
            if kind == "rmia":
                self.expect(result["fleets"][0]["reused"] == 4 and result["fleets"][0]["trained"] == 0,
                            "attack (rmia) reuses the shadow fleet lira trained", json.dumps(result["fleets"]))
            if kind == "ulira":
                self.expect([f["reused"] for f in result["fleets"]] == [2, 2], "attack (ulira) reuses the fleets epsilon trained",
                            json.dumps(result["fleets"]))
            if kind == "epsilon":
                stages = {n["params"]["value"]["stage"] for n in notes if n.get("method") == "$/progress"}
                self.expect(any(st.startswith("fleet-") for st in stages), "attack (epsilon) reports its fleet members' progress",
                            f"stages {sorted(stages)[:4]}")
        self.call_error("attack with a parameter its kind does not read", "attack",
                        {"model": model, "split": split, "kind": "lira", "models": 4}, -32602, "models")
        trained, _ = self.call_ok("fleet/train", "fleet/train",
                                  {"kind": "unlearned", "model": model, "split": split, "count": 3, "method": "finetune",
                                   "hyperparameters": {"epochs": 1}})
        if trained is not None:
            self.expect(trained["trained"] == 1 and trained["reused"] == 2, "fleet/train trains only the member the attacks had not",
                        json.dumps({k: trained[k] for k in ("trained", "reused")}))
        if trained is not None:
            # A share of a fleet (members), exported and imported back: nothing new, every member a duplicate.
            share, _ = self.call_ok("fleet/train (a share)", "fleet/train",
                                    {"kind": "unlearned", "model": model, "split": split, "count": 3, "method": "finetune",
                                     "hyperparameters": {"epochs": 1}, "members": [2]})
            if share is not None:
                self.expect(share["trained"] == 0 and share["reused"] == 1, "fleet/train of a share trains only what is missing of it",
                            json.dumps({k: share[k] for k in ("trained", "reused")}))
            bundle, _ = self.call_ok("fleet/export", "fleet/export", {"id": trained["fleet"]["id"], "members": [0, 2]})
            if bundle is not None:
                self.expect([m["seed"] for m in bundle["members"]] == [0, 2] and bundle["format"] == "lethe-fleet",
                            "fleet/export gives the members asked for", json.dumps([m["seed"] for m in bundle["members"]]))
                info, _ = self.call_ok("split/info (fingerprints)", "split/info", {"name": split})
                if info is not None:
                    self.expect(info["fingerprint"] == bundle["splitFingerprint"] and info["dataFingerprint"] == bundle["dataFingerprint"],
                                "split/info shows the fingerprints fleet bundles carry", json.dumps(info.get("fingerprint")))
                imported, _ = self.call_ok("fleet/import", "fleet/import", {"model": model, "split": split, "bundle": bundle})
                if imported is not None:
                    self.expect(imported["imported"] == 0 and imported["duplicates"] == 2 and imported["fleet"]["members"] == 3,
                                "fleet/import counts members the fleet holds once", json.dumps({k: imported[k] for k in ("imported", "duplicates")}))
                self.call_error("fleet/import of another version", "fleet/import",
                                {"model": model, "split": split, "bundle": dict(bundle, version="0.0.0")}, -32602, "version")
            self.call_error("fleet/export of a member the fleet lacks", "fleet/export",
                            {"id": trained["fleet"]["id"], "members": [7]}, -32602, "7")
        self.call_error("fleet/train with an odd shadow count", "fleet/train",
                        {"kind": "shadow", "model": model, "split": split, "count": 3}, -32602, "even")
        self.call_error("fleet/list with a parameter", "fleet/list", {"bogus": 1}, -32602, "bogus")
        listed, _ = self.call_ok("fleet/list", "fleet/list")
        if listed is not None:
            self.expect(sorted(f["kind"] for f in listed["fleets"]) == ["retrained", "shadow", "unlearned"],
                        "fleet/list shows the shadow, retrained and unlearned fleets", json.dumps([f["id"] for f in listed["fleets"]]))
            shadow = next((f for f in listed["fleets"] if f["kind"] == "shadow"), None)
            if shadow is not None:
                deleted, _ = self.call_ok("fleet/delete", "fleet/delete", {"id": shadow["id"]})
                self.expect(deleted is not None and deleted["freedBytes"] == shadow["residentBytes"],
                            "fleet/delete frees what fleet/list showed", json.dumps(deleted))
        self.call_error("fleet/delete of an unknown fleet", "fleet/delete", {"id": "fleet-0"}, 1, "fleet-0")
        self.call_ok("split/create (to delete)", "split/create", {"name": f"{tag}-gone", "dataset": f"{tag}-data", "forget": {"count": 5}})
        self.call_ok("split/delete", "split/delete", {"name": f"{tag}-gone"})
        self.call_error("split/delete of an unknown split", "split/delete", {"name": f"{tag}-gone"}, 1, "gone")
        self.call_ok("model/create (to delete)", "model/create",
                     {"name": f"{tag}-gone", "architecture": {"kind": "mlp", "hidden": [4]}, "dataset": f"{tag}-data"})
        self.call_ok("model/delete", "model/delete", {"name": f"{tag}-gone"})
        self.call_error("model/delete of an unknown model", "model/delete", {"name": f"{tag}-gone"}, 1, "gone")
        self.call_ok("dataset/load (to delete)", "dataset/load", {"name": f"{tag}-gone", "path": data_dir, "classes": 3})
        self.call_ok("dataset/delete", "dataset/delete", {"name": f"{tag}-gone"})
        self.call_error("dataset/delete of an unknown dataset", "dataset/delete", {"name": f"{tag}-none"}, 1, "none")

    def check_library(self, model, tag):
        """model/save without a path puts the model in the library; model/list shows it; model/load reads it by name."""
        saved, _ = self.call_ok("model/save (to the library)", "model/save", {"model": model})
        listed, _ = self.call_ok("model/list", "model/list")
        if saved is not None and listed is not None:
            entry = next((m for m in listed["models"] if m["name"] == model), None)
            self.expect(entry is not None and entry["resident"] and entry["saved"] and entry["path"] == saved["path"],
                        "model/list shows the model resident and saved in the library", json.dumps(entry))
        loaded, _ = self.call_ok("model/load (from the library)", "model/load", {"name": model, "replace": True})
        if saved is not None and loaded is not None:
            self.expect(loaded["fingerprint"] == saved["fingerprint"], "model/load by name gives back the saved weights",
                        f"{loaded['fingerprint']} vs {saved['fingerprint']}")
        self.call_error("model/list with a parameter", "model/list", {"bogus": 1}, -32602, "bogus")
        self.call_error("model/load of a name the library lacks", "model/load", {"name": f"{tag}-never-saved"}, 1, "library")

    def check_runs(self, tag):
        """The run store: the session's jobs are runs; show, export and delete one."""
        listed, _ = self.call_ok("run/list", "run/list", {"kind": "attack", "limit": 3})
        if listed is None or not listed["runs"]:
            self.expect(False, "run/list lists the session's attack runs", json.dumps(listed))
            return
        self.expect(listed["total"] >= 5 and all(r["kind"] == "attack" for r in listed["runs"]) and len(listed["runs"]) == 3,
                    "run/list filters by kind and pages", f"total {listed['total']}, {len(listed['runs'])} runs")
        run_id = listed["runs"][-1]["id"]
        shown, _ = self.call_ok("run/show", "run/show", {"id": run_id})
        if shown is not None:
            self.expect(shown["status"] == "succeeded" and "result" in shown, "run/show has the run's status and result",
                        json.dumps({k: shown.get(k) for k in ("id", "status", "kind")}))
        path = os.path.join(tempfile.mkdtemp(), f"{tag}-runs.jsonl")
        exported, _ = self.call_ok("run/export", "run/export", {"path": path, "kind": "attack"})
        if exported is not None:
            lines = open(path).read().splitlines()
            self.expect(exported["runs"] == listed["total"] == len(lines), "run/export writes one line per selected run",
                        f"{exported['runs']} runs, {len(lines)} lines, total {listed['total']}")
        self.call_error("run/export in an unknown format", "run/export", {"path": path, "format": "xml"}, -32602, "format")
        self.call_error("run/list with an unknown status", "run/list", {"status": "lost"}, -32602, "status")
        self.call_error("run/show of an unknown run", "run/show", {"id": 999999}, 1, "999999")
        self.call_ok("run/delete", "run/delete", {"ids": [run_id]})
        self.call_error("run/delete of a deleted run", "run/delete", {"ids": [run_id]}, 1, str(run_id))

    def check_architectures(self, ds, tag, data_dir):
        """model/create for each kind of the zoo (tiny sizes), and model/info on them."""
        specs = [
            ("cnn", {"kind": "cnn", "channels": [2, 4], "hidden": [8]}),
            ("resnet18", {"kind": "resnet18", "width": 2, "cifarStem": True}),
            ("layers", {"kind": "layers", "layers": [
                {"type": "conv2d", "out": 2, "kernel": 3, "padding": 1, "bias": False}, {"type": "batchnorm2d"},
                {"type": "relu"}, {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"},
                {"type": "dropout", "p": 0.1}, {"type": "linear", "out": 3}]}),
        ]
        for kind, architecture in specs:
            name = f"{tag}-{kind}"
            made, _ = self.call_ok(f"model/create ({kind})", "model/create", {"name": name, "architecture": architecture, "dataset": ds})
            if made is not None:
                self.expect(made["architecture"] == architecture, f"model/create ({kind}) echoes the architecture",
                            json.dumps(made["architecture"])[:200])
                info, _ = self.call_ok(f"model/info ({kind})", "model/info", {"model": name})
                if info is not None:
                    flops = sum(layer["flops"] for layer in info["layers"])
                    self.expect(info["parameterCount"] == made["parameterCount"] and info["flopsPerExample"] == flops
                                and info["layers"][-1]["outputShape"] == [3] and not info["trained"],
                                f"model/info ({kind}) agrees with model/create and sums its layers",
                                f"{len(info['layers'])} layers, {info['parameterCount']} parameters, {flops} FLOPs")
                    if kind == "layers":
                        # A model with BatchNorm buffers (running statistics, num_batches_tracked) survives the file.
                        self.round_trip(name, f"{name}-loaded", data_dir, info)
        self.call_error("unknown field inside a layer", "model/create",
                        {"name": f"{tag}-layerfield", "dataset": ds, "architecture": {"kind": "layers", "layers": [
                            {"type": "flatten", "bogus": 1}, {"type": "linear", "out": 3}]}}, -32602,
                        message_equals="unknown parameter 'architecture.layers[0].bogus'")
        self.call_error("layers architecture without layers", "model/create",
                        {"name": f"{tag}-nolayers", "architecture": {"kind": "layers"}, "dataset": ds}, 4)
        self.call_error("unknown architecture kind", "model/create",
                        {"name": f"{tag}-bogus", "architecture": {"kind": "bogus"}, "dataset": ds}, -32602, "'architecture.kind'")

    def expect(self, ok, name, detail=""):
        self.checks.record(ok, name, detail)

    def run(self, data_dir, shutdown):
        s = self.session
        # Names unique to this run, so the script can run again against the same daemon.
        tag = f"check{os.getpid()}-{int(time.time()) % 100000}"
        ds, split, model = f"{tag}-data", f"{tag}-data-split", f"{tag}-model"

        init, _ = self.call_ok("initialize", "initialize", {"clientInfo": {"name": "check_replies.py", "version": "1"}})
        self.call_error("initialize with an unknown param", "initialize", {"bogus": 1}, -32602,
                        message_equals="unknown parameter 'bogus'")
        self.check_discover("rpc.discover")
        documented = set(self.methods)
        if init is not None:
            reported = init["capabilities"]["methods"]
            missing, extra = documented - set(reported), set(reported) - documented
            detail = "; ".join(x for x in [f"documented but not served: {sorted(missing)}" if missing else "",
                                           f"served but not documented: {sorted(extra)}" if extra else "",
                                           "capabilities.methods has duplicates" if len(reported) != len(set(reported)) else ""] if x)
            self.expect(not detail, "methods: the document's methods equal initialize's capabilities.methods",
                        detail or f"{len(documented)} methods")
        else:
            self.expect(False, "methods: the document's methods equal initialize's capabilities.methods", "no initialize result")

        self.call_ok("server/status", "server/status")

        loaded, _ = self.call_ok("dataset/load", "dataset/load", {"name": ds, "path": data_dir, "classes": 3})
        if loaded is not None:
            got = (loaded["trainCount"], loaded["testCount"], loaded["exampleShape"], loaded["classCount"])
            self.expect(got == (200, 100, [1, 8, 8], 3), "dataset/load reads the synthetic IDX dataset",
                        f"trainCount, testCount, exampleShape, classCount = {got}")

        made, _ = self.call_ok("split/create", "split/create", {"dataset": ds, "forget": {"fraction": 0.1}})
        if made is not None:
            self.expect(made["name"] == split and made["forget"] == 20 and made["retain"] == 180,
                        "split/create names the split \"<dataset>-split\" and takes 10% of 200",
                        f"name {made['name']!r}, forget {made['forget']}, retain {made['retain']}")

        self.call_ok("model/create", "model/create",
                     {"name": model, "architecture": {"kind": "mlp", "hidden": [16]}, "dataset": ds})

        trained, notes = self.call_ok("model/train", "model/train",
                                      {"model": model, "dataset": ds, "epochs": 2, "workDoneToken": "check-train"})
        self.check_progress("model/train", notes, "check-train", "train", 2)

        for method, token in (("finetune", 7), ("retrain", None)):
            params = {"model": model, "split": split, "method": method, "hyperparameters": {"epochs": 1}}
            if token is not None:
                params["workDoneToken"] = token
            out, notes = self.call_ok(f"forget ({method})", "forget", params)
            if out is not None:
                self.expect(out["model"] == f"{model}-{method}" and out["source"] == model
                            and out["hyperparameters"].get("epochs") == 1,
                            f"forget ({method}) writes \"<model>-<method>\" with the given epochs",
                            f"model {out['model']!r}, hyperparameters {out['hyperparameters']}")
                if method == "retrain":
                    # The values it ran with: the source recipe (model/train's defaults here), as float32, not -1 markers.
                    h = out["hyperparameters"]
                    want = {"epochs": 1, "batchSize": 128, "lr": 0.05, "momentum": 0.9, "weightDecay": 5e-4}
                    ok = all(abs(h.get(k, -1) - v) <= 1e-6 * max(1, abs(v)) for k, v in want.items())
                    self.expect(ok, "forget (retrain) reports the hyperparameters it used (the source recipe, no -1 markers)",
                                json.dumps(h))
            if token is not None:
                self.check_progress(f"forget ({method})", notes, token, method, 1)

        before, _ = self.call_ok("evaluate", "evaluate", {"model": model, "split": split})
        self.call_ok("evaluate (finetuned model)", "evaluate", {"model": f"{model}-finetune", "split": split})
        self.call_ok("attack", "attack", {"model": model, "split": split, "kind": "simple"})
        attacked, _ = self.call_ok("attack (no kind)", "attack", {"model": model, "split": split, "seed": 1})
        if attacked is not None:
            self.expect(attacked["kind"] == "simple", "attack without kind defaults to \"simple\"", f"kind {attacked['kind']!r}")
            self.expect(attacked["balance"] == "both" and attacked["members"] == attacked["nonMembers"] and attacked["chanceLevel"] == 0.5,
                        "attack balances both sides by default, so its chance level is 0.5", json.dumps(attacked))
        kit, _ = self.call_ok("attack (balance kit)", "attack", {"model": model, "split": split, "balance": "kit"})
        if kit is not None:
            unequal = kit["members"] != kit["nonMembers"]
            self.expect(kit["balance"] == "kit" and unequal == ("note" in kit),
                        "attack with the kit's procedure carries a note exactly when the two sides differ in size", json.dumps(kit))
            majority = max(kit["members"], kit["nonMembers"]) / (kit["members"] + kit["nonMembers"])
            self.expect(abs(kit["chanceLevel"] - majority) < 0.02, "the kit's chance level is about the majority-class rate",
                        f"chanceLevel {kit['chanceLevel']}, majority rate {majority:.4f}")
        self.call_error("unknown balance", "attack", {"model": model, "split": split, "balance": "half"}, -32602, "balance")
        compared, _ = self.call_ok("compare", "compare", {"model": model, "split": split, "methods": ["finetune", "cf-k"], "seeds": [0, 1],
                                                          "hyperparameters": {"finetune": {"epochs": 1}, "cf-k": {"epochs": 1}, "retrain": {"epochs": 1}}})
        if compared is not None:
            methods = [r["method"] for r in compared["rows"]]
            self.expect(methods == ["none", "retrain", "finetune", "cf-k"], "compare's rows: none, retrain, then the methods asked", json.dumps(methods))
            retrain = compared["rows"][1]
            self.expect(retrain["averageGap"]["mean"] == 0 and retrain["timeFraction"] == 1, "retrain is compare's reference (gap 0, time 1)",
                        json.dumps(retrain))
        self.check_attacks_and_fleets(model, split, tag, data_dir)
        self.check_runs(tag)
        self.check_library(model, tag)
        self.call_error("compare with an unknown method", "compare", {"model": model, "split": split, "methods": ["forgetful"]}, -32602, "forgetful")
        self.call_ok("model/info", "model/info", {"model": model})
        self.call_error("unknown model (model/info)", "model/info", {"model": "no-such-model"}, 1, "no-such-model")

        self.check_split_info(ds, split, made)
        self.check_save_load(model, ds, data_dir, tag)
        self.check_predict(model, ds, split, data_dir, tag)

        # An empty validation set: its metrics are NaN, which the daemon encodes as the string "NaN".
        self.call_ok("split/create (validationFraction 0)", "split/create",
                     {"name": f"{tag}-noval", "dataset": ds, "forget": {"count": 10}, "validationFraction": 0, "seed": 1})
        empty, _ = self.call_ok("evaluate (empty validation set)", "evaluate", {"model": model, "split": f"{tag}-noval"})
        if empty is not None:
            self.expect(empty["validation"]["count"] == 0, "evaluate reports an empty validation set",
                        f"validation {empty['validation']}")

        self.check_cancel(model, ds, split, before)
        self.check_number_errors(model, ds, split)
        self.check_architectures(ds, tag, data_dir)
        if self.path is not None:
            self.check_pipeline(self.path, self.timeout, data_dir, tag)

        status, _ = self.call_ok("server/status (string id, after the session)", "server/status", None, "status-2")
        if status is not None:
            want = {model, f"{model}-finetune", f"{model}-retrain"}
            self.expect(ds in status["datasets"] and split in status["splits"] and want <= set(status["models"]),
                        "server/status lists the session's dataset, split and models",
                        f"datasets {status['datasets']}, splits {status['splits']}, models {status['models']}")

        self.call_ok("$/cancelRequest (with an id, unknown target)", "$/cancelRequest", {"id": 999999})

        # Error replies.
        self.call_error("unknown method", "lethe/no-such-method", None, -32601)
        self.call_error("missing param (evaluate without split)", "evaluate", {"model": model}, -32602, "'split'")
        self.call_error("unknown param (server/status {bogus})", "server/status", {"bogus": True}, -32602, "'bogus'")
        self.call_error("params as an array", "model/create", [model], -32602)
        self.call_error("unknown model", "evaluate", {"model": "no-such-model", "split": split}, 1, "no-such-model")
        self.call_error("unknown split", "attack", {"model": model, "split": "no-such-split", "kind": "simple"}, 1)
        self.call_error("existing model (model/create)", "model/create",
                        {"name": model, "architecture": {"kind": "mlp"}, "dataset": ds}, 2)
        self.call_error("existing output (forget)", "forget",
                        {"model": model, "split": split, "method": "finetune", "hyperparameters": {"epochs": 1}}, 2)
        self.call_error("missing dataset directory", "dataset/load",
                        {"name": "check-missing", "path": os.path.join(data_dir, "no-such-dir")}, 1)
        self.call_error("invalid request (jsonrpc 1.0)", None, None, -32600,
                        raw=b'{"jsonrpc":"1.0","method":"server/status"}\n')
        self.call_error("malformed JSON", None, None, -32700, raw=b'{"jsonrpc": "2.0", "id": \n')
        self.call_ok("server/status after a parse error (the connection stays usable)", "server/status")

        if shutdown:
            self.call_ok("shutdown", "shutdown")
            self.call_error("server/status after shutdown", "server/status", None, 6)
            self.call_error("initialize after shutdown", "initialize", None, 6)
            self.call_error("a second shutdown", "shutdown", None, 6)
            self.call_error("split/info after shutdown", "split/info", {"name": split}, 6)
            self.call_error("unknown method after shutdown (still -32601)", "lethe/no-such-method", None, -32601)
            self.call_ok("$/cancelRequest after shutdown", "$/cancelRequest", {"id": 999998})
            # Handled before dispatch, like exit and $/cancelRequest: still answered.
            self.check_discover("rpc.discover after shutdown")
            # exit sent as a request: answered null, then the process exits (code 0 after shutdown; the Makefile's
            # protocol-check sees the code).
            self.call_ok("exit (as a request, after shutdown)", "exit")
            self.expect(s.wait_closed(10), "exit: the daemon closes the connection after its reply")

        self.check_coverage(shutdown)

    def run_exit_only(self):
        """exit without shutdown: answered null, then the daemon goes (with code 1, which the caller checks)."""
        self.call_ok("exit (as a request, without shutdown)", "exit")
        self.expect(self.session.wait_closed(10), "exit: the daemon closes the connection after its reply")


def main():
    parser = argparse.ArgumentParser(description="Validate a running lethed's replies against Protocol/lethe.openrpc.json.")
    parser.add_argument("socket", help="the daemon's Unix socket")
    parser.add_argument("--doc", default=DEFAULT_DOC, help="the OpenRPC document (default: next to this script)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for each reply (default 120)")
    parser.add_argument("--shutdown", action="store_true", help="end with shutdown and exit (the daemon exits)")
    parser.add_argument("--exit-only", action="store_true",
                        help="skip the session: only send exit, without shutdown (the daemon exits, with code 1)")
    args = parser.parse_args()

    checks = Checks()
    try:
        with open(args.doc, encoding="utf-8") as f:
            doc = json.load(f)
        checks.record(True, f"doc: {os.path.basename(args.doc)} is JSON")
    except (OSError, ValueError) as e:
        checks.record(False, f"doc: {args.doc} is JSON", str(e))
        doc = None

    if doc is not None and check_document(doc, checks):
        data_dir = tempfile.mkdtemp(prefix="lethe-check-")
        session = None
        try:
            write_synthetic_dataset(data_dir)
            try:
                session = Session(args.socket, args.timeout)
                checks.record(True, f"connect: {args.socket}")
            except OSError as e:
                checks.record(False, f"connect: {args.socket}", str(e))
            if session is not None:
                try:
                    checker = Checker(doc, checks, session, args.socket, args.timeout)
                    if args.exit_only:
                        checker.run_exit_only()
                    else:
                        checker.run(data_dir, args.shutdown)
                except (ConnectionLost, TimeoutError) as e:
                    checks.record(False, "session: the connection stayed up and every reply came", str(e))
        finally:
            if session is not None:
                session.close()
            shutil.rmtree(data_dir, ignore_errors=True)
    elif doc is not None:
        checks.record(False, "session: skipped because the document is not usable")

    print(f"{checks.passed} passed, {checks.failed} failed")
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
