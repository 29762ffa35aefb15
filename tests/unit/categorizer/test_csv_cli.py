import csv
import gzip
import json

import pytest
from _support.categorizer_data import SIX

from transactions.categorizer import cli
from transactions.categorizer.corpus_gen import CORPUS_COLUMNS
from transactions.categorizer.csv_io import CsvInputError, categorize_csv
from transactions.categorizer.engine import CategorizationEngine
from transactions.categorizer.training import main_train


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def read_rows(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_categorize_csv_adds_columns_and_passes_others_through(tmp_path, tiny_model):
    src = write(
        tmp_path / "in.csv",
        "date,description,amount,note\n"
        "2024-03-01,POS DEBIT STARBUCKS #1234 SEATTLE WA,-4.75,latte\n"
        '2024-03-02,"SHELL OIL 57444 HOUSTON TX",-40.00,\n'
        "2024-03-03,DIRECT DEP ACME CORP PAYROLL,2500.00,pay\n",
    )
    counts = categorize_csv(src, tmp_path / "out.csv", engine=CategorizationEngine(tiny_model))
    rows = read_rows(tmp_path / "out.csv")
    assert counts == {"rows": 3, "categorized": 3, "uncategorized": 0}
    assert list(rows[0]) == [
        "date",
        "description",
        "amount",
        "note",
        "category_primary",
        "category_detailed",
        "confidence",
    ]
    assert [r["category_detailed"] for r in rows] == [
        "FOOD_AND_DRINK_COFFEE",
        "TRANSPORTATION_GAS",
        "INCOME_SALARY",
    ]
    assert rows[0]["note"] == "latte" and rows[1]["category_primary"] == "TRANSPORTATION"
    assert 0.5 <= float(rows[0]["confidence"]) <= 1.0


def test_uncategorised_rows_are_left_empty(tmp_path, tiny_model):
    src = write(tmp_path / "in.csv", "description,amount\nSTARBUCKS,-4.75\n")
    engine = CategorizationEngine(tiny_model, min_confidence=1.0)
    assert categorize_csv(src, tmp_path / "out.csv", engine=engine)["uncategorized"] == 1
    assert read_rows(tmp_path / "out.csv")[0]["category_detailed"] == ""


def test_odd_rows_raise_one_error_naming_every_bad_row(tmp_path, tiny_model):
    src = write(
        tmp_path / "in.csv",
        "description,amount\nSTARBUCKS,-4.75\n,-3.00\nSHELL OIL,abc\nTESCO,\nCOSTA,1.2.3\n",
    )
    with pytest.raises(CsvInputError) as caught:
        categorize_csv(src, tmp_path / "out.csv", engine=CategorizationEngine(tiny_model))
    message = str(caught.value)
    assert "4 bad row(s)" in message
    assert "row 2 (line 3): description is empty" in message
    assert "row 3 (line 4): amount 'abc' is not a number" in message
    assert "row 4 (line 5): amount '' is not a number" in message
    assert "row 5 (line 6)" in message
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("desc,amount\nX,1\n", "missing column"),
        ("description,amount\nX,1,extra\n", "more fields than header"),
    ],
)
def test_bad_files(tmp_path, tiny_model, text, message):
    src = write(tmp_path / "in.csv", text)
    with pytest.raises(CsvInputError, match=message):
        categorize_csv(src, tmp_path / "out.csv", engine=CategorizationEngine(tiny_model))


def test_missing_input_file(tmp_path, tiny_model):
    with pytest.raises(CsvInputError, match="cannot open"):
        categorize_csv(
            tmp_path / "nope.csv", tmp_path / "out.csv", engine=CategorizationEngine(tiny_model)
        )


def test_train_then_categorize_through_the_cli(tmp_path, corpus, capsys):
    small = tmp_path / "small.csv.gz"
    with gzip.open(small, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CORPUS_COLUMNS)
        writer.writeheader()
        writer.writerows(r for r in corpus if r["category_detailed"] in SIX)
    store, report_path = tmp_path / "models", tmp_path / "report.json"
    code = main_train(
        [
            "--corpus",
            str(small),
            "--store-dir",
            str(store),
            "--quiet",
            "--report-json",
            str(report_path),
        ]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    assert report["held_out"]["accuracy_primary"] >= 0.85
    printed = capsys.readouterr().out
    assert "held-out merchants" in printed and f"saved model {report['model_version']}" in printed

    src = write(
        tmp_path / "in.csv", "description,amount\nCHECKCARD 0412 CHEVRON 0099 DALLAS TX,-38.20\n"
    )
    out = tmp_path / "out.csv"
    assert cli.main(["categorize", str(src), "-o", str(out), "--store-dir", str(store)]) == 0
    assert read_rows(out)[0]["category_detailed"] == "TRANSPORTATION_GAS"

    bad = write(tmp_path / "bad.csv", "description,amount\n,1\n")
    assert cli.main(["categorize", str(bad), "-o", str(out), "--store-dir", str(store)]) == 2
    assert "row 1 (line 2): description is empty" in capsys.readouterr().err


def test_categorize_without_a_model_fails_clearly(tmp_path, capsys):
    src = write(tmp_path / "in.csv", "description,amount\nX,1\n")
    code = cli.main(
        [
            "categorize",
            str(src),
            "-o",
            str(tmp_path / "o.csv"),
            "--store-dir",
            str(tmp_path / "empty"),
        ]
    )
    assert code == 2 and "no 'categorizer' artefact" in capsys.readouterr().err


def test_train_rejects_bad_corrections_file(tmp_path, capsys):
    bad = write(tmp_path / "corr.json", '{"not": "a list"}')
    assert main_train(["--corrections", str(bad), "--no-save", "--quiet"]) == 2
    assert "expected a JSON list" in capsys.readouterr().err
