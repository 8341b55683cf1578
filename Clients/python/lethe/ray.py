"""Fleets over a Ray cluster: shares of a fleet train on every node's ``lethed`` and join the coordinating daemon's fleet.

The challenge's metric reads hundreds of retrained and unlearned models, and LiRA hundreds of shadows; this module
spreads them over the nodes of a Ray cluster (``pip install ray``; this module imports it only when called)::

    import ray, lethe, lethe.ray

    ray.init(address="auto")                                  # or ray.init(num_cpus=2) on one machine
    dataset = {"path": "/data/fashion-mnist"}                 # the same files on every node
    split = {"forget": {"fraction": 0.1}, "seed": 0}
    with lethe.Client() as client:                            # the coordinating daemon
        client.load_dataset(name="fmnist", **dataset)
        client.create_split("fmnist", name="s", fraction=0.1, seed=0)
        ...                                                   # model "m" trained or loaded
        lethe.ray.train_fleet(client, "retrained", "m", "s", 512, dataset=dataset, split_params=split)
        lethe.ray.train_fleet(client, "unlearned", "m", "s", 512, dataset=dataset, split_params=split,
                              method="finetune")
        client.attack("m", "s", kind="epsilon", models=512, method="finetune")   # trains nothing

How it works (Docs/ScaleOut.md): the coordinator's model is saved and shipped to the tasks through Ray's object
store. Each task runs on some node, starts that node's ``lethed`` on ``worker_socket`` when none answers there
(:func:`lethe.start_daemon`), loads the dataset from the same files, creates the split with the same params and loads
the model (once per daemon; later tasks reuse them), checks that the data, split and model fingerprints equal the
coordinator's, trains its share of the fleet (``fleet/train`` with ``members``, ``threads_per_model`` threads per
member) and returns ``fleet/export``'s bundle. The coordinator imports each bundle (``fleet/import``), which checks
model, data, split, recipe and version again and counts a member it already holds once, so a task Ray retries after a
lost node adds nothing twice. ``attack`` and ``compare`` then read the fleet as if this daemon had trained it: with the
same seeds and one thread per member, the members are bit for bit the ones one daemon trains.
"""

import fcntl
import os
import tempfile
import time

from .client import Client
from .daemon import start_daemon
from .errors import ConnectionLost, DaemonUnavailable, LetheError, NotFound, ShuttingDown

__all__ = ["train_fleet", "stop_daemons", "default_worker_socket", "FleetSetupError"]

#: Imports are cut into calls of at most this many bytes of member data (lethed refuses frames over 16 MiB by default).
_IMPORT_CHUNK_BYTES = 8 << 20


class FleetSetupError(LetheError):
    """A node's daemon does not hold what the coordinator holds (other data files, another split, another model or
    Lethe version). Not retried: the same task would fail the same way."""


def default_worker_socket():
    """Where tasks look for (and start) their node's daemon: ``$LETHE_RAY_SOCKET``, else
    ``<tmp>/lethe-ray-<uid>/lethed.sock``, apart from a user's interactive daemon."""
    return os.environ.get("LETHE_RAY_SOCKET") or os.path.join(
        tempfile.gettempdir(), "lethe-ray-{}".format(os.getuid()), "lethed.sock")


def train_fleet(client, kind, model, split, count, *, dataset, split_params, seed=None, method=None,
                hyperparameters=None, members_per_task=1, threads_per_model=1, worker_socket=None, lethed=None,
                lethed_args=(), max_retries=3, runtime_env=None, skip_held=True, progress=None):
    """Trains a fleet of ``client``'s daemon over the Ray cluster and imports it there.

    - ``kind``, ``model``, ``split``, ``count``, ``seed``, ``method``, ``hyperparameters``: as ``fleet/train`` on the
      coordinating daemon (``model`` and ``split`` are its names; for shadows ``model`` is the original).
    - ``dataset``: ``dataset/load`` params that load the same data on every node (``path``, ``format``, ``classes``,
      ``normalize``, …; the name is chosen here). ``split_params``: the ``split/create`` params the coordinator's
      split was made with (``forget``, ``validationFraction``, ``seed``; name and dataset are set here). Both are
      checked by fingerprint on every node before anything trains.
    - ``members_per_task``: members each task trains side by side (a retry repeats that many); each task asks Ray
      for ``members_per_task * threads_per_model`` CPUs.
    - ``worker_socket``, ``lethed``, ``lethed_args``: where the nodes' daemons listen (default
      :func:`default_worker_socket`), the ``lethed`` to start when none answers (default ``$LETHED`` or ``PATH``),
      and its extra options.
    - ``max_retries``: Ray's retries of a task whose worker or node died, or whose daemon connection broke.
    - ``runtime_env``: Ray's runtime environment for the tasks (e.g. ``{"py_modules": [lethe]}`` when the nodes do not
      have this package installed, or ``env_vars``).
    - ``skip_held``: members the coordinator's fleet already holds (found in ``fleet/list`` by kind, split, model
      fingerprint, method and hyperparameters, shadow count and seed) are not sent to the cluster again.
    - ``progress``: called with ``(members_done, count)`` as shares arrive.

    Returns ``{"fleet": <fleet/list entry>, "imported": n, "duplicates": n, "held": n, "tasks": n, "seconds": s}``:
    members imported, members a retried task sent again (counted once), members skipped because the coordinator held
    them already.
    """
    import ray  # imported here so that ``import lethe`` never needs Ray

    if count < 1:
        raise ValueError("count must be at least 1")
    if members_per_task < 1 or threads_per_model < 1:
        raise ValueError("members_per_task and threads_per_model must be at least 1")
    cpus = members_per_task * threads_per_model
    largest = max((node.get("Resources", {}).get("CPU", 0) for node in ray.nodes() if node.get("Alive")), default=0)
    if cpus > largest:
        raise ValueError("a task of {} members at {} threads each needs {} CPUs on one node, and the largest node of this "
                         "Ray cluster has {:g}: lower members_per_task or threads_per_model".format(
                             members_per_task, threads_per_model, cpus, largest))
    start = time.monotonic()
    first = 0 if seed is None else seed
    seeds = list(range(count)) if kind == "shadow" else [first + i for i in range(count)]

    # What every node must hold, from the coordinator: its fingerprints and its model's file.
    info = client.split_info(split)
    expected = {"data": info["dataFingerprint"], "split": info["fingerprint"],
                "model": client.model_info(model)["fingerprint"]}
    held_in = _matching(client, kind, split, expected["model"], first, count, method, hyperparameters) if skip_held else []
    held = {s for f in held_in for s in f["seeds"]} & set(seeds)
    seeds = [s for s in seeds if s not in held]
    shares = [seeds[i:i + members_per_task] for i in range(0, len(seeds), members_per_task)]
    if not shares:
        return {"fleet": held_in[0],
                "imported": 0, "duplicates": 0, "held": count, "tasks": 0, "seconds": time.monotonic() - start}
    with tempfile.TemporaryDirectory(prefix="lethe-ray-") as directory:
        path = os.path.join(directory, "model.safetensors")
        client.save_model(model, path=path)
        with open(path, "rb") as f:
            model_file = f.read()
    fleet_params = {"kind": kind, "count": count, "threadsPerModel": threads_per_model}
    if seed is not None:
        fleet_params["seed"] = seed
    if method is not None:
        fleet_params["method"] = method
    if hyperparameters is not None:
        fleet_params["hyperparameters"] = hyperparameters
    spec = {"dataset": dict(dataset), "split": dict(split_params), "expected": expected, "fleet": fleet_params,
            "socket": worker_socket or default_worker_socket(), "lethed": lethed, "lethedArgs": list(lethed_args)}

    options = {"num_cpus": cpus, "max_retries": max_retries,
               "retry_exceptions": [DaemonUnavailable, ConnectionLost]}
    if runtime_env is not None:
        options["runtime_env"] = runtime_env
    task = ray.remote(_train_share).options(**options)
    model_ref = ray.put(model_file)
    spec_ref = ray.put(spec)
    pending = [task.remote(spec_ref, model_ref, share) for share in shares]
    imported = duplicates = 0
    fleet = None
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            bundle = ray.get(done[0])
            for part in _chunks(bundle):
                r = client.call("fleet/import", model=model, split=split, bundle=part)
                imported += r["imported"]
                duplicates += r["duplicates"]
                fleet = r["fleet"]
            if progress is not None:
                progress(len(held) + imported + duplicates, count)
    except BaseException:
        for ref in pending:
            ray.cancel(ref)
        raise
    return {"fleet": fleet, "imported": imported, "duplicates": duplicates, "held": len(held), "tasks": len(shares),
            "seconds": time.monotonic() - start}


def _matching(client, kind, split, model_fingerprint, seed, count, method, hyperparameters):
    """The coordinator's fleets that hold members of this fleet: same kind, split, model weights, method and
    hyperparameters (unlearned), shadow count and seed (shadow)."""
    found = []
    for f in client.fleets():
        if f["kind"] != kind or f["split"] != split or f["modelFingerprint"] != model_fingerprint:
            continue
        if kind == "unlearned" and (f.get("method") != (method or "finetune")
                                    or (f.get("hyperparameters") or {}) != (hyperparameters or {})):
            continue
        if kind == "shadow" and (f.get("shadowSeed") != seed or f.get("shadowCount") != count):
            continue
        found.append(f)
    return found


def stop_daemons(worker_socket=None):
    """Shuts down the daemon the tasks started on every alive node of the cluster (one task pinned to each node);
    returns the number of daemons that answered. The nodes' fleets and datasets go with them."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    path = worker_socket or default_worker_socket()
    stop = ray.remote(_stop_daemon)
    refs = [stop.options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)).remote(path)
            for node in ray.nodes() if node.get("Alive")]
    return sum(ray.get(refs))


def _stop_daemon(path):
    try:
        with Client(path, timeout=60) as c:
            c.shutdown()
        return 1
    except (DaemonUnavailable, ConnectionLost, ShuttingDown):
        return 0  # none there, or already stopping


def _chunks(bundle):
    """The bundle cut into bundles of whole members, each at most _IMPORT_CHUNK_BYTES of member data."""
    members, part, size = bundle["members"], [], 0
    for m in members:
        n = sum(len(v) for v in m.values() if isinstance(v, str))
        if part and size + n > _IMPORT_CHUNK_BYTES:
            yield dict(bundle, members=part)
            part, size = [], 0
        part.append(m)
        size += n
    if part:
        yield dict(bundle, members=part)


def _train_share(spec, model_file, share):
    """One Ray task: this node's daemon trains ``share`` of the fleet and returns its ``fleet/export`` bundle."""
    socket_path = spec["socket"]
    directory = os.path.dirname(socket_path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    # One task at a time starts and sets up a node's daemon; the others then find it and what it loaded.
    with open(os.path.join(directory, "setup.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        start_daemon(socket_path, lethed=spec["lethed"], args=spec["lethedArgs"])
        c = Client(socket_path)
        try:
            names = _prepare(c, spec, model_file, directory)
        except BaseException:
            c.close()
            raise
    with c:
        r = c.call("fleet/train", params=dict(spec["fleet"], model=names["model"], split=names["split"], members=share))
        bundle = c.call("fleet/export", id=r["fleet"]["id"], members=share)
    _fault_for_tests(share)
    return bundle


def _prepare(c, spec, model_file, directory):
    """Loads the dataset, creates the split and loads the model on this node's daemon unless an earlier task did,
    under names made from the coordinator's fingerprints; checks every fingerprint against the coordinator's."""
    expected = spec["expected"]
    names = {"dataset": "ray-data-" + expected["data"], "split": "ray-split-" + expected["split"],
             "model": "ray-model-" + expected["model"]}
    try:
        info = c.split_info(names["split"])
    except NotFound:
        c.call("dataset/load", params=dict(spec["dataset"], name=names["dataset"]))
        c.call("split/create", params=dict(spec["split"], name=names["split"], dataset=names["dataset"]))
        info = c.split_info(names["split"])
    if info["dataFingerprint"] != expected["data"]:
        raise FleetSetupError("the data on this node has fingerprint {} but the coordinator's is {}: give every node the "
                              "same dataset files ({})".format(info["dataFingerprint"], expected["data"], spec["dataset"]))
    if info["fingerprint"] != expected["split"]:
        raise FleetSetupError("split/create with {} makes split {} on this node but the coordinator's split is {}: pass "
                              "the params the coordinator's split was made with".format(spec["split"], info["fingerprint"], expected["split"]))
    try:
        held = c.model_info(names["model"])["fingerprint"]
    except NotFound:
        path = os.path.join(directory, "{}.safetensors".format(names["model"]))
        temporary = "{}.{}.part".format(path, os.getpid())
        with open(temporary, "wb") as f:
            f.write(model_file)
        os.replace(temporary, path)
        c.load_model(names["model"], path=path)
        held = c.model_info(names["model"])["fingerprint"]
    if held != expected["model"]:
        raise FleetSetupError("model {} on this node has weights {} but the coordinator's are {}".format(
            names["model"], held, expected["model"]))
    return names


def _fault_for_tests(share):
    """Fault injection for the retry test: with ``LETHE_RAY_LOSE_FIRST_ATTEMPT`` naming a directory, the first attempt
    at each share ends its worker process after the work is done and before the result is returned, as a lost node
    would; Ray then retries it."""
    directory = os.environ.get("LETHE_RAY_LOSE_FIRST_ATTEMPT")
    if not directory:
        return
    marker = os.path.join(directory, "share-" + "-".join(str(s) for s in share))
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
