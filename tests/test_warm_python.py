"""The suite's warm interpreter (tests/warm_python.py) ends, reports and isolates a run as ``python`` would, so the
fault tests that use it observe what a real process does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

import warm_python


def test_exit_status_is_pythons_for_a_normal_end_an_exit_code_an_exception_and_a_signal():
    assert warm_python.run(["-c", "pass"]).returncode == 0
    assert warm_python.run(["-c", "import sys; sys.exit(3)"]).returncode == 3
    message = warm_python.run(["-c", "import sys; sys.exit('stopped: reason')"])
    assert (message.returncode, message.stderr) == (1, "stopped: reason\n")
    failed = warm_python.run(["-c", "raise ValueError('bad input')"])
    assert failed.returncode == 1
    assert failed.stderr.startswith("Traceback") and failed.stderr.endswith("ValueError: bad input\n")
    assert warm_python.run(["-c", "import os; os.abort()"]).returncode == -signal.SIGABRT


def test_a_run_gets_argv_cwd_and_environment_and_its_output_comes_back_whole(tmp_path):
    code = (
        "import os, sys\n"
        "print(sys.argv, os.getcwd(), os.environ['WARM_TEST'], __name__)\n"
        "print('x' * 200_000, file=sys.stderr)\n"  # more than a pipe holds
        "import atexit; atexit.register(print, 'at exit')\n"
    )
    result = warm_python.run(["-c", code, "a", "b"], cwd=tmp_path, env={**os.environ, "WARM_TEST": "yes"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == f"['-c', 'a', 'b'] {tmp_path} yes __main__\nat exit\n"
    assert result.stderr == "x" * 200_000 + "\n"


def test_a_script_runs_as_main_with_its_folder_on_the_path(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    script = tmp_path / "script.py"
    script.write_text("import sys, helper\nprint(__file__, sys.argv[1:], helper.VALUE)\n")
    result = warm_python.run([str(script), "--flag"])
    assert result.stdout == f"{script} ['--flag'] 42\n", result.stderr


def test_a_run_can_be_killed_and_lead_its_own_session():
    process = warm_python.WarmProcess(["-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)
        assert os.getsid(process.pid) == process.pid != os.getsid(0)
    finally:
        process.kill()
    assert process.wait(timeout=30) == -signal.SIGKILL


def test_the_run_leaves_the_test_process_as_it_was(tmp_path):
    before = (os.getcwd(), dict(os.environ), list(sys.argv))
    warm_python.run(["-c", "import os, sys; os.environ['LEAK'] = '1'; sys.argv[:] = ['x']"], cwd=tmp_path)
    assert (os.getcwd(), dict(os.environ), list(sys.argv)) == before


def test_waiting_for_a_file_returns_once_the_run_made_it_and_fails_if_the_run_ended_without(tmp_path):
    made = tmp_path / "made"
    warm_python.WarmProcess(["-c", f"open({str(made)!r}, 'w').close()"]).wait_for_file(made)
    ended = warm_python.WarmProcess(["-c", "print('gave up')"])
    with pytest.raises(AssertionError, match=r"the run ended before .*never appeared.*gave up"):
        ended.wait_for_file(tmp_path / "never")
