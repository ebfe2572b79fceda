"""Partial student work for the tooling tests: a released module with the reference bodies
of some functions put back between the markers, one of them possibly made wrong."""
from course_utils.markers import find_regions, region_owners


def partial_module(released, source, functions, wrong=None):
    """``released`` (stubs) with the regions of ``functions`` (qualified names) holding the
    bodies they have in ``source``; ``wrong`` {function: line} adds that line at the end of
    the function's last region, so it gives a wrong answer."""
    wrong = wrong or {}
    source_regions = find_regions(source)
    owners = region_owners(source, source_regions)
    last = {owner: index for index, owner in enumerate(owners)}
    lines, out, previous = released.splitlines(), [], 0
    for index, (theirs, mine, owner) in enumerate(zip(source_regions, find_regions(released), owners)):
        out += lines[previous:mine.start]  # up to and including the start marker
        body = list(theirs.body) if owner in functions else list(mine.body)
        if owner in wrong and last[owner] == index:
            body.append(f"{mine.indent}{wrong[owner]}")
        out += body
        previous = mine.end - 1  # the end marker comes next
    return "\n".join(out + lines[previous:]) + "\n"
