"""README.md is a short tutorial that cannot drift from the code: the training step it shows is
the step in pix2pix/model/gan.py, line for line (its comments, the equations, aside), it stays
within MAX_LINES, and every relative link of the project's Markdown leads to a file that exists."""
import ast
import difflib
import inspect
import io
import pathlib
import re
import textwrap
import tokenize

import pytest

import pix2pix.model.gan as gan

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_LINES = 260
MARKDOWN = [README, *sorted((ROOT / "docs").glob("*.md")),
            *(ROOT / folder / "README.md" for folder in ("bench", "data", "models"))]

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
MODULE_PATH = re.compile(r"\bpix2pix/[\w/]+\.\w+")


def code_lines(source):
    """The code of `source`, comparable across layouts: comments, docstrings and blank lines
    removed, the rest of each line stripped and its whitespace runs made one space."""
    source = textwrap.dedent(source)
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:  # a comment runs to the end of its line
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
    docstrings = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a class's header line alone
        tree = ast.Module(body=[], type_ignores=[])
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node):
            first = node.body[0]
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    return [" ".join(line.split()) for number, line in enumerate(lines, start=1)
            if number not in docstrings and line.strip()]


def step_block():
    """The README's one Python block that shows `train_step`."""
    blocks = [b for b in PYTHON_BLOCK.findall(README.read_text()) if "def train_step(" in b]
    assert len(blocks) == 1, f"README.md has {len(blocks)} Python blocks showing train_step"
    return blocks[0]


def shown_functions():
    """(name, the function in pix2pix.model.gan, its lines in the README's block) for every
    function the block shows: Pix2Pix's methods inside `class Pix2Pix`, the module's own at the
    top level. Anything else in the block fails: all of it must be checked against the code."""
    block = step_block()
    lines = block.splitlines()

    def text(node):
        return "\n".join(lines[node.lineno - 1:node.end_lineno])

    shown = []
    for node in ast.parse(block).body:
        if isinstance(node, ast.ClassDef) and node.name == "Pix2Pix":
            header = code_lines(lines[node.lineno - 1])
            assert header == code_lines(inspect.getsource(gan.Pix2Pix).splitlines()[0]), header
            for method in node.body:
                assert isinstance(method, ast.FunctionDef), f"not a method: {ast.dump(method)}"
                shown.append((f"Pix2Pix.{method.name}", getattr(gan.Pix2Pix, method.name),
                              text(method)))
        elif isinstance(node, ast.FunctionDef):
            shown.append((node.name, getattr(gan, node.name), text(node)))
        else:
            pytest.fail(f"README.md's step block holds more than gan.py's functions: "
                        f"{ast.unparse(node)[:80]}")
    return shown


def test_the_readme_shows_the_training_step():
    names = [name for name, _, _ in shown_functions()]
    assert "Pix2Pix.train_step" in names
    assert len(names) == len(set(names)), names


def test_the_step_in_the_readme_is_the_step_in_the_code():
    """Each function shown equals its source in pix2pix/model/gan.py, but for the comments (the
    README's are the equations) and docstrings; change one and change the other."""
    for name, function, shown in shown_functions():
        expected, got = code_lines(inspect.getsource(function)), code_lines(shown)
        assert got == expected, (
            f"README.md's {name} differs from pix2pix/model/gan.py's:\n" + "\n".join(
                difflib.unified_diff(expected, got, "gan.py", "README.md", lineterm="")))


def test_the_comparison_sees_code_and_ignores_comments():
    code = 'def f(x):\n    """Twice x."""\n    # the double\n\n    return  2 * x\n'
    assert code_lines(code) == ["def f(x):", "return 2 * x"]
    assert code_lines(code.replace("2 * x", "3 * x")) != code_lines(code)
    assert code_lines("    " + code.replace("x\n", "x  # 2x\n").replace("\n", "\n    ")) \
        == code_lines(code)


def test_the_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_LINES, f"README.md has {lines} lines; move reference parts to docs/"


def slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    text = FENCE.sub("", path.read_text())
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_somewhere(page):
    missing = []
    for target in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            missing.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            missing.append(f"{target} (no such heading)")
    assert not missing, f"{page.name} links to what does not exist: {missing}"


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_named_exists(page):
    named = set(MODULE_PATH.findall(page.read_text()))
    assert not {p for p in named if not (ROOT / p).exists()}, sorted(
        p for p in named if not (ROOT / p).exists())
