"""``course-kit datasets``: which datasets are present, where, how big, and what ``auto`` picks."""


def configure(parser):
    parser.add_argument("--root", help="datasets folder (default: $COURSE_DATA_DIR, else <repo>/datasets)")


def main(args):
    from course_utils.data_utils import DATASET_ENV, available_datasets, data_dir, resolve_dataset_name

    info = available_datasets(root=args.root, counts=True)
    header = ("name", "present", "location", "train", "test")
    rows = [header] + [
        (d.name, "damaged" if d.problem else "yes" if d.present else "no", d.location,
         _count(d.n_train), _count(d.n_test))
        for d in info.values()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    print(f"datasets folder: {data_dir(args.root)}")
    print("\n".join(lines))
    for d in info.values():
        if d.problem:
            print(f"\n{d.name} is damaged, auto passes it over: {d.problem}")
    try:
        name, reason = resolve_dataset_name("auto", root=args.root)
        print(f"\nauto would pick: {name} ({reason})")
    except ValueError as exc:
        print(f"\nauto cannot pick: {exc}")
        return 1
    fixes = {"cifar10": "bash datasets/get_datasets.sh cifar10",
             "fashion_mnist": "apt-get install -y dataset-fashion-mnist "
                              "(or, with internet, bash datasets/get_datasets.sh fashion_mnist)"}
    for d in info.values():
        if not d.present and d.name in fixes:
            print(f"to get {d.name}: {fixes[d.name]}")
    print(f"{DATASET_ENV}=NAME pins the dataset that auto picks")
    return 0


def _count(n):
    return "-" if n is None else str(n)
