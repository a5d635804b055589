"""Every ```python and ```bash block of README.md and docs/**/*.md runs, page by page (one test per page:
``pytest tests/docs/test_snippets.py -k metric`` runs docs/metric.md).

Conventions for writers of pages:

- The blocks of a page run in order, in one fresh folder that holds ``model/`` (a tiny ViCLIP folder that
  AutoModel, AutoProcessor and every ``--model`` flag load), ``videos/red.mp4``, ``green.mp4``, ``blue.mp4``
  (2-second 64x48 H.264 clips of a coloured square moving right) and ``clips.csv``
  (``path,start_sec,end_sec,caption``, e.g. ``videos/red.mp4,0,2,a red square moves right``). ``viclip`` and
  ``python`` are the virtual environment's; nothing is downloaded (``HF_HUB_OFFLINE=1``); ``HF_HOME`` and
  ``VICLIP_CACHE`` are inside the folder.
- The python blocks of a page share one namespace, as in one notebook: a later block may use what an earlier one
  defined. Bash blocks run with ``bash -e``: any failing command fails the block. A block fails the page, and the
  blocks after it do not run.
- ```text, ```console and every other language are shown, never run.
- ``<!-- skip: why -->`` on the line right before a fence skips that block; the reason is reported, and a marker
  without a reason fails the page. Skip only what cannot run here (real weights, the Hub, a GPU, minutes of work).
- Keep each block fast: the tiny model, few frames, a step or two of training.

How it runs cheaply: a server process (tests/docs/snippet_runner.py) imports torch, transformers, datasets and
viclip once per session and forks one child per page, so a page costs no interpreter start-up, and no page sees
what another left in memory. In a bash block made of plain ``viclip ...`` lines (no pipe, redirection, variable
or glob) and shell lines that keep no state, the ``viclip`` lines run in-process through ``viclip_cli.main``
(the same exit status is checked); any other block runs whole in bash.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from snippet_runner import SnippetPageError, Step, plain_viclip_argv, plan_bash, read_blocks

REPO = Path(__file__).parents[2]
ALL_PAGES = [Path("README.md"), *sorted(path.relative_to(REPO) for path in (REPO / "docs").glob("**/*.md"))]
PAGES = [
    page
    for page in ALL_PAGES
    if re.search(r"^```(python|bash)\b", (REPO / page).read_text(), flags=re.MULTILINE)
]  # a page without a python or bash block (the API reference, design) has nothing to run


def failure_report(page: str, results: list[dict], answer: dict, server_log: Path) -> str | None:
    """The message of a page that failed: its page, line, first line and output; None when it passed."""
    for result in results:
        if result["status"] in ("failed", "running"):
            cause = "timed out" if answer["timed_out"] else result["detail"]
            parts = [
                f"{page}:{result['line']}: the ```{result['language']} block `{result['first_line']}` {cause}"
            ]
            parts += [f"  ran: {step}" for step in result["steps"]]
            if result["stderr"].strip():
                parts.append("--- stderr ---\n" + result["stderr"].rstrip())
            if result["stdout"].strip():
                parts.append("--- stdout ---\n" + result["stdout"].rstrip()[-2000:])
            return "\n".join(parts)
    if answer["timed_out"] or answer["exit_code"] != 0 or not results:
        return f"{page}: the page's run stopped ({answer}):\n" + server_log.read_text()[-4000:]
    return None


@pytest.mark.parametrize("page", PAGES, ids=[str(page) for page in PAGES])
def test_page_snippets_run(page: Path, run_page, snippet_server, record_property):
    blocks = read_blocks((REPO / page).read_text(), str(page))
    if not any(block.runs for block in blocks):
        pytest.skip(f"{page} has no block to run")
    answer, results = run_page(REPO / page, blocks)
    skipped = [
        f"{page}:{result['line']}: {result['detail']}" for result in results if result["status"] == "skipped"
    ]
    record_property("skipped_blocks", skipped)
    print("\n".join(f"skipped {line}" for line in skipped))
    print(f"{page}: {answer['cpu_s']} CPU s")
    for result in results:
        print(
            f"{page}:{result['line']} {result['status']} {result['seconds']:.2f} s {result['cpu_s']:.2f} CPU s"
            f"  {result['first_line'][:50]}"
        )
    if message := failure_report(str(page), results, answer, snippet_server.log_path):
        pytest.fail(message, pytrace=False)


# ---- the runner itself -------------------------------------------------------------------------------------------

PAGE = """# A page

<!-- skip: needs the Hub -->
```python
raise AssertionError("skipped blocks do not run")
```

```text
not run either
```

```python
answer = 6 * 7
```

```bash
viclip classify videos/red.mp4 --model model --labels "red,green" --quiet
printf '%s\\n' ok > done.txt
```

```python
print(answer, open("done.txt").read().strip())
```
"""


def test_read_blocks_keeps_order_lines_languages_and_skip_reasons():
    blocks = read_blocks(PAGE, "page.md")
    assert [(b.language, b.line, b.skip_reason) for b in blocks] == [
        ("python", 5, "needs the Hub"),
        ("text", 9, None),
        ("python", 13, None),
        ("bash", 17, None),
        ("python", 22, None),
    ]
    assert [b.runs for b in blocks] == [False, False, True, True, True]


def test_skip_marker_without_reason_and_unclosed_fence_are_errors():
    with pytest.raises(SnippetPageError, match=r"page.md:1: a skip marker needs its reason"):
        read_blocks("<!-- skip: -->\n```bash\nls\n```\n", "page.md")
    with pytest.raises(SnippetPageError, match=r"page.md:2: the ```python block is never closed"):
        read_blocks("text\n```python\nx = 1\n", "page.md")


def test_plain_viclip_lines_run_in_process_and_shell_lines_in_bash():
    steps = plan_bash(
        'mkdir -p out\nviclip embed --inputs videos --model model \\\n  --output-dir "out/emb"  # one row\nls out\n',
        10,
    )
    assert [(s.line, s.argv, s.script) for s in steps] == [
        (10, None, "mkdir -p out\n"),
        (11, ["embed", "--inputs", "videos", "--model", "model", "--output-dir", "out/emb"], None),
        (13, None, "ls out\n"),
    ]
    assert plain_viclip_argv("viclip search --text 'a $5 dog' --top-k 2") == [
        "search",
        "--text",
        "a $5 dog",
        "--top-k",
        "2",
    ]
    for shell in (
        "viclip train --print-config > r.json",
        "viclip embed --inputs $DIR",
        "viclip index x | head",
    ):
        assert plain_viclip_argv(shell) is None


@pytest.mark.parametrize(
    "source",
    [
        "cd sub\nviclip classify a.mp4\n",  # the cd must hold for the viclip line
        "for c in red green; do\n  viclip classify $c.mp4\ndone\n",
        "cat > x.yaml <<'EOF'\nviclip: not a command\nEOF\nls\n",
    ],
)
def test_blocks_that_keep_shell_state_run_whole_in_bash(source):
    assert plan_bash(source, 1) == [Step(1, script=source)]


def test_runner_shares_python_state_and_reports_the_failing_block(run_page, tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        PAGE
        + "\n```bash\nviclip classify videos/none.mp4 --model model --labels a,b\n```\n\n```python\nprint('after')\n```\n"
    )
    answer, results = run_page(page, read_blocks(page.read_text(), "page.md"))
    assert [r["status"] for r in results] == [
        "skipped",
        "shown",
        "passed",
        "passed",
        "passed",
        "failed",
        "not run",
    ]
    assert results[4]["stdout"].strip() == "42 ok"
    assert results[3]["steps"][0].startswith("in-process: viclip classify videos/red.mp4")
    failed = results[5]
    assert failed["detail"].startswith("line 26: `viclip classify videos/none.mp4")
    assert "exited with status 2" in failed["detail"]
    assert "none.mp4" in failed["stderr"]
    assert (answer["exit_code"], answer["timed_out"]) == (1, False)


def test_python_traceback_quotes_the_page_line(run_page, tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```python\nx = 1\nraise ValueError(f'bad {x}')\n```\n")
    _, results = run_page(page, read_blocks(page.read_text(), "page.md"))
    assert results[0]["detail"] == "ValueError: bad 1"
    assert results[0]["stderr"].splitlines()[1:3] == [
        f'  File "{page}", line 5, in <module>',
        "    raise ValueError(f'bad {x}')",
    ]


def test_syntax_error_in_a_python_block_names_the_page_line(run_page, tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nx = (1,\n```\n")
    _, results = run_page(page, read_blocks(page.read_text(), "page.md"))
    assert results[0]["status"] == "failed"
    assert results[0]["detail"].startswith("SyntaxError: '(' was never closed")
    assert f'File "{page}", line 2' in results[0]["stderr"]


def test_page_that_outlives_its_timeout_names_the_block(run_page, tmp_path, snippet_server):
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 1\n```\n\n```bash\necho started >&2\nsleep 30\n```\n")
    answer, results = run_page(page, read_blocks(page.read_text(), "page.md"), timeout=1)
    assert answer["timed_out"]
    message = failure_report("page.md", results, answer, snippet_server.log_path)
    assert message.startswith("page.md:6: the ```bash block `echo started >&2` timed out")
    assert "--- stderr ---\nstarted" in message


def test_a_pages_caches_are_inside_its_folder(run_page, tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```python\n"
        "import os\n"
        "from datasets import config\n"
        "from huggingface_hub import constants\n"
        "here = os.path.realpath('.cache/huggingface')\n"
        "print(os.path.realpath(constants.HF_HUB_CACHE).startswith(here),\n"
        "      os.path.realpath(config.HF_DATASETS_CACHE).startswith(here),\n"
        "      os.environ['VICLIP_CACHE'] == os.path.abspath('.cache/viclip'))\n"
        "```\n"
    )
    _, results = run_page(page, read_blocks(page.read_text(), "page.md"))
    assert results[0]["stdout"].strip() == "True True True"


def test_viclip_in_process_and_in_bash_end_with_the_same_status_and_message(run_page, tmp_path):
    page = tmp_path / "page.md"
    command = "viclip classify videos/red.mp4 --no-such-flag"  # argparse's exit, before torch is imported
    page.write_text(f'```bash\n{command} || echo "status $?"\n```\n\n```bash\n{command}\n```\n')
    _, (in_bash, in_process) = run_page(page, read_blocks(page.read_text(), "page.md"))
    assert in_bash["steps"][0].startswith("bash: ") and in_process["steps"][0].startswith("in-process: ")
    assert in_bash["stdout"] == "status 2\n"
    assert in_process["detail"].endswith("exited with status 2")
    assert in_bash["stderr"] == in_process["stderr"]
