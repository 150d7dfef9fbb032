"""Bad mappings, sheets and configuration: one line, exit 2, no traceback, zero write requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import Workspace, make_workspace

from csvsync.sandbox import Sandbox, SandboxOptions


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # Shared by the module's tests: a limit that many runs cannot spend.
    with Sandbox(SandboxOptions(seed="demo", token="sandbox-token", rate_limit=100_000)) as sb:
        yield sb


@pytest.fixture
def ws(sandbox: Sandbox, tmp_path: Path) -> Workspace:
    sandbox.clear_log()
    return make_workspace(sandbox, tmp_path)


def assert_start_error(
    ws: Workspace, args: list[str], needle: str, env: dict[str, str] | None = None
) -> str:
    res = ws.run(*args, env=env)
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert err.startswith("Error: "), err
    assert "\n" not in err, err
    assert "Traceback" not in res.output
    assert needle in err, err
    assert ws.writes() == []
    return err


def edit_mapping(ws: Workspace, old: str, new: str) -> Path:
    text = ws.mapping.read_text(encoding="utf-8")
    assert old in text
    path = ws.dir / "edited.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["plan", "sync"])
def test_missing_column_names_the_yaml_line_and_suggests(ws: Workspace, command: str) -> None:
    f = ws.frame.rename(columns={"Summary [fr]": "Sumary [fr]"})
    sheet = ws.write_sheet(f)
    err = assert_start_error(ws, [command, str(sheet), "-m", str(ws.mapping)], "Summary [fr]")
    assert "did you mean 'Sumary [fr]'" in err
    assert f"{ws.mapping}:" in err


def test_allow_missing_columns_leaves_them_alone(ws: Workspace) -> None:
    f = ws.frame.drop(columns=["Summary [fr]", "Name [de]"])
    f.loc[0, "Summary"] = "changed"
    sheet = ws.write_sheet(f)
    res = ws.run("sync", sheet, "-m", ws.mapping, "--allow-missing-columns")
    assert res.exit_code == 0, res.output
    assert "Columns missing from the sheet, left alone: Summary [fr], Name [de]" in res.output


def test_unknown_field_slug(ws: Workspace) -> None:
    mapping = edit_mapping(ws, "  stock: Stock", "  stocks: Stock")
    err = assert_start_error(
        ws,
        ["plan", str(ws.write_sheet()), "-m", str(mapping)],
        "field 'stocks' is not in collection",
    )
    assert "did you mean 'stock'" in err


def test_unknown_locale_lists_site_tags(ws: Workspace) -> None:
    mapping = edit_mapping(ws, '  de: "{column} [de]"', '  es: "{column} [de]"')
    assert_start_error(ws, ["plan", str(ws.write_sheet()), "-m", str(mapping)], "en, fr-FR, de-DE")


def test_missing_collection(ws: Workspace) -> None:
    mapping = edit_mapping(
        ws, "collection: 64f0c0ffee0000000000bbbb", "collection: 64f0c0ffee0000000000dddd"
    )
    assert_start_error(
        ws,
        ["plan", str(ws.write_sheet()), "-m", str(mapping)],
        "collection 64f0c0ffee0000000000dddd not found",
    )


def test_malformed_yaml(ws: Workspace) -> None:
    mapping = edit_mapping(ws, "fields:", "fields: [")
    assert_start_error(ws, ["plan", str(ws.write_sheet()), "-m", str(mapping)], "invalid YAML")


def test_wrong_token_is_refused_and_never_printed(ws: Workspace) -> None:
    secret = "tok-SECRET-0123456789"
    err = assert_start_error(
        ws,
        ["sync", str(ws.write_sheet()), "-m", str(ws.mapping)],
        "401",
        env={"WEBFLOW_API_TOKEN": secret},
    )
    assert secret not in err


def test_no_token(ws: Workspace) -> None:
    assert_start_error(
        ws,
        ["plan", str(ws.write_sheet()), "-m", str(ws.mapping)],
        "WEBFLOW_API_TOKEN",
        env={"WEBFLOW_API_TOKEN": ""},
    )


def test_token_file_readable_by_others_is_refused(ws: Workspace) -> None:
    token = ws.dir / "token"
    token.write_text("sandbox-token")
    token.chmod(0o644)
    assert_start_error(
        ws,
        ["plan", str(ws.write_sheet()), "-m", str(ws.mapping), "--token-file", str(token)],
        "chmod 600",
    )
    token.chmod(0o600)
    res = ws.run(
        "plan",
        ws.write_sheet(),
        "-m",
        ws.mapping,
        "--token-file",
        token,
        env={"WEBFLOW_API_TOKEN": ""},
    )
    assert res.exit_code == 0, res.output


def test_plain_http_to_a_remote_host_is_refused(ws: Workspace) -> None:
    assert_start_error(
        ws,
        ["plan", str(ws.write_sheet()), "-m", str(ws.mapping)],
        "http",
        env={"CSVSYNC_API_BASE": "http://example.com/v2"},
    )


def test_sheet_not_found(ws: Workspace) -> None:
    assert_start_error(ws, ["plan", str(ws.dir / "nope.csv"), "-m", str(ws.mapping)], "nope.csv")


def test_latin1_csv_without_encoding(ws: Workspace) -> None:
    sheet = ws.dir / "latin.csv"
    ws.frame.to_csv(sheet, index=False, encoding="latin-1", errors="replace")
    with sheet.open("ab") as fh:
        fh.write(b"\n" + b"x,caf\xe9\n")
    assert_start_error(ws, ["plan", str(sheet), "-m", str(ws.mapping)], "latin")


def test_duplicate_column_names(ws: Workspace) -> None:
    sheet = ws.dir / "dup.csv"
    text = ws.frame.to_csv(index=False).replace("Stock,", "Price,", 1)
    sheet.write_text(text, encoding="utf-8")
    assert_start_error(ws, ["plan", str(sheet), "-m", str(ws.mapping)], "Price")


def test_truncated_xlsx(ws: Workspace) -> None:
    good = ws.write_sheet(name="good.xlsx")
    bad = ws.dir / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[:2000])
    assert_start_error(ws, ["plan", str(bad), "-m", str(ws.mapping)], "bad.xlsx")


def test_a_near_miss_column_is_an_error_even_with_allow_missing(ws: Workspace) -> None:
    f = ws.frame.rename(columns={"Summary [fr]": "Summray [fr]"})
    f.loc[1, "Summray [fr]"] = "Traduit"
    sheet = ws.write_sheet(f)
    res = ws.run("plan", sheet, "-m", ws.mapping, "--allow-missing-columns")
    assert res.exit_code == 2, res.output
    assert "column 'Summary [fr]' is not in" in res.stderr and "'Summray [fr]' is" in res.stderr
    assert "Traceback" not in res.output


def test_every_missing_column_is_listed(ws: Workspace) -> None:
    sheet = ws.write_sheet(ws.frame.drop(columns=["Summary [fr]", "Name [de]", "Price"]))
    res = ws.run("plan", sheet, "-m", ws.mapping)
    assert res.exit_code == 2
    assert "3 columns are not in" in res.stderr
    assert all(f"'{c}'" in res.stderr for c in ("Summary [fr]", "Name [de]", "Price"))


def test_every_run_lists_the_columns_no_field_reads(ws: Workspace) -> None:
    f = ws.frame.copy()
    f["Notes for the team"] = "check prices"
    f["Price [de]"] = 1  # another locale's column of an unlocalized field: read by nothing
    sheet = ws.write_sheet(f)
    for command in ("plan", "sync"):
        res = ws.run(command, sheet, "-m", ws.mapping)
        assert res.exit_code == 0, res.output
        assert "Columns no field reads, left alone: Notes for the team, Price [de]" in res.output
