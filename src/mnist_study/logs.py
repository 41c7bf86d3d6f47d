"""Log set-up shared by workflow scripts: stderr (and warnings) go to the rule's log file."""

from __future__ import annotations

import sys
import traceback
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def redirect_to_log(path: str) -> Iterator[None]:
    with open(path, "a", buffering=1) as f:
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = f
        try:
            yield
        except BaseException:
            traceback.print_exc(file=f)  # the log then holds the error the user must read
            raise
        finally:
            sys.stdout, sys.stderr = old_out, old_err


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
