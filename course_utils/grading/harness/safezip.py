"""Unpack a submission without trusting it.

A zip is refused as a whole (``UnsafeSubmission`` with a readable reason) when
it is not a zip, has too many entries, an entry that is too big (declared or
actual size), too much data in total, an absolute path, a path that climbs out
of the folder (``..``), or a symbolic link. A folder (Gradescope unpacks
uploads itself) gets the same checks. Only regular files come out, mode 0644.
"""
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CHUNK = 1 << 16


class UnsafeSubmission(Exception):
    """The submission cannot be unpacked safely; the message says why."""


@dataclass(frozen=True)
class Limits:
    max_entries: int = 300
    max_file_bytes: int = 25 * 2**20
    max_total_bytes: int = 100 * 2**20


def _checked_name(name):
    """Posix relative path of an entry, or raise for absolute / climbing / odd paths."""
    if not name or "\x00" in name:
        raise UnsafeSubmission(f"entry with an invalid name {name!r}")
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise UnsafeSubmission(f"entry {name!r} has an absolute path")
    parts = PurePosixPath(normalized).parts
    if ".." in parts:
        raise UnsafeSubmission(f"entry {name!r} points outside the submission folder")
    return PurePosixPath(*[p for p in parts if p not in ("", ".")]).as_posix()


def extract_zip(zip_path, dest, limits=Limits()):
    """Unpack ``zip_path`` into ``dest`` (created); return the relative file paths."""
    dest = Path(dest)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeSubmission(f"not a readable zip file ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise UnsafeSubmission(f"too many entries: {len(infos)} (at most {limits.max_entries})")
        total, plan = 0, []
        for info in infos:
            rel = _checked_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeSubmission(f"entry {info.filename!r} is a symbolic link")
            if info.is_dir() or not rel:
                continue
            if info.file_size > limits.max_file_bytes:
                raise UnsafeSubmission(f"entry {rel!r} is too big: {info.file_size} bytes "
                                       f"(at most {limits.max_file_bytes})")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise UnsafeSubmission(f"too much data: more than {limits.max_total_bytes} bytes uncompressed")
            plan.append((info, rel))
        written, actual_total = [], 0
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        for info, rel in plan:
            target = dest / rel
            if not target.resolve().is_relative_to(root):
                raise UnsafeSubmission(f"entry {rel!r} points outside the submission folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            size = 0
            try:
                with archive.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(CHUNK):
                        size += len(chunk)
                        actual_total += len(chunk)
                        if size > limits.max_file_bytes or actual_total > limits.max_total_bytes:
                            raise UnsafeSubmission(f"entry {rel!r} unpacks to more data than it declares")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as exc:
                raise UnsafeSubmission(f"entry {rel!r} is corrupt ({exc})") from exc
            os.chmod(target, 0o644)
            written.append(rel)
    return sorted(written)


def copy_folder(folder, dest, limits=Limits()):
    """Copy the regular files of a submission folder into ``dest`` with the zip's checks."""
    folder, dest = Path(folder), Path(dest)
    files, total = [], 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            raise UnsafeSubmission(f"{rel!r} is a symbolic link")
        if path.is_file():
            size = path.stat().st_size
            if size > limits.max_file_bytes:
                raise UnsafeSubmission(f"{rel!r} is too big: {size} bytes (at most {limits.max_file_bytes})")
            total += size
            files.append(rel)
    if len(files) > limits.max_entries:
        raise UnsafeSubmission(f"too many files: {len(files)} (at most {limits.max_entries})")
    if total > limits.max_total_bytes:
        raise UnsafeSubmission(f"too much data: more than {limits.max_total_bytes} bytes")
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(folder / rel, "rb") as src, open(target, "wb") as out:
            out.write(src.read())
        os.chmod(target, 0o644)
    return files


def match_files(unpacked, wanted):
    """Map each wanted kit path to the unpacked file that provides it (or leave it out).

    A file matches when its path equals the kit path or ends with it (the
    student zipped the kit from a parent folder); a notebook also matches by its
    file name alone when that is unique.
    """
    found = {}
    for rel in wanted:
        exact = [u for u in unpacked if u == rel]
        nested = [u for u in unpacked if u.endswith("/" + rel)]
        by_name = [u for u in unpacked if rel.endswith(".ipynb") and PurePosixPath(u).name == PurePosixPath(rel).name]
        for candidates in (exact, nested, by_name):
            if len(candidates) == 1:
                found[rel] = candidates[0]
                break
    return found
