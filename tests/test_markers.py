import nbformat
import pytest

from course_utils.markers import (ANSWER_BEGIN, ANSWER_END, ANSWER_PLACEHOLDER, END, START, MarkerError,
                                  answers, check_notebook_markers, find_regions, graded_tag,
                                  is_placeholder_answer, strip_answers, strip_instructor_blocks,
                                  strip_notebook, strip_solutions, stub_functions)

SOURCE = f"""def f(x):
    out = None
    {START}
    out = x + 1
    y = 2
    {END}
    return out


class K:
    def g(self):
        {START}
        return 3
        {END}
"""


def test_strip_keeps_markers_and_indents_pass():
    stripped = strip_solutions(SOURCE, "m.py")
    lines = stripped.splitlines()
    assert lines[2].strip() == START and lines[3] == "    pass" and lines[4].strip() == END
    assert "out = x + 1" not in stripped and "return 3" not in stripped
    assert "        pass" in lines  # method body indented like its start line
    assert stripped.endswith("\n")
    namespace = {}
    exec(stripped, namespace)  # the release must still be valid Python
    assert namespace["f"](1) is None


def test_strip_is_idempotent_and_leaves_unmarked_text_alone():
    once = strip_solutions(SOURCE)
    assert strip_solutions(once) == once
    assert strip_solutions("x = 1\n") == "x = 1\n"


def test_regions_and_stub_detection():
    regions = find_regions(SOURCE)
    assert [(r.start, r.end) for r in regions] == [(3, 6), (12, 14)]
    assert not regions[0].is_stub
    assert all(r.is_stub for r in find_regions(strip_solutions(SOURCE)))
    assert stub_functions(SOURCE) == []
    assert stub_functions(strip_solutions(SOURCE)) == ["K.g", "f"]


def test_stub_functions_survive_syntax_errors():
    broken = strip_solutions(SOURCE).replace("def f(x):", "def f(x)")
    assert stub_functions(broken) == ["line 11", "line 3"]


@pytest.mark.parametrize("text, line, problem", [
    (f"{START}\nx\n{START}\ny\n{END}\n{END}\n", 3, "nested"),
    (f"x = 1\n{END}\n", 2, "end marker without a start"),
    (f"a\n  {START}\nb\n", 2, "never closed"),
])
def test_unbalanced_or_nested_markers_name_file_and_line(text, line, problem):
    with pytest.raises(MarkerError, match=problem) as info:
        strip_solutions(text, "course_utils/x.py")
    assert info.value.filename == "course_utils/x.py" and info.value.line == line
    assert str(info.value).startswith(f"course_utils/x.py:{line}:")


def test_answers_become_placeholder():
    text = f"**Your answer:**\n{ANSWER_BEGIN}\nBecause the loss is convex.\n{ANSWER_END}\n"
    released = strip_answers(text)
    assert "convex" not in released
    assert answers(released) == [ANSWER_PLACEHOLDER] and is_placeholder_answer(answers(released)[0])
    assert answers(text) == ["Because the loss is convex."]
    assert not is_placeholder_answer("It depends.")


def test_instructor_blocks_removed():
    text = "a\n<!-- BEGIN INSTRUCTOR -->\nsecret\n<!-- END INSTRUCTOR -->\nb\n"
    assert strip_instructor_blocks(text) == "a\nb\n"


def test_strip_notebook_clears_outputs_and_keeps_tags():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell(f"{START}\nx = 1\n{END}\nprint(x)", execution_count=4,
                                     outputs=[nbformat.v4.new_output("stream", text="1\n")])
    code.metadata["tags"] = ["graded:nb.q"]
    code.metadata["execution"] = {"iopub.execute_input": "2026-01-01"}
    md = nbformat.v4.new_markdown_cell(f"{ANSWER_BEGIN}\nsecret answer\n{ANSWER_END}")
    nb.cells = [code, md]
    strip_notebook(nb, "nb.ipynb")
    assert code.outputs == [] and code.execution_count is None and "execution" not in code.metadata
    assert "x = 1" not in code.source and "pass" in code.source
    assert graded_tag(code) == "graded:nb.q"
    assert "secret" not in md.source and ANSWER_PLACEHOLDER in md.source


def test_notebook_marker_errors_name_the_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("hi"), nbformat.v4.new_code_cell(f"{START}\nx = 1\n")]
    with pytest.raises(MarkerError, match=r"nb.ipynb \(cell 2\):1: start marker is never closed"):
        check_notebook_markers(nb, "nb.ipynb")
