"""clients/python as a package: its version is the project's, the old module name still imports,
``pip install --no-deps --no-build-isolation`` puts it into a fresh venv (made with
--system-site-packages, so Debian's python3-socketio and friends are seen), and this README's
Python blocks run as written with the installed package against a demo-mode gateway."""

import json
import os
import re
import shutil
import subprocess
import sys
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


#: what each README block prints, and the gateway it runs against ('demo' mode or one with a JWT 'secret')
EXPECTED = [
    ([r"placed \S+ new on the grid: True\norder-update \d+ new\norder-update cancelled\npositions \[\]\n"], 'demo'),
    ([r'Subscribed to market data for: crude_oil', r'offer rests: new', r'order \d+ new', r'order \d+ filled',
      r"trades \[\('buy', 1, \d+(\.\d+)?\)\]"], 'demo'),
    ([r'0\.01 75\.42999999999999 75\.43\nPRICE_OFF_TICK price\n71\.23 new\n'], 'demo'),
    ([r'UNKNOWN_COMMODITY subscribe-market commodities Unknown commodity: unobtainium\nINVALID_ORDER price 400\n'
      r"TOKEN_UNAVAILABLE OSError\('identity service down'\)\n"], 'demo'),
    ([r'filled 800 at \d+\.\d+', r'execution_time', r'VWAP \d+\.\d+', r'natural_gas\s+800'], 'demo'),
    ([r'positions of quant-1: \[\]'], 'secret'),
    ([r'crude_oil is open\nplaced new 70 same order: True\namended 70\.05\ndead-man armed: True\ncancelled \[True\]\n'
      r'over REST: 0\n'], 'demo'),
]


def test_readme_blocks_run_as_written(installed, demo_url, url):
    python, work, _ = installed
    blocks = readme_blocks()
    assert len(blocks) == len(EXPECTED), 'every README block has its expected output here'
    gateways = {'demo': {'QX_URL': demo_url}, 'secret': {'QX_URL': url, 'JWT_SECRET': os.environ['QX_JWT_SECRET']}}
    for i, (code, (expected, gateway)) in enumerate(zip(blocks, EXPECTED), 1):
        script = work / 'readme_{}.py'.format(i)
        script.write_text(code)
        result = subprocess.run([str(python), str(script)], capture_output=True, text=True, timeout=60, cwd=str(work),
                                env={**os.environ, **gateways[gateway], 'PYTHONPATH': ''})
        assert result.returncode == 0, 'README block {} failed:\n{}{}'.format(i, result.stdout, result.stderr)
        for pattern in expected:
            assert re.search(pattern, result.stdout), 'README block {}: no {!r} in:\n{}'.format(i, pattern, result.stdout)


USER_CODE = '''
from quantenergx import QuantEnergxWebSocket, AsyncQuantEnergxWebSocket, QuantEnergxRest
ws = QuantEnergxWebSocket('http://x', 'u', 't')
reveal_type(ws.connect())
reveal_type(ws.subscribe_to_trading_updates())
reveal_type(ws.book('crude_oil'))
async def pinged() -> None:
    reveal_type(await AsyncQuantEnergxWebSocket('http://x', 'u', 't').ping())
api = QuantEnergxRest('http://x', token='t')
reveal_type(api.place_order('crude_oil', 'buy', 1).quantity)
reveal_type(api.commodity('crude_oil').round_price(75.43))
'''


@pytest.fixture(scope='module')
def mypy_run(tmp_path_factory):
    """One mypy run (settings of pyproject.toml) over the package and a user's code."""
    pytest.importorskip('mypy', reason='mypy not installed (Debian: python3-mypy)')
    user = tmp_path_factory.mktemp('mypy') / 'user_code.py'
    user.write_text(USER_CODE)
    return subprocess.run([sys.executable, '-m', 'mypy', '--no-incremental', 'quantenergx', str(user)], capture_output=True,
                          text=True, timeout=240, cwd=str(HERE))


def test_type_hints_check_with_mypy(mypy_run):
    """The package ships py.typed: its hints must hold (every function annotated, no implicit Any
    in generics, returns checked)."""
    assert mypy_run.returncode == 0, mypy_run.stdout + mypy_run.stderr
    assert 'Success: no issues found' in mypy_run.stdout


def test_a_users_code_gets_real_types(mypy_run):
    """What mypy tells a user about the clients: no ``Any`` where the package knows better."""
    revealed = [line.split('Revealed type is ')[1] for line in mypy_run.stdout.splitlines() if 'Revealed type is' in line]
    assert revealed == [
        '"quantenergx.client.QuantEnergxWebSocket"',
        '"Tuple[builtins.dict[builtins.str, Any], builtins.dict[builtins.str, Any]]"',
        '"Union[quantenergx.book.BookView, None]"',
        '"builtins.dict[builtins.str, Any]"',
        '"Union[builtins.int, None]"',
        '"_decimal.Decimal"',
    ], mypy_run.stdout + mypy_run.stderr


def test_every_public_method_has_a_docstring():
    import inspect
    missing = []
    for name in quantenergx.__all__:
        obj = getattr(quantenergx, name)
        if not inspect.isclass(obj):
            continue
        if not obj.__doc__:
            missing.append(name)
        for attr, member in vars(obj).items():
            if attr.startswith('_'):
                continue
            target = member.fget if isinstance(member, property) else member
            if (inspect.isfunction(target) or isinstance(member, (classmethod, staticmethod))) and not inspect.getdoc(member):
                missing.append('{}.{}'.format(name, attr))
        for base in obj.__mro__[1:]:
            if base.__module__.startswith('quantenergx'):
                for attr, member in vars(base).items():
                    target = member.fget if isinstance(member, property) else member
                    if not attr.startswith('_') and inspect.isfunction(target) and not inspect.getdoc(target):
                        missing.append('{}.{}'.format(base.__name__, attr))
    assert sorted(set(missing)) == []
