"""`viclip push`: checks the folder first, lists it in a dry run, uploads it as one commit."""

from __future__ import annotations

import shutil

import pytest

import viclip.hub as hub
from viclip_cli import main


class FakeApi:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", repo_id, kwargs))

    def create_commit(self, repo_id, operations, **kwargs):
        self.calls.append(("create_commit", repo_id, list(operations), kwargs))

        class Info:
            commit_url = f"https://huggingface.co/{repo_id}/commit/abc"

        return Info()


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the Hub was contacted")

    monkeypatch.setattr("huggingface_hub.HfApi", refuse)


def test_dry_run_checks_the_folder_and_lists_every_file(converted_tiny, capsys, no_network):
    assert main(["push", str(converted_tiny), "--repo-id", "me/viclip-tiny", "--private", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        f"dry run: {converted_tiny} loads; would upload {len(hub.list_upload_files(converted_tiny))} files to me/viclip-tiny (private)"
        in out
    )
    for name in (
        "model.safetensors",
        "config.json",
        "modeling_viclip.py",
        "processing_viclip.py",
        "README.md",
    ):
        assert f"  {name}  " in out


def test_push_uploads_exactly_the_listed_files_in_one_commit(converted_tiny, monkeypatch, capsys):
    api = FakeApi()
    real_push = hub.push_folder
    monkeypatch.setattr(hub, "push_folder", lambda *a, **k: real_push(*a, **{**k, "api": api}))
    assert (
        main(["push", str(converted_tiny), "--repo-id", "me/viclip-tiny", "--private", "--revision", "v1"])
        == 0
    )
    assert api.calls[0] == (
        "create_repo",
        "me/viclip-tiny",
        {"private": True, "exist_ok": True, "repo_type": "model"},
    )
    assert api.calls[1] == (
        "create_branch",
        "me/viclip-tiny",
        {"branch": "v1", "exist_ok": True, "repo_type": "model"},
    )
    _, _, operations, kwargs = api.calls[2]
    assert kwargs["revision"] == "v1"
    paths = sorted(op.path_in_repo for op in operations)
    assert paths == sorted(item.path_in_repo for item in hub.list_upload_files(converted_tiny))
    readme = next(op for op in operations if op.path_in_repo == "README.md")
    assert b'from_pretrained("me/viclip-tiny", trust_remote_code=True)' in readme.path_or_fileobj
    assert f"uploaded {len(paths)} files" in capsys.readouterr().out


def test_incomplete_folder_is_refused_before_any_upload(converted_tiny, tmp_path, capsys, no_network):
    folder = tmp_path / "broken"
    shutil.copytree(converted_tiny, folder)
    (folder / "modeling_viclip.py").unlink()
    assert main(["push", str(folder), "--repo-id", "me/x", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing modeling_viclip.py" in err


def test_folder_whose_remote_code_imports_viclip_is_refused(converted_tiny, tmp_path, capsys, no_network):
    folder = tmp_path / "leaky"
    shutil.copytree(converted_tiny, folder)
    with open(folder / "processing_viclip.py", "a") as f:
        f.write("\nfrom viclip.processing import clean_text\n")
    assert main(["push", str(folder), "--repo-id", "me/x"]) == 2
    assert "processing_viclip.py imports viclip.processing" in capsys.readouterr().err


def test_upload_errors_are_one_line(converted_tiny, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise RuntimeError("401 Unauthorized\nmore detail")

    monkeypatch.setattr(hub, "push_folder", fail)
    assert main(["push", str(converted_tiny), "--repo-id", "me/x"]) == 1
    assert capsys.readouterr().err == "viclip push: error: 401 Unauthorized more detail\n"


def test_results_go_into_the_uploaded_card_only(converted_tiny, monkeypatch, tmp_path, capsys):
    from viclip.evaluation.benchmarks import write_results

    results = write_results(
        {
            "benchmark": "Kinetics-400",
            "metrics": {"top1": 50.0, "top5": 90.0, "avg": 70.0},
            "data": {"num_evaluated": 2, "num_rows": 2, "evaluated_fraction": 1.0},
            "model": {"name": "tiny"},
            "protocol": {"frames": 8, "dtype": "float32"},
        },
        tmp_path / "k400.json",
    )
    api = FakeApi()
    real_push = hub.push_folder
    monkeypatch.setattr(hub, "push_folder", lambda *a, **k: real_push(*a, **{**k, "api": api}))
    before = (converted_tiny / "README.md").read_text()
    assert main(["push", str(converted_tiny), "--repo-id", "me/viclip-tiny", "--results", str(results)]) == 0
    _, _, operations, _ = api.calls[-1]
    readme = next(op for op in operations if op.path_in_repo == "README.md").path_or_fileobj.decode()
    assert (
        "| Kinetics-400 zero-shot top-1 / top-5 / AVG | 50.00 / 90.00 / 70.00 (2 of 2 videos (100.0%)) |"
        in readme
    )
    assert (converted_tiny / "README.md").read_text() == before


def test_invalid_repo_id_is_a_usage_error(converted_tiny, capsys, no_network):
    assert main(["push", str(converted_tiny), "--repo-id", "not a repo id!", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a repo id!" in err
