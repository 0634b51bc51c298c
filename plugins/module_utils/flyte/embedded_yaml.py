# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read, edit, compare and write YAML documents held in ConfigMap and Secret data values.

flyteadmin keeps its configuration as YAML text inside ConfigMap keys (flyte-core: ``flyte-admin-base-config``
key ``server.yaml``). kubernetes.core can only replace a key's whole text (its issue #566); this module edits
values at key paths inside the text.

Rules:

* A path is a list/tuple of keys, or a dotted string (``"server.security.allowedOrigins"``). Keys may contain
  dots (``token_rsa_key.pem``): pass a list then.
* Values are compared parsed and type-aware (``True`` is not ``1``, ``"8089"`` is not ``8089``). A formatting-only
  difference is not a change; an edit that leaves the parsed document equal returns the ORIGINAL text, byte for
  byte.
* An edited document is written back deterministically. The edit works on PyYAML's node tree, so existing keys
  keep their order and their scalars keep their quoting style; new keys are appended; new values are written in
  block style (multi-line strings as ``|`` literals); no aliases (a document with anchors or merge keys is
  flattened); no line wrapping. Comments in a document that is rewritten are lost (PyYAML does not keep them).
* Deep merge (``Merged``/``deep_merge``): mappings merge recursively, everything else - lists included - is
  replaced by the new value.
* The root of a document must be a mapping; an empty or missing value is an empty document.
* PyYAML is imported guarded (``HAS_YAML``, ``YAML_IMPORT_ERROR`` for ``missing_required_lib``): ansible-test's
  import test loads module_utils without it; every parsing or writing function then raises EmbeddedYamlError.
* ``plan_edits`` applies edits to a ConfigMap's or Secret's ``data`` and returns the new data, the changed keys
  and a per-key diff masked through ``masking``; keys it does not touch keep their exact text.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import difflib
import traceback
from collections import namedtuple
from collections.abc import Mapping

from ansible_collections.flytesec.hardening.plugins.module_utils import masking

YAML_IMPORT_ERROR = None
try:
    import yaml
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from yaml.representer import SafeRepresenter
except ImportError:  # pragma: no cover - exercised by ansible-test's import test (no PyYAML there)
    YAML_IMPORT_ERROR = traceback.format_exc()
    yaml = None
    MappingNode = ScalarNode = SequenceNode = SafeRepresenter = object
HAS_YAML = YAML_IMPORT_ERROR is None

MAP_TAG = "tag:yaml.org,2002:map"
NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
DUMP_WIDTH = float("inf")

EditPlan = namedtuple("EditPlan", "data changed changed_keys diffs")
EditPlan.__doc__ = """Result of ``plan_edits``: new ``data`` dict, ``changed`` flag, ``changed_keys`` list, Ansible ``diffs`` list."""


class EmbeddedYamlError(ValueError):
    """A document cannot be parsed or edited as asked; the message names the document and the path."""


class _Delete(object):
    """Type of the ``DELETE`` sentinel."""

    def __repr__(self):
        return "DELETE"


# Edit value that removes the key at the path (or, with path ``None`` in ``plan_edits``, the whole data key).
DELETE = _Delete()


class Merged(namedtuple("Merged", "value")):
    """Edit value that deep-merges ``value`` (a mapping) into the mapping at the path instead of replacing it."""

    __slots__ = ()


# ---------------------------------------------------------------------------------------------- paths and values

def parse_path(path):
    """Return ``path`` as a tuple of keys; ``None`` and ``""`` are the document root."""
    if path is None or path == "":
        return ()
    if isinstance(path, str):
        keys = tuple(path.split("."))
        if "" in keys:
            raise EmbeddedYamlError("path %r has an empty key; pass a list of keys when a key contains dots" % path)
        return keys
    if isinstance(path, (list, tuple)):
        return tuple(path)
    raise EmbeddedYamlError("path must be a dotted string or a list of keys, not %s" % type(path).__name__)


def format_path(path):
    """Dotted text of a path, for messages."""
    return ".".join(str(key) for key in parse_path(path)) or "(document root)"


def to_plain(value):
    """Copy ``value`` into plain Python types PyYAML can represent (str subclasses, tuples and mappings included)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return dict((to_plain(k), to_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    raise EmbeddedYamlError("cannot write a value of type %s to YAML" % type(value).__name__)


def scalar_kind(value):
    """Type name of a parsed scalar (bool, int, float, str, NoneType, ...), bool kept apart from int."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def values_equal(left, right):
    """Compare parsed values: mappings by content (order ignored), lists in order, scalars by type and value."""
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return len(left) == len(right) and all(key in right and values_equal(value, right[key]) for key, value in left.items())
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(values_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, (Mapping, list, tuple)) or isinstance(right, (Mapping, list, tuple)):
        return False
    return scalar_kind(left) == scalar_kind(right) and left == right


def get_value(data, path, default=None):
    """Value at ``path`` in plain parsed data, or ``default`` when any key on the way is missing."""
    node = data
    for key in parse_path(path):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def deep_merge(base, override):
    """New value: ``override`` deep-merged into ``base``. Mappings merge recursively; lists and scalars are replaced."""
    if not (isinstance(base, Mapping) and isinstance(override, Mapping)):
        return to_plain(override)
    result = dict((key, to_plain(value)) for key, value in base.items())
    for key, value in override.items():
        result[key] = deep_merge(result[key], value) if key in result else to_plain(value)
    return result


# ----------------------------------------------------------------------------------------- Secret value encoding

def decode_secret_value(value):
    """Text of a Secret ``data`` value (base64); ``None`` stays ``None``."""
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, TypeError) as exc:
        raise EmbeddedYamlError("Secret data value is not base64-encoded UTF-8 text: %s" % exc)


def encode_secret_value(text):
    """Secret ``data`` value (base64) for ``text``; ``None`` stays ``None``."""
    if text is None:
        return None
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


# ------------------------------------------------------------------------------------------------ node handling

def _require_yaml():
    if not HAS_YAML:
        raise EmbeddedYamlError("PyYAML is required to edit YAML documents (pip install PyYAML)")


class _Representer(SafeRepresenter):
    """SafeRepresenter without aliases, keeping mapping order, with multi-line strings as ``|`` literals."""

    def ignore_aliases(self, data):
        return True


def _represent_str(representer, data):
    style = "|" if "\n" in data else None
    return representer.represent_scalar(STR_TAG, data, style=style)


if HAS_YAML:
    _Representer.add_representer(str, _represent_str)


def _represent(value):
    """YAML node for a Python value, block style."""
    _require_yaml()
    return _Representer(default_flow_style=False, sort_keys=False).represent_data(to_plain(value))


def _construct(node, label="document"):
    """Plain Python value of a node."""
    try:
        return yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError as exc:
        raise EmbeddedYamlError("%s: %s" % (label, exc))


def _is_null(node):
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def _empty_mapping():
    return MappingNode(MAP_TAG, [], flow_style=False)


def _node_kind(node):
    if isinstance(node, SequenceNode):
        return "list"
    if isinstance(node, MappingNode):
        return "mapping"
    return "scalar (%s)" % node.tag.rsplit(":", 1)[-1]


def _needs_flattening(root):
    """True when the tree shares nodes (aliases) or uses merge keys: it is then rebuilt from its parsed value."""
    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if key.tag == MERGE_TAG:
                    return True
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return False


def _compose(text, label):
    """Root mapping node of ``text``; an empty or missing text is an empty mapping."""
    _require_yaml()
    if text is None or not text.strip():
        return _empty_mapping()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise EmbeddedYamlError("%s: not valid YAML: %s" % (label, exc))
    if root is None or _is_null(root):
        return _empty_mapping()
    if not isinstance(root, MappingNode):
        raise EmbeddedYamlError("%s: the YAML document is a %s, not a mapping" % (label, _node_kind(root)))
    if _needs_flattening(root):
        try:
            return _represent(_construct(root, label))
        except RecursionError:
            raise EmbeddedYamlError("%s: the YAML document refers to itself through an alias" % label)
    return root


def _serialize(root):
    return yaml.serialize(root, Dumper=yaml.SafeDumper, width=DUMP_WIDTH, allow_unicode=True, indent=2)


def _key_indexes(mapping, key):
    """Indexes of the entries of a mapping node whose key equals ``key`` (parsed)."""
    return [i for i, (k, _v) in enumerate(mapping.value) if isinstance(k, ScalarNode) and values_equal(_construct(k), key)]


def load(text, label="document"):
    """Parse a document held in a data value into plain Python data (``{}`` when empty or missing)."""
    return _construct(_compose(text, label), label)


def load_all(text, label="document"):
    """Every document of a multi-document text, as plain Python data."""
    _require_yaml()
    try:
        return [to_plain(doc) for doc in yaml.load_all(text or "", Loader=yaml.SafeLoader)]
    except yaml.YAMLError as exc:
        raise EmbeddedYamlError("%s: not valid YAML: %s" % (label, exc))


def dump(data):
    """Deterministic YAML text of ``data``: given key order, block style, no aliases, no wrapping."""
    return _serialize(_represent(data))


class Document(object):
    """One YAML document of a data value, edited in place on its node tree.

    ``text()`` is the original text while the parsed content is unchanged, and the re-serialised tree otherwise.
    """

    def __init__(self, text, label="document"):
        self.label = label
        self.original = text
        self._root = _compose(text, label)
        self._before = _construct(self._root, label)

    @property
    def data(self):
        """The current parsed content."""
        return _construct(self._root, self.label)

    @property
    def changed(self):
        """True when the parsed content differs from the original."""
        return not values_equal(self._before, self.data)

    def text(self):
        """Original text when unchanged, else the deterministic serialisation of the edited tree."""
        return _serialize(self._root) if self.changed else self.original

    def get(self, path, default=None):
        """Parsed value at ``path``, or ``default``."""
        node = self._node(parse_path(path))
        return default if node is None else _construct(node, self.label)

    def set(self, path, value):
        """Set ``path`` to ``value`` (creating missing mappings); nothing is touched when the value is already equal."""
        path = parse_path(path)
        value = to_plain(value)
        current = self._node(path)
        if current is not None and values_equal(_construct(current, self.label), value):
            return
        if not path:
            if not isinstance(value, dict):
                raise EmbeddedYamlError("%s: the document root must be a mapping, not %s" % (self.label, type(value).__name__))
            self._root = _represent(value)
            return
        parent = self._parent(path)
        node = _represent(value)
        indexes = _key_indexes(parent, path[-1])
        if indexes:
            parent.value[indexes[-1]] = (parent.value[indexes[-1]][0], node)
        else:
            parent.value.append((_represent(path[-1]), node))

    def delete(self, path):
        """Remove the key at ``path`` (no-op when absent); the root path empties the document."""
        path = parse_path(path)
        if not path:
            self._root = _empty_mapping()
            return
        parent = self._node(path[:-1])
        if isinstance(parent, MappingNode):
            drop = set(_key_indexes(parent, path[-1]))
            parent.value = [entry for i, entry in enumerate(parent.value) if i not in drop]

    def merge(self, path, value):
        """Deep-merge ``value`` into the mapping at ``path``: mappings merge, lists and scalars are replaced."""
        path = parse_path(path)
        if isinstance(value, Mapping) and isinstance(self._node(path), MappingNode):
            for key, sub in value.items():
                self.merge(path + (key,), sub)
        else:
            self.set(path, value)

    def apply(self, ops):
        """Apply ``(path, value)`` edits in order; ``value`` may be ``DELETE`` or ``Merged(mapping)``."""
        for path, value in ops:
            if value is DELETE:
                self.delete(path)
            elif isinstance(value, Merged):
                self.merge(path, value.value)
            else:
                self.set(path, value)
        return self

    def _node(self, path):
        """Node at ``path``, or None when a key is missing or a parent is not a mapping."""
        node = self._root
        for key in path:
            if not isinstance(node, MappingNode):
                return None
            indexes = _key_indexes(node, key)
            if not indexes:
                return None
            node = node.value[indexes[-1]][1]
        return node

    def _parent(self, path):
        """Mapping node that holds ``path[-1]``, created as needed; block style along the way."""
        node = self._root
        node.flow_style = False
        for depth, key in enumerate(path[:-1]):
            indexes = _key_indexes(node, key)
            if not indexes:
                child = _empty_mapping()
                node.value.append((_represent(key), child))
            else:
                child = node.value[indexes[-1]][1]
                if _is_null(child):
                    child = _empty_mapping()
                    node.value[indexes[-1]] = (node.value[indexes[-1]][0], child)
                elif not isinstance(child, MappingNode):
                    raise EmbeddedYamlError("%s: cannot set %s: %s is a %s, not a mapping" % (
                        self.label, format_path(path), format_path(path[:depth + 1]), _node_kind(child)))
            child.flow_style = False
            node = child
        return node


def edit_text(text, ops, label="document"):
    """Apply ``(path, value)`` edits to a document's text; returns ``text`` itself when nothing changed."""
    return Document(text, label).apply(ops).text()


# ------------------------------------------------------------------------------------------------------- diffs

def text_diff(before, after, label, masker=None):
    """Unified diff of two texts, secrets masked (as ``<masked:...>`` tags) before diffing; ``""`` when equal."""
    masker = masker or masking.default_masker()
    old = masker.mask_text(before or "", tagged=True).splitlines()
    new = masker.mask_text(after or "", tagged=True).splitlines()
    lines = list(difflib.unified_diff(old, new, "%s (before)" % label, "%s (after)" % label, lineterm=""))
    return "\n".join(lines) + "\n" if lines else ""


def ansible_diff(before, after, label, masker=None):
    """Ansible ``diff`` entry (``{"prepared": unified diff}``) for one data key, secrets masked."""
    return {"prepared": text_diff(before, after, label, masker)}


# ---------------------------------------------------------------------------------------------------- data plans

def _edited_value(before, key_ops, label):
    """New text of one data key (``None`` removes it). Raw values (path ``None``) and document edits don't mix."""
    raw = [value for path, value in key_ops if path is None]
    if raw and len(raw) != len(key_ops):
        raise EmbeddedYamlError("%s: cannot mix whole-value edits (path None) with edits inside the document" % label)
    if raw:
        value = raw[-1]
        if value is DELETE:
            return None
        if not isinstance(value, str):
            raise EmbeddedYamlError("%s: a data value must be a string, not %s" % (label, type(value).__name__))
        return value
    return edit_text(before, key_ops, label)


def plan_edits(data, ops, secret=False, label="data", masker=None):
    """Apply ``(data_key, path, value)`` edits to a ConfigMap's (or, ``secret=True``, a Secret's base64) ``data``.

    ``path`` ``None`` sets or (with ``DELETE``) removes the whole value of the data key; otherwise the value is a
    YAML document edited at ``path`` (a missing key starts as an empty document). Returns an ``EditPlan``; the
    input dict is not changed and untouched keys keep their exact text. Whole values written into a Secret are
    registered with the masker so diffs never show them.
    """
    masker = masker or masking.default_masker()
    grouped = {}
    for key, path, value in ops:
        grouped.setdefault(key, []).append((path, value))
    new_data = dict(data or {})
    changed_keys, diffs = [], []
    for key, key_ops in grouped.items():
        key_label = "%s %s" % (label, key)
        old = new_data.get(key)
        before = decode_secret_value(old) if secret else old
        after = _edited_value(before, key_ops, key_label)
        if after == before:
            continue
        if secret and any(path is None for path, _v in key_ops):
            masker.add(before, after)
        changed_keys.append(key)
        if after is None:
            new_data.pop(key, None)
        else:
            new_data[key] = encode_secret_value(after) if secret else after
        diffs.append(ansible_diff(before, after, key_label, masker))
    return EditPlan(new_data, bool(changed_keys), changed_keys, diffs)
