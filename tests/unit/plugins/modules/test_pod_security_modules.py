# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure helpers of flyte_securitycontext and flyte_pod_security_labels (the rest runs against a cluster)."""
from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.flytesec.hardening.plugins.modules import flyte_pod_security_labels as labels
from ansible_collections.flytesec.hardening.plugins.modules import flyte_securitycontext as module

__metaclass__ = type


@pytest.mark.parametrize("text, expected", [
    ("flyteadmin", ("Deployment", "flyteadmin")),
    ("Deployment/flyteadmin", ("Deployment", "flyteadmin")),
    ("sts/db", ("StatefulSet", "db")),
    ("cronjob/cleanup", ("CronJob", "cleanup")),
    ("Job/migrate", ("Job", "migrate")),
    ("DaemonSet/agent", ("DaemonSet", "agent")),
])
def test_parse_workload(text, expected):
    assert module.parse_workload(text) == expected


@pytest.mark.parametrize("text", ["Pod/x", "Deployment/", ""])
def test_parse_workload_rejects(text):
    with pytest.raises(ValueError, match="workloads"):
        module.parse_workload(text)


def _params(**kwargs):
    params = dict((name, None) for mode in labels.MODES for name in (mode, mode + "_version"))
    params.update(kwargs)
    return params


def test_desired_labels_only_the_given_ones():
    assert labels.desired_labels(_params(warn="restricted", warn_version="v1.34", enforce="baseline")) == {
        "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.34",
        "pod-security.kubernetes.io/enforce": "baseline"}
    assert labels.desired_labels(_params(audit_version="latest")) == {"pod-security.kubernetes.io/audit-version": "latest"}


def test_desired_labels_bad_version_names_the_option():
    with pytest.raises(ValueError, match="enforce_version"):
        labels.desired_labels(_params(enforce="restricted", enforce_version="1.34"))


def test_psa_labels():
    namespace = {"metadata": {"labels": {"pod-security.kubernetes.io/warn": "baseline", "team": "flyte"}}}
    assert labels.psa_labels(namespace) == {"pod-security.kubernetes.io/warn": "baseline"}
    assert labels.psa_labels({"metadata": {}}) == {}
