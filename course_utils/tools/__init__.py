"""Subcommands of ``course-kit`` (see ``course_utils/cli.py``)."""
