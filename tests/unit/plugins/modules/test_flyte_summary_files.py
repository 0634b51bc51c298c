# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_summary writes the run's report files itself (one module run instead of a file and two copy tasks)."""
from __future__ import absolute_import, division, print_function

import json
import os

from ansible_collections.flytesec.hardening.plugins.modules import flyte_summary

from fake_client import FakeClient, run_module

__metaclass__ = type


def _run(**args):
    result, failed = run_module(flyte_summary, args, FakeClient())
    return dict(result, failed=failed)


def test_one_cluster_writes_its_json_markdown_and_the_fleet_file(tmp_path):
    reports, fleet = tmp_path / "reports" / "localhost", tmp_path / "reports" / "r1-clusters.json"
    out = _run(cluster="localhost", run_id="r1", namespace="flyte", backup_dir=str(tmp_path / "b"),
               report_dir=str(reports), fleet_report=str(fleet))
    assert not out.get("failed") and out["changed"] is False
    assert json.loads((reports / "r1.json").read_text()) == out["summary"]
    assert (reports / "r1.md").read_text() == out["markdown"]
    assert json.loads(fleet.read_text()) == [out["summary"]]
    assert sorted(out["files"]) == sorted([str(reports / "r1.json"), str(reports / "r1.md"), str(fleet)])
    for path in out["files"]:
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(str(reports)).st_mode & 0o777 == 0o700
    assert [p.name for p in reports.iterdir() if p.name.startswith(".")] == []   # no temporary file left


def test_the_fleet_file_of_several_clusters_and_nothing_else(tmp_path):
    fleet = tmp_path / "f.json"
    out = _run(fleet_report=str(fleet), clusters=[{"cluster": "a"}, {"cluster": "b"}])
    assert json.loads(fleet.read_text()) == [{"cluster": "a"}, {"cluster": "b"}] and out["files"] == [str(fleet)]
    assert "summary" not in out


def test_without_clusters_the_cluster_options_are_required(tmp_path):
    out = _run(run_id="r1", report_dir=str(tmp_path))
    assert out["failed"] and "cluster" in out["msg"] and "namespace" in out["msg"] and "backup_dir" in out["msg"]
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_report_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = _run(cluster="c", run_id="r1", namespace="flyte", backup_dir=str(tmp_path / "b"),
               report_dir=str(blocker / "sub"))
    assert out["failed"] and "cannot write the report" in out["msg"] and str(blocker / "sub") in out["msg"]
