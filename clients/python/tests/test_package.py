"""clients/python as a package: its version is the project's, the old module name still imports,
``pip install --no-deps --no-build-isolation`` puts it into a fresh venv (made with
--system-site-packages, so Debian's python3-socketio and friends are seen), and this README's
Python blocks run as written with the installed package against a demo-mode gateway."""

import json
import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

import quantenergx
import quantenergx_ws

HERE = Path(__file__).resolve().parent.parent
ROOT = HERE.parent.parent


def test_version_is_the_projects():
    project = json.loads((ROOT / 'package.json').read_text())['version']
    assert quantenergx.__version__ == project
    assert 'version = { attr = "quantenergx.__version__" }' in (HERE / 'pyproject.toml').read_text()


def test_old_module_name_still_imports():
    assert quantenergx_ws.QuantEnergxWebSocket is quantenergx.QuantEnergxWebSocket
    assert quantenergx_ws.QuantEnergxError is quantenergx.QuantEnergxError


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """A fresh venv with the package installed from a copy of clients/python (the build writes
    build/ and *.egg-info/ into the source folder: not into the repository)."""
    work = tmp_path_factory.mktemp('qx-pip')
    source = work / 'src'
    shutil.copytree(HERE, source, ignore=shutil.ignore_patterns('__pycache__', 'build', '*.egg-info', '.pytest_cache'))
    env_dir = work / 'venv'
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / 'bin' / 'python'
    result = subprocess.run([str(python), '-m', 'pip', 'install', '--no-deps', '--no-build-isolation', '--no-index',
                             str(source)], capture_output=True, text=True, timeout=180, cwd=str(work))
    assert result.returncode == 0, result.stdout + result.stderr
    return python, work, result.stdout


def test_pip_install_into_a_fresh_venv(installed):
    python, work, output = installed
    assert 'Successfully installed quantenergx-{}'.format(quantenergx.__version__) in output
    probe = subprocess.run([str(python), '-c', 'import quantenergx, quantenergx_ws, quantenergx.frames; '
                            'print(quantenergx.__version__, quantenergx.__file__, quantenergx_ws.__file__)'],
                           capture_output=True, text=True, timeout=60, cwd=str(work))
    assert probe.returncode == 0, probe.stderr
    version, package_file, shim_file = probe.stdout.split()
    assert version == quantenergx.__version__
    site = str(work / 'venv' / 'lib')
    assert package_file.startswith(site) and shim_file.startswith(site), 'imported from the venv, not the source'
    files = subprocess.run([str(python), '-m', 'pip', 'show', '-f', 'quantenergx'], capture_output=True, text=True,
                           timeout=60, cwd=str(work)).stdout
    assert 'quantenergx/py.typed' in files and 'tests/' not in files


def readme_blocks():
    return re.findall(r'^```python\n(.*?)^```$', (HERE / 'README.md').read_text(), re.S | re.M)


EXPECTED = [
    [r"placed \S+ new\norder-update 1 new\norder-update cancelled\npositions \[\]\nmarket \{('crude_oil': 75(\.0)?)?\}\n"],
    [r'Subscribed to market data for: crude_oil', r'order \d+ filled', r"trades \[\('buy', 1, 74(\.0)?\)\]"],
    [r'UNKNOWN_COMMODITY subscribe-market Unknown commodity: unobtainium\nINVALID_ORDER price 400\n'],
    [r'execution_time', r'VWAP 3\.10375', r'natural_gas\s+800'],
]


def test_readme_blocks_run_as_written(installed, demo_url):
    python, work, _ = installed
    blocks = readme_blocks()
    assert len(blocks) == len(EXPECTED), 'every README block has its expected output here'
    for i, (code, expected) in enumerate(zip(blocks, EXPECTED), 1):
        script = work / 'readme_{}.py'.format(i)
        script.write_text(code)
        result = subprocess.run([str(python), str(script)], capture_output=True, text=True, timeout=60, cwd=str(work),
                                env={**os.environ, 'QX_URL': demo_url, 'PYTHONPATH': ''})
        assert result.returncode == 0, 'README block {} failed:\n{}{}'.format(i, result.stdout, result.stderr)
        for pattern in expected:
            assert re.search(pattern, result.stdout), 'README block {}: no {!r} in:\n{}'.format(i, pattern, result.stdout)

