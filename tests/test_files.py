import os
import stat

import pytest

from course_utils.files import atomic_write


def test_atomic_write_replaces_on_success(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target) as f:
            f.write(b"half")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_gives_the_file_a_readable_mode(tmp_path):
    target = tmp_path / "out.zip"
    with atomic_write(target) as f:
        f.write(b"data")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    with atomic_write(target, mode=0o755) as f:
        f.write(b"data")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o755
