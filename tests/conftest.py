# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the checkout importable as ansible_collections.flytesec.hardening for pytest.

The repository root is the collection root. A symlink tree under build/collections
(ignored by git) points ansible_collections/flytesec/hardening at the checkout, so
tests import exactly the code that is in the working tree.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / "build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "flytesec" / "hardening"
FIXTURES = Path(os.environ.get("FLYTESEC_FIXTURES", ROOT.parent / "shared" / "fixtures"))

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        LINK.symlink_to(ROOT, target_is_directory=True)
    except FileExistsError:  # another pytest worker won the race
        pass
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
