# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and change Flyte configuration on a live cluster.

Glue between the Kubernetes client (k8s/client.py) and the pure core: layout detection and the settings
model (flyte/layout.py), edits of YAML embedded in ConfigMap/Secret keys (flyte/embedded_yaml.py),
backups (k8s/backup.py) and masking (masking.py).

``discover()`` finds the installation; ``apply_edits()`` turns a list of ``Edit`` into at most one
merge patch per object (parsed values compared, so a formatting difference is no change), backs the
object up first, and reports which workloads must restart.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl
from ansible_collections.flytesec.hardening.plugins.module_utils import masking


DELETE = ey.DELETE
WORKLOAD_KINDS = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"))

# One change: in object kind/name, data key ``data_key``; ``path`` inside the embedded YAML document,
# or None when the data value itself is the setting (an environment variable in a ConfigMap).
Edit = namedtuple("Edit", "object_kind object_name data_key path value")
Outcome = namedtuple("Outcome", "changed changed_objects restart_required backups diff")


class FlyteConfigError(Exception):
    """The installation or its configuration is not what the module needs; the message says what."""


class Target(object):
    """A Flyte installation found on the cluster: its layout model and live workloads."""

    def __init__(self, namespace, model, workloads):
        self.namespace = namespace
        self.model = model
        self.layout = model.layout
        self.workloads = workloads

    def setting(self, name):
        """Where setting ``name`` is written in this layout (a flyte_layout.Location), or None."""
        return self.model.locate(name)

    def settings(self, name):
        """Every place setting ``name`` is written in this layout."""
        return self.model.locate_all(name)


def discover(client, namespace, layout="auto", release_name=None):
    """Read the namespace and return the ``Target``; raise FlyteConfigError when no Flyte is there."""
    if client.get("v1", "Namespace", namespace) is None:
        raise FlyteConfigError("namespace: %s does not exist" % namespace)
    workloads = []
    for api_version, kind in WORKLOAD_KINDS:
        for item in client.list(api_version, kind, namespace):
            item["kind"] = kind
            item["apiVersion"] = api_version
            workloads.append(item)
    configmaps = [cm["metadata"]["name"] for cm in client.list("v1", "ConfigMap", namespace)]
    try:
        model = fl.detect(workloads, configmaps, namespace=namespace, layout=layout, release_name=release_name)
    except fl.LayoutError as exc:
        raise FlyteConfigError("layout: %s" % exc)
    return Target(namespace, model, workloads)


def stored_value(client, namespace, location):
    """The value at a flyte_layout Location inside its YAML document, Secret data decoded (None when absent)."""
    obj = client.get("v1", location.object_kind, location.object_name, namespace)
    if obj is None:
        return None
    text = ((obj.get("data") or {}).get(location.data_key))
    if text is not None and location.object_kind == "Secret":
        text = ey.decode_secret_value(text)
    if location.path is None:
        return text
    return ey.get_value(ey.load(text or "", location.data_key) or {}, location.path)


def edits_for(location, value):
    """An ``Edit`` writing ``value`` (or ``DELETE``) at a flyte_layout ``Location``."""
    return Edit(location.object_kind, location.object_name, location.data_key, location.path, value)


def read_objects(client, target, refs):
    """``{(kind, name): object or None}`` for ``(kind, name)`` refs in the target namespace."""
    found = {}
    for kind, name in refs:
        if (kind, name) not in found:
            obj = client.get("v1", kind, name, target.namespace)
            if obj is not None:
                obj["kind"] = kind
            found[(kind, name)] = obj
    return found


def plan(objects, edits, masker=None):
    """Plan ``edits`` against ``objects`` (from read_objects): ``[(kind, name, obj, EditPlan)]`` that change.

    Pure: nothing is written. Raises FlyteConfigError naming a missing object or an unparsable document.
    """
    masker = masker or masking.default_masker()
    by_object = {}
    for edit in edits:
        by_object.setdefault((edit.object_kind, edit.object_name), []).append(edit)
    plans = []
    for (kind, name), object_edits in sorted(by_object.items()):
        obj = objects.get((kind, name))
        if obj is None:
            raise FlyteConfigError("%s %s does not exist; it is part of this Flyte installation" % (kind, name))
        ops = [(e.data_key, e.path, e.value) for e in object_edits]
        try:
            result = ey.plan_edits(obj.get("data") or {}, ops, secret=(kind == "Secret"),
                                   label="%s/%s" % (kind, name), masker=masker)
        except ey.EmbeddedYamlError as exc:
            raise FlyteConfigError(str(exc))
        if result.changed:
            plans.append((kind, name, obj, result))
    return plans


def merge_patch(obj, result):
    """Merge patch for the changed keys of one EditPlan (``None`` removes a key)."""
    data = {}
    for key in result.changed_keys:
        data[key] = result.data.get(key)
    return {"data": data}


def apply_edits(client, module, target, edits, masker=None, backup_dir=None, run_id=None):
    """Apply ``edits`` with one merge patch per changed object, through apply.Writer: each object is backed up
    before it changes, and the patch carries the resourceVersion read, so a concurrent edit is refused (409).

    In check mode the patch is a server-side dry run and no backup is written. Diffs are masked.
    """
    masker = masker or masking.default_masker()
    objects = read_objects(client, target, [(e.object_kind, e.object_name) for e in edits])
    plans = plan(objects, edits, masker)
    changed_objects, changed_refs, diffs = [], [], []
    writer = apply.Writer(client, module.check_mode, backup_dir, run_id)
    backups = writer.backups
    for kind, name, obj, result in plans:
        try:
            writer.patch(obj, merge_patch(obj, result), api_version="v1", kind=kind)
        except bk.BackupError as exc:
            raise FlyteConfigError("backup_dir: %s" % exc)
        changed_objects.append({"object": "%s/%s" % (kind, name), "keys": sorted(result.changed_keys)})
        changed_refs.append((kind, name))
        diffs.extend(result.diffs)
    return Outcome(
        changed=bool(changed_objects),
        changed_objects=changed_objects,
        restart_required=target.model.restart_for(changed_refs),
        backups=backups,
        diff=diffs,
    )
