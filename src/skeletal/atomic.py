"""Output files written atomically: a temporary file in the output's own folder, then ``os.replace``.

Every file a command writes (``lift``/``predict`` arrays, exported models, plots and animations, model files) goes
through :func:`atomic_path`, so a failure or a kill while writing leaves either the previous file or none, never
a truncated one, and no temporary file behind (on an exception). The file gets the mode of a normal new file under
the user's umask (``0o666 & ~umask``: ``0644`` with the usual ``022``), not the ``0600`` of ``mkstemp``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path


def umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | PathLike[str], sync: bool = True) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; renamed over ``path`` when the block ends without error.

    The temporary file is in ``path``'s folder (created if missing), so the rename never crosses file systems,
    and ends with the same suffix (``.npz``, ``.png``, ``.gif``, ``.onnx``...), so writers that pick the format
    from the name pick the right one (``np.savez`` adds no second ``.npz``). It exists (empty) when the block
    starts; writers may replace it.

    Args:
        path: The output file.
        sync: ``fsync`` the content before the rename (so a power cut cannot leave an empty file either).

    Raises:
        IsADirectoryError: ``path`` is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        if sync:
            with open(temporary, "rb") as stream:
                os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~umask())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_path`)."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


def save_npz(path: str | PathLike[str], **arrays: object) -> Path:
    """``np.savez`` atomically (:func:`atomic_path`); as ``np.savez``, ``.npz`` is appended to a name without it.

    Returns:
        The file written.
    """
    import numpy as np

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected an .npz file name")
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    with atomic_path(path) as temporary, open(temporary, "wb") as stream:
        np.savez(stream, **arrays)  # type: ignore[arg-type]  # numpy's stub also matches **kwargs to allow_pickle
    return path
