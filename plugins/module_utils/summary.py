# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The summary of one cluster's hardening run, from the registered results of its areas.

``build`` makes the structured summary: what harden-flyte.yml writes as ``<report dir>/<run id>.json``, keeps as the
host fact ``flytesec_summary`` and gathers for every cluster in ``<run id>-clusters.json``. ``markdown`` renders it
as ``<report dir>/<run id>.md``. Pure functions; the flyte_summary module calls them, and needs no cluster.

An area's result is what its task registered: ``None`` when the task never ran (its role was not included), a dict
with ``skipped: true`` when it was skipped, else the module's result.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import tempfile

NOT_SET = "not set"
# "synced": mode external_secret, the value the operator synced (a rotation shows as the restart it needs)
SECRET_KEY_STATES_UNCHANGED = ("kept", "valid", "synced")


def skipped(result):
    """Whether a registered result is the one of a skipped task (``skipped: true``).

    Only ``skipped: true`` counts: a list of that name is not a skipped task (no module of this collection returns
    one; flyte_rollout's paused workloads are ``not_restarted``).
    """
    return isinstance(result, dict) and result.get("skipped") is True


def ran(result):
    """Whether an area ran: its task registered a result and was not skipped."""
    return result is not None and not skipped(result)


def _get(result, key, default=None):
    """``result[key]`` of a registered result that may be missing, skipped or failed."""
    if not isinstance(result, dict):
        return default
    return result.get(key, default)


def _list(result, key):
    return list(_get(result, key) or [])


def enforce_label(enforce, level, version):
    """The Pod Security ``enforce`` label the run sets, as ``level:version``, or ``not set``."""
    return "%s:%s" % (level, version) if enforce else NOT_SET


def auth_changes(auth=None, auth_secrets=None):
    """What authentication changed: the auth Secret keys that were not kept as they were, then the configuration."""
    keys = [item for item in _list(auth_secrets, "keys") if _get(item, "state") not in SECRET_KEY_STATES_UNCHANGED]
    return keys + _list(auth, "changed_objects")


def build(cluster, run_id, namespace, backups, check_mode=False, error=None, planes=None, preflight=None, audit=None,
          auth=None, auth_secrets=None, auth_restart_required=None, data_plane_auth=None, cors=None,
          cors_restart_required=None, pod_security=None, pod_security_enforce=NOT_SET, rbac=None, config_hashes=None,
          rollout=None):
    """The structured summary of one cluster's run.

    ``preflight`` is flyte_info's result, ``audit`` flyte_security_audit's, ``auth`` flyte_auth_config's,
    ``auth_secrets`` and ``data_plane_auth`` flyte_auth_secrets' (control plane, data plane), ``cors`` flyte_cors',
    ``pod_security`` flyte_securitycontext's, ``rbac`` flyte_rbac's, ``config_hashes`` and ``rollout``
    flyte_rollout's (the hash pass, the restart). ``pod_security_enforce`` is ``enforce_label(...)``.
    """
    findings = [_get(item, "control") for item in _list(audit, "findings")]
    return {
        "cluster": cluster,
        "run_id": run_id,
        "check_mode": bool(check_mode),
        "status": "failed" if error is not None else "ok",
        "error": error,
        "namespace": namespace,
        "planes": list(planes or []),
        "layout": _get(preflight, "layout"),
        "kubernetes_version": _get(preflight, "kubernetes_version"),
        "owners": _get(preflight, "owners", {}),
        "backups": backups,
        "audit_score": _get(audit, "score"),
        "audit_open_findings": sorted(set(control for control in findings if control is not None)),
        "areas": {
            "auth": {
                "ran": ran(auth),
                "changed": auth_changes(auth, auth_secrets),
                "propeller_hash": _get(auth, "propeller_hash"),
                # a data plane: its propeller secret, taken from the control plane and verified against flyteadmin's hash
                "data_plane_secret": _get(data_plane_auth, "keys", []),
                "data_plane_secret_verified": _get(data_plane_auth, "propeller_secret_verified"),
                "restart_required": list(auth_restart_required or []),
            },
            "cors": {
                "ran": ran(cors),
                "changed": _list(cors, "changed_objects"),
                "restart_required": list(cors_restart_required or []),
            },
            "pod_security": {
                "ran": ran(pod_security),
                "changed": _list(pod_security, "changed_workloads"),
                "compliant": _get(pod_security, "compliant"),
                "enforce": pod_security_enforce,
            },
            "rbac": {
                "ran": ran(rbac),
                "changed": _list(rbac, "changed_roles"),
                "wildcard_findings": len(_list(rbac, "wildcard_findings")),
            },
            "rollout": {
                # rolled out once by their securityContext patch, which carried the new configuration hash
                "with_securitycontext": sorted(_get(config_hashes, "template_annotations") or {}),
                "restarted": _list(rollout, "restarted"),
                "unchanged": _list(rollout, "unchanged"),
                "not_restarted": [] if not ran(rollout) else _list(rollout, "not_restarted"),
            },
        },
    }


def _text(value):
    """A value as the Jinja template before this module printed it (ansible-core 2.19): ``None`` as nothing."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _header(summary):
    lines = [
        "# Flyte hardening: %s" % _text(summary["cluster"]),
        "",
        "| | |",
        "| --- | --- |",
        "| run | `%s`%s |" % (_text(summary["run_id"]), " (check mode: nothing was written)" if summary["check_mode"] else ""),
        "| namespace | `%s` (%s) |" % (_text(summary["namespace"]), _text(summary["layout"])),
        "| Kubernetes | %s |" % _text(summary["kubernetes_version"]),
        "| backups | `%s` |" % _text(summary["backups"]),
    ]
    if summary["error"]:
        lines.append("| FAILED | %s |" % _text(summary["error"]))
    if summary["owners"]:
        owners = ", ".join("%s (%d objects)" % (tool, len(objects)) for tool, objects in summary["owners"].items())
        lines.append("| managed by | %s |" % owners)
    return lines


def _audit(summary):
    lines = ["", "## Audit"]
    if summary["audit_score"] is not None:
        lines += ["Score %s%% ; controls still open: %s" % (_text(summary["audit_score"]),
                                                            ", ".join(summary["audit_open_findings"]) or "none"),
                  "(reports in `audit/`)."]
    else:
        lines.append("Not run.")
    return lines


def _changed_object(item):
    return "- changed `%s`: %s" % (_text(item["object"]), ", ".join(_text(key) for key in item["keys"]))


def _auth(area):
    lines = ["", "## Authentication"]
    if not area["ran"]:
        lines.append("Not configured (no `auth_public_url`).")
    elif area["changed"]:
        for item in area["changed"]:
            if "object" in item:
                lines.append(_changed_object(item))
            else:
                lines.append("- Secret `%s` key `%s`: %s" % (_text(item.get("secret")), _text(item.get("key")),
                                                             _text(item.get("state"))))
    else:
        lines.append("Already configured: nothing changed (propeller hash %s)." % _text(area["propeller_hash"]))
    return lines


def _cors(area):
    lines = ["", "## CORS and console"]
    if not area["ran"]:
        lines.append("Not configured (no `cors_console_origins`).")
    elif area["changed"]:
        lines += [_changed_object(item) for item in area["changed"]]
    else:
        lines.append("Already compliant: nothing changed.")
    return lines


def _pod_security(summary):
    area = summary["areas"]["pod_security"]
    lines = ["", "## Pod Security"]
    if not area["ran"]:
        lines.append("Not run (`flytesec_pod_security: false`).")
        return lines
    lines.append("Namespace `%s` enforces `%s`; workloads compliant: %s."
                 % (_text(summary["namespace"]), _text(area["enforce"]), _text(area["compliant"])))
    lines += ["- securityContext changed: `%s`" % _text(name) for name in area["changed"]]
    if not area["changed"]:
        lines.append("Already compliant: no securityContext changed.")
    return lines


def _rollout(area):
    lines = ["", "## Restarts"]
    lines += ["- `%s` rolled out once, with its securityContext change (new configuration included)" % _text(name)
              for name in area["with_securitycontext"]]
    lines += ["- restarted `%s`" % _text(name) for name in area["restarted"]]
    if not area["restarted"] and not area["with_securitycontext"]:
        lines.append("No workload restarted.")
    lines += ["- not restarted `%s`: %s" % (_text(item.get("workload")), _text(item.get("reason"))) for item in area["not_restarted"]]
    return lines


def markdown(summary):
    """The summary as Markdown: the run, the audit, then each area and the restarts."""
    areas = summary["areas"]
    lines = (_header(summary) + _audit(summary) + _auth(areas["auth"]) + _cors(areas["cors"]) + _pod_security(summary)
             + _rollout(areas["rollout"]))
    return "\n".join(lines) + "\n"


def write_file(path, text):
    """Write ``text`` to ``path`` whole or not at all (a temporary file renamed over it), mode 0600, folders 0700."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    handle, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=folder)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.chmod(temp, 0o600)
        os.rename(temp, path)
    except Exception:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return path


def to_json(data):
    """JSON as the role wrote it with ``to_nice_json`` (4 spaces, sorted keys), ending in a newline."""
    return json.dumps(data, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


def write_reports(report_dir, run_id, summary):
    """Write ``<run_id>.json`` and ``<run_id>.md`` of one cluster's run in ``report_dir``; return their paths."""
    return [write_file(os.path.join(report_dir, "%s.json" % run_id), to_json(summary)),
            write_file(os.path.join(report_dir, "%s.md" % run_id), markdown(summary))]
