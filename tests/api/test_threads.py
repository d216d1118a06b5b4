"""`reconciler.api.threads`: the threads a client starts leave Ctrl-C to the main thread."""

from __future__ import annotations

import _thread
import signal
import threading

import pytest

from reconciler.api.threads import map_in_threads, threads_leave_ctrl_c_to_main


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_threads_started_in_the_block_block_sigint_and_the_caller_gets_its_mask_back() -> None:
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    masks: list[set[int]] = []
    with threads_leave_ctrl_c_to_main():
        thread = threading.Thread(target=lambda: masks.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, []))))
        thread.start()
    thread.join()
    assert signal.SIGINT in masks[0]
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before


def test_without_signal_masks_a_ctrl_c_in_the_block_is_held_and_raised_when_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows has no pthread_sigmask: the Ctrl-C is held in Python while threads start, then raised."""
    if hasattr(signal, "pthread_sigmask"):
        monkeypatch.delattr(signal, "pthread_sigmask")
    handler = signal.getsignal(signal.SIGINT)
    started: list[str] = []
    with pytest.raises(KeyboardInterrupt), threads_leave_ctrl_c_to_main():
        _thread.interrupt_main()  # as a Ctrl-C: runs the SIGINT handler on this thread
        thread = threading.Thread(target=lambda: started.append("ran"))
        thread.start()
        thread.join()
        started.append("block ended")
    assert started == ["ran", "block ended"]  # held through Thread.start, raised only once the block ended
    assert signal.getsignal(signal.SIGINT) is handler


def test_map_in_threads_keeps_the_order_and_raises_the_first_error_in_it() -> None:
    assert map_in_threads(lambda n: n * n, list(range(20)), 4, "t") == [n * n for n in range(20)]

    def fail_on_odd(n: int) -> int:
        if n % 2:
            raise ValueError(n)
        return n

    with pytest.raises(ValueError, match=r"^3$"):
        map_in_threads(fail_on_odd, [0, 2, 3, 5], 3, "t")
