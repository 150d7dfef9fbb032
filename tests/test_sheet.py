"""csvsync.sheets.read and csvsync.sheets.xlsxguard: reading CSV/XLSX, and every whole-file refusal.

All input files are built in tmp_path (no binary fixtures in the repository).
"""

from __future__ import annotations

import codecs
import datetime as dt
import random
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from csvsync.errors import SheetError
from csvsync.sheets import read as sheet_module
from csvsync.sheets.read import Sheet, SheetOptions, XlsxLimits, check_xlsx_safe, read_sheet

# --- helpers -------------------------------------------------------------------------------


def write_csv(tmp_path: Path, data: bytes | str, name: str = "sheet.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def write_xlsx(tmp_path: Path, rows: list[list[object]], name: str = "sheet.xlsx") -> Path:
    path = tmp_path / name
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Data"
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


_OOXML = "http://schemas.openxmlformats.org"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RT = f"{_OOXML}/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RT}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RT}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def write_raw_xlsx(tmp_path: Path, sheet_data: str, head: str = "", prefix: str = "") -> Path:
    """A minimal hand-written workbook, for XML the usual writers never produce."""
    ns = f"xmlns{':' + prefix if prefix else ''}"
    p = f"{prefix}:" if prefix else ""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?>{head}'
        f'<{p}worksheet {ns}="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<{p}sheetData>{sheet_data}</{p}sheetData></{p}worksheet>"
    )
    path = tmp_path / "raw.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_error(path: Path, options: SheetOptions | None = None) -> str:
    """The one-line SheetError text for ``path``; asserts it names the file."""
    with pytest.raises(SheetError) as info:
        read_sheet(path, options or SheetOptions())
    text = str(info.value)
    assert "\n" not in text
    assert path.name in text
    assert info.value.__traceback__ is not None
    assert info.value.__suppress_context__ or info.value.__cause__ is None
    return text


def records(sheet: Sheet) -> dict[int, dict[str, object]]:
    frame = sheet.frame
    return {int(row): dict(zip(frame.columns, frame.loc[row], strict=True)) for row in frame.index}


# --- CSV -----------------------------------------------------------------------------------


def test_csv_cells_are_text_never_guessed(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Id,Zip,Date,Flag,Num\n1,00123,2024-01-01,NA,1.50\n2,,null,TRUE,\n")
    sheet = read_sheet(path)
    assert sheet.kind == "csv"
    assert list(sheet.frame.columns) == ["Id", "Zip", "Date", "Flag", "Num"]
    assert records(sheet) == {
        2: {"Id": "1", "Zip": "00123", "Date": "2024-01-01", "Flag": "NA", "Num": "1.50"},
        3: {"Id": "2", "Zip": "", "Date": "null", "Flag": "TRUE", "Num": ""},
    }
    assert sheet.error_cells is None


def test_csv_utf8_bom_and_stripped_headers(tmp_path: Path) -> None:
    path = write_csv(tmp_path, codecs.BOM_UTF8 + " Name , Prix \nCafé,3\n".encode())
    sheet = read_sheet(path)
    assert list(sheet.frame.columns) == ["Name", "Prix"]
    assert sheet.frame.loc[2, "Name"] == "Café"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a;b;c\n1;2,5;3\n4;5;6\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ("a,b\n1,2\n", ","),
    ],
)
def test_csv_delimiter_is_sniffed(tmp_path: Path, text: str, delimiter: str) -> None:
    frame = read_sheet(write_csv(tmp_path, text)).frame
    assert list(frame.columns) == text.split("\n", 1)[0].split(delimiter)


def test_csv_delimiter_given_and_tsv_default(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a;b,c\n1;2,3\n")
    frame = read_sheet(path, SheetOptions(delimiter=",")).frame
    assert list(frame.columns) == ["a;b", "c"]
    tsv = write_csv(tmp_path, "a,b\tc\n1,2\t3\n", name="s.tsv")
    assert list(read_sheet(tsv).frame.columns) == ["a,b", "c"]


def test_csv_single_column(tmp_path: Path) -> None:
    frame = read_sheet(write_csv(tmp_path, "Name\nx\ny\n")).frame
    assert frame["Name"].tolist() == ["x", "y"]


def test_csv_explicit_encoding_is_honoured(tmp_path: Path) -> None:
    latin = write_csv(tmp_path, "Name\nCafé\n".encode("latin-1"))
    assert read_sheet(latin, SheetOptions(encoding="latin-1")).frame.loc[2, "Name"] == "Café"
    utf16 = write_csv(tmp_path, "Name;N\nÉté;1\n".encode("utf-16"), name="u16.csv")
    assert records(read_sheet(utf16, SheetOptions(encoding="utf-16"))) == {
        2: {"Name": "Été", "N": "1"}
    }


def test_csv_apostrophe_escape_is_removed(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "A,B\n'=SUM(1),'+49 30\n'-5,'@user\n'plain,it's\n'',=raw\n",
    )
    frame = read_sheet(path).frame
    assert frame["A"].tolist() == ["=SUM(1)", "-5", "'plain", "''"]
    assert frame["B"].tolist() == ["+49 30", "@user", "it's", "=raw"]


def test_csv_blank_rows_dropped_numbers_kept(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Name,N\na,1\n\n,\nb,2\n")
    frame = read_sheet(path).frame
    assert frame.index.tolist() == [2, 5]
    assert frame["Name"].tolist() == ["a", "b"]


def test_csv_multiline_cells_count_records(tmp_path: Path) -> None:
    path = write_csv(tmp_path, 'Name,Bio\na,"line 1\nline 2\nline 3"\nb,short\n')
    frame = read_sheet(path).frame
    assert frame.index.tolist() == [2, 3]
    assert frame.loc[2, "Bio"] == "line 1\nline 2\nline 3"


def test_csv_trailing_delimiter_column_without_data_is_dropped(tmp_path: Path) -> None:
    frame = read_sheet(write_csv(tmp_path, "a,b,\n1,2,\n")).frame
    assert list(frame.columns) == ["a", "b"]


def test_csv_is_streamed_not_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The streaming checks and pandas' reader never hold the file's bytes or text at once.
    data = codecs.BOM_UTF8 + b'Name;Bio\r\n"a; b";"x\r\ny ""q"""\r\n\r\n\'=1;2\r\n'
    path = write_csv(tmp_path, data)

    def refuse(self: Path) -> bytes:
        raise AssertionError(f"{self} was read whole")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert records(read_sheet(path)) == {
        2: {"Name": "a; b", "Bio": 'x\r\ny "q"'},
        4: {"Name": "=1", "Bio": "2"},
    }


def test_csv_nul_characters_are_kept_as_csv_reads_them(tmp_path: Path) -> None:
    # pandas' C reader would end the cell at the NUL; the reference reader keeps it.
    path = write_csv(tmp_path, "a,b\n" + "x" * 5000 + ",y\n1,\x002\n")
    assert read_sheet(path).frame.loc[3, "b"] == "\x002"


def test_csv_utf16_without_bom_reads_in_the_machines_byte_order(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Name,N\nÉté,1\n".encode("utf-16-le"))
    frame = read_sheet(path, SheetOptions(encoding="utf-16")).frame
    assert frame.loc[2, "Name"] == "Été"


def test_csv_bad_byte_far_into_the_file_is_located(tmp_path: Path) -> None:
    lines = ["Name,N"] + [f"row {i},{i}" for i in range(2, 20_000)]
    lines[14_999] = "Caf\xe9,x"
    path = write_csv(tmp_path, "\n".join(lines).encode("latin-1"))
    text = sheet_error(path)
    assert "0xE9" in text and "line 15000, column 4" in text


def test_csv_quoting_error_is_reported_before_an_earlier_field_count(tmp_path: Path) -> None:
    text = sheet_error(write_csv(tmp_path, 'a,b\n1,2,3\n4,"open\n'))
    assert "is not valid CSV at line 3" in text


def test_csv_bad_delimiter_after_decoding(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a,b\n1,2\n")
    assert "is not one character" in sheet_error(path, SheetOptions(delimiter=";;"))
    bad = write_csv(tmp_path, b"a,b\n1,\xff\n", name="bad.csv")
    assert "0xFF" in sheet_error(bad, SheetOptions(delimiter=";;"))


def _random_csv(rng: random.Random) -> tuple[bytes, str, str | None]:
    """Small CSV files with quoted cells, multi-line cells, every line end, blank lines,
    ragged rows and random damage."""
    delimiter = rng.choice([",", ";", "\t"])
    ends = ["\n", "\r\n", "\r"]
    width = rng.randint(1, 4)
    lines = []
    for _ in range(rng.randint(0, 7)):
        if rng.random() < 0.1:
            lines.append(rng.choice(ends))
            continue
        cells = []
        for _ in range(width if rng.random() < 0.9 else rng.randint(1, 5)):
            if rng.random() < 0.35:
                parts = ["a", "é", " ", delimiter, ",", '""', "\n", "\r\n", "\r", "'="]
                cells.append('"' + "".join(rng.choices(parts, k=rng.randint(0, 4))) + '"')
            else:
                parts = ["a", "b", " ", "é", "'", "'=", "'+x", "-"]
                cell = "".join(rng.choices(parts, k=rng.randint(0, 3)))
                cells.append(cell + '"x' if cell and rng.random() < 0.2 else cell)
        lines.append(delimiter.join(cells) + rng.choice(ends))
    text = "".join(lines)
    if rng.random() < 0.3:
        text = text.rstrip("\r\n")
    if text and rng.random() < 0.15:
        at = rng.randrange(len(text))
        text = text[:at] + rng.choice(['"', delimiter, "\n", "x", ""]) + text[at + 1 :]
    encoding = rng.choice([None, None, None, "utf-16", "cp1252"])
    data = text.encode(encoding or "utf-8")
    if encoding is None and rng.random() < 0.1:
        data = codecs.BOM_UTF8 + data
    return data, delimiter, encoding


@pytest.mark.slow
def test_csv_reads_exactly_as_the_in_memory_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The streamed checks + pandas give the frame or the error message, word for word, that
    decoding the whole file and ``csv.reader`` give; pandas is trusted with every file here."""
    reference = sheet_module._read_csv_in_memory
    streamed = sheet_module._read_csv
    rng = random.Random(20240605)
    path = tmp_path / "fuzz.csv"
    kinds = {"ok": 0, "error": 0}
    for _ in range(600):
        data, delimiter, encoding = _random_csv(rng)
        path.write_bytes(data)
        options = SheetOptions(encoding=encoding, delimiter=delimiter)
        outcomes = []
        for read in (
            lambda p, o: (reference(p, o.encoding, o.delimiter or ","), sheet_module._Clues()),
            streamed,
        ):
            monkeypatch.setattr(sheet_module, "_read_csv", read)
            try:
                outcomes.append(read_sheet(path, options).frame)
            except SheetError as exc:
                outcomes.append(str(exc))
        want, got = outcomes
        if isinstance(want, str):
            assert got == want, data
            kinds["error"] += 1
        else:
            assert isinstance(got, pd.DataFrame), (data, got)
            pd.testing.assert_frame_equal(got, want)
            kinds["ok"] += 1
        monkeypatch.setattr(sheet_module, "_read_csv", streamed)
    assert min(kinds.values()) > 100


def test_csv_pandas_reads_the_generated_files_without_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fallback(*args: object) -> pd.DataFrame:
        raise AssertionError("fell back to the in-memory reader")

    monkeypatch.setattr(sheet_module, "_read_csv_in_memory", fallback)
    rng = random.Random(7)
    path = tmp_path / "ok.csv"
    read = 0
    for _ in range(300):
        data, delimiter, encoding = _random_csv(rng)
        path.write_bytes(data)
        try:
            read_sheet(path, SheetOptions(encoding=encoding, delimiter=delimiter))
        except SheetError:
            continue
        read += 1
    assert read > 50


# --- XLSX ----------------------------------------------------------------------------------


def test_xlsx_cells_keep_excel_types(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Name", "Int", "Float", "Date", "When", "Time", "Flag", "Zip", "Empty"],
        ["a", 3, 2.5, dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 12, 30), dt.time(9, 15),
         True, "00123", None],
        ["b", 4.0, -1.25, None, None, None, False, "2024-01-01", None],
    ]  # fmt: skip
    sheet = read_sheet(write_xlsx(tmp_path, rows))
    assert sheet.kind == "xlsx"
    got = records(sheet)
    assert got[2] == {
        "Name": "a", "Int": 3, "Float": 2.5, "Date": dt.datetime(2024, 1, 31),
        "When": dt.datetime(2024, 1, 31, 12, 30), "Time": dt.time(9, 15), "Flag": True,
        "Zip": "00123", "Empty": "",
    }  # fmt: skip
    assert got[3]["Int"] == 4 and type(got[3]["Int"]) is int
    assert type(got[2]["Float"]) is float and got[3]["Float"] == -1.25
    assert type(got[2]["Flag"]) is bool and got[3]["Flag"] is False
    assert got[3]["Zip"] == "2024-01-01" and got[3]["Date"] == ""
    assert sheet.error_cells is None


def test_xlsx_error_cells_are_flagged(tmp_path: Path) -> None:
    path = tmp_path / "errors.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Name", "Price", "Lookup"])
    ws.append(["a", 1, None])
    ws.append(["b", None, None])
    ws.append(["c", None, None])
    for ref, code in (("B3", "#REF!"), ("C2", "#N/A"), ("C4", "#DIV/0!")):
        ws[ref] = code
        ws[ref].data_type = "e"
    wb.save(path)
    sheet = read_sheet(path)
    assert sheet.frame.loc[3, "Price"] == "#REF!"
    assert sheet.frame.loc[2, "Lookup"] == "#N/A"
    assert sheet.error_cells is not None
    assert sheet.error_cells.shape == sheet.frame.shape
    mask = sheet.error_cells
    flagged = {(int(r), str(c)) for c in mask.columns for r in mask.index[mask[c].to_numpy()]}
    assert flagged == {(3, "Price"), (2, "Lookup"), (4, "Lookup")}


def test_xlsx_formula_cached_values_and_cached_errors(tmp_path: Path) -> None:
    path = tmp_path / "formulas.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["Name", "Total"])
    ws.write_row(1, 0, ["a"])
    ws.write_formula(1, 1, "=1+1", None, 2)
    ws.write(2, 0, "b")
    ws.write_formula(2, 1, "=1/0", None, "#DIV/0!")
    wb.close()
    sheet = read_sheet(path)
    assert sheet.frame["Total"].tolist() == [2, "#DIV/0!"]
    assert sheet.error_cells is not None
    assert sheet.error_cells["Total"].tolist() == [False, True]


def test_xlsx_sheet_choice_and_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.title = "First"
    first.append(["X"])
    first.append([1])
    second = wb.create_sheet("Products")
    for row in (["Name", "N"], ["a", 1], [None, None], ["b", 2]):
        second.append(row)
    wb.save(path)
    assert read_sheet(path).frame.columns.tolist() == ["X"]
    frame = read_sheet(path, SheetOptions(sheet_name="Products")).frame
    assert frame.index.tolist() == [2, 4]
    assert frame["Name"].tolist() == ["a", "b"]
    assert read_sheet(path, SheetOptions(sheet_name="products")).frame.shape == (2, 2)


def test_xlsx_header_numbers_become_text(tmp_path: Path) -> None:
    frame = read_sheet(write_xlsx(tmp_path, [[" Name ", 2024], ["a", 1]])).frame
    assert frame.columns.tolist() == ["Name", "2024"]


def test_xlsx_cells_without_refs_and_prefixed_namespace(tmp_path: Path) -> None:
    # Valid but unusual XML goes through the slow parser; errors are still found there.
    data = (
        '<x:row><x:c t="inlineStr"><x:is><x:t>Name</x:t></x:is></x:c>'
        '<x:c t="inlineStr"><x:is><x:t>V</x:t></x:is></x:c></x:row>'
        '<x:row><x:c t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c>'
        '<x:c t="e"><x:v>#N/A</x:v></x:c></x:row>'
    )
    sheet = read_sheet(write_raw_xlsx(tmp_path, data, prefix="x"))
    assert records(sheet) == {2: {"Name": "a", "V": "#N/A"}}
    assert sheet.error_cells is not None and bool(sheet.error_cells.loc[2, "V"])


def _cell(text: str, attrs: str = "") -> str:
    return f'<c{attrs} t="inlineStr"><is><t>{text}</t></is></c>'


_A1, _B1, _A2, _S0 = ' r="A1"', ' r="B1"', ' r="A2"', ' s="0"'
_NA = '<c t="e"><v>#N/A</v></c>'
_NA_B2 = '<c r="B2" t="e"><v>#N/A</v></c>'
_NA_B2_LATE = '<c t="e" r="B2"><v>#N/A</v></c>'


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            f'<row r="1">{_cell("Name")}{_cell("V")}</row><row r="2">{_cell("a")}{_NA}</row>',
            id="cells without r",
        ),
        pytest.param(
            f"<row>{_cell('Name', _A1)}{_cell('V', _B1)}</row><row>{_cell('a', _A2)}{_NA_B2}</row>",
            id="rows without r",
        ),
        pytest.param(
            f'<row r="1" spans="1:2">{_cell("Name", _A1)}{_cell("V", _B1)}</row>'
            f'<row r="2">{_cell("a", _S0 + _A2)}{_NA_B2_LATE}<c/></row>',
            id="r not first, and an empty cell",
        ),
    ],
)
def test_xlsx_unusual_cell_forms_still_place_error_cells(tmp_path: Path, data: str) -> None:
    # Not the plain form the byte scan relies on: the parsed scan numbers rows and cells.
    sheet = read_sheet(write_raw_xlsx(tmp_path, data))
    assert records(sheet) == {2: {"Name": "a", "V": "#N/A"}}
    assert sheet.error_cells is not None and bool(sheet.error_cells.loc[2, "V"])


@pytest.mark.parametrize("number", ["x", "2.0"])
def test_xlsx_a_row_number_that_is_not_a_number_is_a_damaged_sheet(
    tmp_path: Path, number: str
) -> None:
    # Such a row must reach the parsed scan, not be skipped by the byte scan's row count.
    data = f'<row r="1">{_cell("Name", _A1)}</row><row r="{number}">{_cell("a", _A2)}</row>'
    assert "is damaged" in sheet_error(write_raw_xlsx(tmp_path, data))


def test_openpyxl_parses_xml_through_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True


def test_large_sheet_reads(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, [f"C{i}" for i in range(20)])
    for r in range(1, 2001):
        ws.write_row(r, 0, [f"t{r}" if c % 2 else r * c for c in range(20)])
    wb.close()
    sheet = read_sheet(path)
    assert sheet.frame.shape == (2000, 20)
    assert sheet.frame.index[-1] == 2001


# --- malformed files: one line each, naming the file ---------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in sheet_error(tmp_path / "nope.csv")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert "is a directory" in sheet_error(folder)


def test_unknown_extension(tmp_path: Path) -> None:
    text = sheet_error(write_csv(tmp_path, "a,b\n", name="sheet.json"))
    assert "'.json'" in text and ".xlsx" in text


def test_two_bytes_named_xls(tmp_path: Path) -> None:
    text = sheet_error(write_csv(tmp_path, b"\xd0\xcf", name="old.xls"))
    assert "is not a legacy .xls workbook" in text


def test_empty_csv(tmp_path: Path) -> None:
    assert "has no header row" in sheet_error(write_csv(tmp_path, b""))


def test_csv_first_line_blank(tmp_path: Path) -> None:
    assert "has no header row" in sheet_error(write_csv(tmp_path, "\na,b\n1,2\n"))


def test_csv_header_all_blank(tmp_path: Path) -> None:
    assert "has no header row" in sheet_error(write_csv(tmp_path, " , \n1,2\n"))


def test_latin1_csv_without_encoding(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Name,N\nok,1\nCaf\xe9,2\n".encode("latin-1"))
    text = sheet_error(path)
    assert "0xE9" in text and "line 3, column 4" in text and "--encoding latin-1" in text


def test_utf16_with_bom_without_encoding(tmp_path: Path) -> None:
    text = sheet_error(write_csv(tmp_path, "Name\nx\n".encode("utf-16")))
    assert "looks like UTF-16" in text and "--encoding utf-16" in text


def test_utf16_without_bom_without_encoding(tmp_path: Path) -> None:
    assert "looks like UTF-16" in sheet_error(write_csv(tmp_path, "Name\nx\n".encode("utf-16-le")))


def test_unknown_encoding(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a\n1\n")
    assert "unknown encoding 'klingon'" in sheet_error(path, SheetOptions(encoding="klingon"))


def test_wrong_explicit_encoding(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Name\nCaf\xe9\n".encode("latin-1"))
    assert "0xE9" in sheet_error(path, SheetOptions(encoding="utf-8"))


def test_mixed_delimiters(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a,b,c\n1,2,3\n4;5;6\n7,8,9\n")
    text = sheet_error(path)
    assert "row 3 has 1 fields but the header has 3" in text


def test_row_with_extra_fields_after_multiline_cell(tmp_path: Path) -> None:
    path = write_csv(tmp_path, 'a,b\n1,"x\ny"\n2,3,4\n')
    assert "row 3 (line 4) has 3 fields but the header has 2" in sheet_error(path)


def test_duplicate_csv_headers(tmp_path: Path) -> None:
    text = sheet_error(write_csv(tmp_path, "Name,Price, Name ,Price,X\n1,2,3,4,5\n"))
    assert "'Name' in columns A, C" in text and "'Price' in columns B, D" in text


def test_duplicate_xlsx_headers(tmp_path: Path) -> None:
    text = sheet_error(write_xlsx(tmp_path, [["Slug", "Name", "Name "], ["a", "b", "c"]]))
    assert "'Name' in columns B, C" in text


def test_blank_header_with_data(tmp_path: Path) -> None:
    text = sheet_error(write_csv(tmp_path, "a,,c\n1,2,3\n"))
    assert "column B (position 2) has data but no header" in text


def test_empty_xlsx(tmp_path: Path) -> None:
    assert "has no header row" in sheet_error(write_xlsx(tmp_path, []))


def test_xlsx_first_row_empty(tmp_path: Path) -> None:
    assert "has no header row" in sheet_error(write_xlsx(tmp_path, [[None], ["Name"], ["x"]]))


def test_unknown_sheet_lists_names(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [["a"], [1]])
    text = sheet_error(path, SheetOptions(sheet_name="Products"))
    assert "no sheet named 'Products'" in text and "'Data'" in text


def test_truncated_xlsx(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path, [["a"], [1]], name="good.xlsx")
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "truncated or damaged" in sheet_error(path)


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("photo.txt", "not a workbook")
    assert "no xl/workbook.xml" in sheet_error(path)


def test_password_protected_ole2(tmp_path: Path) -> None:
    path = write_csv(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "locked.xlsx")
    assert "password-protected or legacy Excel" in sheet_error(path)


def test_text_renamed_to_xlsx(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a,b\n1,2\n", name="fake.xlsx")
    assert "not a zip archive" in sheet_error(path)


def test_zip_bomb_compression_ratio(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [["a"], [1]], name="bomb.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/zeros.bin", b"\0" * (8 << 20))  # 8 MiB -> ~8 KiB
    assert path.stat().st_size < 100_000
    text = sheet_error(path)
    assert "compression ratio" in text and "limit of 200:1" in text


def test_zip_bomb_total_size(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [["a"], [1]], name="big.xlsx")
    limits = XlsxLimits(max_total_uncompressed=1000)
    text = sheet_error(path, SheetOptions(limits=limits))
    assert "limit of 1,000 bytes" in text
    with pytest.raises(SheetError):
        check_xlsx_safe(path, limits)


def test_zip_with_too_many_entries(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [["a"], [1]], name="many.xlsx")
    with zipfile.ZipFile(path, "a") as zf:
        for i in range(30):
            zf.writestr(f"junk/{i}.txt", "x")
    text = sheet_error(path, SheetOptions(limits=XlsxLimits(max_entries=20)))
    assert "zip entries, more than the limit of 20" in text


def test_sparse_sheet_would_exhaust_memory(tmp_path: Path) -> None:
    # calamine allocates the whole A1:XFD1048576 rectangle and aborts the process: refuse first.
    path = tmp_path / "sparse.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Name"
    ws["XFD1048576"] = "x"
    wb.save(path)
    text = sheet_error(path)
    assert "more than the limit" in text


def test_dimension_lies_but_cells_are_counted(tmp_path: Path) -> None:
    data = (
        '<row r="1">'
        + inline("A1", "Name")
        + "</row>"
        + '<row r="900000">'
        + inline("ZZ900000", "x")
        + "</row>"
    )
    path = write_raw_xlsx(tmp_path, data, head="")
    text = sheet_error(path)
    assert "cells, more than the limit of 10,000,000" in text


def test_cells_without_refs_counted_in_slow_path(tmp_path: Path) -> None:
    row = "<row>" + "<c/>" * 300 + "</row>"
    data = "<row>" + '<c t="inlineStr"><is><t>Name</t></is></c>' + "</row>" + row * 40
    path = write_raw_xlsx(tmp_path, data)
    text = sheet_error(path, SheetOptions(limits=XlsxLimits(max_cells=10_000)))
    assert "column KN" in text


def test_too_many_rows(tmp_path: Path) -> None:
    rows: list[list[object]] = [["a"]]
    rows += [[i] for i in range(50)]
    path = write_xlsx(tmp_path, rows)
    text = sheet_error(path, SheetOptions(limits=XlsxLimits(max_rows=10)))
    assert "51 rows, more than the limit of 10" in text


def test_declared_dimension_too_big(tmp_path: Path) -> None:
    head_dim = '<dimension ref="A1:C2000000"/>'
    data = '<row r="1">' + inline("A1", "Name") + "</row>"
    path = tmp_path / "raw.xlsx"
    write_raw_xlsx(tmp_path, data)
    # put the dimension element where Excel writes it: before sheetData
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].replace(
        b"<sheetData>", head_dim.encode() + b"<sheetData>"
    )
    parts["xl/worksheets/sheet1.xml"] = sheet
    with zipfile.ZipFile(path, "w") as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    assert "declares 2,000,000 rows" in sheet_error(path)


def test_sheet_with_dtd_is_refused(tmp_path: Path) -> None:
    head = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>'
    path = write_raw_xlsx(tmp_path, '<row r="1">' + inline("A1", "&a;") + "</row>", head=head)
    assert "contains a DTD" in sheet_error(path)


def test_damaged_sheet_xml(tmp_path: Path) -> None:
    path = write_raw_xlsx(tmp_path, '<row><c t="inlineStr"><is><t>Name</t></is></row>')
    text = sheet_error(path)
    assert "damaged" in text


def test_unterminated_quote(tmp_path: Path) -> None:
    text = sheet_error(write_csv(tmp_path, 'a,b\n1,"open\n2,3\n'))
    assert "is not valid CSV" in text and "quoting" in text


def test_text_after_closing_quote(tmp_path: Path) -> None:
    assert "is not valid CSV at line 2" in sheet_error(write_csv(tmp_path, 'a,b\n1,"x"y\n'))


def test_a_zip_version_python_cannot_read_is_one_error(tmp_path: Path) -> None:
    # Found by the sheet property test: "version needed to extract" 20.7 in the central
    # directory made zipfile raise NotImplementedError, which escaped as a traceback.
    path = tmp_path / "odd.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet().write(0, 0, "Name")
    book.close()
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")  # the first central directory entry
    data[at + 6 : at + 8] = (207).to_bytes(2, "little")  # version needed: 20.7
    path.write_bytes(bytes(data))
    with pytest.raises(SheetError) as err:
        read_sheet(path, SheetOptions())
    assert "uses a zip format csvsync cannot read" in str(err.value)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_refused_cells_are_found_in_every_slice_of_a_long_column(tmp_path: Path, kind: str) -> None:
    # The reader looks at a column a few thousand cells at a time: a refused cell on either
    # side of a slice's edge, and in the last short slice, is named at its own row.
    n = 9_000
    cells = [f"text {i}" for i in range(n)]
    bad = {4095: "ends\x1b", 4096: "x" * 30, 4097: "\x00starts", n - 1: "last\x07"}
    for i, value in bad.items():
        cells[i] = value
    rows = [["Name"], *([c] for c in cells)]
    if kind == "csv":
        path = write_csv(tmp_path, "".join(f"{r[0]}\n" for r in rows))
    else:  # xlsxwriter, which writes a control character as _x001B_ (openpyxl refuses it)
        path = tmp_path / "sheet.xlsx"
        book = xlsxwriter.Workbook(str(path))
        sheet_ = book.add_worksheet()
        for r, (value,) in enumerate(rows):
            sheet_.write_string(r, 0, str(value))
        book.close()
    sheet = read_sheet(path, SheetOptions(max_cell_chars=20))
    problems = sheet.cell_problems
    assert problems is not None
    found = {int(row) - 2: str(text) for row, text in problems["Name"].dropna().items()}
    assert set(found) == set(bad)
    assert found[4095].startswith("holds the control character U+001B (ESC) at character 5")
    assert found[4096] == "the cell is 30 characters long; the limit is 20"
    assert found[4097].startswith("holds the control character U+0000 (NUL) at character 1")
    assert found[n - 1].startswith("holds the control character U+0007 (BEL)")
