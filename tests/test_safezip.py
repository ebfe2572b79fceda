import stat
import zipfile

import pytest
from toy_kit import zip_files

from course_utils.grading.harness.safezip import Limits, UnsafeSubmission, copy_folder, extract_zip, match_files


def test_extracts_regular_files(tmp_path):
    zip_files(tmp_path / "s.zip", {"course_utils/a.py": "x = 1\n", "assignments/assignment1/n.ipynb": "{}",
                                   "./dir/": ""})
    files = extract_zip(tmp_path / "s.zip", tmp_path / "out")
    assert files == ["assignments/assignment1/n.ipynb", "course_utils/a.py"]
    assert (tmp_path / "out" / "course_utils" / "a.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("name, words", [
    ("../evil.py", "outside"), ("a/../../evil.py", "outside"), ("/etc/evil", "absolute"),
    ("C:/evil", "absolute"), ("..\\evil.py", "outside"),
])
def test_refuses_escaping_entries(tmp_path, name, words):
    zip_files(tmp_path / "s.zip", {name: "x"})
    with pytest.raises(UnsafeSubmission, match=words):
        extract_zip(tmp_path / "s.zip", tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def test_refuses_symlinks(tmp_path):
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeSubmission, match="symbolic link"):
        extract_zip(tmp_path / "s.zip", tmp_path / "out")


def test_refuses_too_many_or_too_big(tmp_path):
    zip_files(tmp_path / "many.zip", {f"f{i}": "x" for i in range(6)})
    with pytest.raises(UnsafeSubmission, match="too many entries: 6"):
        extract_zip(tmp_path / "many.zip", tmp_path / "o1", Limits(max_entries=5))
    zip_files(tmp_path / "big.zip", {"big": "0" * 5000})  # compresses well: a small zip bomb
    assert (tmp_path / "big.zip").stat().st_size < 1000
    with pytest.raises(UnsafeSubmission, match="too big"):
        extract_zip(tmp_path / "big.zip", tmp_path / "o2", Limits(max_file_bytes=4000))
    zip_files(tmp_path / "total.zip", {"a": "0" * 3000, "b": "0" * 3000})
    with pytest.raises(UnsafeSubmission, match="too much data"):
        extract_zip(tmp_path / "total.zip", tmp_path / "o3", Limits(max_total_bytes=5000))


def test_refuses_corrupt_zip(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(UnsafeSubmission, match="not a readable zip"):
        extract_zip(tmp_path / "bad.zip", tmp_path / "out")
    good = zip_files(tmp_path / "good.zip", {"a.py": "x = 1\n" * 100})
    data = bytearray(good.read_bytes())
    data[40:60] = b"\xff" * 20  # damage the compressed data of the entry
    (tmp_path / "damaged.zip").write_bytes(bytes(data))
    with pytest.raises(UnsafeSubmission):
        extract_zip(tmp_path / "damaged.zip", tmp_path / "out2")


def test_copy_folder_refuses_symlinks(tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "a.py").write_text("x")
    assert copy_folder(folder, tmp_path / "out") == ["a.py"]
    (folder / "link").symlink_to("/etc/passwd")
    with pytest.raises(UnsafeSubmission, match="symbolic link"):
        copy_folder(folder, tmp_path / "out2")


def test_match_files_tolerates_a_parent_folder_and_loose_notebooks():
    unpacked = ["kit/course_utils/layers.py", "knn.ipynb", "notes.txt"]
    wanted = ["course_utils/layers.py", "assignments/assignment1/knn.ipynb", "course_utils/optim.py"]
    assert match_files(unpacked, wanted) == {"course_utils/layers.py": "kit/course_utils/layers.py",
                                             "assignments/assignment1/knn.ipynb": "knn.ipynb"}
