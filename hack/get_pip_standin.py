# Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads from a
# host this machine cannot reach. ansible-test runs it with the target interpreter and the
# pip requirement it wants; we bootstrap pip from the standard library (ensurepip) and then
# install what was asked for from the package index.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *args])
