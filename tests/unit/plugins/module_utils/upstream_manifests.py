# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the upstream Flyte v1.16.8 manifests (../shared/fixtures) for the shared-core unit tests.

The files are read in place, never copied into the repository. Every call returns fresh objects, so a test
can change what it gets without affecting another test.
"""
import copy

import yaml

from conftest import FIXTURES

CORE = "flyte-core-eks.yaml"
BINARY = "flyte-binary-sandbox.yaml"
_CACHE = {}


def load(name):
    """All documents of a multi-document manifest (empty documents dropped), as a fresh deep copy."""
    if name not in _CACHE:
        with open(str(FIXTURES / "flyte-v1.16.8" / name)) as handle:
            _CACHE[name] = [doc for doc in yaml.safe_load_all(handle) if doc]
    return copy.deepcopy(_CACHE[name])


def of_kind(docs, kind):
    """Documents of one kind."""
    return [doc for doc in docs if doc.get("kind") == kind]


def find(docs, kind, name):
    """The document of ``kind`` named ``name``."""
    return next(doc for doc in docs if doc.get("kind") == kind and doc["metadata"]["name"] == name)


def configmap_names(docs):
    """Names of the ConfigMaps."""
    return [doc["metadata"]["name"] for doc in of_kind(docs, "ConfigMap")]


def as_live_secret(secret):
    """A Secret as the API returns it: stringData folded into base64 ``data``."""
    import base64
    live = copy.deepcopy(secret)
    data = dict(live.get("data") or {})
    for key, value in (live.pop("stringData", None) or {}).items():
        data[key] = base64.b64encode(value.encode("utf-8")).decode("ascii")
    live["data"] = data
    return live
