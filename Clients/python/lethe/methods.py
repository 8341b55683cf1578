"""Pythonic helpers for the daemon's methods.

Each helper builds the method's params (dropping arguments left as None) and
returns what :meth:`lethe.Client.call` returns: the result, usually a dict with
the protocol's camelCase keys, exactly as ``Protocol/lethe.openrpc.json``
describes it. Extra keyword arguments are passed on as params, snake_case
converted to camelCase (``batch_size=64`` is ``batchSize``). Every helper takes
``timeout`` (seconds; default: the client's); the ones whose method reports
progress also take ``progress``, a callable given each ``$/progress`` value.
"""

from .naming import camel_case
from .npy import load_npy

_DEFAULT = object()


def _params(named, options):
    """The params dict: named arguments that are not None, then ``options``, all camelCased."""
    params = {}
    for key, value in list(named.items()) + list(options.items()):
        if value is None:
            continue
        if callable(value):
            raise TypeError("{!r} is not a parameter of this method (only methods that report "
                            "progress take a progress callback)".format(key))
        wire = camel_case(key)
        if wire in params:
            raise TypeError("parameter {!r} given twice".format(wire))
        params[wire] = value
    return params


class Methods:
    """Mixin of :class:`lethe.Client`: one helper per daemon method. Needs ``call``."""

    def _invoke(self, method, named, options, progress=None, timeout=_DEFAULT):
        kwargs = {} if timeout is _DEFAULT else {"timeout": timeout}
        return self.call(method, progress=progress, params=_params(named, options), **kwargs)

    # ------------------------------------------------------------------ server

    def initialize(self, client_name="lethe-python", client_version=None, timeout=_DEFAULT):
        """``initialize`` (optional): returns ``serverInfo`` and ``capabilities``
        (``methods``, ``unlearningMethods``, ``attacks``, ``architectures``, ``framings``)."""
        if client_version is None:
            from . import __version__ as client_version
        info = {"name": client_name, "version": client_version}
        return self._invoke("initialize", {"clientInfo": info}, {}, timeout=timeout)

    def status(self, timeout=_DEFAULT):
        """``server/status``: version, pid, uptime, threads, the resident datasets,
        splits, models and fleets with their bytes, and the running jobs. Answered
        at once, even while jobs run."""
        return self._invoke("server/status", {}, {}, timeout=timeout)

    def discover(self, timeout=_DEFAULT):
        """``rpc.discover``: the daemon's OpenRPC document (a dict)."""
        return self._invoke("rpc.discover", {}, {}, timeout=timeout)

    def shutdown(self, exit=True, timeout=_DEFAULT):
        """Stops the daemon: ``shutdown`` (running jobs finish, new requests are
        refused with error 6), then, with ``exit`` (default), ``exit``, after which
        the daemon closes the connection and quits with code 0."""
        self._invoke("shutdown", {}, {}, timeout=timeout)
        if exit:
            self._invoke("exit", {}, {}, timeout=timeout)
            conn = self._conn
            if conn is not None:
                self._drop(conn)

    # ------------------------------------------------------------------ data

    def load_dataset(self, name=None, path=None, classes=None, format=None, timeout=_DEFAULT, **options):
        """``dataset/load``: loads a dataset into the daemon's memory and returns
        ``name, origin, trainCount, testCount, exampleShape, classCount, seconds, ...``.

        With no arguments, Fashion-MNIST as ``"fashion-mnist"`` from the daemon's
        default path. ``format`` is ``idx`` (default), ``npy``, ``npz``,
        ``cifar10`` or ``csv``; other options (``files``, ``layout``,
        ``label_column``, ``normalize``, ``augment``, ...) go through ``options``.
        Loading under an existing name replaces that dataset."""
        named = {"name": name, "path": path, "classes": classes, "format": format}
        return self._invoke("dataset/load", named, options, timeout=timeout)

    def delete_dataset(self, name, timeout=_DEFAULT):
        """``dataset/delete``: frees a dataset; returns ``deleted, fleets, freedBytes``."""
        return self._invoke("dataset/delete", {"name": name}, {}, timeout=timeout)

    def create_split(self, dataset, name=None, fraction=None, count=None, classes=None, indices=None,
                     indices_file=None, groups=None, random_groups=None, forget=None,
                     validation_fraction=None, seed=None, timeout=_DEFAULT, **options):
        """``split/create``: chooses a forget set from ``dataset``'s training part
        and carves a validation part from its test part. Returns ``name, dataset,
        retain, forget, validation, test, seed`` (the sizes).

        Give exactly one way to choose the forget set: ``fraction`` (in (0, 1)),
        ``count``, ``classes`` (whole classes), ``indices``, ``indices_file`` (an
        .npy of indices), ``groups`` or ``random_groups``; or the protocol's
        ``forget`` object itself. ``name`` defaults to ``"<dataset>-split"``,
        ``validation_fraction`` to 0.5, ``seed`` to 0."""
        spec = _params({"fraction": fraction, "count": count, "classes": classes, "indices": indices,
                        "indices_file": indices_file, "groups": groups, "random_groups": random_groups}, {})
        if forget is not None:
            if spec:
                raise TypeError("give either forget=... or one of fraction, count, classes, indices, "
                                "indices_file, groups, random_groups")
            spec = forget
        elif len(spec) != 1:
            raise TypeError("give exactly one of fraction, count, classes, indices, indices_file, groups, "
                            "random_groups (got {})".format(", ".join(sorted(spec)) or "none"))
        named = {"dataset": dataset, "name": name, "forget": spec,
                 "validation_fraction": validation_fraction, "seed": seed}
        return self._invoke("split/create", named, options, timeout=timeout)

    def split_info(self, name, timeout=_DEFAULT):
        """``split/info``: a split's parts with their counts, per-class counts and groups."""
        return self._invoke("split/info", {"name": name}, {}, timeout=timeout)

    def delete_split(self, name, timeout=_DEFAULT):
        """``split/delete``: frees a split; returns ``deleted, fleets, freedBytes``."""
        return self._invoke("split/delete", {"name": name}, {}, timeout=timeout)

    # ------------------------------------------------------------------ models

    def create_model(self, name, architecture, dataset, seed=None, timeout=_DEFAULT, **architecture_options):
        """``model/create``: a new model of the zoo shaped for ``dataset``.

        ``architecture`` is a kind (``"mlp"``, ``"cnn"``, ``"resnet18"``,
        ``"layers"``) or the protocol's architecture object; extra keyword
        arguments are the architecture's options, camelCased
        (``create_model("m", "mlp", "d", hidden=[64])``,
        ``create_model("r", "resnet18", "d", cifar_stem=True)``). Returns ``name,
        architecture, inputShape, classCount, parameterCount``."""
        spec = {"kind": architecture} if isinstance(architecture, str) else dict(architecture)
        for key, value in architecture_options.items():
            spec[camel_case(key)] = value
        named = {"name": name, "architecture": spec, "dataset": dataset, "seed": seed}
        return self._invoke("model/create", named, {}, timeout=timeout)

    def model_info(self, model, timeout=_DEFAULT):
        """``model/info``: architecture, shapes, per-layer parameters and FLOPs, fingerprint."""
        return self._invoke("model/info", {"model": model}, {}, timeout=timeout)

    def list_models(self, timeout=_DEFAULT):
        """``model/list``: the resident and saved models (the result's ``models`` list)."""
        return self._invoke("model/list", {}, {}, timeout=timeout)["models"]

    def delete_model(self, name, timeout=_DEFAULT):
        """``model/delete``: frees a model; returns ``deleted, fleets, freedBytes``."""
        return self._invoke("model/delete", {"name": name}, {}, timeout=timeout)

    def save_model(self, model, path=None, timeout=_DEFAULT):
        """``model/save``: writes a safetensors file (default: the daemon's library);
        returns ``model, path, bytes, tensors, fingerprint, seconds``."""
        return self._invoke("model/save", {"model": model, "path": path}, {}, timeout=timeout)

    def load_model(self, name, path=None, timeout=_DEFAULT, **options):
        """``model/load``: loads a safetensors file under ``name`` (options:
        ``architecture``, ``dataset`` or ``input_shape`` + ``classes``, ``replace``)."""
        return self._invoke("model/load", {"name": name, "path": path}, options, timeout=timeout)

    def train(self, model, dataset, epochs=None, progress=None, timeout=_DEFAULT, **options):
        """``model/train``: trains ``model`` on ``dataset``'s training part (or, with
        ``split=`` and ``subset="retain"``, a split's retain set), continuing from
        its current weights. Options: ``batch_size``, ``lr``, ``momentum``,
        ``weight_decay``, ``optimizer``, ``schedule``, ``seed``, ``threads``, ...
        (see the OpenRPC document). ``progress`` gets one value per epoch. Returns
        ``model, examples, epochs, loss, accuracy, seconds, fingerprint``."""
        named = {"model": model, "dataset": dataset, "epochs": epochs}
        return self._invoke("model/train", named, options, progress=progress, timeout=timeout)

    def predict(self, model, inputs=None, dataset=None, part=None, indices=None, split=None, subset=None,
                output=None, path=None, load=False, progress=None, timeout=_DEFAULT, **options):
        """``model/predict``: logits (``output="logits"``, default) or
        ``"probabilities"`` for ``inputs`` (a list of flat examples), a dataset's
        ``part`` (``"train"``/``"test"``, optionally ``indices``) or a split's
        ``subset``. Returns ``model, count, classCount, output, predictions,
        accuracy?, seconds`` and ``values`` (a list of rows), or, with ``path``,
        the ``.npy`` file's ``path`` instead of ``values``.

        With ``path`` and ``load=True`` the result also holds ``array``: the
        file read back with :func:`lethe.load_npy` (a numpy array when numpy is
        installed)."""
        named = {"model": model, "inputs": inputs, "dataset": dataset, "part": part, "indices": indices,
                 "split": split, "subset": subset, "output": output, "path": path}
        if load and path is None:
            raise TypeError("load=True needs a path for the .npy file")
        result = self._invoke("model/predict", named, options, progress=progress, timeout=timeout)
        if load:
            result["array"] = load_npy(result["path"])
        return result

    # ------------------------------------------------------------------ unlearning

    def forget(self, model, split, method, output=None, hyperparameters=None, seed=None, progress=None,
               timeout=_DEFAULT, **options):
        """``forget``: applies an unlearning ``method`` (``"retrain"``,
        ``"finetune"``, ``"salun"``, ... see ``initialize()``'s
        ``capabilities.unlearningMethods``) to ``model`` for ``split``'s forget
        set, writing a new model ``output`` (default ``"<model>-<method>"``).
        ``hyperparameters`` is a dict of the method's own (camelCase, sent as
        given). Returns ``model, source, method, hyperparameters, details?,
        seconds, fingerprint``."""
        named = {"model": model, "split": split, "method": method, "output": output,
                 "hyperparameters": hyperparameters, "seed": seed}
        return self._invoke("forget", named, options, progress=progress, timeout=timeout)

    def evaluate(self, model, split, reference=None, timeout=_DEFAULT, **options):
        """``evaluate``: accuracy and mean loss on the split's retain, forget,
        validation and test sets, and ``unlearningAccuracy``; with ``reference``
        (usually the retrained model), their outputs compared on forget."""
        named = {"model": model, "split": split, "reference": reference}
        return self._invoke("evaluate", named, options, timeout=timeout)

    def attack(self, model, split, kind=None, outputs=None, load=False, progress=None, timeout=_DEFAULT,
               **options):
        """``attack``: a membership-inference attack (``kind`` ``"simple"``, the
        default, ``"mia-efficacy"``, ``"lira"``, ``"rmia"``, ``"ulira"``) or the
        NeurIPS 2023 forget quality (``"epsilon"``). Options: ``balance``,
        ``seed``, ``shadows``, ``variant``, ``original``, ``method``,
        ``hyperparameters``, ``models``, ``threads_per_model``, ... Returns
        ``score``, ``scoreName``, ``chanceLevel`` (read the score against it),
        ``members``, ``nonMembers``, ...

        ``outputs`` is a directory for per-example scores as ``.npy`` (kinds that
        score examples); the result's ``outputs`` names each file. With
        ``load=True`` the result also holds ``arrays``: those files read with
        :func:`lethe.load_npy`, by the same names."""
        named = {"model": model, "split": split, "kind": kind, "outputs": outputs}
        result = self._invoke("attack", named, options, progress=progress, timeout=timeout)
        if load:
            result["arrays"] = {name: load_npy(path) for name, path in (result.get("outputs") or {}).items()}
        return result

    def compare(self, model, split, methods=None, seeds=None, hyperparameters=None, progress=None,
                timeout=_DEFAULT, **options):
        """``compare``: runs unlearning ``methods`` (default: all but retrain) on
        ``model`` and ``split`` against ``retrain``, once per seed (``seeds``,
        default ``[0]``), and returns ``model, split, seeds, rows, notes,
        seconds``. Each row has ``method`` (``"none"`` is the original, then
        ``"retrain"``, then the methods) and ``{mean, std}`` values:
        ``retainAccuracy``, ``forgetAccuracy``, ``testAccuracy``,
        ``unlearningAccuracy``, ``mia``, ``miaEfficacy``, ``averageGap``,
        ``seconds``; plus ``timeFraction`` and ``hyperparameters``.
        ``hyperparameters`` maps a method to its hyperparameters
        (``{"finetune": {"epochs": 1}}``); options: ``threads_per_method``,
        ``epsilon_models``."""
        named = {"model": model, "split": split, "methods": methods, "seeds": seeds,
                 "hyperparameters": hyperparameters}
        return self._invoke("compare", named, options, progress=progress, timeout=timeout)

    # ------------------------------------------------------------------ fleets

    def train_fleet(self, kind, model, split, count, progress=None, timeout=_DEFAULT, **options):
        """``fleet/train``: trains (or reuses) ``count`` shadow, retrained or
        unlearned models of ``model`` on ``split`` (``kind``); returns ``fleet,
        trained, reused, seconds``. ``members=[...]`` trains only that share
        (:mod:`lethe.ray` spreads a fleet over a cluster with it)."""
        named = {"kind": kind, "model": model, "split": split, "count": count}
        return self._invoke("fleet/train", named, options, progress=progress, timeout=timeout)

    def fleets(self, timeout=_DEFAULT):
        """``fleet/list``: the resident fleets (the result's ``fleets`` list)."""
        return self._invoke("fleet/list", {}, {}, timeout=timeout)["fleets"]

    def export_fleet(self, id, members=None, weights=None, timeout=_DEFAULT):
        """``fleet/export``: the fleet's members (all, or the seeds in ``members``)
        as a bundle dict that :meth:`import_fleet` on another daemon accepts."""
        return self._invoke("fleet/export", {"id": id, "members": members, "weights": weights}, {}, timeout=timeout)

    def import_fleet(self, model, split, bundle, timeout=_DEFAULT):
        """``fleet/import``: adds a bundle's members to this daemon's fleet of
        ``model`` on ``split`` after checking model, data, split, recipe and
        version; returns ``fleet, imported, duplicates``."""
        return self._invoke("fleet/import", {"model": model, "split": split, "bundle": bundle}, {}, timeout=timeout)

    def delete_fleet(self, id, timeout=_DEFAULT):
        """``fleet/delete``: frees a fleet by id; returns ``deleted, fleets, freedBytes``."""
        return self._invoke("fleet/delete", {"id": id}, {}, timeout=timeout)

    # ------------------------------------------------------------------ runs

    def runs(self, kind=None, model=None, method=None, status=None, since=None, until=None, limit=None,
             offset=None, timeout=_DEFAULT):
        """``run/list``: recorded runs, newest first, filtered (``kind`` is an RPC
        method such as ``"forget"``; ``since``/``until`` ISO 8601 times), a page of
        ``limit`` (default 50) from ``offset``. Returns ``{"runs": [...], "total": N}``."""
        named = {"kind": kind, "model": model, "method": method, "status": status, "since": since,
                 "until": until, "limit": limit, "offset": offset}
        return self._invoke("run/list", named, {}, timeout=timeout)

    def run(self, run_id, timeout=_DEFAULT):
        """``run/show``: one recorded run with its params, result, models and per-epoch progress."""
        return self._invoke("run/show", {"id": run_id}, {}, timeout=timeout)

    def export_runs(self, path, format=None, timeout=_DEFAULT, **filters):
        """``run/export``: writes the runs matching ``filters`` (as :meth:`runs`
        takes them) to ``path`` as ``"jsonl"`` (default) or ``"csv"``, oldest
        first; returns ``path, runs, bytes``."""
        return self._invoke("run/export", {"path": path, "format": format}, filters, timeout=timeout)

    def delete_runs(self, ids, timeout=_DEFAULT):
        """``run/delete``: deletes recorded runs by id; returns ``deleted``."""
        return self._invoke("run/delete", {"ids": list(ids)}, {}, timeout=timeout)
