"""Install the course kit: ``pip install -e .``.

The im2col Cython core is compiled when a C compiler is available; it is an
optional extension, so a failed build still leaves a working install that
falls back to the pure-numpy implementation (see ``course_utils/fast_layers.py``).
"""
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

HERE = Path(__file__).parent
REQUIREMENTS = [
    line.strip()
    for line in (HERE / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]

extensions = cythonize(
    [
        Extension(
            "course_utils.im2col_cython",
            ["course_utils/im2col_cython.pyx"],
            include_dirs=[np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ],
    compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
    quiet=True,
) if (HERE / "course_utils/im2col_cython.pyx").exists() else []

setup(
    name="course-utils",
    version="0.1.0",
    description="Assignments and grading tools for a course on deep learning for computer vision",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["course_utils", "course_utils.*"]),
    package_data={"course_utils": ["*.pyx"]},
    install_requires=REQUIREMENTS,
    ext_modules=extensions,
    entry_points={"console_scripts": ["course-kit=course_utils.cli:main"]},
)
