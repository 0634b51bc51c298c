# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes access for flytesec.hardening modules, through kubernetes.core's client.

Connection options are kubernetes.core's own (``k8s_auth_options``: kubeconfig, context,
host, api_key, validate_certs, ... and their ``K8S_AUTH_*`` environment fallbacks, which is
what AWX's Kubernetes credential injects). Nothing here re-implements kubernetes.core: it adds
what its client lacks for this collection:

* objects come back as plain dicts (``None`` when absent) so the pure-Python core can work on them;
* writes in check mode are server-side dry runs (kubernetes.core's ``K8SClient`` adds ``dryRun=All``);
* the API server's ``Warning`` headers (PodSecurity warnings among them) are collected;
* every write is recorded (verb, kind, namespace, name, dry run) for the module result;
* every request has a timeout (kubernetes.core has no option for one, so a stalled API server would hang a run
  forever): ``FLYTESEC_K8S_REQUEST_TIMEOUT`` seconds (default 60, ``0`` for none) to connect and to read each
  answer; an API server that does not answer, or cannot be reached, raises ``FlyteK8sError`` naming the request.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import concurrent.futures
import copy
import functools
import json
import os
import re
import traceback

K8S_IMP_ERR = None
try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    HAS_K8S_CORE = True
except ImportError:  # pragma: no cover - exercised by ansible-test's import test
    K8S_IMP_ERR = traceback.format_exc()
    HAS_K8S_CORE = False
    AUTH_ARG_SPEC = {}
    AnsibleK8SModule = None
    CoreException = Exception

try:
    from kubernetes.dynamic.exceptions import NotFoundError, DynamicApiError
    HAS_KUBERNETES = True
except ImportError:  # pragma: no cover
    HAS_KUBERNETES = False
    K8S_IMP_ERR = K8S_IMP_ERR or traceback.format_exc()

    class NotFoundError(Exception):
        """Stand-in so that except clauses stay valid without the kubernetes library."""

    class DynamicApiError(Exception):
        """Stand-in so that except clauses stay valid without the kubernetes library."""

PATCH_CONTENT_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}
WRITE_VERBS = ("create", "patch", "replace", "delete")
# The field manager of every write (managedFields): says which fields this collection set, and when it last wrote an
# object (flyte_rollout's pending restarts), apart from other clients of the same library.
FIELD_MANAGER = "flytesec.hardening"
TIMEOUT_ENV = "FLYTESEC_K8S_REQUEST_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
try:
    import urllib3
    TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)
except ImportError:  # pragma: no cover
    TRANSPORT_ERRORS = (OSError,)


def auth_argument_spec():
    """Return a fresh copy of kubernetes.core's connection options (documented by ``kubernetes.core.k8s_auth_options``)."""
    return copy.deepcopy(AUTH_ARG_SPEC)


class FlyteK8sError(Exception):
    """A Kubernetes API call failed; ``status`` and ``reason`` carry the API server's answer."""

    def __init__(self, message, status=None, reason=None):
        super(FlyteK8sError, self).__init__(message)
        self.status = status
        self.reason = reason


def _api_error_message(exc):
    """Extract the API server's own message from a dynamic client error."""
    body = getattr(exc, "body", None)
    if body:
        try:
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            return json.loads(body).get("message") or str(body)
        except (ValueError, AttributeError):
            return str(body)
    return str(exc)


def _unquote(text):
    """The text of an RFC 7230 quoted-string (``"a \\"b\\""`` -> ``a "b"``); other text as it is."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r'\\(.)', r'\1', text[1:-1])
    return text


def _warnings_from_headers(headers):
    """Return the text of every ``Warning`` header (RFC 7234 form ``299 - "text"``)."""
    if headers is None:
        return []
    values = headers.getlist("Warning") if hasattr(headers, "getlist") else [headers.get("Warning")]
    found = []
    for value in values:
        if not value:
            continue
        for part in value.split(", 299 "):
            text = part.strip()
            if text.startswith("299 "):
                text = text[4:]
            if text.startswith("- "):
                text = text[2:]
            found.append(_unquote(text.strip()))
    return found


def request_timeout():
    """Seconds a request may take to connect and to answer (``FLYTESEC_K8S_REQUEST_TIMEOUT``), or None for no limit."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        value = DEFAULT_TIMEOUT
    return value if value > 0 else None


def install_timeout():
    """Give every request of the kubernetes library in this (module) process a timeout, unless a call sets its own.

    Installed on the library's REST client class by ``connect`` and ``connect_other``, before kubernetes.core builds
    its client: building it runs API discovery, which would hang on a stalled API server too."""
    seconds = request_timeout()
    try:
        from kubernetes.client import rest
    except ImportError:  # pragma: no cover
        return
    request = rest.RESTClientObject.request
    if seconds is None or getattr(request, "flytesec_timeout", None) is not None:
        return

    @functools.wraps(request)
    def timed(self, *args, **kwargs):
        if not kwargs.get("_request_timeout"):
            kwargs["_request_timeout"] = (seconds, seconds)
        return request(self, *args, **kwargs)
    timed.flytesec_timeout = seconds
    rest.RESTClientObject.request = timed


def _transport_message(exc):
    """A short reason for an API server that could not be reached or did not answer in time."""
    text = str(exc)
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return "the API server did not answer within %ss (%s): %s" % (request_timeout(), TIMEOUT_ENV, text)
    return "the API server could not be reached: %s" % text


class FlyteK8sClient(object):
    """Thin dict-in/dict-out wrapper around kubernetes.core's ``K8SClient``."""

    def __init__(self, module, client=None):
        self.module = module
        self.client = client if client is not None else get_api_client(module=module)
        self.warnings = []
        self.writes = []

    @property
    def dry_run(self):
        """True when writes are sent as server-side dry runs (check mode)."""
        return bool(getattr(self.client, "dry_run", False))

    def resource(self, api_version, kind):
        """Return the discovered API resource for ``api_version``/``kind``."""
        try:
            return self.client.resource(kind, api_version)
        except TRANSPORT_ERRORS as exc:
            raise FlyteK8sError("discovery of %s %s failed: %s" % (api_version, kind, _transport_message(exc)), None, "Unavailable")

    def get(self, api_version, kind, name, namespace=None):
        """Return the object as a dict, or ``None`` when it does not exist."""
        resource = self.resource(api_version, kind)
        try:
            return self.client.get(resource, name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None
        except TRANSPORT_ERRORS as exc:
            raise FlyteK8sError("get %s %s/%s failed: %s" % (kind, namespace, name, _transport_message(exc)), None, "Unavailable")
        except DynamicApiError as exc:
            raise FlyteK8sError("get %s %s/%s failed: %s" % (kind, namespace, name, _api_error_message(exc)),
                                getattr(exc, "status", None), getattr(exc, "reason", None))

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        """Return the items of a list call as dicts (an empty list when none)."""
        resource = self.resource(api_version, kind)
        try:
            result = self.client.get(resource, namespace=namespace, label_selector=label_selector, field_selector=field_selector)
        except NotFoundError:
            return []
        except TRANSPORT_ERRORS as exc:
            raise FlyteK8sError("list %s in %s failed: %s" % (kind, namespace, _transport_message(exc)), None, "Unavailable")
        except DynamicApiError as exc:
            raise FlyteK8sError("list %s in %s failed: %s" % (kind, namespace, _api_error_message(exc)),
                                getattr(exc, "status", None), getattr(exc, "reason", None))
        return list(result.to_dict().get("items", []))

    def _write(self, verb, api_version, kind, name, namespace, call, sink=None):
        """Run one write, record it, collect API warnings (also into ``sink``, a list, when given: the warnings of
        this call alone, when several threads write) and return the resulting object as a dict."""
        record = {"verb": verb, "kind": kind, "namespace": namespace, "name": name, "dry_run": self.dry_run}
        try:
            response = call()
        except DynamicApiError as exc:
            record["error"] = _api_error_message(exc)
            self.writes.append(record)
            raise FlyteK8sError("%s %s %s/%s failed: %s" % (verb, kind, namespace, name, record["error"]),
                                getattr(exc, "status", None), getattr(exc, "reason", None))
        except TRANSPORT_ERRORS as exc:
            # the request may or may not have reached the API server: the caller reads the object again
            record["error"] = _transport_message(exc)
            self.writes.append(record)
            raise FlyteK8sError("%s %s %s/%s failed: %s" % (verb, kind, namespace, name, record["error"]), None, "Unavailable")
        self.writes.append(record)
        found = _warnings_from_headers(getattr(response, "headers", None))
        for text in found:
            self.warnings.append({"kind": kind, "namespace": namespace, "name": name, "warning": text})
            if sink is not None:
                sink.append(text)
        data = getattr(response, "data", b"")
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        return json.loads(data) if data else None

    def patch(self, api_version, kind, name, namespace, body, patch_type="strategic"):
        """Patch an object (strategic merge, JSON merge or JSON patch); a dry run in check mode."""
        resource = self.resource(api_version, kind)
        content_type = PATCH_CONTENT_TYPES[patch_type]
        return self._write("patch", api_version, kind, name, namespace, lambda: self.client.patch(
            resource, body, name=name, namespace=namespace, content_type=content_type, serialize=False,
            field_manager=FIELD_MANAGER))

    def dry_run_patches(self, requests, workers=1):
        """Server-side dry runs of merge patches ``(api_version, kind, name, namespace, body)``, ``workers`` at a time,
        in check mode or not; returns the API server's warnings of each request, in order. The client is switched to
        dry runs once, around all of them, so that no thread ever sees it switched back."""
        requests = list(requests)
        for api_version, kind in sorted(set((r[0], r[1]) for r in requests)):
            self.resource(api_version, kind)   # discovery before the threads

        def one(request):
            api_version, kind, name, namespace, body = request
            resource = self.resource(api_version, kind)
            found = []
            self._write("patch", api_version, kind, name, namespace, lambda: self.client.patch(
                resource, body, name=name, namespace=namespace, content_type=PATCH_CONTENT_TYPES["merge"],
                serialize=False), sink=found)
            return found
        before = getattr(self.client, "dry_run", False)
        self.client.dry_run = True
        try:
            return parallel(one, requests, workers)
        finally:
            self.client.dry_run = before

    def dry_run_patch(self, api_version, kind, name, namespace, body, patch_type="merge"):
        """A server-side dry run of a patch, in check mode or not: asks the API server what the patch would do (for
        example which running pods a Pod Security enforce label would reject: they come back as warnings)."""
        before = getattr(self.client, "dry_run", False)
        self.client.dry_run = True
        try:
            return self.patch(api_version, kind, name, namespace, body, patch_type=patch_type)
        finally:
            self.client.dry_run = before

    def create(self, api_version, kind, body, namespace=None):
        """Create an object; a dry run in check mode."""
        resource = self.resource(api_version, kind)
        name = body.get("metadata", {}).get("name")
        return self._write("create", api_version, kind, name, namespace, lambda: self.client.create(
            resource, body, namespace=namespace, serialize=False, field_manager=FIELD_MANAGER))

    def replace(self, api_version, kind, body, namespace=None):
        """Replace an object (optimistic concurrency through its resourceVersion); a dry run in check mode."""
        resource = self.resource(api_version, kind)
        name = body.get("metadata", {}).get("name")
        return self._write("replace", api_version, kind, name, namespace, lambda: self.client.replace(
            resource, body, name=name, namespace=namespace, serialize=False, field_manager=FIELD_MANAGER))

    def can(self, verb, resource, group="", namespace=None):
        """Ask the API server (SelfSubjectAccessReview) whether this client may ``verb`` ``resource``; ``(allowed, reason)``.

        Always a server-side dry run: nothing is stored (a review never is) and no write shows in the audit log."""
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": dict((k, v) for k, v in (("verb", verb), ("resource", resource),
                                                                        ("group", group), ("namespace", namespace)) if v)}}
        review = self.resource("authorization.k8s.io/v1", "SelfSubjectAccessReview")
        before = getattr(self.client, "dry_run", False)
        self.client.dry_run = True
        try:
            response = self.client.create(review, body, serialize=False)
        except DynamicApiError as exc:
            raise FlyteK8sError("SelfSubjectAccessReview failed: %s" % _api_error_message(exc),
                                getattr(exc, "status", None), getattr(exc, "reason", None))
        finally:
            self.client.dry_run = before
        data = getattr(response, "data", b"")
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        status = (json.loads(data) if data else {}).get("status") or {}
        return bool(status.get("allowed")), status.get("reason") or ""

    def delete(self, api_version, kind, name, namespace=None):
        """Delete an object; a dry run in check mode. Returns ``None`` if it was already gone."""
        resource = self.resource(api_version, kind)
        try:
            return self._write("delete", api_version, kind, name, namespace, lambda: self.client.delete(
                resource, name=name, namespace=namespace, serialize=False))
        except FlyteK8sError as exc:
            if exc.status == 404:
                return None
            raise


def parallel(function, items, workers):
    """``[function(item) for item in items]``, run ``workers`` at a time (1: one after the other, in this thread).
    On an error, what has not started is cancelled, what runs finishes, and the first error in ``items`` order is
    raised."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(items)))
    futures = [pool.submit(function, item) for item in items]
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True)


def new_module(argument_spec, **kwargs):
    """Create an ``AnsibleK8SModule`` with kubernetes.core's connection options added to ``argument_spec``.

    Fails the module cleanly (``missing_required_lib``) when kubernetes.core or the
    kubernetes library is missing.
    """
    if not HAS_K8S_CORE:
        from ansible.module_utils.basic import AnsibleModule, missing_required_lib
        spec = dict(argument_spec)
        module = AnsibleModule(argument_spec=spec, **kwargs)
        module.fail_json(msg=missing_required_lib("kubernetes.core collection"), exception=K8S_IMP_ERR)
    spec = auth_argument_spec()
    spec.update(argument_spec)
    return AnsibleK8SModule(argument_spec=spec, **kwargs)


def add_no_log(module, value):
    """Have Ansible mask ``value`` in everything the module returns (a secret the module read, not a parameter)."""
    inner = getattr(module, "_module", module)   # kubernetes.core's AnsibleK8SModule wraps an AnsibleModule
    inner.no_log_values.add(value)


def connect_other(module, kubeconfig=None, context=None):
    """A read client for another cluster (a control plane seen from a data plane's run); raises FlyteK8sError."""
    kwargs = dict((k, v) for k, v in (("kubeconfig", kubeconfig), ("context", context)) if v is not None)
    install_timeout()
    try:
        return FlyteK8sClient(module, client=get_api_client(**kwargs))
    except TRANSPORT_ERRORS as exc:
        raise FlyteK8sError("cannot connect to %s: %s" % (kubeconfig or "the default cluster", _transport_message(exc)))
    except CoreException as exc:
        raise FlyteK8sError("cannot connect to %s: %s" % (kubeconfig or "the default cluster", exc))


def connect(module):
    """Return a ``FlyteK8sClient`` for the module, failing it with the client's message on error."""
    install_timeout()
    try:
        return FlyteK8sClient(module)
    except TRANSPORT_ERRORS as exc:
        module.fail_json(msg="cannot connect to the cluster: %s" % _transport_message(exc))
    except CoreException as exc:
        module.fail_from_exception(exc)
    return None
