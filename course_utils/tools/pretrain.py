"""``course-kit pretrain``: train (or check) the pretrained ConvNets assignment 3 uses.

Without arguments every task of ``course_utils.pretrained.TASKS`` is built, each only if
its checkpoint is missing or was trained by another recipe; ``--force`` trains again.
The notebooks build what they need on first use, so this command is only a way to
pay the few minutes up front (before a lab session, or before grading).
"""
from course_utils.pretrained import TASKS, CheckpointError, cache_dir, pretrained_net


def configure(parser):
    parser.add_argument("tasks", nargs="*", metavar="TASK",
                        help=f"tasks to build (default: all of {', '.join(TASKS)})")
    parser.add_argument("--force", action="store_true", help="train again even if a checkpoint is cached")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args):
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        print(f"course-kit pretrain: unknown task(s) {unknown}; expected some of {list(TASKS)}")
        return 2
    print(f"checkpoint folder: {cache_dir()}")
    for task in args.tasks or list(TASKS):
        try:
            net = pretrained_net(task, progress=not args.quiet, rebuild=args.force)
        except CheckpointError as exc:
            print(f"course-kit pretrain: {exc}")
            return 1
        print(f"{task}: {net.recipe.dataset}, {len(net.class_names)} classes, "
              f"test accuracy {net.test_accuracy:.4f} ({net.checkpoint})")
    return 0
