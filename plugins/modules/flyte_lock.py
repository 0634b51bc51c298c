#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_lock
short_description: Hold a cluster-side lock so that two hardening runs never interleave
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Takes or releases the C(coordination.k8s.io/v1) Lease O(name) in O(namespace), with O(run_id) as its holder.
  - A second run waits up to O(wait_timeout) seconds for the holder to release the Lease, then fails with a message
    naming the holder and when its Lease expires. A crashed run's Lease expires O(lease_duration) seconds after it
    was last taken or renewed, and the next run takes it over.
  - Taking the Lease is an update guarded by the C(resourceVersion) that was read, so of two runs racing for a free
    Lease exactly one wins; the other waits.
  - The lock is bookkeeping, not configuration, so the module never reports a change (a second hardening run
    still reports C(changed=0)).
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: In check mode the Lease is only read; the module waits while another run holds it, and writes nothing.
  diff_mode:
    support: none
options:
  state:
    description: C(acquired) takes (or renews) the Lease for O(run_id); C(released) frees it if O(run_id) holds it.
    type: str
    choices: [acquired, released]
    default: acquired
  namespace:
    description: Namespace of the Lease (the Flyte namespace).
    type: str
    default: flyte
  name:
    description: Name of the Lease.
    type: str
    default: flytesec-hardening
  run_id:
    description: Identity of this run, written as the Lease's C(holderIdentity).
    type: str
    required: true
  backup_dir:
    description:
      - Where the run's backups go, a directory or C(k8s:NAMESPACE) (Secrets in the cluster; see
        P(flytesec.hardening.flyte_restore#module)). Taking the lock records the Lease as it was (or that it did not
        exist), so P(flytesec.hardening.flyte_restore#module) puts it back or deletes it.
    type: path
  backup_retention:
    description:
      - With O(state=released) and O(backup_dir), delete the backups of every run but the O(backup_retention) newest
        (this run's are always kept), while the lock is still held. C(0) keeps every run's backups.
    type: int
    default: 0
  lease_duration:
    description: Seconds after the last take or renewal when the Lease counts as abandoned.
    type: int
    default: 1800
  wait_timeout:
    description: Seconds to wait for another run to release the Lease; C(0) fails at once.
    type: int
    default: 600
  wait_sleep:
    description: Seconds between two reads while waiting.
    type: int
    default: 5
"""

EXAMPLES = r"""
- name: Take the hardening lock (waits up to 10 minutes for another run)
  flytesec.hardening.flyte_lock:
    namespace: flyte
    run_id: "{{ flytesec_run_id }}"

- name: Release it at the end
  flytesec.hardening.flyte_lock:
    namespace: flyte
    run_id: "{{ flytesec_run_id }}"
    state: released
"""

RETURN = r"""
holder:
  description: Holder of the Lease after the module ran (C(null) when free).
  returned: always
  type: str
  sample: 20261124T120000Z-123456
previous_holder:
  description: An expired holder this run took the Lease over from (a crashed run), if any.
  returned: always
  type: str
waited:
  description: Seconds spent waiting for another run.
  returned: always
  type: float
pruned_runs:
  description: Runs whose backups O(backup_retention) deleted (or, in check mode, would delete).
  returned: always
  type: list
  elements: str
"""

import time

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup_store
from ansible_collections.flytesec.hardening.plugins.module_utils import inputs
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import lease as lk


def main():
    module = k8s_utils.new_module(
        argument_spec=dict(
            state=dict(type="str", choices=["acquired", "released"], default="acquired"),
            namespace=dict(type="str", default="flyte"),
            name=dict(type="str", default=lk.LEASE_NAME),
            run_id=dict(type="str", required=True),
            lease_duration=dict(type="int", default=1800),
            wait_timeout=dict(type="int", default=600),
            wait_sleep=dict(type="int", default=5),
            backup_dir=dict(type="path"),
            backup_retention=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not inputs.LABEL_VALUE.match(p["run_id"] or "") or not p["run_id"]:
        module.fail_json(msg="run_id: %s is not a run id (1-63 letters, digits, '-', '_' or '.', starting and ending "
                             "with a letter or digit: it labels the run's backups and holds the Lease)" % inputs.show(p["run_id"]))
    if p["lease_duration"] < 10:
        module.fail_json(msg="lease_duration: must be at least 10 seconds, got %s" % p["lease_duration"])
    if p["wait_timeout"] < 0 or p["wait_sleep"] < 1:
        module.fail_json(msg="wait_timeout must be >= 0 and wait_sleep >= 1")
    if p["backup_retention"] < 0:
        module.fail_json(msg="backup_retention: must be >= 0 (0 keeps every run), got %s" % p["backup_retention"])
    client = k8s_utils.connect(module)
    ns, name, identity = p["namespace"], p["name"], p["run_id"]
    result = dict(changed=False, holder=None, previous_holder=None, waited=0.0, pruned_runs=[])
    started = time.time()
    try:
        store = backup_store.open_store(p["backup_dir"], client)
        if client.get("v1", "Namespace", ns) is None:
            module.fail_json(msg="namespace: %s does not exist" % ns, **result)
        if p["state"] == "released":
            current = client.get(lk.API_VERSION, "Lease", name, ns)
            if store is not None and p["backup_retention"]:
                if module.check_mode:
                    result["pruned_runs"] = backup_store.to_prune(store.runs(), p["backup_retention"], identity)
                else:
                    result["pruned_runs"] = store.prune(p["backup_retention"], current=identity)
            if lk.state(current, identity) == "ours" and not module.check_mode:
                client.replace(lk.API_VERSION, "Lease", lk.release_body(current), ns)
                current = None
            result["holder"] = lk.holder(current)[0]
            module.exit_json(**result)
        while True:
            current = client.get(lk.API_VERSION, "Lease", name, ns)
            status = lk.state(current, identity)
            if status != "held":
                if status == "expired":
                    result["previous_holder"] = lk.holder(current)[0]
                if module.check_mode:
                    result["holder"] = lk.holder(current)[0]
                    break
                body = lk.acquire_body(current, ns, identity, p["lease_duration"], name=name)
                try:
                    if store is not None:   # restore.yml deletes a Lease the run created, or puts back the one it took
                        store.write(bk.absent_record(lk.API_VERSION, "Lease", name, ns, identity)
                                    if current is None else bk.make_record(dict(current, kind="Lease"), run_id=identity))
                    if current is None:
                        client.create(lk.API_VERSION, "Lease", body, ns)
                    else:
                        client.replace(lk.API_VERSION, "Lease", body, ns)
                    result["holder"] = identity
                    if result["previous_holder"]:
                        expired = lk.holder(current)[1]
                        when = lk.format_time(expired) if expired else "unknown"
                        module.warn("took the lock over from run %s: its Lease %s/%s expired at %s without being released "
                                    "(that run died holding it)" % (result["previous_holder"], ns, name, when))
                    break
                except k8s_utils.FlyteK8sError as exc:
                    if exc.status not in (409,):
                        raise
                    # Another run won the race: read again and wait for it.
                    continue
            held_by, expires = lk.holder(current)
            if time.time() - started >= p["wait_timeout"]:
                module.fail_json(
                    msg="another hardening run holds the lock: Lease %s/%s is held by %s until %s (it is renewed while "
                        "that run works; a crashed run's Lease expires then). Waited %ss (wait_timeout)."
                        % (ns, name, held_by, lk.format_time(expires) if expires else "unknown", p["wait_timeout"]),
                    holder=held_by, waited=round(time.time() - started, 1))
            time.sleep(p["wait_sleep"])
    except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        module.fail_json(msg=str(exc), **result)
    result["waited"] = round(time.time() - started, 1)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
