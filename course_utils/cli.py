"""The ``course-kit`` command line: one entry point, one module per subcommand.

Every subcommand lives in ``course_utils/tools/<module>.py`` and provides
``configure(parser)`` (adds its arguments) and ``main(args) -> int`` (exit code).
Modules are imported only when their subcommand runs, so ``course-kit --help``
stays fast.
"""
import argparse
import importlib
import sys

# subcommand -> (module under course_utils.tools, one-line help)
COMMANDS = {
    "run": ("run", "execute an assignment's notebooks headless and print their headline results"),
    "datasets": ("datasets", "list the datasets that are present and where they are"),
    "core": ("core", "report which convolution core (compiled Cython or numpy fallback) is active"),
    "pretrain": ("pretrain", "train and cache the pretrained ConvNets of assignment 3 (built on first use otherwise)"),
    "release": ("release", "write the student release of the kit (instructors)"),
    "validate": ("validate", "check your work on an assignment, one row per question (students)"),
    "grade": ("grade", "grade a folder of submission zips (instructors)"),
    "answers": ("answers", "export the written answers question by question, import a TA's scores (instructors)"),
    "gradescope": ("gradescope", "build a Gradescope autograder bundle (instructors)"),
    "stability": ("stability", "re-run notebooks with other BLAS threads and perturbed weights; "
                               "graded outputs must not change (instructors, CI)"),
}


def build_parser():
    from course_utils import __version__

    parser = argparse.ArgumentParser(
        prog="course-kit", description="Course kit for deep learning and computer vision."
    )
    parser.add_argument("--version", action="version", version=f"course-kit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        module = _load(module_name)
        if module is not None:
            module.configure(sub_parser)
    return parser


def _load(module_name):
    try:
        return importlib.import_module(f"course_utils.tools.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"course_utils.tools.{module_name}":
            return None
        raise


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = _load(args._module)
    if module is None:
        print(f"course-kit: '{args.command}' is not part of this kit.", file=sys.stderr)
        return 2
    try:
        return int(module.main(args) or 0)
    except OSError as exc:  # permissions, a full disk, a vanished folder: say which file, no traceback
        print(f"course-kit {args.command}: {exc}: check that path (it must exist and be writable "
              "where the command writes)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
