#!/usr/bin/env python3
"""Compares a few unlearning methods against retrain and prints one table.

Loads Fashion-MNIST (the daemon's default path) or an IDX directory given with
--data, makes a forget split, trains a small mlp, runs `compare` over one seed
and prints, per method, retain/forget/test accuracy, the balanced MIA (0.5 is
chance), SalUn's MIA-efficacy, SalUn's average gap to retrain (over UA,
MIA-efficacy, RA and TA, in points) and the seconds it took.

    lethed &
    python3 Clients/python/examples/compare_table.py --epochs 1 --methods finetune,gradient-ascent,ssd

Needs only the standard library and the `lethe` package (pip install Clients/python,
or PYTHONPATH=Clients/python).
"""

import argparse
import os
import sys

try:
    import lethe
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import lethe

# Methods whose hyperparameters have no `epochs` (Docs/Methods.md).
EPOCHLESS = {"ssd", "fisher"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", help="lethed's socket (default: $LETHE_SOCKET, else lethed's default path)")
    parser.add_argument("--data", help="an IDX dataset directory (default: Fashion-MNIST from the daemon's default path)")
    parser.add_argument("--classes", type=int, help="classes of --data (default: 10)")
    parser.add_argument("--methods", default="finetune,gradient-ascent,ssd",
                        help="comma-separated unlearning methods (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=1,
                        help="epochs of the original's training and of each method that trains (default: %(default)s)")
    parser.add_argument("--hidden", default="64", help="the mlp's hidden widths, comma-separated (default: %(default)s)")
    parser.add_argument("--fraction", type=float, default=0.1, help="forget fraction of the training set (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="the split's and compare's seed (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress on standard error")
    return parser.parse_args(argv)


def percent(stat):
    return "{:.2f}%".format(100 * stat["mean"])


def format_table(rows):
    """The compare rows as aligned text: a header, a rule, one line per method."""
    header = ["method", "retain acc", "forget acc", "test acc", "MIA", "MIA-efficacy", "avg gap", "seconds"]
    lines = [[
        row["method"],
        percent(row["retainAccuracy"]),
        percent(row["forgetAccuracy"]),
        percent(row["testAccuracy"]),
        "{:.3f}".format(row["mia"]["mean"]),
        percent(row["miaEfficacy"]),
        "{:.2f}".format(row["averageGap"]["mean"]),
        "{:.2f}".format(row["seconds"]["mean"]),
    ] for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines)]

    def render(cells):
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])]
        return "  ".join([first] + rest)

    return "\n".join([render(header), render(["-" * w for w in widths])] + [render(line) for line in lines])


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    hidden = [int(h) for h in args.hidden.split(",") if h.strip()]
    tag = "example-{}".format(os.getpid())

    def show(value):
        # One line per epoch; of a measuring pass (unit "batch"), only its last batch.
        if not args.quiet and (value["unit"] == "epoch" or value["step"] == value["steps"]):
            print("  {:<32} {}/{} loss {:.4f}".format(value["stage"], value["step"], value["steps"], value["loss"]),
                  file=sys.stderr)

    with lethe.Client(args.socket) as client:
        if args.data:
            dataset = tag + "-data"
            loaded = client.load_dataset(dataset, args.data, classes=args.classes)
        else:
            dataset = "fashion-mnist"
            loaded = None
            if dataset not in client.status()["datasets"]:
                loaded = client.load_dataset()
        if loaded and not args.quiet:
            print("loaded {name}: {trainCount} train, {testCount} test examples".format(**loaded), file=sys.stderr)

        split, model = tag + "-split", tag + "-mlp"
        try:
            client.create_split(dataset, name=split, fraction=args.fraction, seed=args.seed)
            client.create_model(model, "mlp", dataset, hidden=hidden, seed=args.seed)
            client.train(model, dataset, epochs=args.epochs, progress=show)
            hyperparameters = {m: {"epochs": args.epochs} for m in methods if m not in EPOCHLESS}
            result = client.compare(model, split, methods=methods, seeds=[args.seed],
                                    hyperparameters=hyperparameters, progress=show)
        finally:
            for delete, name in ((client.delete_model, model), (client.delete_split, split)):
                try:
                    delete(name)
                except lethe.NotFound:
                    pass
            if args.data:
                client.delete_dataset(dataset)

    print(format_table(result["rows"]))
    print("\n{} ({:.1f} s)".format(result["notes"], result["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
