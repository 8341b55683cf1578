"""Python parameter names to the protocol's camelCase names."""


def camel_case(name):
    """``batch_size`` -> ``batchSize``; a name without underscores is returned unchanged.

    Leading and trailing underscores are kept (``_x`` stays ``_x``), and so is
    an underscore that is not followed by a letter or digit.
    """
    if "_" not in name.strip("_"):
        return name
    stripped = name.strip("_")
    lead = name[: len(name) - len(name.lstrip("_"))]
    trail = name[len(name.rstrip("_")):]
    parts = stripped.split("_")
    out = parts[0]
    for part in parts[1:]:
        out += part[:1].upper() + part[1:] if part else "_"
    return lead + out + trail


def protocol_params(params=None, kwargs=None):
    """Merges an explicit ``params`` dict (sent as given) with keyword arguments
    (snake_case names converted by :func:`camel_case`).

    Raises ``TypeError`` when two of them name the same protocol field (for
    example ``batch_size`` and ``batchSize``).
    """
    merged = dict(params) if params else {}
    given_as = {key: "params[{!r}]".format(key) for key in merged}
    for key, value in (kwargs or {}).items():
        wire = camel_case(key)
        if wire in merged:
            raise TypeError("parameter {!r} given twice (as {} and as {})".format(wire, given_as[wire], key))
        merged[wire] = value
        given_as[wire] = key
    return merged
