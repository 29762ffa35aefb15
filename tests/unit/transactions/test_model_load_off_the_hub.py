"""Loading the model inside a nameko (eventlet) service must not stall the other greenthreads:
``categorization.off_the_hub`` runs it in a real OS thread there, and plainly elsewhere."""

import subprocess
import sys
import textwrap
from pathlib import Path

from transactions.categorization import off_the_hub

REPO = Path(__file__).resolve().parents[3]


def test_the_work_s_value_and_errors_come_back():
    assert off_the_hub(lambda: 42) == 42
    try:
        off_the_hub(lambda: 1 / 0)
    except ZeroDivisionError:
        pass
    else:  # pragma: no cover
        raise AssertionError("the error was swallowed")


def test_under_eventlet_other_greenthreads_run_while_the_model_loads():
    script = textwrap.dedent(
        """
        import eventlet
        eventlet.monkey_patch()
        from eventlet import patcher
        real_sleep = patcher.original("time").sleep
        from transactions.categorization import off_the_hub

        ticks = []
        def ticker():
            for _ in range(20):
                ticks.append(1)
                eventlet.sleep(0.01)

        eventlet.spawn(ticker)
        eventlet.sleep(0)
        off_the_hub(lambda: real_sleep(0.5))  # a blocking load, as unpickling is
        print(len(ticks))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= 10  # the ticker kept running during the 0.5 s load
