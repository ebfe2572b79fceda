import pytest

from course_utils.grading.kit import normalize_assignment
from course_utils.grading.manifest import ManifestError, manifest_from_dict, node_matches

QUESTION = {"title": "Q", "points": 2, "hidden": ["test_a.py::test_x*"], "cells": ["graded:nb.q"]}
ANSWER = {"title": "Why?", "points": 2, "notebook": "nb", "question": 1}


def test_valid_manifest_and_public_view():
    manifest = manifest_from_dict({"assignment": "assignment1",
                                   "questions": {"b": QUESTION, "a": {**QUESTION, "cells": []}}})
    assert list(manifest.questions) == ["b", "a"] and manifest.max_points == 4
    assert manifest.cell_notebooks() == ["nb"]
    public = manifest.public()["questions"]
    assert [q["name"] for q in public] == ["b", "a"] and all("hidden" not in q for q in public)
    restricted = manifest.restricted(notebooks=set())
    assert restricted.questions["b"].cells == [] and restricted.questions["b"].hidden == QUESTION["hidden"]


def test_pretrained_networks_of_a_manifest():
    manifest = manifest_from_dict({"assignment": "assignment3", "pretrained": ["classes_0_4"],
                                   "questions": {"q": QUESTION}})
    assert manifest.pretrained == ["classes_0_4"]
    assert manifest.restricted(notebooks=set()).pretrained == ["classes_0_4"]
    assert manifest_from_dict({"assignment": "assignment1", "questions": {"q": QUESTION}}).pretrained == []


def test_written_answers_in_the_manifest_and_its_public_view():
    manifest = manifest_from_dict({"assignment": "assignment1", "questions": {"q": QUESTION},
                                   "answers": {"nb_inline2": {**ANSWER, "question": 2}, "nb_inline1": ANSWER}})
    assert list(manifest.answers) == ["nb_inline2", "nb_inline1"]
    assert manifest.max_points == 2 and manifest.written_points == 4
    assert manifest.public()["answers"][1] == {"name": "nb_inline1", "title": "Why?", "points": 2.0,
                                               "notebook": "nb", "question": 1}
    assert manifest.restricted(notebooks=set()).answers == manifest.answers  # written answers cost no run


@pytest.mark.parametrize("answer, match", [
    ({**ANSWER, "points": -1}, r"\[answers.a\] needs points > 0"),
    ({**ANSWER, "question": 0}, r"\[answers.a\] needs question = the inline question's number"),
    ({**ANSWER, "question": "1"}, r"needs question = "),
    ({**ANSWER, "notebook": "nb.ipynb"}, r"needs notebook = the notebook's stem"),
    ({k: v for k, v in ANSWER.items() if k != "notebook"}, r"needs notebook = "),
    ({**ANSWER, "cells": []}, r"\[answers.a\] has unknown key\(s\) \['cells'\]"),
])
def test_bad_written_answers_say_what_is_wrong(answer, match):
    with pytest.raises(ManifestError, match=match):
        manifest_from_dict({"assignment": "assignment1", "questions": {"q": QUESTION}, "answers": {"a": answer}},
                           "m.toml")


def test_written_answers_are_unique():
    with pytest.raises(ManifestError, match=r"\[answers.b\]: nb question 1 is already \[answers.a\]"):
        manifest_from_dict({"assignment": "assignment1", "questions": {"q": QUESTION},
                            "answers": {"a": ANSWER, "b": ANSWER}})
    with pytest.raises(ManifestError, match=r"\[answers.q\]: the name is already a \[questions.q\]"):
        manifest_from_dict({"assignment": "assignment1", "questions": {"q": QUESTION}, "answers": {"q": ANSWER}})


@pytest.mark.parametrize("data, match", [
    ({"assignment": "assignment1", "questions": {"q": {**QUESTION, "points": 0}}}, r"needs points > 0"),
    ({"assignment": "assignment1", "questions": {"q": {**QUESTION, "hiden": []}}}, r"unknown key\(s\) \['hiden'\]"),
    ({"assignment": "assignment1", "questions": {"q": {"points": 1}}}, "no hidden tests and no cells"),
    ({"assignment": "assignment1", "questions": {"q": {**QUESTION, "cells": ["nb.q"]}}}, "graded:<notebook>"),
    ({"assignment": "assignment1", "questions": {}}, r"no \[questions"),
    ({"assignment": "assignment1", "run_points": 1, "questions": {"q": QUESTION}}, "execution counts are easy to fake"),
    ({"questions": {"q": QUESTION}}, "'assignment' must be a string"),
    ({"assignment": "assignment1", "shared_tests": ["../x.py"], "questions": {"q": QUESTION}}, "shared_tests"),
    ({"assignment": "assignment3", "pretrained": "all_classes", "questions": {"q": QUESTION}}, "list of task names"),
    ({"assignment": "assignment3", "pretrained": ["imagenet"], "questions": {"q": QUESTION}},
     r"unknown task\(s\) \['imagenet'\]; expected some of \['all_classes', 'classes_0_4'\]"),
])
def test_bad_manifests_say_what_is_wrong(data, match):
    with pytest.raises(ManifestError, match=match):
        manifest_from_dict(data, "m.toml")


def test_node_patterns_treat_brackets_literally():
    assert node_matches("test_l.py::test_forward[6001-affine]", "test_l.py::test_forward[*-affine]")
    assert not node_matches("test_l.py::test_forward[6001-affine_relu]", "test_l.py::test_forward[*-affine]")
    assert node_matches("test_l.py::test_loss[3-svm]", "test_l.py::test_loss*")


@pytest.mark.parametrize("given, expected", [("1", "assignment1"), ("assignment3", "assignment3"),
                                             ("assignments/assignment2/", "assignment2")])
def test_normalize_assignment(given, expected):
    assert normalize_assignment(given) == expected


def test_normalize_assignment_refuses_other_names():
    with pytest.raises(ValueError, match="assignment must look like"):
        normalize_assignment("homework")
