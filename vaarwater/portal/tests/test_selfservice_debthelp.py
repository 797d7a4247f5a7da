"""The table of municipal debt help by postcode: the shipped file, the loader's checks (every
problem with its line and field; nothing loaded on an error), lookups and the command."""

# ruff: noqa: F811 - the fixtures (debtor, case, …) are imported from test_selfservice

import pytest
from django.core.management import CommandError, call_command

from vaarwater.portal.models import DebtHelpArea
from vaarwater.portal.selfservice import (
    SHIPPED_DEBT_HELP,
    DebtHelpInvalid,
    debt_help_for_postcode,
    debt_help_load,
    debt_help_parse,
    is_fallback,
    postcode_digits,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HEADER = "postcode_from;postcode_to;municipality;municipality_code;name;phone;email;url"
GOOD = f"""# a comment
{HEADER}
1000;9999;Nederland;;Schuldhulpverlening van uw gemeente;;;https://www.geldfit.nl
3500;3585;Utrecht;GM0344;Schuldhulpverlening gemeente Utrecht;14 030;schuldhulp@example.nl;https://www.utrecht.nl
"""


def test_the_shipped_table_covers_every_postcode():
    """The shipped file is valid, leaves no postcode from 1000 to 9999 without a row, and
    names at least forty municipalities with their CBS codes."""
    parsed = debt_help_parse(SHIPPED_DEBT_HELP.read_text(encoding="utf-8"), source="shipped")
    assert parsed.gaps == []
    codes = {area.municipality_code for area in parsed.areas if area.municipality_code}
    assert len(codes) >= 40
    assert {"GM0363", "GM0599", "GM0518", "GM0344"} <= codes  # the four largest


def test_the_shipped_table_is_loaded_at_the_first_lookup():
    assert not DebtHelpArea.objects.exists()
    area = debt_help_for_postcode("3511 AB")
    assert (area.municipality, area.municipality_code) == ("Utrecht", "GM0344")
    assert DebtHelpArea.objects.count() > 40


@pytest.mark.parametrize(
    ("postcode", "municipality", "fallback"),
    [
        ("1011AB", "Amsterdam", False),
        ("3011", "Rotterdam", False),
        ("2511 CV", "'s-Gravenhage", False),
        ("9711 AB", "Groningen", False),
        ("1234", "Noord-Holland", True),  # a village: the region's fallback
        ("9999", "Groningen (provincie)", True),
    ],
)
def test_the_narrowest_range_wins(postcode, municipality, fallback):
    area = debt_help_for_postcode(postcode)
    assert area.municipality == municipality
    assert is_fallback(area) == fallback


@pytest.mark.parametrize("bad", ["", "12", "0999", "ABCD", "12345"])
def test_a_bad_postcode_finds_nothing(bad):
    assert postcode_digits(bad) is None
    assert debt_help_for_postcode(bad) is None


def test_loading_replaces_the_table():
    debt_help_for_postcode("3511")  # the shipped table
    parsed = debt_help_load(text=GOOD, source="eigen.csv")
    assert len(parsed.areas) == 2 and parsed.gaps == []
    assert DebtHelpArea.objects.count() == 2
    assert debt_help_for_postcode("3511").email == "schuldhulp@example.nl"
    assert debt_help_for_postcode("1234").municipality == "Nederland"


def test_every_problem_is_named_with_line_and_field_and_nothing_is_loaded():
    debt_help_load(text=GOOD, source="eigen.csv")
    bad = f"""# line 1 is a comment
{HEADER}
1000;9999;Nederland;;Schuldhulp;;;https://www.geldfit.nl
35A0;3585;Utrecht;GM0344;Schuldhulp Utrecht;;;https://www.utrecht.nl
3600;3599;Ergens;GM0001;Schuldhulp Ergens;;;
3700;3710;Zeist;0355;Schuldhulp Zeist;bel ons;geen-mail;ftp://zeist.nl
3800;3829;;GM0307;;;;
3900;3909;Veenendaal;GM0345
4000;4100;A;GM0002;Hulp A;;;
4050;4200;B;GM0003;Hulp B;;;
4000;4100;C;GM0004;Hulp C;;;
"""
    with pytest.raises(DebtHelpInvalid) as error:
        debt_help_load(text=bad, source="fout.csv")
    lines = error.value.lines()
    expected = [
        "fout.csv: line 4: postcode_from: '35A0' is not four digits",
        "fout.csv: line 5: postcode_to: 3599 is before postcode_from 3600",
        "fout.csv: line 6: email: 'geen-mail' is not an email address",
        "fout.csv: line 6: municipality_code: '0355' is not a CBS code like GM0344 "
        "(or leave it empty)",
        "fout.csv: line 6: phone: 'bel ons' is not a phone number (digits, spaces, +, - and "
        "brackets)",
        "fout.csv: line 6: url: 'ftp://zeist.nl' is not a web address starting with https://",
        "fout.csv: line 7: municipality: required",
        "fout.csv: line 7: name: required",
        "fout.csv: line 8: (row): 4 fields; expected 8 (';')",
    ]
    for line in expected:
        assert line in lines, (line, lines)
    assert any(
        line.startswith("fout.csv: line 10: postcode_to: 4050-4200 overlaps 4000-4100 (line 9)")
        for line in lines
    ), lines
    assert "fout.csv: line 11: postcode_from: the range 4000-4100 is also on line 9" in lines
    assert DebtHelpArea.objects.count() == 2  # the table is as it was


def test_a_header_with_wrong_columns_is_refused():
    with pytest.raises(DebtHelpInvalid, match=r"line 1: \(header\): missing column\(s\): url"):
        debt_help_parse(HEADER.replace(";url", "") + "\n", source="x.csv")
    with pytest.raises(DebtHelpInvalid, match="no header line"):
        debt_help_parse("# only a comment\n", source="x.csv")
    with pytest.raises(DebtHelpInvalid, match="no rows"):
        debt_help_parse(HEADER + "\n", source="x.csv")


def test_a_comma_separated_file_is_read_too():
    text = HEADER.replace(";", ",") + "\n1000,9999,Nederland,,Hulp,,,https://www.geldfit.nl\n"
    assert len(debt_help_parse(text, source="x.csv").areas) == 1


def test_the_command_loads_and_shows(tmp_path, capsys):
    file = tmp_path / "schuldhulp.csv"
    file.write_text(GOOD, encoding="utf-8")
    call_command("debt-help", "load", str(file))
    out = capsys.readouterr().out
    assert "loaded 2 postcode ranges (1 municipalities)" in out
    call_command("debt-help", "show", "3511", "AB")
    out = capsys.readouterr().out
    assert "Utrecht (GM0344)" in out and "14 030" in out and "range: 3500-3585" in out


def test_the_command_reports_problems_and_loads_nothing(tmp_path, capsys):
    debt_help_load(text=GOOD, source="eigen.csv")
    file = tmp_path / "fout.csv"
    file.write_text(f"{HEADER}\n1000;99999;X;;Y;;;\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 problem"):
        call_command("debt-help", "load", str(file))
    err = capsys.readouterr().err
    assert f"{file}: line 2: postcode_to: '99999' is not four digits" in err
    assert DebtHelpArea.objects.count() == 2
    with pytest.raises(CommandError, match="no such file"):
        call_command("debt-help", "load", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="expected a postcode"):
        call_command("debt-help", "show", "abc")


def test_the_command_notes_gaps(tmp_path, capsys):
    file = tmp_path / "klein.csv"
    file.write_text(f"{HEADER}\n3500;3585;Utrecht;GM0344;Hulp;;;\n", encoding="utf-8")
    call_command("debt-help", "load", str(file))
    err = capsys.readouterr().err
    assert "postcodes 1000-3499 have no row" in err and "postcodes 3586-9999 have no row" in err
