# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options that select the Flyte installation a module works on."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Documentation of namespace, layout and release_name."""

    DOCUMENTATION = r"""
options:
  namespace:
    description:
      - Namespace of the Flyte installation.
    type: str
    default: flyte
  layout:
    description:
      - How Flyte is deployed.
      - C(auto) detects it from the live objects in O(namespace).
      - C(flyte-core) is the multi-Deployment chart (flyteadmin, flytepropeller, datacatalog, flyteconsole, ...).
      - C(flyte-binary) is the single-binary chart (one Deployment C(<fullname>)).
    type: str
    choices: [auto, flyte-core, flyte-binary]
    default: auto
  release_name:
    description:
      - Helm release name of a flyte-binary installation; its objects are named after the chart's C(fullname).
      - Needed only when O(namespace) holds more than one flyte-binary release.
    type: str
"""
