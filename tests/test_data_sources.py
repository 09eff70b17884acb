"""Every GSM8K loader reads a local copy in its host's own format, offline, through the host's own library.

The fixture records live in `tests/data/gsm8k_sources/` in the two text formats GSM8K is published in:
`<split>.jsonl` (GSM8K's release, also what TFDS's builder reads) and `main_<split>.csv` (the default Kaggle
dataset). The binary formats are written from them at test time by the libraries themselves: the Hugging Face
Hub's parquet layout with pyarrow, a `save_to_disk` folder with `datasets`, a prepared TFDS folder with TFDS's own
`gsm8k` builder (only its download step is replaced by the local files) and a kagglehub cache entry with
kagglehub's own `Cache`. What is faked, and only where said: the Hub download in
`test_hf_without_path_asks_the_hub` (to check which dataset the default path names) and TFDS's HTTP fetch.
"""
import csv, json, shutil
from pathlib import Path

import pytest

from agent_tunix.data import format_prompt, load_gsm8k_hf, load_gsm8k_jsonl, load_gsm8k_kaggle, load_gsm8k_tfds, load_rows

FIXTURES = Path(__file__).parent / "data" / "gsm8k_sources"
SPLITS = ("train", "test")
KAGGLE_HANDLE = "thedevastator/grade-school-math-8k-q-a/versions/1"   # a pinned version: found in the cache offline


def records(split: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]


def by_question(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: r["question"])


@pytest.fixture(scope="module")
def expected() -> dict:
    "The rows every source must give: the JSONL loader's, over the same records."
    return {split: load_gsm8k_jsonl(FIXTURES / f"{split}.jsonl") for split in SPLITS}


def test_fixture_rows(expected):
    # the final number loses its thousands separator; the worked solution stays in `reasoning`
    assert [r["answer"] for r in expected["train"]] == ["5", "1000", "210", "3"]
    assert [r["answer"] for r in expected["test"]] == ["8.5", "48"]
    assert expected["train"][1]["reasoning"] == "4 * 250 = <<4*250=1000>>1,000 eggs.\nThat is 1,000 eggs."
    assert expected["test"][0]["question"] == "Mia has $12.50.\nShe spends $4. How much is left?"   # stripped
    assert expected["test"][0]["prompts"] == format_prompt(records("test")[0]["question"])


# --- Hugging Face ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hub_copy(tmp_path_factory) -> Path:
    "A folder in the layout of `openai/gsm8k` on the Hub: main/<split>-00000-of-00001.parquet."
    import pyarrow as pa, pyarrow.parquet as pq
    root = tmp_path_factory.mktemp("hub")
    (root / "main").mkdir()
    for split in SPLITS: pq.write_table(pa.Table.from_pylist(records(split)), root / "main" / f"{split}-00000-of-00001.parquet")
    return root


@pytest.mark.parametrize("split", SPLITS)
def test_hf_hub_layout(hub_copy, expected, split):
    assert load_gsm8k_hf(split, path=hub_copy) == expected[split]
    assert load_gsm8k_hf(split, path=str(hub_copy / "main")) == expected[split]   # the config folder itself, as a str


def test_hf_limit_and_template(hub_copy, expected):
    assert load_gsm8k_hf("train", path=hub_copy, limit=2) == expected["train"][:2]
    rows = load_gsm8k_hf("test", "reasoning", path=hub_copy)
    assert rows[1]["prompts"] == format_prompt(records("test")[1]["question"], "reasoning")


def test_hf_save_to_disk(tmp_path, expected):
    import datasets
    datasets.DatasetDict({s: datasets.Dataset.from_list(records(s)) for s in SPLITS}).save_to_disk(str(tmp_path / "saved"))
    for split in SPLITS: assert load_gsm8k_hf(split, path=tmp_path / "saved") == expected[split]
    with pytest.raises(ValueError, match=r"has no split 'validation'; it has \['test', 'train'\]"):
        load_gsm8k_hf("validation", path=tmp_path / "saved")


def test_hf_errors_name_the_fix(hub_copy, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no validation-\*\.parquet"):
        load_gsm8k_hf("validation", path=hub_copy)
    with pytest.raises(FileNotFoundError, match="hf download openai/gsm8k --repo-type dataset"):
        load_gsm8k_hf("test", path=tmp_path / "nowhere")
    import pyarrow as pa, pyarrow.parquet as pq
    pq.write_table(pa.Table.from_pylist([{"problem": "Q?", "solution": "#### 1"}]), tmp_path / "test-00000-of-00001.parquet")
    with pytest.raises(ValueError, match=r"test record 1: a GSM8K record needs 'question' and 'answer', missing \['answer', 'question'\]"):
        load_gsm8k_hf("test", path=tmp_path)


def test_hf_without_path_asks_the_hub(monkeypatch):
    "Fake: `datasets.load_dataset` is replaced, to check that the default path names openai/gsm8k, config main."
    import datasets
    calls = []
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **kw: calls.append((a, kw)) or records("test"))
    assert [r["answer"] for r in load_gsm8k_hf("test")] == ["8.5", "48"]
    assert calls == [(("openai/gsm8k", "main"), {"split": "test"})]


# --- TensorFlow Datasets --------------------------------------------------------------------------------------

def _local_release(self, urls: dict) -> dict:
    "Stands in for TFDS's HTTP fetch: each release file (`train`, `test`, `*_socratic`) is the local fixture."
    return {k: FIXTURES / f"{k.removesuffix('_socratic')}.jsonl" for k in urls}


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory) -> Path:
    "A TFDS data folder holding gsm8k/1.0.0 in array_record, written by TFDS's own gsm8k builder."
    import tensorflow_datasets as tfds
    from tensorflow_datasets.text.gsm8k.gsm8k import Gsm8k
    data_dir = tmp_path_factory.mktemp("tfds")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tfds.download.DownloadManager, "download_and_extract", _local_release)
        Gsm8k(data_dir=data_dir, file_format="array_record").download_and_prepare(
            download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    return data_dir


@pytest.mark.parametrize("split", SPLITS)
def test_tfds_prepared_copy(tfds_dir, expected, split):
    rows = load_gsm8k_tfds(split, data_dir=tfds_dir, download=False)
    assert by_question(rows) == by_question(expected[split])      # TFDS keeps its own (shuffled) order


def test_tfds_limit_and_split_syntax(tfds_dir):
    assert len(load_gsm8k_tfds("train", data_dir=str(tfds_dir), download=False, limit=3)) == 3
    assert len(load_gsm8k_tfds("train[:1]", data_dir=tfds_dir, download=False)) == 1


def test_tfds_missing_copy_is_built_as_array_record(tmp_path, expected, monkeypatch):
    "The download branch, offline: the loader builds the copy itself (only the HTTP fetch is replaced)."
    import tensorflow_datasets as tfds
    monkeypatch.setattr(tfds.download.DownloadManager, "download_and_extract", _local_release)
    assert by_question(load_gsm8k_tfds("test", data_dir=tmp_path)) == by_question(expected["test"])
    assert sorted(p.name for p in (tmp_path / "gsm8k" / "1.0.0").glob("gsm8k-test.*")) == ["gsm8k-test.array_record-00000-of-00001"]


def test_tfds_errors_name_the_fix(tfds_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="no prepared TFDS gsm8k .* or download=True"):
        load_gsm8k_tfds("test", data_dir=tmp_path, download=False)
    with pytest.raises(ValueError, match=r"Unknown split 'validation'"):
        load_gsm8k_tfds("validation", data_dir=tfds_dir, download=False)


def test_tfds_tfrecord_copy_says_to_prepare_again(tfds_dir, tmp_path):
    "A copy written in TensorFlow's tfrecord format (here: the array_record copy relabelled) cannot be read without TF."
    copy = tmp_path / "gsm8k"
    shutil.copytree(tfds_dir / "gsm8k", copy)
    version = copy / "1.0.0"
    for f in version.glob("*.array_record-*"): f.rename(version / f.name.replace("array_record", "tfrecord"))
    info = version / "dataset_info.json"
    info.write_text(info.read_text().replace('"array_record"', '"tfrecord"'))
    with pytest.raises(NotImplementedError, match="already prepared .* in the FileFormat.TFRECORD format"):
        load_gsm8k_tfds("test", data_dir=tmp_path, download=False)


# --- Kaggle ---------------------------------------------------------------------------------------------------

def _kaggle_cache(root: Path, handle: str, files: dict[str, Path]) -> Path:
    "A kagglehub cache under `root` holding `files` ({name: source file}) as the downloaded dataset `handle`."
    from kagglehub.cache import Cache
    from kagglehub.handle import parse_dataset_handle
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAGGLEHUB_CACHE", str(root))
        h = parse_dataset_handle(handle)
        folder = Path(Cache().get_path(h))
        folder.mkdir(parents=True)
        for name, source in files.items(): shutil.copy(source, folder / name)
        Cache().mark_as_complete(h)
    return root


@pytest.fixture
def kaggle_cache(tmp_path, monkeypatch) -> Path:
    cache = _kaggle_cache(tmp_path / "kagglehub", KAGGLE_HANDLE, {f"main_{s}.csv": FIXTURES / f"main_{s}.csv" for s in SPLITS})
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(cache))
    return cache


def test_kaggle_csv_fixture_is_the_same_records():
    for split in SPLITS:
        with open(FIXTURES / f"main_{split}.csv", encoding="utf-8", newline="") as f:
            assert list(csv.DictReader(f)) == records(split)


@pytest.mark.parametrize("split", SPLITS)
def test_kaggle_cached_csv(kaggle_cache, expected, split):
    assert load_gsm8k_kaggle(split, handle=KAGGLE_HANDLE) == expected[split]


def test_kaggle_limit(kaggle_cache, expected):
    assert load_gsm8k_kaggle("train", handle=KAGGLE_HANDLE, limit=2) == expected["train"][:2]


def test_kaggle_jsonl_layout(tmp_path, monkeypatch, expected):
    handle = "someone/gsm8k-release/versions/3"
    cache = _kaggle_cache(tmp_path / "kagglehub", handle, {f"{s}.jsonl": FIXTURES / f"{s}.jsonl" for s in SPLITS})
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(cache))
    assert load_gsm8k_kaggle("test", handle=handle) == expected["test"]


def test_kaggle_errors_name_the_fix(kaggle_cache, tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"has no main_validation\.csv or validation\.jsonl; it has \['main_test\.csv', 'main_train\.csv'\]"):
        load_gsm8k_kaggle("validation", handle=KAGGLE_HANDLE)
    odd = tmp_path / "main_test.csv"
    odd.write_text("problem,solution\nQ?,#### 1\n", encoding="utf-8")
    handle = "someone/other-math/versions/1"
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(_kaggle_cache(tmp_path / "other", handle, {"main_test.csv": odd})))
    with pytest.raises(ValueError, match=r"main_test\.csv row 1: a GSM8K record needs 'question' and 'answer'"):
        load_gsm8k_kaggle("test", handle=handle)


# --- all sources ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("template", ["answer_is", "reasoning"])
def test_every_source_gives_the_same_rows(hub_copy, tfds_dir, kaggle_cache, template):
    for split in SPLITS:
        rows = {"jsonl": load_gsm8k_jsonl(FIXTURES / f"{split}.jsonl", template),
                "huggingface": load_gsm8k_hf(split, template, path=hub_copy),
                "tfds": load_gsm8k_tfds(split, template, data_dir=tfds_dir, download=False),
                "kaggle": load_gsm8k_kaggle(split, template, handle=KAGGLE_HANDLE)}
        for name, got in rows.items():
            assert by_question(got) == by_question(rows["jsonl"]), name


def test_training_config_reaches_a_local_hub_copy(hub_copy, expected):
    "`data.source=huggingface data.path=<folder>` trains on a local copy: train split for training, test for held-out."
    from agent_tunix import config as C
    run = C.validate_config(C.compose_config(["data=gsm8k", f"data.path={hub_copy}", "data.num_eval=1"]))
    train_rows, eval_rows = load_rows(run.data)
    assert train_rows == expected["train"] and eval_rows == expected["test"][:1]


def test_training_config_reaches_a_prepared_tfds_copy(tfds_dir, expected):
    from agent_tunix import config as C
    run = C.validate_config(C.compose_config(["data=gsm8k", "data.source=tfds", f"data.path={tfds_dir}", "data.num_eval=2"]))
    train_rows, eval_rows = load_rows(run.data)
    assert by_question(train_rows) == by_question(expected["train"]) and by_question(eval_rows) == by_question(expected["test"])
