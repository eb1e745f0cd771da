"""The scenario file: read an existing one, merge the form's values over it, write TOML.

Plain Python without QGIS, so that it can be tested on its own. The key names are those of
quartier's scenario contract ([input], [network], [fields.*], [demand], [rules],
[objective], [solver], [output]); nothing here renames them.
"""

import copy
import math
import os
import re

try:  # Python 3.11 and later
    import tomllib as _toml
except ImportError:  # older QGIS builds: the tomli package, if installed
    try:
        import tomli as _toml
    except ImportError:
        _toml = None

#: The first line of every scenario the plugin writes; a folder whose scenario.toml starts
#: with it was written by the plugin, and the plugin may replace its files.
MARKER = "# quartier scenario written by the QGIS plugin"

#: Stages that every scenario starts with, and the ones that may follow in any order.
FIRST_STAGES = ["shortfall", "evenness"]
LATER_STAGES = ["fair", "worst", "spread", "access", "cost"]

#: A value in the form that switches a rule of the scenario file off.
REMOVE = object()


class ScenarioError(ValueError):
    """A problem with a scenario file or a value of the form, in words for the planner."""


def can_read_toml():
    return _toml is not None


def read_scenario(path):
    """The scenario file as a dict; its relative paths stay as written."""
    if _toml is None:
        raise ScenarioError(
            "reading a scenario file needs Python 3.11 or the 'tomli' package; this QGIS "
            "runs Python without either. Fill in the form without a scenario file instead."
        )
    try:
        with open(path, "rb") as handle:
            data = _toml.load(handle)
    except OSError as error:
        raise ScenarioError("%s: cannot be read: %s" % (path, error.strerror or error))
    except _toml.TOMLDecodeError as error:
        raise ScenarioError("%s: invalid TOML: %s" % (path, error))
    return data


def input_files(data):
    """Every input file a scenario names, as (key path, relative path) pairs:
    ("input.districts", ...), ("input.facilities.school", ...), ("input.network", ...),
    ("input.statistics.file", ...).
    """
    found = []
    section = data.get("input", {})
    if not isinstance(section, dict):
        return found
    for key in ("districts", "sites", "network"):
        if isinstance(section.get(key), str):
            found.append(("input." + key, section[key]))
    facilities = section.get("facilities", {})
    if isinstance(facilities, dict):
        for kind, path in facilities.items():
            if isinstance(path, str):
                found.append(("input.facilities." + kind, path))
    statistics = section.get("statistics")
    if isinstance(statistics, dict) and isinstance(statistics.get("file"), str):
        found.append(("input.statistics.file", statistics["file"]))
    return found


def get_path(data, dotted):
    """The value at a key path such as "input.facilities.school" (None when absent)."""
    node = data
    for part in split_path(dotted):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_path(data, dotted, value):
    parts = split_path(dotted)
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def split_path(dotted):
    # Facility kinds are free text and may hold dots; only the known prefixes split.
    for prefix in ("input.facilities.", "input.statistics."):
        if dotted.startswith(prefix):
            return prefix.rstrip(".").split(".") + [dotted[len(prefix):]]
    return dotted.split(".")


def merge(base, overrides):
    """`base` with every value of `overrides` that is set: None keeps the base's value,
    REMOVE drops it, a dict merges key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is None:
            continue
        if value is REMOVE:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        elif isinstance(value, dict):
            inner = merge({}, value)
            if inner:
                merged[key] = inner
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_demand(data, places=None, levels=None, weights=None):
    """Sets the demand: a number of places, or levels (with optional weights). Either
    replaces what the base scenario had; weights without levels apply to the base's levels."""
    if places is not None and levels is not None:
        raise ScenarioError(
            "give either the demand in places or the demand levels, not both"
        )
    demand = dict(data.get("demand", {}))
    if places is not None:
        demand.pop("levels", None)
        demand.pop("weights", None)
        demand["places"] = places
    elif levels is not None:
        demand.pop("places", None)
        demand.pop("weights", None)
        demand["levels"] = levels
    if weights is not None:
        if "levels" not in demand:
            raise ScenarioError("weights belong to demand levels; give the levels as well")
        demand["weights"] = weights
    if "levels" in demand and "weights" in demand:
        if len(demand["weights"]) != len(demand["levels"]):
            raise ScenarioError(
                "%d weights for %d demand levels; give one weight per level"
                % (len(demand["weights"]), len(demand["levels"]))
            )
    if "places" not in demand and "levels" not in demand:
        raise ScenarioError(
            "the demand is missing: give the number of new places (or demand levels), or "
            "start from a scenario file that has them"
        )
    data["demand"] = demand
    return data


def parse_whole_numbers(text, what):
    """'1000, 2000, 3000' as [1000, 2000, 3000]; None for empty text."""
    if text is None or not str(text).strip():
        return None
    values = []
    for part in _parts(text):
        if not re.fullmatch(r"[0-9]+", part):
            raise ScenarioError(
                "%s: \"%s\" is not a whole number; write the numbers without separators, "
                "divided by commas (1000, 2000, 3000)" % (what, part)
            )
        values.append(int(part))
    return values


def parse_numbers(text, what):
    """'0.5, 0.3, 0.2' as floats; a decimal point, never a decimal comma."""
    if text is None or not str(text).strip():
        return None
    values = []
    for part in _parts(text):
        try:
            value = float(part)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value):
            raise ScenarioError(
                "%s: \"%s\" is not a number; write decimals with a point, divided by "
                "commas (0.5, 0.3, 0.2)" % (what, part)
            )
        values.append(value)
    return values


def parse_names(text):
    if text is None or not str(text).strip():
        return None
    return _parts(text)


def _parts(text):
    # A list with semicolons is divided by them alone, so that a decimal comma ("0,5; 0,3")
    # stays inside its number and is refused there instead of making two numbers.
    text = str(text).strip()
    separator = r"\s*;\s*" if ";" in text else r"[,\s]+"
    parts = [p.strip() for p in re.split(separator, text)]
    return [p for p in parts if p]


def parse_stages(text):
    """The stages after shortfall and evenness, as typed ('fair, worst, cost'); 'none' keeps only
    the first two; None when empty."""
    names = parse_names(text)
    if names is None:
        return None
    names = [n.lower() for n in names]
    if names in (["none"], ["-"]):
        return list(FIRST_STAGES)
    if names[:1] == ["shortfall"]:
        names = names[1:]
    if names[:1] == ["evenness"]:
        names = names[1:]
    for name in names:
        if name not in LATER_STAGES:
            raise ScenarioError(
                "objective stages: unknown stage \"%s\"; after shortfall and evenness come "
                "any of %s" % (name, ", ".join(LATER_STAGES))
            )
    if len(set(names)) != len(names):
        raise ScenarioError("objective stages: a stage is listed twice (%s)" % ", ".join(names))
    return FIRST_STAGES + names


def kind_name(text):
    """A facility kind from a layer name: 'Grundschulen Süd' -> 'grundschulen_süd'."""
    kind = re.sub(r"[^\w-]+", "_", str(text).strip().lower()).strip("_")
    return kind or "facility"


def file_stem(kind):
    """A file name for a facility kind, in plain ASCII."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", kind).strip("_")
    return stem or "facility"


# --- writing TOML ------------------------------------------------------------------------

#: Tables written inline, as in the contract's examples: radius = { metres = …, … }.
INLINE = {"rules.radius", "rules.access", "rules.seats"}

#: Order of the top-level tables and keys, as in the contract.
ORDER = ["name", "input", "network", "fields", "demand", "rules", "objective", "solver", "output"]


def to_toml(data, header=()):
    """TOML text for a scenario dict; `header` lines become comments at the top."""
    lines = ["# " + line if line else "#" for line in header]
    top = sorted(data, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER), k))
    _write_table(lines, "", {k: data[k] for k in top})
    return "\n".join(lines).rstrip("\n") + "\n"


def _write_table(lines, path, table):
    simple = [(k, v) for k, v in table.items() if not _is_subtable(path, k, v)]
    nested = [(k, v) for k, v in table.items() if _is_subtable(path, k, v)]
    for key, value in simple:
        lines.append("%s = %s" % (_key(key), _value(value, _join(path, key))))
    for key, value in nested:
        inner = _join(path, key)
        if isinstance(value, list):
            for item in value:
                lines.append("")
                lines.append("[[%s]]" % _dotted(inner))
                _write_table(lines, inner, item)
            continue
        has_simple = any(not _is_subtable(inner, k, v) for k, v in value.items())
        if has_simple or not value:
            lines.append("")
            lines.append("[%s]" % _dotted(inner))
        _write_table(lines, inner, value)


def _is_subtable(path, key, value):
    if isinstance(value, dict):
        return _join(path, key) not in INLINE
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _join(path, key):
    return key if not path else path + "." + key


def _dotted(path):
    return ".".join(_key(part) for part in split_path(path))


def _key(key):
    if re.fullmatch(r"[A-Za-z0-9_-]+", key):
        return key
    return _string(key)


def _value(value, path):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ScenarioError("%s: %r is not a finite number" % (path, value))
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, path) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join("%s = %s" % (_key(k), _value(v, path + "." + k)) for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise ScenarioError("%s: cannot write %r to a scenario file" % (path, value))


def _string(text):
    escaped = []
    for char in text:
        if char == "\\":
            escaped.append("\\\\")
        elif char == '"':
            escaped.append('\\"')
        elif char == "\n":
            escaped.append("\\n")
        elif char == "\t":
            escaped.append("\\t")
        elif char == "\r":
            escaped.append("\\r")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append("\\u%04x" % ord(char))
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def relative_or_absolute(path, folder):
    """`path` relative to `folder` when it lies inside it, else absolute; with forward
    slashes, which quartier reads on every system."""
    path = os.path.abspath(path)
    folder = os.path.abspath(folder)
    try:
        inside = os.path.commonpath([path, folder]) == folder
    except ValueError:  # another drive on Windows
        inside = False
    shown = os.path.relpath(path, folder) if inside else path
    return shown.replace(os.sep, "/")
