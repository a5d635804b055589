import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_training_gpu.py"


def test_training_benchmark_runs_in_smoke_mode_and_writes_json(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_training_gpu", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--smoke", "--out", str(tmp_path / "out.json")]) == 0
    results = json.loads((tmp_path / "out.json").read_text())
    assert [row["case"] for row in results["rows"]][:2] == ["B/16 mask 0.0", "B/16 mask 0.9"]
    assert results["masking_speedup"] > 0 and all(row["clips_per_s"] > 0 for row in results["rows"])
    assert "masking 0.9 vs 0.0" in capsys.readouterr().out
